#!/usr/bin/env bash
# tls.sh - shipping and reading over TLS (libpq's sslmode=verify-full), against a private
# server of its own with ssl=on on TCP 127.0.0.1, a free port (pg_server.sh --tls), and a
# throwaway CA and server certificate (CN and subjectAltName localhost) made here with the
# openssl CLI in the test's temp folder (removed afterwards, never committed):
#   (a) a station ships over verify-full (host=localhost, sslrootcert=the CA), as a
#       least-privilege role with a password; `audit --central` reads; the server logged
#       those connections as TLS; central = local exactly;
#   (b) a second self-signed CA (same name, another key) as sslrootcert: `central sync`,
#       `audit --central` and the running line's shipper are refused with an error naming
#       TLS certificate verification and what to do; the line kept flashing; nothing
#       shipped; no output holds the password; with the right CA again, the backlog ships;
#   (c) host=127.0.0.1 while the certificate names only localhost: refused, the error says
#       the certificate is for another host name;
#   and a missing CA file, and a connection without TLS (the server takes only TLS).
#
#   tls.sh STATION ESP32SIM PROFILE_DIR PGSTATE   (PGSTATE unused: a server of its own)
set -u
STATION=${1:?} SIM=${2:?} PROFDIR=${3:?} PGSTATE=${4:?}
HERE=$(cd "$(dirname "$0")" && pwd)
DB_SQL=$(cd "$HERE/../../db" && pwd)
. "$HERE/central_lib.sh"
command -v openssl >/dev/null || fail "no openssl command (packaging/deps.sh installs it)"
SECRET=Tls-pw-5b81c7e2
X=24:0a:c4:75:00:01

# ---- the throwaway PKI ----
CERTS=$(mktemp -d "${TMPDIR:-/tmp}/st-central-tls-pki.XXXXXX")
OWN=$(mktemp -u "${TMPDIR:-/tmp}/st-pg-tls.XXXXXX.state")
trap 'rm -rf "$CERTS"; sh "$HERE/pg_server.sh" stop "$OWN"' EXIT
new_ca() { # NAME: a self-signed CA, always the same subject
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=flashstation test CA" -keyout "$CERTS/$1.key" -out "$CERTS/$1.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        >"$CERTS/openssl.log" 2>&1 || { cat "$CERTS/openssl.log" >&2; fail "openssl: CA $1"; }
}
new_ca ca
new_ca wrong-ca
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$CERTS/server.key" -out "$CERTS/server.csr" >"$CERTS/openssl.log" 2>&1 ||
    { cat "$CERTS/openssl.log" >&2; fail "openssl: server key"; }
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost" >"$CERTS/server.ext"
openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -CAcreateserial \
    -days 2 -extfile "$CERTS/server.ext" -out "$CERTS/server.crt" >"$CERTS/openssl.log" 2>&1 ||
    { cat "$CERTS/openssl.log" >&2; fail "openssl: server certificate"; }
openssl verify -CAfile "$CERTS/ca.crt" "$CERTS/server.crt" >/dev/null || fail "the server certificate does not verify"
openssl verify -CAfile "$CERTS/wrong-ca.crt" "$CERTS/server.crt" >/dev/null 2>&1 && fail "the wrong CA verifies it"
ok "throwaway CA, a second CA of the same name, server certificate for localhost only"

sh "$HERE/pg_server.sh" start "$OWN" --tls "$CERTS/server.crt" "$CERTS/server.key" >/dev/null ||
    fail "cannot start the private TLS server"
PGSTATE=$OWN
central_setup tls
trap 'central_cleanup; rm -rf "$CERTS"; sh "$HERE/pg_server.sh" stop "$OWN"' EXIT
PORT=$(sh "$HERE/pg_server.sh" port "$OWN")
PGLOG=$(cat "$OWN")/server.log
"$STATION" central init "$URL" >/dev/null || fail "central init"
psql -X -q -v ON_ERROR_STOP=1 "$URL" -v station_role=st_tls -v station_password="$SECRET" \
    -f "$DB_SQL/central_role.sql" >/dev/null 2>"$WORK/role.err" || fail "central_role.sql: $(cat "$WORK/role.err")"

tls_url() { # HOST CA: the station role over TCP with verify-full
    echo "postgresql://st_tls:$SECRET@$1:$PORT/flash?sslmode=verify-full&sslrootcert=$2"
}
GOOD=$(tls_url localhost "$CERTS/ca.crt")
WRONG=$(tls_url localhost "$CERTS/wrong-ca.crt")
clean_of_secret() { # FILE...
    for f in "$@"; do
        grep -qF -- "$SECRET" "$f" && { cat "$f" >&2; fail "the password appears in $f"; }
    done
    return 0
}
attempts() { psql_q "SELECT count(*) FROM attempts"; }

run_line() { # TAG CENTRAL_URL UNITS: a line on simulator TAG, shipping to CENTRAL_URL
    sim_start "$1" --units "$3" --unit-opt "1:mac=$X" --unit-opt 2:fault=flash_write_error
    STATION_CENTRAL=$2 STATION_NAME=st-tls timeout 120 "$STATION" run --profile demo --profiles-dir "$PROFDIR" \
        --sim-dir "$WORK/sim$1" --json --db "$WORK/st.db" --exit-after "$3" --max-tries 2 \
        >"$WORK/$1.out" 2>"$WORK/$1.err" || { tail -n 20 "$WORK/$1.out" >&2; cat "$WORK/$1.err" >&2; fail "station ($1)"; }
    sim_stop "$1"
    clean_of_secret "$WORK/$1.out" "$WORK/$1.err"
}

# ---- (a) verify-full, the right CA ----
run_line A "$GOOD" 4
grep -q '"event":"summary".*"central_waiting":0' "$WORK/A.out" || fail "not shipped: $(grep '"event":"central"\|summary' "$WORK/A.out")"
grep -q 'connection authorized: user=st_tls database=flash application_name=flashstation SSL enabled' "$PGLOG" ||
    fail "the server did not log a TLS connection of the station: $(grep 'connection authorized' "$PGLOG" | tail -3)"
same_as_local "shipped over TLS, verify-full"
STATION_CENTRAL=$GOOD "$STATION" audit "$X" --json >"$WORK/audit.json" 2>"$WORK/audit.err" ||
    fail "audit --central over TLS: $(cat "$WORK/audit.err")"
grep -q '"station":"st-tls"' "$WORK/audit.json" || fail "audit over TLS shows no attempt: $(cat "$WORK/audit.json")"
clean_of_secret "$WORK/audit.json" "$WORK/audit.err"
n_tls=$(grep -c 'connection authorized: user=st_tls .*SSL enabled' "$PGLOG")
ok "(a) verify-full against the test CA: the line shipped $(attempts) attempts and audit read them ($n_tls TLS connections logged)"

# ---- (b) a wrong CA ----
before=$(attempts)
local_before=$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts")
STATION_CENTRAL=$WRONG "$STATION" central sync --db "$WORK/st.db" >"$WORK/o" 2>&1 && fail "central sync trusted a wrong CA"
grep -q "TLS certificate verification failed" "$WORK/o" && grep -q "hint: set sslrootcert= to the CA certificate" "$WORK/o" ||
    fail "wrong CA, central sync: no clear error: $(cat "$WORK/o")"
clean_of_secret "$WORK/o"
STATION_CENTRAL=$WRONG "$STATION" audit "$X" >"$WORK/o" 2>&1 && fail "audit trusted a wrong CA"
grep -q "TLS certificate verification failed: the server's certificate is not signed by the CA in sslrootcert" "$WORK/o" ||
    fail "wrong CA, audit: no clear error: $(cat "$WORK/o")"
clean_of_secret "$WORK/o"
echo "--- wrong CA (audit):"; cat "$WORK/o"
run_line B "$WRONG" 3
grep -q '"event":"central".*central: offline.*TLS certificate verification failed.*set sslrootcert=' "$WORK/B.out" ||
    fail "the running line's shipper did not say why: $(grep '"event":"central"' "$WORK/B.out")"
grep -q '"event":"summary".*"central_waiting":0' "$WORK/B.out" && fail "the summary says nothing waits"
[ "$(sqlite3 "$WORK/st.db" "SELECT count(*) FROM attempts")" -ge $((local_before + 3)) ] ||
    fail "the line did not flash its 3 units while the central store refused it"
[ "$(attempts)" = "$before" ] || fail "something shipped to a server with an untrusted certificate"
ok "(b) wrong CA: sync, audit and the running line refused with a TLS verification error and a hint; the line flashed on; nothing shipped; no password shown"

# ---- (c) a host name the certificate does not name ----
STATION_CENTRAL=$(tls_url 127.0.0.1 "$CERTS/ca.crt") "$STATION" central sync --db "$WORK/st.db" >"$WORK/o" 2>&1 &&
    fail "verify-full accepted host 127.0.0.1 for a certificate made out to localhost"
grep -q "the server's certificate is for another host name" "$WORK/o" && grep -q 'does not match host name "127.0.0.1"' "$WORK/o" &&
    grep -q "hint: use in host= a name the server's certificate names" "$WORK/o" || fail "host mismatch: no clear error: $(cat "$WORK/o")"
clean_of_secret "$WORK/o"
echo "--- host mismatch (sync):"; cat "$WORK/o"
ok "(c) host 127.0.0.1, certificate for localhost: refused, the error names the host name mismatch"

# ---- a missing CA file; no TLS at all ----
STATION_CENTRAL=$(tls_url localhost "$WORK/no-such-ca.crt") "$STATION" audit "$X" >"$WORK/o" 2>&1 && fail "no CA file, yet connected"
grep -q "no CA certificate to verify" "$WORK/o" && grep -q "hint: set sslrootcert= to the path" "$WORK/o" ||
    fail "missing CA file: $(cat "$WORK/o")"
grep -q "change sslmode to disable" "$WORK/o" && fail "the station passes on libpq's advice to turn verification off"
clean_of_secret "$WORK/o"
STATION_CENTRAL="postgresql://st_tls:$SECRET@localhost:$PORT/flash?sslmode=disable" "$STATION" audit "$X" >"$WORK/o" 2>&1 &&
    fail "a connection without TLS was accepted"
grep -q "takes only TLS" "$WORK/o" && grep -q "hint: add sslmode=verify-full" "$WORK/o" || fail "no TLS: $(cat "$WORK/o")"
clean_of_secret "$WORK/o"
ok "a missing CA file and a plain connection: each refused with what to do"

# ---- the right CA again: the backlog of (b) ships ----
STATION_CENTRAL=$GOOD "$STATION" central sync --db "$WORK/st.db" >"$WORK/o" 2>&1 || fail "sync with the right CA: $(cat "$WORK/o")"
clean_of_secret "$WORK/o"
same_as_local "the wrong-CA backlog shipped once the CA is right"
central_pass
