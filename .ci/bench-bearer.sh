#!/usr/bin/env bash
# The Bearer GET figure of issue 13: manifest GETs by tag from 16 connections
# (regload's raw client) against one registryd that checks credentials (an admin user,
# anonymous pull on), alternating anonymous and Bearer rounds so both see the same
# minutes, the order flipped every round:
#
#   .ci/bench-bearer.sh [ROUNDS] [SECONDS] [-- EXTRA_REGISTRYD_FLAGS...]
#        (default 8 rounds of 4 s each)
#
# The Bearer token is a pull token's (scope map _repositories_pull), for pulls of the
# repository, from /oauth2/token as a client gets it. Prints each
# round's rates and the Bearer/anonymous ratio, and registryd's CPU time per request
# (anonymous/bearer, so that above 1 means Bearer costs more), then the medians. Not
# part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rounds=${1:-8}
secs=${2:-4}
shift $(( $# < 2 ? $# : 2 ))
[ $# -gt 0 ] && [ "$1" = -- ] && shift
extra=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-bearer.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$root" && go build -o "$work/registryd" ./examples/registryd && go build -o "$work/regload" ./internal/cmd/regload &&
  go build -o "$work/regadm" ./examples/regadm)
port=5241
start() {
  REGKIT_ADMIN_PASSWORD=bench-secret "$work/registryd" -addr "127.0.0.1:$port" -data "$work/data" \
    -log-level warn -admin-user admin -anonymous-pull "${extra[@]}" >>"$work/log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/v2/" 10 "$pid" || die "registryd did not start: $(cat "$work/log")"
}
# Seed as the admin, then make a pull token as a pulling client would hold (regadm
# works on a folder no server holds).
start
"$work/regload" seed -url "http://admin:bench-secret@127.0.0.1:$port" >/dev/null
kill "$pid" && wait "$pid" || true
pw=$("$work/regadm" -data "$work/data" -output json token create --scope-map _repositories_pull puller |
  grep -A1 '"name": "password1"' | grep -o '"value": "[^"]*"' | cut -d'"' -f4)
[ -n "$pw" ] || die "regadm token create gave no password"
start
url=http://puller:$pw@127.0.0.1:$port
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # registryd's CPU time, in clock ticks
hz=$(getconf CLK_TCK)
get() { # get [-bearer]: one round's rate and registryd's CPU µs per request (counted from
  # the start of the warm-up, so it includes that second's requests at the same rate)
  local t0 t1 out rps n
  t0=$(ticks)
  out=$("$work/regload" get -url "$url" -path /v2/regload/seed/manifests/latest -c 16 -d "${secs}s" -warmup 1s "$@" | tail -1)
  t1=$(ticks)
  rps=$(grep -o 'rps=[0-9]*' <<<"$out" | cut -d= -f2)
  n=$(awk -v r="$rps" -v s="$secs" 'BEGIN { print r * (s + 1) }')
  echo "$rps $(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')"
}
get >/dev/null # warm the server
ratios=() cpus=()
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then read -r a ca < <(get); read -r b cb < <(get -bearer); else read -r b cb < <(get -bearer); read -r a ca < <(get); fi
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
  c=$(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$r") cpus+=("$c")
  echo "round $i: anonymous $a req/s ($ca µs CPU each), bearer $b req/s ($cb µs), rate bearer/anonymous $r, CPU anonymous/bearer $c (load $(cut -d' ' -f1 /proc/loadavg))"
done
median() { sort -n | awk -v what="$1" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %s %.3f over %d rounds (min %s, max %s)\n", what, m, NR, v[1], v[NR] }'; }
printf '%s\n' "${ratios[@]}" | median "rate bearer/anonymous"
printf '%s\n' "${cpus[@]}" | median "registryd CPU per request anonymous/bearer"
