#!/bin/sh
# setup_ajv.sh PREFIX - CTest fixture setup (ajv_installed): install the Ajv release pinned by
# PREFIX/package-lock.json into PREFIX/node_modules with `npm ci` (node and npm come from
# packaging/deps.sh). A stamp (hash of the lock file) skips the reinstall when
# node_modules already matches, so later runs need no registry access.
set -eu
prefix=$1
lock="$prefix/package-lock.json"
stamp="$prefix/node_modules/.flashstation-lock.sha256"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    { echo "error: node and npm are needed (packaging/deps.sh installs them)" >&2; exit 1; }
sum=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && [ -f "$prefix/node_modules/ajv/package.json" ]; then
    echo "ajv already installed from this lock file"
else
    npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
    echo "$sum" >"$stamp"
fi
want=$(node -p "require('$lock').packages['node_modules/ajv'].version")
got=$(node -p "require('$prefix/node_modules/ajv/package.json').version")
[ "$got" = "$want" ] || { echo "error: installed ajv $got, pinned $want" >&2; exit 1; }
echo "ajv $got ready in $prefix/node_modules"
