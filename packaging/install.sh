#!/bin/sh
# Install the station from a build tree: binaries, profiles, man pages, udev rules, and
# the site profile folder /etc/flashstation/profiles (so: as root).
# Usage: sudo packaging/install.sh [BUILD_DIR] [PREFIX]   (defaults: build, /usr/local)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
prefix=${2:-/usr/local}
[ -x "$build/station/station" ] || { echo "install.sh: $build/station/station not built; run cmake --build $build first" >&2; exit 1; }
cmake --install "$build" --prefix "$prefix"
if [ -d /etc/udev/rules.d ] && [ "$(id -u)" -eq 0 ]; then
    install -m 0644 "$here/packaging/udev/60-flashstation.rules" /etc/udev/rules.d/
    command -v udevadm >/dev/null 2>&1 && udevadm control --reload-rules || true
    echo "udev rules installed; add operators to the dialout group (usermod -aG dialout USER)"
fi
