#!/usr/bin/env bash
# Compare two registryd builds on blob push, alternating push by push so both see the
# same minutes of this noisy machine:
#
#   .ci/ab-push.sh REV_A REV_B [ROUNDS] [MODE] [CHUNK]
#        (defaults: ROUNDS=5, MODE=monolithic, CHUNK=16MiB)
#
# REV_A and REV_B are git revisions of this repository (a commit, a branch, or
# "worktree" for the files as they are). Each is built into a temp folder and started
# on a loopback port with a fresh data folder; regload (from the work tree) pushes a
# 512 MiB blob to A, then to B, ROUNDS times, and the script prints each build's
# push/sha256 ratios sorted. Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
[ $# -ge 2 ] || die "usage: $0 REV_A REV_B [ROUNDS] [MODE] [CHUNK]"
rounds=${3:-5} mode=${4:-monolithic} chunk=${5:-16MiB}
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-ab.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build() { build_registryd "$root" "$1" "$2" "$work"; }
(cd "$root" && go build -o "$work/regload" ./internal/cmd/regload)
declare -A port=([A]=5221 [B]=5222)
build "$1" "$work/A"
build "$2" "$work/B"
for x in A B; do
  "$work/$x" -addr "127.0.0.1:${port[$x]}" -data "$work/data-$x" -log-level warn >"$work/log-$x" 2>&1 &
  pids+=($!)
done
for x in A B; do
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:${port[$x]}/v2/" >/dev/null && break
    sleep 0.1
  done
done
declare -A ratios=([A]="" [B]="")
for i in $(seq "$rounds"); do
  for x in A B; do
    r=$("$work/regload" pushblob -url "http://127.0.0.1:${port[$x]}" -repo bench/ab -size 512MiB \
      -mode "$mode" -chunk "$chunk" -seed "$((i * 2 + ${#x}))" | sed -n 's/^result:.* ratio=\([0-9.]*\).*/\1/p')
    ratios[$x]+="$r "
  done
done
for x in A B; do
  rev=$1; [ $x = B ] && rev=$2
  echo "$x ($rev, $mode): $(tr ' ' '\n' <<<"${ratios[$x]}" | sed '/^$/d' | sort -n | tr '\n' ' ')"
done
