#!/bin/bash
# Runs every test in order (unit, bpf, integration) and ends with "N passed, N failed[, N skipped]".
# Each test binary/script prints PASS/FAIL/SKIP lines (one per test, and one per row of a
# table-driven test: tests/lib/check.h); a binary that dies without reporting counts as one
# failure. Usage: tests/run.sh BUILD_DIR
set -u
build=${1:-build}
passed=0 failed=0 skipped=0

run_one() {
	local out rc line
	out=$(mktemp)
	"$@" >"$out" 2> >(sed 's/^/  /' >&2)
	rc=$?
	while IFS= read -r line; do
		echo "$line"
		case $line in
		PASS\ *) passed=$((passed + 1)) ;;
		FAIL\ *) failed=$((failed + 1)) ;;
		SKIP\ *) skipped=$((skipped + 1)) ;;
		esac
	done <"$out"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $*: exited with status $rc without reporting a failure"
		failed=$((failed + 1))
	fi
	rm -f "$out"
}

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "$t"
done

if [ "$(id -u)" -eq 0 ]; then
	for t in "$build"/tests/bpf/test_*; do
		[ -x "$t" ] && run_one "$t"
	done
	for t in tests/integration/test_*.sh; do
		[ -x "$t" ] && run_one "$t" "$build"
	done
else
	echo "SKIP bpf and integration tests: they need root (BPF_PROG_TEST_RUN, namespaces)"
	skipped=$((skipped + 1))
fi

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
