#!/bin/bash
# run.sh - `make bench`: every benchmark step, then one table, results.json and dataplane.png.
#
# Steps (docs/benchmarks.md describes each method):
#   controller  ctl-bench offline: Maglev build, table publish
#   dataplane   xlb-bench: BPF_PROG_TEST_RUN timings beside XDP_PASS and MAC-swap, cost parts
#   ctl-live    ctl_live.sh: config latency and health-check CPU against a real xlbd
#   veth        veth_pps.sh: packet rate over veth, xlb vs MAC swap (live-frames generator)
# A step that fails is reported and its rows are listed as missing; the others still run.
# Each step's output goes to build/bench/STEP.log; its rows to build/bench/parts/.
# Usage: run.sh [BUILD_DIR]
set -uo pipefail

BUILD=${1:-build}
OUT=$BUILD/bench
PARTS=$OUT/parts
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF_PROG_TEST_RUN, namespaces, XDP)" >&2
	exit 1
fi
rm -rf "$PARTS"
mkdir -p "$PARTS"
date -u +%Y-%m-%dT%H:%M:%SZ >"$PARTS/started" # the run's date in results.json

# step NAME CMD...: runs CMD with its output in $OUT/NAME.log; one progress line on stderr.
step() {
	local name=$1 t0=$SECONDS
	shift
	printf 'bench: %-11s ' "$name" >&2
	if "$@" >"$OUT/$name.log" 2>&1; then
		echo "done in $((SECONDS - t0)) s" >&2
	else
		echo "FAILED after $((SECONDS - t0)) s: see $OUT/$name.log" >&2
		tail -n 5 "$OUT/$name.log" | sed 's/^/  /' >&2
	fi
}

step controller "$BUILD/ctl-bench" offline "$PARTS/ctl.json"
step dataplane "$BUILD/xlb-bench" "$PARTS/dataplane.json"
step ctl-live "$HERE/ctl_live.sh" "$BUILD" "$PARTS"
step veth "$HERE/veth_pps.sh" "$BUILD" "$PARTS"
echo >&2
"$PY" "$HERE/report.py" "$OUT"
