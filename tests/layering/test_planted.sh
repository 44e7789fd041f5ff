#!/bin/sh
# test_planted.sh SRC - the layering check must catch what it is for: on a copy of the
# product's rooms, plant an upward include (port -> line), a dashboard include of the
# protocol (tui -> loader) and SQL outside db/ (line), one at a time, and require that
# check_layers.sh fails naming the offending file and include; the clean copy passes.
set -u
src=${1:?usage: test_planted.sh SOURCE_DIR}
check="$src/tests/layering/check_layers.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

fresh() {
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree"
    cp -R "$src/station" "$src/db" "$src/tui" "$tmp/tree/"
}
expect_fail() { # name, pattern the report must contain
    out=$("$check" "$tmp/tree" 2>&1)
    rc=$?
    if [ $rc -ne 1 ]; then
        echo "FAIL $1: check exited $rc, expected 1"; echo "$out"; fail=1
    elif ! echo "$out" | grep -q "$2"; then
        echo "FAIL $1: report does not name '$2'"; echo "$out"; fail=1
    else
        echo "ok   $1: $(echo "$out" | grep "$2" | head -1)"
    fi
}

fresh
if "$check" "$tmp/tree" >/dev/null; then echo "ok   clean copy passes"; else echo "FAIL clean copy"; fail=1; fi

fresh
printf '#include "engine.h"\n' >> "$tmp/tree/station/port/port.c"
expect_fail "upward include" 'station/port/port.c:[0-9]*: includes "engine.h" from line'

fresh
printf '#include "slip.h"\n' >> "$tmp/tree/tui/tui_log.c"
expect_fail "dashboard sees SLIP" 'tui/tui_log.c:[0-9]*: includes "slip.h"'

fresh
printf 'static const char *q = "SELECT mac FROM units";\n' >> "$tmp/tree/station/line/worker.c"
expect_fail "SQL outside db" 'station/line/worker.c:[0-9]*: SQL outside db/'

fresh
printf '#include "flash_unit.h"\n' >> "$tmp/tree/station/firmware/image.h"
expect_fail "firmware reaches unit" 'station/firmware/image.h:[0-9]*: includes "flash_unit.h" from unit'

[ $fail -eq 0 ] && echo "planted offences: all 4 caught" || { echo "layering check missed a planted offence"; exit 1; }
