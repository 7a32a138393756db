#!/usr/bin/env bash
# HTTP figures of issue 5, registryd beside its peers in one run:
#
#   .ci/bench-http.sh [SIZE]        (default SIZE=512MiB)
#
# Starts registryd (this tree), CNCF distribution v3 and `crane registry serve` on
# loopback ports, runs regload against each (blob push monolithic and chunked with the
# single-core sha256 baseline, blob pull, manifest and 1 KiB blob GET with 16
# connections, manifest PUT/DELETE with 8 clients) and prints every result line, with a
# disk baseline (dd with fdatasync of the same size) before each server's pushes.
# Bounded: every load phase runs for a fixed count or duration. Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
size=${1:-512MiB}
dur=${BENCH_DURATION:-8s}
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-bench.XXXXXX")
go build -o "$work/regload" "$here/../internal/cmd/regload"
pids=()
cleanup() { for p in "${pids[@]}"; do "$here/peers.sh" stop "$p" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
declare -A addr=([registryd]=127.0.0.1:5201 [distribution]=127.0.0.1:5202 [ggcr]=127.0.0.1:5203)
for p in registryd distribution ggcr; do
  pids+=("$("$here/peers.sh" start "$p" "${addr[$p]}" "$work/$p")")
done
for p in registryd distribution ggcr; do
  url=http://${addr[$p]}
  echo "== $p"
  seed=$("$work/regload" seed -url "$url")
  blobpath=$(sed -n 's/^result:.* blob_path=\([^ ]*\).*/\1/p' <<<"$seed")
  # Disk baseline of the same minute: what a durable write of this size costs here.
  mib=$(numfmt --from=iec "${size%iB}" | awk '{print int($1/1048576)}')
  dd if=/dev/zero of="$work/dd.bin" bs=1M count="$mib" conv=fdatasync 2>&1 | tail -1 | sed 's/^/disk baseline (dd fdatasync): /'
  rm -f "$work/dd.bin"
  "$work/regload" pushblob -url "$url" -repo bench/blob -size "$size" -mode monolithic -seed 1 | tail -1
  "$work/regload" pushblob -url "$url" -repo bench/blob -size "$size" -mode chunked -chunk 16MiB -seed 2 | tail -1
  "$work/regload" pullblob -url "$url" -repo bench/blob -size "$size" -seed 1 -n 3 | tail -1
  "$work/regload" get -url "$url" -path /v2/regload/seed/manifests/latest -c 16 -d "$dur" | tail -1
  "$work/regload" get -url "$url" -path "$blobpath" -c 16 -d "$dur" | tail -1
  "$work/regload" manifests -url "$url" -repo bench/m -c 8 -n 2000 | tail -1
done
