#!/usr/bin/env bash
# The import figure of issue 14: one regkit server to another over loopback, beside
# the raw SHA-256 of the same bytes, `crane copy` and `regctl image copy`:
#
#   .ci/bench-import.sh [SIZE_MIB] [ROUNDS]      (defaults 1024 and 3)
#
# Builds an image of 10 layers of random bytes (SIZE_MIB MiB in all) as an OCI layout,
# stores it in registryd A's data folder (`regadm import oci:...`), starts A and an
# empty registryd B on loopback, then runs, ROUNDS times and in a rotating order:
#
#   sha256     `openssl dgst -sha256` of the 10 layer files (the raw hash rate of the
#              same bytes, from the page cache; coreutils' `sha256sum`, which has no
#              SHA-NI code, is timed once at the start for reference)
#   import     `regadm -data DIR import --plain-http A/bench/app:v1 ...` into a fresh
#              data folder: the regkit import. DIR is the receiving registry's storage,
#              written in process and not served (a registryd serves the same folder)
#   crane      `crane copy A/bench/app:v1 B/...` into a fresh registryd B
#   regctl     `regctl image copy A/bench/app:v1 B/...` into a fresh registryd B
#              (skipped with a note when regctl cannot be installed)
#
# then a second `regadm import --force` of the same image into the same folder (no
# layer transferred; the whole process, start-up included, is timed). Every line
# carries the load average of the minute. The result lines give each round's MiB/s
# and the ratios import/sha256, import/crane, import/regctl of the same round, and the
# median of each. Every server listens on 127.0.0.1 only; data goes to a temp folder.
# Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

mib=${1:-1024}
rounds=${2:-3}
layers=10
REGCTL_PKG=${REGCTL_PKG:-github.com/regclient/regclient/cmd/regctl@v0.11.7}

command -v openssl >/dev/null || die "openssl is not on PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/regkit-import.XXXXXX")
pids=()
cleanup() {
  # B runs only during a copy: stop it too when the script ends in the middle of one.
  [ -f "$work/b.pid" ] && pids+=("$(cat "$work/b.pid")")
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

crane=$("$here/peers.sh" path crane)
regctl=$(go_install_pinned regctl "$REGCTL_PKG" 2>"$work/regctl.err") || {
  log "note: regctl ($REGCTL_PKG) could not be installed, its rounds are skipped"
  cat "$work/regctl.err" >&2
  regctl=
}
log "building registryd and regadm from the work tree"
build_registryd "$root" worktree "$work/registryd" "$work"
(cd "$root" && go build -o "$work/regadm" ./examples/regadm)
regadm=$work/regadm

load() { cut -d' ' -f1 /proc/loadavg; }
# cpu PID: the user plus system CPU seconds process PID has used so far.
cpu() {
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"
}

# The image: an OCI layout of 10 random layers, a config and a manifest.
lay=$work/layout
mkdir -p "$lay/blobs/sha256"
each=$(((mib << 20) / layers))
files=()
layer_json=
for i in $(seq 1 "$layers"); do
  head -c "$each" /dev/urandom >"$work/layer"
  h=$(openssl dgst -sha256 -r "$work/layer" | cut -d' ' -f1)
  mv "$work/layer" "$lay/blobs/sha256/$h"
  files+=("$lay/blobs/sha256/$h")
  layer_json+="${layer_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$h\",\"size\":$each}"
done
blob() { # blob FILE: stores FILE as a blob, prints its descriptor's digest and size
  local h s
  h=$(openssl dgst -sha256 -r "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$lay/blobs/sha256/$h"
  echo "\"digest\":\"sha256:$h\",\"size\":$s"
}
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$work/config.json"
cfg=$(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json",%s},"layers":[%s]}' \
  "$cfg" "$layer_json" >"$work/manifest.json"
man=$(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$man" >"$lay/index.json"
bytes=$((each * layers))

# start_registryd NAME: starts a registryd on a free loopback port with the data
# folder $work/NAME and prints its address; its PID goes to $work/NAME.pid.
start_registryd() {
  local name=$1 port addr pid
  port=$(free_port)
  addr=127.0.0.1:$port
  require_loopback "$addr"
  setsid "$work/registryd" -addr "$addr" -data "$work/$name" -log-level warn \
    -gc-interval 0 -sweep-interval 0 >"$work/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$work/$name.pid"
  wait_http "http://$addr/v2/" 30 "$pid" || { cat "$work/$name.log" >&2; die "registryd $name did not start"; }
  echo "$addr"
}
stop_registryd() {
  local pid
  pid=$(cat "$work/$1.pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$work/$1.pid"
}
# regadm works on existing data folders: registryd makes an empty one.
start_registryd empty >/dev/null
stop_registryd empty
cp -a "$work/empty" "$work/a"
"$regadm" -data "$work/a" import "oci:$lay:v1" bench/app:v1 >/dev/null
echo "image: $layers layers of $each bytes ($bytes bytes), $(nproc) cores"
a=$(start_registryd a)
pids+=("$(cat "$work/a.pid")")
export REGCTL_CONFIG=$work/regctl.json
if [ -n "$regctl" ]; then
  "$regctl" registry set --tls disabled "$a" >/dev/null
fi

# timed NAME CMD...: runs CMD, prints "seconds user sys" of it; stops the script
# when it fails.
timed() {
  local name=$1
  shift
  /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >"$work/$name.out" 2>"$work/$name.err" ||
    { cat "$work/$name.err" >&2; die "$name failed"; }
  cat "$work/time"
}

# run MODE ROUND: one timed run of MODE, printed as a result line; its MiB/s goes to
# $work/rate.MODE.ROUND.
run() {
  local mode=$1 r=$2 t b l a0 b0=0 b1=0 srv
  l=$(load)
  a0=$(cpu "$(cat "$work/a.pid")")
  case $mode in
    sha256)
      t=$(timed sha256 openssl dgst -sha256 "${files[@]}") ;;
    import)
      rm -rf "$work/imp" && cp -a "$work/empty" "$work/imp"
      t=$(timed import "$regadm" -data "$work/imp" import --plain-http --docker-config "" "$a/bench/app:v1" bench/app:v1) ;;
    crane|regctl)
      rm -rf "$work/b"
      b=$(start_registryd b)
      [ "$mode" = regctl ] && "$regctl" registry set --tls disabled "$b" >/dev/null
      b0=$(cpu "$(cat "$work/b.pid")")
      if [ "$mode" = crane ]; then
        t=$(timed crane "$crane" copy --insecure "$a/bench/app:v1" "$b/bench/app:v1")
      else
        t=$(timed regctl "$regctl" image copy "$a/bench/app:v1" "$b/bench/app:v1")
      fi
      b1=$(cpu "$(cat "$work/b.pid")")
      stop_registryd b ;;
  esac
  srv=$(awk -v a0="$a0" -v a1="$(cpu "$(cat "$work/a.pid")")" -v b0="$b0" -v b1="$b1" 'BEGIN { printf "%.2f", a1 - a0 + b1 - b0 }')
  read -r secs user sys <<<"$t"
  rate=$(awk -v s="$bytes" -v t="$secs" 'BEGIN { printf "%.1f", s / 1048576 / t }')
  echo "$rate" >"$work/rate.$mode.$r"
  awk -v u="$user" -v s="$sys" -v v="$srv" 'BEGIN { printf "%.2f\n", u + s + v }' >"$work/cpu.$mode.$r"
  echo "result: mode=$mode round=$r seconds=$secs mib_s=$rate client_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') servers_cpu=$srv load=$l"
}

l=$(load)
t=$(timed sha256sum sha256sum "${files[@]}")
read -r secs _ _ <<<"$t"
echo "reference: sha256sum (coreutils) mib_s=$(awk -v s="$bytes" -v t="$secs" 'BEGIN { printf "%.1f", s / 1048576 / t }') load=$l"

modes=(sha256 import crane)
[ -n "$regctl" ] && modes+=(regctl)
for r in $(seq 1 "$rounds"); do
  n=${#modes[@]}
  for k in $(seq 0 $((n - 1))); do
    run "${modes[$(((k + r - 1) % n))]}" "$r"
  done
done

# The second import: the same image into the folder the last import filled.
for r in 1 2 3; do
  l=$(load)
  t=$(timed import2 "$regadm" -data "$work/imp" -output json import --force --plain-http --docker-config "" "$a/bench/app:v1" bench/app:v1)
  read -r secs _ _ <<<"$t"
  moved=$(grep -o '"blobsTransferred":[0-9]*' "$work/import2.out" | cut -d: -f2)
  echo "result: mode=second-import round=$r seconds=$secs blobs_transferred=${moved:-0} load=$l (whole process)"
done

ratio() { # ratio A B: the per-round ratios A/B and their median
  local x y rs=()
  for r in $(seq 1 "$rounds"); do
    x=$(cat "$work/rate.$1.$r")
    y=$(cat "$work/rate.$2.$r")
    rs+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.2f", x / y }')")
  done
  med=$(printf '%s\n' "${rs[@]}" | median)
  echo "result: ratio $1/$2 rounds=${rs[*]} median=$med"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for m in "${modes[@]}"; do
  echo "result: mode=$m median_mib_s=$(cat "$work"/rate."$m".* | median) median_cpu_s=$(cat "$work"/cpu."$m".* | median) (client and servers)"
done
ratio import sha256
ratio import crane
[ -n "$regctl" ] && ratio import regctl
exit 0
