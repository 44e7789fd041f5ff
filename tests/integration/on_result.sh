#!/usr/bin/env bash
# on_result.sh STATION ESP32SIM PROFILE - `station run --on-result CMD`: the command runs
# once per finished unit with its result in the environment (joinable with the records);
# a failing command is posted as a `hook` event with its status and last output line and
# counted in the summary, and recorded on the unit's attempt (export, audit); a command that hangs is killed at --on-result-timeout; and a
# slow command never holds up the line (the next unit in the same slot is flashed while
# the previous unit's command still runs).
set -u
STATION=${1:?station} SIM=${2:?esp32sim} PROFILE=${3:?profile}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/onresult.XXXXXX")
SIMPID=""
cleanup() { [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/out" ] && grep -E '"(hook|summary)"' "$WORK/out" | tail -n 5 >&2; exit 1; }

start_sim() { # dir, options
    local d=$1; shift
    "$SIM" --dir "$d" --quiet "$@" &
    SIMPID=$!
    for _ in $(seq 1 100); do [ -f "$d/ready" ] && return 0; sleep 0.1; done
    fail "simulator not ready"
}
stop_sim() { kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; SIMPID=""; }
run() { # dir, db, extra station options...
    local d=$1 db=$2; shift 2
    timeout 120 "$STATION" run --profile "$PROFILE" --sim-dir "$d" --db "$db" --json --until-idle 2 "$@" \
        >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc -eq 124 ] && fail "station run did not stop by itself"
}
js() { node -e "$1" "$WORK/out"; }

# 1. The environment: one command per finished unit, result and identity in it.
mkdir "$WORK/env"
start_sim "$WORK/s1" --units 2 --unit-opt 2:fault=flash_write_error
cat >"$WORK/hook1" <<X
env | grep ^STATION_ | sort > "$WORK/env/\$STATION_MAC"; printf %s "\$STATION_EVENT" > "$WORK/env/\$STATION_MAC.json"
[ "\$STATION_RESULT" = pass ] && exit 0
printf 'lp0: \\033[31mout of paper\\033[0m\\ttray 2\\n' >&2; echo "label printer: paper out"; exit 3
X
run "$WORK/s1" "$WORK/db1" --on-result "sh $WORK/hook1"
stop_sim
[ $rc -eq 4 ] || fail "run exited $rc, expected 4 (one unit failed)"
[ "$(ls "$WORK/env" | grep -vc json)" -eq 2 ] || fail "expected one command per finished unit (2), got $(ls "$WORK/env")"
P=$(grep -l '^STATION_RESULT=pass$' "$WORK"/env/* | head -n1)
F=$(grep -l '^STATION_RESULT=fail$' "$WORK"/env/* | head -n1)
[ -n "$P" ] && [ -n "$F" ] || fail "no pass and fail environments"
for k in MAC SLOT ATTEMPT_ID TRY PROFILE PORT BRIDGE VID_PID CHIP PACKAGE REVISION FLASH_SIZE APP_VERSION EVENT; do
    grep -q "^STATION_$k=." "$P" || fail "STATION_$k missing from the pass command's environment"
done
for k in CLASS PHASE STATUS HINT DETAIL; do
    grep -q "^STATION_$k=." "$F" || fail "STATION_$k missing from the fail command's environment"
done
grep -q '^STATION_CLASS=flash_write$' "$F" || fail "fail environment: class is not flash_write"
grep -q '^STATION_APP_VERSION=1.4.2$' "$P" || fail "pass environment: STATION_APP_VERSION is not the booted 1.4.2"
grep -q '^STATION_APP_VERSION=' "$F" && fail "fail environment has a STATION_APP_VERSION (its key is null)"
grep -q '^STATION_SERIAL=' "$P" && fail "pass environment has a STATION_SERIAL without provisioning"
MAC=$(sed -n 's/^STATION_MAC=//p' "$P") ID=$(sed -n 's/^STATION_ATTEMPT_ID=//p' "$P")
"$STATION" export --json --db "$WORK/db1" | grep "\"id\":$ID," | grep -q "\"mac\":\"$MAC\"" ||
    fail "STATION_ATTEMPT_ID=$ID is not the record of $MAC"
node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if (e.event!=="pass"||e.mac!==process.argv[2]) process.exit(1)' \
    "$WORK/env/$MAC.json" "$MAC" || fail "STATION_EVENT is not the pass event as JSON"
echo "ok: one command per finished unit; result, identity, record id, class/status/hint and the JSON event in its environment"

# 2. The failing command is recorded as a hook event and counted.
js 'const ev=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
    const h=ev.filter(e=>e.event==="hook"), s=ev[ev.length-1];
    if (h.length!==1) { console.error("hook events: "+h.length); process.exit(1); }
    const f=ev.find(e=>e.seq===h[0].hook.for_seq);
    if (!f||f.event!=="fail") { console.error("for_seq does not name the fail event"); process.exit(1); }
    if (h[0].hook.result!=="exit"||h[0].hook.exit_code!==3) { console.error(JSON.stringify(h[0].hook)); process.exit(1); }
    if (!h[0].text.includes("paper out")) { console.error("last output line not quoted: "+h[0].text); process.exit(1); }
    if (s.event!=="summary"||s.hook_failures!==1) { console.error("summary hook_failures: "+s.hook_failures); process.exit(1); }' ||
    fail "the failing command was not recorded as a hook event"
echo "ok: failing command -> hook event (exit 3, its last output line, the unit event's seq), summary hook_failures 1"

# 2b. ... and recorded on the failed unit's attempt: export has how it ended and the first
#     bytes of its stderr without the escape sequences; audit shows it on that attempt's
#     line, and not on the unit whose command succeeded.
FMAC=$(sed -n 's/^STATION_MAC=//p' "$F") FID=$(sed -n 's/^STATION_ATTEMPT_ID=//p' "$F")
"$STATION" export --json --db "$WORK/db1" >"$WORK/export" || fail "export failed"
node -e 'const rows=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
    const id=+process.argv[2], r=rows.find(x=>x.id===id);
    if (!r) { console.error("no attempt "+id); process.exit(1); }
    const want={hook_result:"exit",hook_exit:3,hook_signal:null,hook_stderr:"lp0: [31mout of paper [0m tray 2"};
    for (const k in want) if (r[k]!==want[k]) { console.error(k+": "+JSON.stringify(r[k])+", expected "+JSON.stringify(want[k])); process.exit(1); }
    if (!(r.hook_ms>=0) || !String(r.hook_command).endsWith("/hook1")) { console.error("hook_ms/hook_command: "+r.hook_ms+" "+r.hook_command); process.exit(1); }
    for (const o of rows.filter(x=>x.id!==id)) if (o.hook_result!==null) { console.error("attempt "+o.id+" has hook_result "+o.hook_result); process.exit(1); }' \
    "$WORK/export" "$FID" || fail "the failed command is not recorded on attempt $FID"
"$STATION" audit --db "$WORK/db1" "$FMAC" >"$WORK/audit" || fail "audit $FMAC failed"
grep "attempt #$FID " "$WORK/audit" | grep -q 'ON-RESULT FAILED: exited with status 3 after [0-9.]* s (.*); stderr: lp0: \[31mout of paper \[0m tray 2$' ||
    { cat "$WORK/audit" >&2; fail "audit of $FMAC does not show the failed command on attempt #$FID"; }
"$STATION" audit --db "$WORK/db1" "$MAC" | grep -q 'ON-RESULT' && fail "audit of the passed unit $MAC shows an on-result failure"
js 'const ev=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
    const h=ev.find(e=>e.event==="hook");
    if (h.hook.stderr!=="lp0: [31mout of paper [0m tray 2") { console.error("hook.stderr: "+JSON.stringify(h.hook.stderr)); process.exit(1); }' ||
    fail "the hook event does not carry the cleaned stderr"
echo "ok: the failure is on attempt #$FID (export: hook_result exit, hook_exit 3, stderr without control characters; audit line; hook event stderr), not on the passed unit"

# 3. A command that hangs is killed at the timeout.
start_sim "$WORK/s3" --units 1
run "$WORK/s3" "$WORK/db3" --on-result 'sleep 60' --on-result-timeout 1
stop_sim
[ $rc -eq 0 ] || fail "run with a hanging command exited $rc"
js 'const ev=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
    const h=ev.find(e=>e.event==="hook");
    if (!h||h.hook.result!=="timeout") { console.error("no timeout hook event"); process.exit(1); }
    if (h.hook.duration_ms > 15000) { console.error("killed after "+h.hook.duration_ms+" ms"); process.exit(1); }' ||
    fail "the hanging command was not killed at its timeout"
"$STATION" export --json --db "$WORK/db3" | node -e 'const rows=require("fs").readFileSync(0,"utf8").trim().split("\n").map(JSON.parse);
    if (rows.length!==1||rows[0].hook_result!=="timeout"||rows[0].hook_exit!==null||!(rows[0].hook_ms>=900&&rows[0].hook_ms<15000)) { console.error(JSON.stringify(rows.map(r=>[r.hook_result,r.hook_exit,r.hook_ms]))); process.exit(1); }' ||
    fail "the timeout is not recorded on the attempt"
echo "ok: hanging command killed at the 1 s timeout, reported as result timeout"

# 4. A slow command never holds up the line: unit B, plugged into slot 1 after unit A
#    left, is flashed while A's command (4 s) still runs.
cat >"$WORK/scen" <<'X'
unit 1 at=0 mac=24:0a:c4:77:00:01 leave=reset+0.3,close+1
unit 1 after=0.5 mac=24:0a:c4:77:00:02 leave=reset+0.3,close+1
X
start_sim "$WORK/s4" --scenario "$WORK/scen"
run "$WORK/s4" "$WORK/db4" --on-result 'sleep 4; exit 5' --on-result-timeout 20
stop_sim
js 'const ev=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
    const passes=ev.filter(e=>e.event==="pass"), hooks=ev.filter(e=>e.event==="hook");
    if (passes.length!==2||hooks.length!==2) { console.error(passes.length+" passes, "+hooks.length+" hook events"); process.exit(1); }
    if (!(passes[1].seq < hooks[0].seq)) { console.error("unit B passed after unit A\u0027s command ended"); process.exit(1); }
    if (hooks[0].hook.for_seq!==passes[0].seq||hooks[1].hook.for_seq!==passes[1].seq) { console.error("commands not in unit order"); process.exit(1); }' ||
    fail "a slow command held up the line"
echo "ok: unit B flashed while unit A's command was still running; commands ran in unit order"
echo "PASS: on-result"
