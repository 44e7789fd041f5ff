#!/usr/bin/env bash
# test_deb.sh - the Debian package as a packager and a fresh machine see it: build the .deb
# with cpack (into a scratch folder, not the source tree), check its contents with
# dpkg-deb -c / -I, unpack it with dpkg -x into a scratch root, check that neither
# program names the build or source folder (strings), and run the installed
# `station demo --headless` from the scratch root with the build and source trees hidden
# (a private mount namespace with empty folders mounted over them).
#
#   test_deb.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/debtest.XXXXXX")
case "$WORK/" in # the scratch root must stay visible when the trees are hidden
"$BUILD"/* | "$SRC"/*) rm -rf "$WORK"; WORK=$(mktemp -d /tmp/debtest.XXXXXX) ;;
esac
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# -- build the package, out of the source tree
(cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) ||
    { cat "$WORK/cpack.log" >&2; fail "cpack failed"; }
DEB=$(ls "$WORK"/pkg/flashstation_*.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] || fail "no flashstation_*.deb in $WORK/pkg"
ok "package built: $(basename "$DEB")"
# The configured default package folder is in the build tree too.
grep -q "CPACK_PACKAGE_DIRECTORY \"$BUILD/" "$BUILD/CPackConfig.cmake" ||
    fail "CPACK_PACKAGE_DIRECTORY does not point into the build tree"
ok "cpack's default output folder is in the build tree"

# -- contents
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' >"$WORK/list"
for p in /usr/bin/station /usr/libexec/station/esp32sim \
    /usr/share/station/profiles/core2.ini /usr/share/station/profiles/fire.ini \
    /usr/share/station/profiles/README.md /usr/share/station/profiles/demo.ini \
    /usr/share/station/profiles/demo/app.bin /usr/share/station/profiles/demo/stub.json \
    /usr/share/station/scenarios/demo.txt \
    /usr/share/man/man1/station.1.gz /usr/share/man/man1/esp32sim.1.gz \
    /usr/share/doc/flashstation/copyright /usr/share/doc/flashstation/changelog.gz \
    /usr/share/doc/flashstation/events.md /usr/share/doc/flashstation/events.schema.json \
    /usr/lib/udev/rules.d/60-flashstation.rules \
    /etc/flashstation/profiles /etc/flashstation/profiles/README; do
    grep -qxF "$p" "$WORK/list" || fail "the package lacks $p"
done
ok "dpkg-deb -c: program, simulator, profiles, scenario, man pages, doc, udev rules, /etc folder"
bad=$(grep -vE '^(/|/usr(/.*)?|/etc|/etc/flashstation(/.*)?)$' "$WORK/list")
[ -z "$bad" ] || fail "files outside /usr and /etc/flashstation: $bad"
grep -q 'station-build-tree.ini' "$WORK/list" && fail "the build-tree paths file is in the package"
ok "nothing outside /usr and /etc/flashstation, no build-tree paths file"

dpkg-deb -e "$DEB" "$WORK/control"
grep -qxF /etc/flashstation/profiles/README "$WORK/control/conffiles" || fail "README under /etc is not a conffile"
grep -q 'udevadm control --reload-rules' "$WORK/control/postinst" || fail "postinst does not reload udev rules"
grep -q 'usermod -aG dialout' "$WORK/control/postinst" || fail "postinst does not tell how to join dialout"
[ -x "$WORK/control/postinst" ] || fail "postinst not executable"
sh -n "$WORK/control/postinst" || fail "postinst is not valid sh"
# postinst runs without udev (a container, a chroot) and says how to join dialout.
PATH=/nonexistent:/usr/bin:/bin sh "$WORK/control/postinst" configure >"$WORK/postinst.out" 2>&1 ||
    fail "postinst configure failed: $(cat "$WORK/postinst.out")"
grep -q dialout "$WORK/postinst.out" || fail "postinst printed nothing about dialout"
ok "control: conffiles, postinst reloads udev and tells how to join dialout"
zcat <(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/man/man1/station.1.gz) 2>/dev/null >"$WORK/station.1"
grep -qE '^\.SH "?EXIT STATUS' "$WORK/station.1" || fail "station.1 has no EXIT STATUS section"
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -l "$WORK/station.1" 2>/dev/null | grep -q 'flashing station' || fail "man cannot render station.1"
fi
ok "man page renders"

# -- unpack into a scratch root; no build or source folder named in the programs
ROOT=$WORK/root
dpkg -x "$DEB" "$ROOT" || fail "dpkg -x failed"
for b in usr/bin/station usr/libexec/station/esp32sim; do
    hits=$(strings "$ROOT/$b" | grep -F -e "$BUILD" -e "$SRC" | head -n3)
    [ -z "$hits" ] || fail "$b names the build/source tree: $hits"
done
ok "strings: neither program names $BUILD or $SRC"

# -- the installed demo, with the build and source trees out of sight
UNITS=$(sed 's/#.*//' "$ROOT/usr/share/station/scenarios/demo.txt" | grep -cE '^[[:space:]]*unit[[:space:]]')
mkdir -p "$WORK/home" "$WORK/tmp"
run_demo='exec env -i PATH=/usr/bin:/bin HOME="$0/home" TMPDIR="$0/tmp" \
    timeout 90 "$0/root/usr/bin/station" demo --headless --fast'
hide='mount -t tmpfs -o ro,size=4k none "$1" && { [ "$1" = "$2" ] || mount -t tmpfs -o ro,size=4k none "$2"; } &&
    [ ! -e "$1/CMakeCache.txt" ] && '"$run_demo"
mode=""
if unshare -m true 2>/dev/null; then
    mode="private mount namespace"
    unshare -m sh -c "$hide" "$WORK" "$BUILD" "$SRC" >"$WORK/out" 2>"$WORK/err"
elif unshare -rm true 2>/dev/null; then
    mode="user + mount namespace"
    unshare -rm sh -c "$hide" "$WORK" "$BUILD" "$SRC" >"$WORK/out" 2>"$WORK/err"
else
    # No namespaces here (a locked-down container): strings above already proved the
    # binary carries no tree path; the run still uses the scratch root only.
    mode="trees visible (no namespaces available)"
    sh -c "$run_demo" "$WORK" >"$WORK/out" 2>"$WORK/err"
fi
rc=$?
echo "installed demo ran with: $mode"
[ $rc -eq 0 ] || { tail -n 20 "$WORK/out" "$WORK/err" >&2; fail "installed station demo exited $rc"; }
for what in "simulator $ROOT/usr/bin/../libexec/station/esp32sim" \
    "scenario $ROOT/usr/bin/../share/station/scenarios/demo.txt" \
    "profile $ROOT/usr/bin/../share/station/profiles/demo.ini"; do
    grep -qF "$what" "$WORK/out" || { cat "$WORK/out" >&2; fail "the installed demo did not use $what"; }
done
ok "the installed demo used the installed simulator, scenario and profile"
sum=$(grep -E '^line stopped after' "$WORK/out")
P=$(echo "$sum" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
F=$(echo "$sum" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
[ -n "$P" ] && [ -n "$F" ] || { cat "$WORK/out" >&2; fail "no closing summary"; }
[ $((P + F)) -eq "$UNITS" ] || fail "installed demo: $P passed + $F failed != $UNITS units"
[ "$P" -gt 0 ] || fail "installed demo passed no unit"
ok "installed demo: $P passed, $F failed of $UNITS units, stopped by itself"
echo "PASS: debian package"
