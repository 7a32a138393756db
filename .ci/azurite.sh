#!/usr/bin/env bash
# Installs Azurite, the Azure Storage emulator, for the tests of blob/azure: they
# start a private azurite-blob on a free loopback port with a temporary folder
# (unless REGKIT_AZURE_BLOB_URL names a Blob service, when nothing is needed).
#
#   .ci/azurite.sh      install azurite@AZURITE_VERSION with npm into
#                       $REGKIT_TOOLS/azurite-AZURITE_VERSION (skipped when it is
#                       there), then print the path of its azurite-blob binary
#
# No server is started here and none is left running: each test run starts and
# stops its own.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AZURITE_VERSION=${AZURITE_VERSION:-3.37.0}

if [ -n "${REGKIT_AZURE_BLOB_URL:-}" ]; then
  log "REGKIT_AZURE_BLOB_URL is set: the tests use that service"
  exit 0
fi
dir=$REGKIT_TOOLS/azurite-$AZURITE_VERSION
bin=$dir/node_modules/.bin/azurite-blob
if [ ! -x "$bin" ]; then
  command -v npm >/dev/null || die "npm is not on PATH (apt-get install npm)"
  log "installing azurite@$AZURITE_VERSION into $dir"
  mkdir -p "$dir"
  # A package.json of its own keeps npm from walking up to any other project.
  [ -f "$dir/package.json" ] || echo '{"name":"regkit-azurite","private":true}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION") >&2 ||
    die "npm install azurite@$AZURITE_VERSION failed"
  [ -x "$bin" ] || die "azurite installed but $bin is missing"
fi
echo "$bin"
