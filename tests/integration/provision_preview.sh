#!/bin/sh
# station provision-preview: prints one unit's entries (CSV secrets as SHA-256 only),
# writes the partition image, refuses a MAC without a CSV row (exit 1) before writing.
# usage: provision_preview.sh STATION
set -eu
ST=$1
D=$(mktemp -d "${TMPDIR:-/tmp}/prov_preview.XXXXXX")
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; cat "$D/out" 2>/dev/null; exit 1; }
head -c 8192 /dev/zero | tr '\0' 'Z' > "$D/app.bin"
SHA=$(sha256sum "$D/app.bin" | cut -d' ' -f1)
printf 'mac,device_key\n24:0a:c4:12:34:56,TOPSECRET-KEY\n' > "$D/units.csv"
cat > "$D/p.ini" <<INI
[profile]
name = prevtest
chip = esp32
flash_mode = dio
flash_freq = 40m
flash_size = 4MB
baud = 115200
[image]
offset = 0x10000
file = app.bin
sha256 = $SHA
[provision]
offset = 0x9000
size = 0x5000
namespace = factory
serial = T-{year}{seq:05}
csv = units.csv
serial_no = string:{serial}
name = string:M5-{mac_suffix}
key = string:{csv:device_key}
rev = u8:2
INI
KEYSHA=$(printf 'TOPSECRET-KEY' | sha256sum | cut -d' ' -f1)
"$ST" provision-preview --profile "$D/p.ini" --mac 24:0A:C4:12:34:56 --db "$D/none.db" \
    -o "$D/nvs.bin" > "$D/out" 2>&1 || fail "preview exited $?"
grep -q "serial T-20[0-9][0-9]00001 (the next free serial" "$D/out" || fail "no next serial shown"
grep -q "name .*M5-123456" "$D/out" || fail "no rendered name"
grep -q "sha256:$KEYSHA" "$D/out" || fail "no digest of the secret"
grep -q "TOPSECRET" "$D/out" && fail "the secret was echoed"
[ "$(stat -c %s "$D/nvs.bin")" = 20480 ] || fail "image is not 0x5000 bytes"
[ -e "$D/none.db" ] && fail "a preview created the database"
# The image starts with an active NVS v2 page (state FE FF FF FF, version FE at byte 8).
[ "$(od -An -tx1 -N9 "$D/nvs.bin" | tr -d ' \n')" = "feffffff00000000fe" ] || fail "page header"
# --serial overrides; a MAC missing from the CSV is a per-unit error, no image written.
"$ST" provision-preview --profile "$D/p.ini" --mac 24:0a:c4:12:34:56 --serial X-1 \
    -o "$D/nvs2.bin" > "$D/out" 2>&1 || fail "preview with --serial"
grep -q "serial_no .*X-1" "$D/out" || fail "--serial not used"
rc=0
"$ST" provision-preview --profile "$D/p.ini" --mac 24:0a:c4:00:00:99 --serial X-2 \
    -o "$D/nvs3.bin" > "$D/out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "missing CSV row: exit $rc, want 1"
grep -q "24:0a:c4:00:00:99.*no row" "$D/out" || fail "missing row not explained"
[ -e "$D/nvs3.bin" ] && fail "an image was written for a unit without a CSV row"
echo "provision_preview: ok"
