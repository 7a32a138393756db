#!/usr/bin/env bash
# The crane-as-client push figure of issue 5, registryd beside CNCF distribution:
#
#   .ci/bench-crane.sh [SIZE_MIB] [ROUNDS]      (defaults 512 and 3)
#
# Builds one image whose single layer is SIZE_MIB MiB of random bytes compressed with
# gzip -1 (so crane neither compresses nor finds it compressible), then alternates
# `crane push` of that image tarball to registryd (this tree, embedded default storage)
# and to distribution (filesystem storage), each to a fresh repository, and prints the
# seconds and MiB/s of each push and the best of each server. Both servers keep their
# data on the same disk; a dd fdatasync line shows the disk's speed of the minute.
# Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mib=${1:-512}
rounds=${2:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-crane.XXXXXX")
crane=$("$here/peers.sh" path crane)
pids=()
cleanup() {
  for p in "${pids[@]}"; do "$here/peers.sh" stop "$p" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
head -c "$((mib << 20))" /dev/urandom | gzip -1 >"$work/layer.tar.gz"
"$crane" append -f "$work/layer.tar.gz" -t bench/crane:v1 -o "$work/image.tar" >/dev/null
size=$(stat -c %s "$work/layer.tar.gz")
echo "layer: $size bytes (gzip -1 of $mib MiB random)"
declare -A addr=([registryd]=127.0.0.1:5211 [distribution]=127.0.0.1:5212)
for p in registryd distribution; do
  pids+=("$("$here/peers.sh" start "$p" "${addr[$p]}" "$work/$p")")
done
declare -A best=([registryd]=0 [distribution]=0)
for r in $(seq 1 "$rounds"); do
  dd if=/dev/zero of="$work/dd.bin" bs=1M count="$mib" conv=fdatasync 2>&1 | tail -1 | sed 's/^/disk baseline (dd fdatasync): /'
  rm -f "$work/dd.bin"
  for p in registryd distribution; do
    start=$(date +%s.%N)
    "$crane" push --insecure "$work/image.tar" "${addr[$p]}/crane/r$r:v1" >/dev/null 2>"$work/push.err" ||
      { cat "$work/push.err" >&2; exit 1; }
    end=$(date +%s.%N)
    rate=$(awk -v s="$size" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", s / 1048576 / (b - a) }')
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    echo "result: mode=crane-push server=$p round=$r seconds=$secs mib_s=$rate"
    best[$p]=$(awk -v x="${best[$p]}" -v y="$rate" 'BEGIN { print (y > x) ? y : x }')
  done
done
ratio=$(awk -v a="${best[registryd]}" -v b="${best[distribution]}" 'BEGIN { printf "%.2f", a / b }')
echo "result: mode=crane-push best_registryd_mib_s=${best[registryd]} best_distribution_mib_s=${best[distribution]} ratio=$ratio"
