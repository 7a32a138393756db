#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries are installed, for the tests of
# registry/meta/postgres: they start a private server from initdb and pg_ctl in a
# temporary folder (unless REGKIT_POSTGRES_URL names a server, when nothing is needed).
#
#   .ci/postgres.sh     install the server if /usr/lib/postgresql/*/bin/initdb is missing,
#                       then print the folder of its binaries
#
# The install is Debian 12's postgresql package at the version pinned below (the
# PostgreSQL 15 server); POSTGRES_DEB_VERSION overrides the pin. No server is started
# here and none is left running: each test run starts and stops its own.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES_DEB_VERSION=${POSTGRES_DEB_VERSION:-15+248+deb12u1}

server_bin() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
  [ -n "$initdb" ] && [ -x "$(dirname "$initdb")/pg_ctl" ] && dirname "$initdb"
}

if [ -n "${REGKIT_POSTGRES_URL:-}" ]; then
  log "REGKIT_POSTGRES_URL is set: the tests use that server"
  exit 0
fi
if ! bin=$(server_bin); then
  command -v apt-get >/dev/null || die "no PostgreSQL server binaries and no apt-get to install them"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "installing postgresql needs root"
    sudo=(sudo)
  fi
  log "installing postgresql=$POSTGRES_DEB_VERSION"
  "${sudo[@]}" apt-get update -qq >&2
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "postgresql=$POSTGRES_DEB_VERSION" >&2; then
    # Debian replaces a stable package by its security update and drops the old
    # version from the mirror: take the current one rather than fail CI, and say so.
    log "warning: postgresql=$POSTGRES_DEB_VERSION is not available; installing Debian's current postgresql"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2 ||
      die "apt-get install postgresql failed"
  fi
  bin=$(server_bin) || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb and pg_ctl"
fi
if [ "$(id -u)" -eq 0 ]; then
  # As root the tests run initdb and pg_ctl as the postgres user (initdb refuses root).
  id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user (the package makes it)"
  command -v runuser >/dev/null || die "running as root and there is no runuser"
fi
log "server binaries in $bin"
echo "$bin"
