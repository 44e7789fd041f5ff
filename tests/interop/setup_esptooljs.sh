#!/bin/sh
# setup_esptooljs.sh PREFIX VERSION - CTest fixture setup (esptooljs_installed): make sure
# Node.js and npm exist (installing the Debian packages if not: a skipped interop test is a
# failed one), then install the esptool-js release pinned by PREFIX/package-lock.json into
# PREFIX/node_modules with `npm ci`. A stamp (hash of the lock file) skips the reinstall when
# node_modules already matches, so later runs need no registry access.
set -eu

prefix=$1
want=$2
lock="$prefix/package-lock.json"
pkgdir="$prefix/node_modules/esptool-js"
stamp="$prefix/node_modules/.flashstation-lock.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node/npm missing: installing Debian packages nodejs npm"
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    else
        sudo=
    fi
    $sudo apt-get install -y nodejs npm || {
        $sudo apt-get update && $sudo apt-get install -y nodejs npm
    }
fi

major=$(node -p 'process.versions.node.split(".")[0]')
echo "node $(node --version), npm $(npm --version 2>/dev/null)"
if [ "$major" -lt 18 ]; then
    echo "error: Node.js >= 18 needed (global ReadableStream/WritableStream), found $(node --version)" >&2
    exit 1
fi

sum=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && [ -f "$pkgdir/package.json" ]; then
    echo "esptool-js already installed from this lock file"
else
    npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
    echo "$sum" > "$stamp"
fi

check() { # DIR VERSION FILE...
    d=$1 v=$2
    shift 2
    got=$(node -p "require('$d/package.json').version")
    if [ "$got" != "$v" ]; then
        echo "error: installed esptool-js $got in $d, pinned $v" >&2
        exit 1
    fi
    for f in "$@"; do
        if [ ! -s "$d/$f" ]; then
            echo "error: $d/$f missing from the installed package" >&2
            exit 1
        fi
    done
    echo "esptool-js $got ready in $d"
}
check "$pkgdir" "$want" bundle.js lib/targets/stub_flasher/stub_flasher_32.json
# The second pin (npm alias): esptool-js 0.7.0, which ships the esp-flasher-stub.
check "$prefix/node_modules/esptool-js-0.7.0" 0.7.0 bundle.js lib/targets/stub_flasher/esp32.json \
    lib/targets/stub_flasher/esp32s3.json
