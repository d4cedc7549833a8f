#!/usr/bin/env bash
# Runs Parley's tests: `go test -count=1 ./...`, with the race detector when this machine can
# build with cgo (it needs a C compiler), and prints a short report: each package's ok/FAIL
# line, the output of every failed test, which tests were skipped and how to enable them,
# and "N passed, N failed, N skipped". Extra arguments go to go test, e.g.
#   ./test.sh -race            (insist on the race detector: fails without a C compiler)
#   ./test.sh -run Participant ./internal/conv/...
# Exits non-zero when a test fails or a package does not build.
set -uo pipefail
cd "$(dirname "$0")"

args=(-count=1)
race_asked=false
pkgs_given=false
for a in "$@"; do
  case "$a" in
    -race) race_asked=true ;;
    ./*|../*|github.com/*) pkgs_given=true ;;
  esac
done

cc="$(go env CC)"
if [ "$(go env CGO_ENABLED)" != 1 ]; then
  why="cgo is off (CGO_ENABLED=0)"
elif [ -z "$cc" ] || ! command -v "${cc%% *}" >/dev/null 2>&1; then
  why="no C compiler: '$cc' not found"
else
  why=""
fi
if [ -z "$why" ]; then
  $race_asked || args+=(-race)
  echo "== go test -race (cgo works, C compiler: $cc)"
elif $race_asked; then
  echo "== -race asked for, but the race detector needs cgo and $why: go test will fail" >&2
else
  echo "== go test without the race detector, which needs cgo: $why"
fi

# Build the report program first, so that a failure to build it is not mistaken for a
# test failure, and its build does not overlap the tests.
report="$(mktemp -d)/testreport"
trap 'rm -rf "$(dirname "$report")"' EXIT
go build -o "$report" ./internal/tools/testreport || exit 2

# go test takes flags after the packages too, so the arguments are passed as they are.
pkgs=()
$pkgs_given || pkgs=(./...)
go test -json "${args[@]}" "${pkgs[@]}" "$@" 2>&1 | "$report"
status=("${PIPESTATUS[@]}")
if [ "${status[0]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
  exit 1
fi
