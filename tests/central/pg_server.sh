#!/bin/sh
# pg_server.sh - a private PostgreSQL server for the tests: a temp folder, a Unix socket
# only (no TCP unless --tls), run as an unprivileged user when we are root (PostgreSQL refuses root).
#
#   pg_server.sh start STATEFILE   initdb + start; STATEFILE gets the folder's path
#   pg_server.sh stop STATEFILE    stop it and remove the folder (idempotent)
#   pg_server.sh halt STATEFILE    stop it at once (as a crash or an outage), keep the data
#   pg_server.sh resume STATEFILE  start it again on the same data
#   pg_server.sh url STATEFILE [USER]  print the connection URL (user st_admin by default)
#   pg_server.sh port STATEFILE    print the port (the TCP one with --tls)
#
#   pg_server.sh start STATEFILE --tls CERT KEY
#     also TLS on TCP: ssl=on with CERT/KEY (copied into the server's folder, owned by the
#     server's user, mode 0600), listening on 127.0.0.1 on a free port; over TCP only
#     hostssl (scram-sha-256, every role): a connection without TLS is refused. Connections
#     are logged (server.log in the folder: "SSL enabled (protocol=...)").
#
# Roles: st_admin (superuser, trust on the socket), others by password (scram-sha-256):
# the tests create them. Database: flash.
set -eu
cmd=${1:?start|stop|halt|resume|url|port}
state=${2:?state file}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] && [ -x "$bindir/pg_ctl" ] || {
    echo "pg_server.sh: no PostgreSQL server found under /usr/lib/postgresql (run packaging/deps.sh)" >&2
    exit 1
}

# as_pg CMD...: run as the folder's owner (nobody when we are root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

case $state in /*) ;; *) state=$(pwd)/$state ;; esac
cd / # the server's user may not be allowed into the caller's folder

dir() { cat "$state" 2>/dev/null || true; }

case $cmd in
start)
    tls_cert="" tls_key=""
    if [ "${3:-}" = --tls ]; then
        tls_cert=${4:?--tls CERT KEY} tls_key=${5:?--tls CERT KEY}
        [ -r "$tls_cert" ] && [ -r "$tls_key" ] || { echo "pg_server.sh: cannot read $tls_cert or $tls_key" >&2; exit 1; }
    fi
    old=$(dir)
    if [ -n "$old" ] && [ -d "$old" ]; then # a stale server of an interrupted run
        as_pg "$bindir/pg_ctl" -D "$old/data" stop -m immediate >/dev/null 2>&1 || true
        rm -rf "$old"
    fi
    d=$(mktemp -d /tmp/st-pg.XXXXXX)
    chmod 755 "$d"
    [ "$(id -u)" -eq 0 ] && chown nobody "$d"
    echo "$d" >"$state"
    as_pg "$bindir/initdb" -D "$d/data" -U st_admin -A trust --no-locale -E UTF8 --no-sync \
        >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; exit 1; }
    cat >>"$d/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$d'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
max_connections = 60
log_min_messages = warning
EOF
    cat >"$d/data/pg_hba.conf" <<EOF
local all st_admin trust
local all all scram-sha-256
EOF
    if [ -n "$tls_cert" ]; then
        # the server reads its key only when its own user owns it and nobody else can
        cp "$tls_cert" "$d/data/server.crt"
        cp "$tls_key" "$d/data/server.key"
        chmod 600 "$d/data/server.key"
        [ "$(id -u)" -eq 0 ] && chown nobody "$d/data/server.crt" "$d/data/server.key"
        cat >>"$d/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
log_connections = on
EOF
        echo "hostssl all all 127.0.0.1/32 scram-sha-256" >>"$d/data/pg_hba.conf"
    fi
    # A free TCP port: a random one, another when the server cannot bind it (taken).
    port=5432
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        [ -n "$tls_cert" ] && port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        echo "$port" >"$d/port"
        : >"$d/server.log"
        [ "$(id -u)" -eq 0 ] && chown nobody "$d/server.log"
        if as_pg "$bindir/pg_ctl" -D "$d/data" -l "$d/server.log" -o "-p $port" -w -t 60 start >/dev/null; then
            started=1
            break
        fi
        [ -n "$tls_cert" ] && grep -q "could not bind\|could not create any TCP/IP sockets" "$d/server.log" || break
    done
    [ -n "${started:-}" ] || { cat "$d/server.log" >&2; exit 1; }
    "$bindir/../bin/createdb" -h "$d" -p "$port" -U st_admin flash 2>/dev/null ||
        as_pg "$bindir/createdb" -h "$d" -p "$port" -U st_admin flash
    echo "pg_server.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') up in $d${tls_cert:+, TLS on 127.0.0.1:$port}"
    ;;
stop)
    d=$(dir)
    if [ -n "$d" ] && [ -d "$d" ]; then
        as_pg "$bindir/pg_ctl" -D "$d/data" stop -m fast -w -t 30 >/dev/null 2>&1 ||
            as_pg "$bindir/pg_ctl" -D "$d/data" stop -m immediate >/dev/null 2>&1 || true
        rm -rf "$d"
    fi
    rm -f "$state"
    ;;
halt)
    d=$(dir)
    as_pg "$bindir/pg_ctl" -D "$d/data" stop -m immediate -w >/dev/null
    ;;
resume)
    d=$(dir)
    as_pg "$bindir/pg_ctl" -D "$d/data" -l "$d/server.log" -o "-p $(cat "$d/port")" -w -t 60 start >/dev/null ||
        { cat "$d/server.log" >&2; exit 1; }
    ;;
url)
    d=$(dir)
    echo "postgresql://${3:-st_admin}@/flash?host=$d&port=$(cat "$d/port")"
    ;;
port)
    cat "$(dir)/port"
    ;;
*)
    echo "pg_server.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
