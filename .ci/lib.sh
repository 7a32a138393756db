# shellcheck shell=bash
# Shared helpers for regkit's CI and measurement scripts. Source it; do not run it.
#
# Everything these scripts install goes under $REGKIT_TOOLS (default
# $HOME/.cache/regkit-tools), never into the work tree, and every server they start
# listens on a loopback address only.

REGKIT_TOOLS=${REGKIT_TOOLS:-$HOME/.cache/regkit-tools}
REGKIT_BIN=$REGKIT_TOOLS/bin

log() { echo "[$(basename "$0")] $*" >&2; }
die() { log "error: $*"; exit 1; }

# go_install_pinned NAME PKG@VERSION: builds one Go program into
# $REGKIT_TOOLS/<NAME>-<VERSION>/ (so a new pin never reuses an old binary), links it as
# $REGKIT_BIN/NAME and prints the binary's path. Skips the build when it is there.
go_install_pinned() {
  local name=$1 spec=$2
  local version=${spec##*@} dir bin
  dir=$REGKIT_TOOLS/$name-$version
  bin=$dir/$(basename "${spec%@*}")
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || die "go is not on PATH"
    log "installing $spec"
    mkdir -p "$dir"
    # Build outside any module so nothing touches the project's go.mod; GOFLAGS from
    # the caller (e.g. -mod=vendor) must not leak into a module-mode install.
    (cd "$dir" && GOFLAGS=-buildvcs=false GOBIN=$dir go install "$spec") >&2 ||
      die "go install $spec failed"
  fi
  mkdir -p "$REGKIT_BIN"
  ln -sfn "$bin" "$REGKIT_BIN/$name"
  echo "$bin"
}

# require_loopback HOST:PORT: refuses any address that is not on this machine's
# loopback (127.0.0.0/8, localhost or [::1]). Our load and conformance traffic goes
# nowhere else.
require_loopback() {
  local addr=$1 host
  case $addr in
    \[*\]:*) host=${addr%%\]*}; host=${host#\[} ;;
    *:*) host=${addr%:*} ;;
    *) die "address $addr needs a port (host:port)" ;;
  esac
  case $host in
    127.*|localhost|::1) ;;
    *) die "refusing non-loopback address $addr (only 127.0.0.0/8, localhost, [::1])" ;;
  esac
  case ${addr##*:} in
    ''|*[!0-9]*) die "bad port in $addr" ;;
  esac
}

# wait_http URL SECONDS [PID]: waits until URL answers any HTTP status, failing early
# when PID has exited.
wait_http() {
  local url=$1 secs=$2 pid=${3:-}
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -lt $deadline ]; do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  return 1
}

# free_port: prints a loopback TCP port that nothing listens on right now.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# build_registryd ROOT REV OUT WORK: builds examples/registryd at git revision REV of
# the repository at ROOT ("worktree": the files as they are) into OUT, using a
# temporary worktree under WORK.
build_registryd() {
  local root=$1 rev=$2 out=$3 work=$4
  if [ "$rev" = worktree ]; then
    (cd "$root" && go build -o "$out" ./examples/registryd)
  else
    git -C "$root" worktree add -q --detach "$work/src-$(basename "$out")" "$rev"
    (cd "$work/src-$(basename "$out")" && go build -o "$out" ./examples/registryd)
    git -C "$root" worktree remove --force "$work/src-$(basename "$out")"
  fi
}
