#!/usr/bin/env bash
# Installs Azurite (the blob emulator the storage emulator is compared against)
# into .tools/azurite and prints the package directory to pass as SNAPCOPY_AZURITE.
# Idempotent: an existing install of the pinned version is reused.
set -euo pipefail

version="3.35.0" # last release that runs on Node 20 (3.37 needs Node >= 22)
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/.tools/azurite"
pkg="$prefix/node_modules/azurite"

installed=""
if [[ -f "$pkg/package.json" ]]; then
  installed="$(node -p "require('$pkg/package.json').version")"
fi
if [[ "$installed" != "$version" ]]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "azurite@$version" >&2
fi
if [[ ! -f "$pkg/dist/src/blob/main.js" ]]; then
  echo "azurite $version install incomplete: $pkg/dist/src/blob/main.js missing" >&2
  exit 1
fi
echo "$pkg"
