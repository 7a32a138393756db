#!/usr/bin/env bash
# OCI distribution-spec conformance for a registry on this machine.
#
#   .ci/conformance.sh HOST:PORT              test the registry serving http://HOST:PORT/v2/
#   .ci/conformance.sh --peer distribution    start a fresh peer (distribution or ggcr) on
#                                             a free loopback port, test it, stop it
#
# Installs the pinned suite (a plain Go main program) under $REGKIT_TOOLS (default
# $HOME/.cache/regkit-tools) and runs it with every API and data set switched on. The
# reports (results.yaml, junit.xml, report.html) and the suite's raw output go to
# $CONFORMANCE_RESULTS (default: a new temp folder). Prints the suite's counts, a closing
# line "conformance: N passed, N failed, N skipped", every failed test with its first
# error and every skipped or disabled test with its reason. Exit status: 0 when nothing
# failed, 1 on any failure or error, 2 when the suite could not run at all.
#
# Knobs (environment):
#   CONFORMANCE_PROFILE=all   (default) every switch on, including those the suite keeps
#                             off for spec 1.1: required Docker-Content-Digest headers,
#                             upload cancel, manifest PUT with ?tag=, sparse manifests
#                      spec   the suite's own defaults for spec 1.1 (those five switches off)
#   CONFORMANCE_REPO1/REPO2   repositories used (default conformance/repo1, .../repo2)
#   CONFORMANCE_TIMEOUT       seconds the suite may run (default 900)
#   OCI_*                     any variable the suite reads, set by the caller, wins over
#                             this script's choice (e.g. OCI_FILTER_TEST, OCI_LOG=debug)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

CONFORMANCE_PKG=github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

peer="" target=""
while [ $# -gt 0 ]; do
  case $1 in
    --peer) [ $# -ge 2 ] || usage; peer=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [ -z "$target" ] || usage; target=$1; shift ;;
  esac
done
[ -n "$peer" ] || [ -n "$target" ] || usage

suite=$(go_install_pinned conformance "$CONFORMANCE_PKG")

peer_pid=""
cleanup() {
  if [ -n "$peer_pid" ]; then "$here/peers.sh" stop "$peer_pid" || true; fi
}
trap cleanup EXIT

if [ -n "$peer" ]; then
  [ -z "$target" ] || die "give either --peer or HOST:PORT, not both"
  target=127.0.0.1:$(free_port)
  peer_dir=$(mktemp -d "${TMPDIR:-/tmp}/regkit-conformance-$peer.XXXXXX")
  peer_pid=$("$here/peers.sh" start "$peer" "$target" "$peer_dir")
fi
require_loopback "$target"
curl -s -o /dev/null --max-time 5 "http://$target/v2/" ||
  { log "nothing answers at http://$target/v2/"; exit 2; }

results=${CONFORMANCE_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/regkit-conformance.XXXXXX")}
mkdir -p "$results"
results=$(cd "$results" && pwd)

# setdefault NAME VALUE: exports NAME=VALUE unless the caller already set NAME.
setdefault() { if [ -z "${!1:-}" ]; then export "$1=$2"; fi; }

profile=${CONFORMANCE_PROFILE:-all}
case $profile in
  all) extra=true ;;
  spec) extra=false ;;
  *) die "CONFORMANCE_PROFILE must be all or spec" ;;
esac

# The pinned suite's variables (its config.go): everything it reads except the
# credentials, the read-only data lists (OCI_RO_DATA_*) and the deprecated names
# (OCI_ROOT_URL, OCI_NAMESPACE, OCI_CROSSMOUNT_NAMESPACE, OCI_TEST_*), which it only
# maps onto these.
setdefault OCI_REGISTRY "$target"
setdefault OCI_TLS disabled
setdefault OCI_VERSION 1.1
setdefault OCI_REPO1 "${CONFORMANCE_REPO1:-conformance/repo1}"
setdefault OCI_REPO2 "${CONFORMANCE_REPO2:-conformance/repo2}"
setdefault OCI_RESULTS_DIR "$results"
setdefault OCI_LOG warn
for v in OCI_API_PING OCI_API_PULL OCI_API_PUSH \
  OCI_API_BLOBS_ATOMIC OCI_API_BLOBS_DELETE OCI_API_BLOBS_MOUNT_ANONYMOUS \
  OCI_API_MANIFESTS_ATOMIC OCI_API_MANIFESTS_DELETE \
  OCI_API_TAGS_ATOMIC OCI_API_TAGS_DELETE OCI_API_TAGS_LIST OCI_API_REFERRER \
  OCI_DATA_IMAGE OCI_DATA_INDEX OCI_DATA_INDEX_LIST OCI_DATA_ARTIFACT OCI_DATA_SUBJECT \
  OCI_DATA_SUBJECT_MISSING OCI_DATA_ARTIFACT_LIST OCI_DATA_SUBJECT_LIST \
  OCI_DATA_DATA_FIELD OCI_DATA_NONDISTRIBUTABLE OCI_DATA_CUSTOM_FIELDS \
  OCI_DATA_NO_LAYERS OCI_DATA_EMPTY_BLOB OCI_DATA_SHA512; do
  setdefault "$v" true
done
for v in OCI_API_BLOBS_DIGEST_HEADER OCI_API_BLOBS_UPLOAD_CANCEL \
  OCI_API_MANIFESTS_DIGEST_HEADER OCI_API_MANIFESTS_TAG_PARAM OCI_DATA_SPARSE; do
  setdefault "$v" "$extra"
done
# The suite falls back to ./oci-conformance.yaml when this is unset: never read a stray one.
setdefault OCI_CONFIGURATION /dev/null

log "suite $(basename "$(dirname "$suite")") against http://$target (profile $profile)"
log "reports in $results"
set +e
# The suite's HTTP client has no time limit of its own: bound the whole run.
(cd "$results" && exec timeout "${CONFORMANCE_TIMEOUT:-900}" "$suite") \
  >"$results/output.txt" 2>"$results/stderr.txt"
rc=$?
if [ "$rc" -eq 124 ]; then log "the suite ran past ${CONFORMANCE_TIMEOUT:-900}s and was stopped"; fi
set -e

summary=$(sed -n '/^OCI Conformance Result:/,/^  Total/p' "$results/output.txt")
if [ -z "$summary" ]; then
  log "the suite produced no result (exit $rc); its stderr follows"
  cat "$results/stderr.txt" >&2
  exit 2
fi

count() { awk -v k="$1" '$1 ~ "^"k"\\.*:$" {print $2}' <<<"$summary"; }
pass=$(count Pass) fail=$(count FAIL) err=$(count Error) skip=$(count Skip) dis=$(count Disabled)

# Leaves of the result tree with their status and first reason line. A node line is
# "<indent>OCI Conformance Test/...: Status"; its errors follow as "<indent> - text".
leaves() {
  awk '
    function flush() { if (name != "") print status "\t" name "\t" reason; name = "" }
    /^ *OCI Conformance Test.*: (Pass|Skip|Disabled|FAIL|Error|Unknown)$/ {
      match($0, /^ */); ind = RLENGTH
      if (name != "" && ind <= lind) flush(); else name = ""
      line = substr($0, ind + 1); i = match(line, /: [A-Za-z]+$/)
      name = substr(line, 1, i - 1); status = substr(line, i + 2); lind = ind; reason = ""
      next
    }
    /^ *- / {
      if (name != "" && reason == "") {
        # digests differ per run and per blob: fold them so equal failures group
        sub(/^ *- /, ""); gsub(/sha256:[0-9a-f]+/, "sha256:…"); gsub(/sha512:[0-9a-f]+/, "sha512:…")
        reason = $0
      }
      next
    }
    /^$/ { flush(); exit }
    END { flush() }
  ' "$results/output.txt"
}

echo "== OCI conformance: http://$target ($profile profile, suite ${CONFORMANCE_PKG##*@})"
echo "$summary"
echo
# shorten REASON: cuts long reasons and folds the bodies the suite quotes.
shorten() {
  sed -E -e 's/--- Output of [a-z/.+-]* not supported, [0-9]+ bytes not shown ---/<binary>/g' \
    -e 's/expected \{.*, received /expected <json>, received /' -e 's/^(.{200}).*/\1…/'
}
if [ "$((fail + err))" -gt 0 ]; then
  echo "== failures by kind (count, last step :: first error):"
  leaves | awk -F'\t' '$1 == "FAIL" || $1 == "Error" { n = split($2, p, "/"); print p[n] " :: " $3 }' |
    shorten | sort | uniq -c | sort -k1,1nr -k2
  echo
  echo "== failed tests (count, test :: first error):"
  leaves | awk -F'\t' '$1 == "FAIL" || $1 == "Error" { print $2 " :: " $3 }' | shorten |
    sort | uniq -c
  echo
fi
# Tests whose final status is Skip or Disabled, with the reason the suite gave. The
# suite's Skip count can be larger: a test that also failed shows up as failed only.
echo "== skipped or disabled tests (count, test :: reason):"
leaves | awk -F'\t' '($1 == "Skip" || $1 == "Disabled") {
  if ($3 == "") $3 = ($1 == "Disabled") ? "(disabled by configuration)" : "(no reason given)"
  print $2 "\t" $3 }' |
  sed 's/\t/ :: /' | shorten | sort | uniq -c
echo
# The suite's own complaints (e.g. a report it could not write) besides its test log.
grep -vE '^time=|^\*\*\* Conformance test detected a failure' "$results/stderr.txt" | sed 's/^/suite: /' >&2 || true
echo "reports in $results: $(cd "$results" && ls output.txt results.yaml junit.xml report.html 2>/dev/null | tr '\n' ' ')"
echo "conformance: $pass passed, $((fail + err)) failed, $((skip + dis)) skipped"
if [ "$((fail + err))" -gt 0 ] || [ "$rc" -ne 0 ]; then exit 1; fi
