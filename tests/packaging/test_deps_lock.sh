#!/bin/sh
# test_deps_lock.sh DEPS_SH - packaging/deps.sh waits while another apt/dpkg run holds the
# lock, then installs; and gives up with a clear message once the wait is over. apt-get,
# dpkg-query and sudo are stand-ins on PATH: nothing is installed.
set -u
DEPS=${1:?deps.sh}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/depslock.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir "$WORK/bin"
cat >"$WORK/bin/dpkg-query" <<'X'
#!/bin/sh
exit 1
X
cat >"$WORK/bin/sudo" <<'X'
#!/bin/sh
exec "$@"
X
# Locked for the first $LOCKED calls (or always), then succeeds; logs every call.
cat >"$WORK/bin/apt-get" <<'X'
#!/bin/sh
n=$(cat "$STATE/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$STATE/calls"
echo "apt-get $*" >>"$STATE/log"
if [ "$LOCKED" = always ] || [ "$n" -le "$LOCKED" ]; then
    echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
    exit 100
fi
exit 0
X
chmod +x "$WORK/bin/"*

# 1. locked twice, then free: waits and installs.
mkdir "$WORK/s1"
STATE=$WORK/s1 LOCKED=2 DEPS_LOCK_PAUSE=1 DEPS_LOCK_WAIT=30 PATH="$WORK/bin:$PATH" \
    sh "$DEPS" >"$WORK/out1" 2>&1 || { cat "$WORK/out1" >&2; fail "deps.sh failed though the lock was freed"; }
grep -q 'waiting' "$WORK/out1" || fail "deps.sh did not say it was waiting for the lock"
grep -q 'apt-get .*install' "$WORK/s1/log" || fail "deps.sh never ran apt-get install"
grep -q 'DPkg::Lock::Timeout' "$WORK/s1/log" || fail "apt-get not asked to wait for the dpkg lock"
echo "ok: waited for the lock ($(cat "$WORK/s1/calls") apt-get calls), then installed"

# 2. never freed: gives up after DEPS_LOCK_WAIT with a message, non-zero.
mkdir "$WORK/s2"
if STATE=$WORK/s2 LOCKED=always DEPS_LOCK_PAUSE=1 DEPS_LOCK_WAIT=2 PATH="$WORK/bin:$PATH" \
    sh "$DEPS" >"$WORK/out2" 2>&1; then
    fail "deps.sh succeeded though the lock was never freed"
fi
grep -q 'stayed locked' "$WORK/out2" || { cat "$WORK/out2" >&2; fail "no clear message when giving up"; }
[ "$(cat "$WORK/s2/calls")" -ge 2 ] || fail "deps.sh gave up without retrying"
echo "ok: gave up after the wait with a clear message"

# 3. another error is not mistaken for the lock: fails at once.
mkdir "$WORK/s3"
cat >"$WORK/bin/apt-get" <<'X'
#!/bin/sh
n=$(cat "$STATE/calls" 2>/dev/null || echo 0); echo $((n + 1)) >"$STATE/calls"
echo "E: Unable to locate package nodejs" >&2
exit 100
X
STATE=$WORK/s3 DEPS_LOCK_PAUSE=1 DEPS_LOCK_WAIT=30 PATH="$WORK/bin:$PATH" sh "$DEPS" >"$WORK/out3" 2>&1 &&
    fail "deps.sh succeeded on a failing apt-get"
[ "$(cat "$WORK/s3/calls")" -eq 1 ] || fail "deps.sh retried an error that is not the lock"
grep -q 'Unable to locate' "$WORK/out3" || fail "apt-get's error was not shown"
echo "ok: other apt errors fail at once, shown"
echo "PASS: deps.sh lock wait"
