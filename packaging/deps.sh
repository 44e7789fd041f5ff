#!/bin/sh
# Install the Debian packages the station builds and tests with (idempotent).
# Runs apt-get through sudo when not already root.
set -eu
PKGS="build-essential cmake pkg-config libserialport-dev libinih-dev libjansson-dev
libdeflate-dev libsqlite3-dev sqlite3 libssl-dev zlib1g-dev libncurses-dev tmux nodejs npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nodejs may come from another origin that bundles npm: install npm only if absent.
if command -v npm >/dev/null 2>&1; then missing=$(echo "$missing" | sed 's/ npm\b//'); fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
