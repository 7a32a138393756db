#!/usr/bin/env bash
# Compare two registryd builds on manifest PUT/DELETE (8 clients) and manifest GET
# (16 connections), alternating round by round so both see the same minutes:
#
#   .ci/ab-manifests.sh REV_A REV_B [ROUNDS] [-- EXTRA_B_FLAGS...]
#        (default ROUNDS=3)
#
# REV_A and REV_B are git revisions ("worktree" for the files as they are). Flags after
# "--" go to build B only (e.g. -pull-interval 0 to compare a switch on one build).
# Prints each round's figures for A and B. Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
[ $# -ge 2 ] || die "usage: $0 REV_A REV_B [ROUNDS] [-- EXTRA_B_FLAGS...]"
a=$1 b=$2; shift 2
rounds=3
if [ $# -gt 0 ] && [ "$1" != -- ]; then rounds=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = -- ] && shift
extra=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-abm.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
build() { build_registryd "$root" "$1" "$2" "$work"; }
(cd "$root" && go build -o "$work/regload" ./internal/cmd/regload)
declare -A port=([A]=5231 [B]=5232)
build "$a" "$work/A"
build "$b" "$work/B"
"$work/A" -addr "127.0.0.1:${port[A]}" -data "$work/data-A" -log-level warn >"$work/log-A" 2>&1 &
pids+=($!)
"$work/B" -addr "127.0.0.1:${port[B]}" -data "$work/data-B" -log-level warn "${extra[@]}" >"$work/log-B" 2>&1 &
pids+=($!)
for x in A B; do
  wait_http "http://127.0.0.1:${port[$x]}/v2/" 10 || die "registryd $x did not start"
  "$work/regload" seed -url "http://127.0.0.1:${port[$x]}" >/dev/null
done
for i in $(seq "$rounds"); do
  for x in A B; do
    url=http://127.0.0.1:${port[$x]}
    m=$("$work/regload" manifests -url "$url" -repo "bench/m$i" -c 8 -n 2000 | tail -1 | grep -o 'put_s=[0-9.]*\|delete_s=[0-9.]*' | tr '\n' ' ')
    g=$("$work/regload" get -url "$url" -path /v2/regload/seed/manifests/latest -c 16 -d 4s | tail -1 | grep -o 'rps=[0-9]*')
    echo "round $i $x: $m get_$g"
  done
done
