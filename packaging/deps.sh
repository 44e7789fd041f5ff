#!/bin/sh
# Install the Debian packages the station builds and tests with (idempotent).
# Runs apt-get through sudo when not already root. When another apt/dpkg run holds the
# package manager's lock (unattended-upgrades on a fresh machine, a parallel CI job), it
# waits for it - up to DEPS_LOCK_WAIT seconds (default 900) - instead of failing.
set -eu
PKGS="build-essential cmake pkg-config libserialport-dev libinih-dev libjansson-dev
libdeflate-dev libcsv-dev libsqlite3-dev sqlite3 libssl-dev zlib1g-dev libncurses-dev tmux nodejs npm
dpkg-dev man-db util-linux binutils python3-serial
libpq-dev postgresql openssl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
wait_max=${DEPS_LOCK_WAIT:-900}
pause=${DEPS_LOCK_PAUSE:-5}

# apt-get with the lock waited for: apt's own DPkg::Lock::Timeout covers the dpkg lock;
# the retry loop covers the lists lock of `update` and apt versions without the option.
apt() {
    waited=0
    while :; do
        rc=0
        out=$($SUDO apt-get -o DPkg::Lock::Timeout="$wait_max" "$@" 2>&1) || rc=$?
        if [ "$rc" -eq 0 ]; then
            [ -z "$out" ] || printf '%s\n' "$out"
            return 0
        fi
        if printf '%s' "$out" | grep -qiE 'could not get lock|unable to lock|lock-frontend|is another process using it'; then
            if [ "$waited" -ge "$wait_max" ]; then
                printf '%s\n' "$out" >&2
                echo "deps.sh: the package manager stayed locked for ${waited} s; try again later" >&2
                return "$rc"
            fi
            [ "$waited" -eq 0 ] && echo "deps.sh: another apt/dpkg run holds the lock; waiting (up to ${wait_max} s)" >&2
            sleep "$pause"
            waited=$((waited + pause))
            continue
        fi
        printf '%s\n' "$out" >&2
        return "$rc"
    done
}

apt update -qq
# nodejs may come from another origin that bundles npm: install npm only if absent.
if command -v npm >/dev/null 2>&1; then missing=$(echo "$missing" | sed 's/ npm\b//'); fi
apt install -y -qq --no-install-recommends $missing
