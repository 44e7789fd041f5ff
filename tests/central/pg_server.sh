#!/bin/sh
# pg_server.sh - a private PostgreSQL server for the tests: a temp folder, a Unix socket
# only (no TCP), run as an unprivileged user when we are root (PostgreSQL refuses root).
#
#   pg_server.sh start STATEFILE   initdb + start; STATEFILE gets the folder's path
#   pg_server.sh stop STATEFILE    stop it and remove the folder (idempotent)
#   pg_server.sh halt STATEFILE    stop it at once (as a crash or an outage), keep the data
#   pg_server.sh resume STATEFILE  start it again on the same data
#   pg_server.sh url STATEFILE [USER]  print the connection URL (user st_admin by default)
#
# Roles: st_admin (superuser, trust), others by password (scram-sha-256): the tests
# create them. Database: flash.
set -eu
cmd=${1:?start|stop|halt|resume|url}
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
    as_pg "$bindir/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 start >/dev/null ||
        { cat "$d/server.log" >&2; exit 1; }
    "$bindir/../bin/createdb" -h "$d" -U st_admin flash 2>/dev/null ||
        as_pg "$bindir/createdb" -h "$d" -U st_admin flash
    echo "pg_server.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') up in $d"
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
    as_pg "$bindir/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 start >/dev/null ||
        { cat "$d/server.log" >&2; exit 1; }
    ;;
url)
    d=$(dir)
    echo "postgresql://${3:-st_admin}@/flash?host=$d&port=5432"
    ;;
*)
    echo "pg_server.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
