# lib.sh - harness for the integration tests: topology, xlbd, xlbctl, client traffic, reporting.
# shellcheck shell=bash
# Sourced by tests/integration/test_*.sh, which take the build directory as $1:
#
#   source "$(dirname "$0")/lib.sh"
#   it_init "$@"                 # build dir, temp dir, cleanup trap; skips if binaries are missing
#   it_setup 3                   # topology with 3 backends + xlbd (a failure fails every case)
#   run_case ipv4_spread case_ipv4_spread
#   it_finish                    # exit status: non-zero if any case failed
#
# A case is a function run in a subshell with errexit: any failing command fails the case with
# its line number, `die_case MSG` fails it with MSG. It prints nothing on success; the harness
# prints one line per case (PASS/FAIL/SKIP integration/<name>), and on failure xlbd's log and
# the case's own notes on stderr. Every process a test starts is recorded by pid and stopped
# by that pid; the topology is torn down on exit, whatever happened.
# Environment: IT_VERBOSE=1 prints every case's notes and duration on stderr;
# XLB_IT_XLBD_ARGS adds arguments to every xlbd start (e.g. "--mode generic").

IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOPO_SH=$IT_ROOT/scripts/topo.sh

IT_FAILED=0
IT_SETUP_FAIL=""  # set when setup failed: every case then fails with this reason
IT_SETUP_SKIP=""  # set when the test cannot run here: every case is skipped
IT_TOPO=""        # name of our topology once it is up
XLBD_PID=""
IT_DONE=""        # set by it_finish
# Filled by it_setup from `topo.sh env`; empty until then (or when setup is skipped), so that
# scripts may name them at top level under `set -u`.
# shellcheck disable=SC2034
VIP4="" VIP6="" CL_NS="" LB_NS="" LB_IF="" BE_COUNT=0
# Debian's python3 (scripts/deps.sh installs it) starts in a tenth of the time of a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# The Python programs the tests run with "$PY": one file each, tests/integration/py/NAME.py.
IT_PY=$IT_ROOT/tests/integration/py
IT_NAME=$(basename "$0" .sh)
IT_NAME=${IT_NAME#test_}

# ---- reporting -------------------------------------------------------------------------------

it_pass() { echo "PASS integration/$1"; }
it_fail() {
	echo "FAIL integration/$1: $2"
	IT_FAILED=$((IT_FAILED + 1))
}
it_skip() { echo "SKIP integration/$1: $2"; }

# Notes for the failure report (stderr, only shown when the case fails).
note() { echo "$*" >>"$IT_TMP/case.notes"; }

# Fail the current case with a one-line reason.
die_case() {
	echo "$*" >"$IT_TMP/case.reason"
	exit 1
}

# run_case NAME FUNC [ARGS]: runs FUNC ARGS in a subshell with errexit, reports one line.
run_case() {
	local name=$1 fn=$2 rc reason
	shift 2
	if [ -n "$IT_SETUP_SKIP" ]; then
		it_skip "$name" "$IT_SETUP_SKIP"
		return 0
	fi
	if [ -n "$IT_SETUP_FAIL" ]; then
		it_fail "$name" "setup: $IT_SETUP_FAIL"
		return 0
	fi
	: >"$IT_TMP/case.reason"
	: >"$IT_TMP/case.notes"
	: >"$IT_TMP/case.pids"
	local xlbd_lines
	xlbd_lines=$(wc -l 2>/dev/null <"$IT_TMP/xlbd.log" || echo 0)
	local t0=$SECONDS errexit=""
	[[ $- == *e* ]] && errexit=1
	set +e
	(
		set -eE -o pipefail
		trap 'echo "line $LINENO: \`$BASH_COMMAND\` failed" >>"$IT_TMP/case.reason"' ERR
		# Background helpers of the case (client loops, long connections) end with it.
		trap 'trap - ERR; it_kill_pids "$IT_TMP/case.pids"' EXIT
		"$fn" "$@"
	)
	rc=$?
	[ -z "$errexit" ] || set -e
	it_kill_pids "$IT_TMP/case.pids"
	reason=$(head -n 1 "$IT_TMP/case.reason")
	if [ -n "${IT_VERBOSE:-}" ]; then
		echo "--- $name: $((SECONDS - t0)) s" >&2
		sed 's/^/  /' "$IT_TMP/case.notes" >&2
	fi
	if [ $rc -eq 0 ]; then
		it_pass "$name"
		return 0
	fi
	it_fail "$name" "${reason:-exited with status $rc}"
	{
		echo "--- $name: notes"
		cat "$IT_TMP/case.notes"
		echo "--- $name: xlbd log (this case)"
		tail -n "+$((xlbd_lines + 1))" "$IT_TMP/xlbd.log" 2>/dev/null | tail -n 40
	} >&2
	it_after_failure "$name"
	return 0
}

# it_before_cleanup: what a test tears down of its own (daemons, namespaces, packages) before
# the harness's cleanup (xlbd, topology, files), at exit. It runs without errexit, every step
# whatever the one before returned. Here: nothing. A test with more defines its own after
# sourcing this file.
it_before_cleanup() { :; }

# it_after_failure NAME: puts things back after case NAME failed, so that the next cases do not
# fail for its reason. Here: a case that leaves the harness's xlbd dead gets it restarted. A test
# with other daemons (or none) defines its own after sourcing this file.
it_after_failure() {
	local pid
	pid=$(xlbd_pid)
	if [ -z "$pid" ] || ! alive "$pid"; then
		xlbd_start >/dev/null 2>&1 || IT_SETUP_FAIL="xlbd died in $1 and did not restart"
	fi
}

# ---- processes -------------------------------------------------------------------------------

# Record a background pid of the current case (stopped when the case ends). Disowned: the
# shell would otherwise report its end ("Killed ...") in the middle of the test's output.
track() {
	echo "$1" >>"$IT_TMP/case.pids"
	disown "$1" 2>/dev/null || true
}

# Stop every pid listed in FILE (ours: we started them) and forget them.
it_kill_pids() {
	local f=$1 pid
	[ -s "$f" ] || return 0
	while read -r pid; do
		if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	done <"$f"
	while read -r pid; do
		if [ -n "$pid" ] && ! wait_gone "$pid" 5; then kill -KILL "$pid" 2>/dev/null || true; fi
	done <"$f"
	: >"$f"
}

# alive PID: the process runs. An exited one that is not reaped yet (a zombie) counts as gone:
# orphans are reaped by PID 1, here only about once a second.
alive() {
	local st
	# The state follows the command name, which is in parentheses and may hold spaces.
	st=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_gone PID SECONDS: 0 once PID has exited.
wait_gone() {
	local pid=$1 n=$(($2 * 10))
	while alive "$pid"; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
	return 0
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local n=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}

# ---- namespaces ------------------------------------------------------------------------------

# in_ns NS CMD...: nsenter keeps /sys (bpffs) visible; `ip netns exec` would remount it.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}
in_client() { in_ns "$CL_NS" "$@"; }

# ---- xlbd and xlbctl -------------------------------------------------------------------------

# xlbd_start [ARGS]: starts xlbd in the LB namespace (state file and socket in our temp dir) and
# waits until it answers. Its output is appended to $IT_TMP/xlbd.log.
# shellcheck disable=SC2120 # ARGS are for tests that need them
xlbd_start() {
	echo "=== xlbd start $(date +%T.%N)" >>"$IT_TMP/xlbd.log"
	# nsenter execs xlbd (no fork for a network namespace), so $! is xlbd's pid.
	# shellcheck disable=SC2086 # XLB_IT_XLBD_ARGS: extra words, e.g. "--mode generic"
	nsenter --net="/run/netns/$LB_NS" -- "$XLBD" --interface "$LB_IF" \
		--state "$IT_TMP/state.json" --socket "$IT_TMP/xlbd.sock" ${XLB_IT_XLBD_ARGS:-} "$@" \
		>>"$IT_TMP/xlbd.log" 2>&1 &
	XLBD_PID=$!
	echo "$XLBD_PID" >"$IT_TMP/xlbd.pid"
	disown "$XLBD_PID" 2>/dev/null || true # stopped by pid (xlbd_stop); no job report
	if ! wait_for 10 xlbd_ready; then
		echo "xlbd did not answer within 10 s" >&2
		tail -n 20 "$IT_TMP/xlbd.log" >&2
		return 1
	fi
}

xlbd_ready() {
	alive "$XLBD_PID" && xlbctl vip show >/dev/null 2>&1
}

# The pid in the file, not the variable: cases run in subshells and may have restarted xlbd.
xlbd_pid() { cat "$IT_TMP/xlbd.pid" 2>/dev/null; }

# xlbd_stop: SIGTERM (the program stays attached, maps stay pinned), wait for the exit.
xlbd_stop() {
	local pid
	pid=$(xlbd_pid)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_gone "$pid" 10 || {
		echo "xlbd (pid $pid) ignored SIGTERM for 10 s: killed" >&2
		kill -KILL "$pid" 2>/dev/null
		return 1
	}
}

# xlbd_detach: the clean end of a test: xlbd detaches the program, removes its pins and exits.
xlbd_detach() {
	local pid
	pid=$(xlbd_pid)
	[ -n "$pid" ] && alive "$pid" || return 0
	xlbctl prog detach >/dev/null 2>&1
	wait_gone "$pid" 5 || xlbd_stop
}

xlbctl() { "$XLBCTL" -s "$IT_TMP/xlbd.sock" "$@"; }

# xlbctl_ok ARGS: runs xlbctl, failing the case with its message if it fails.
xlbctl_ok() {
	local out
	out=$(xlbctl "$@" 2>&1) || die_case "xlbctl $*: $out"
	note "xlbctl $*"
}

# json_get EXPR: reads JSON on stdin, prints the Python expression EXPR over it (bound to `j`).
# python3 rather than jq: python3 is among the packages scripts/deps.sh installs.
json_get() {
	"$PY" "$IT_PY/json_get.py" "$1"
}

# backend_field VIP ADDRESS FIELD: one field of a backend object from `backend show`.
backend_field() {
	xlbctl -j backend show "$1" | json_get "[b for b in j['backends'] if b['address'] == '$2'][0]['$3']"
}

# Configure VIP (v4 or v6 address:port/proto) with backends given as INDEX[:WEIGHT].
setup_vip() {
	local vip=$1 family=$2 spec i w addr
	shift 2
	xlbctl_ok vip add "$vip"
	for spec in "$@"; do
		i=${spec%%:*}
		w=1
		[ "$spec" = "$i" ] || w=${spec#*:}
		if [ "$family" = 6 ]; then addr=${BE_IP6[$i]}; else addr=${BE_IP4[$i]}; fi
		xlbctl_ok backend add "$vip" "$addr" weight "$w"
	done
	# Every backend must be usable (MAC resolved) before traffic counts.
	wait_for 10 all_backends_up "$vip" || die_case "backends of $vip not all up: $(xlbctl backend show "$vip" 2>&1 | tr '\n' ' ')"
}

all_backends_up() {
	[ "$(xlbctl -j backend show "$1" | json_get "all(b['state'] == 'up' for b in j['backends'])")" = True ]
}

# ---- client traffic --------------------------------------------------------------------------

# URL for a VIP address (brackets for IPv6).
vip_url() {
	case $1 in
	*:*) echo "http://[$1]:80" ;;
	*) echo "http://$1:80" ;;
	esac
}

# curl_many ADDR COUNT TAG OUT: COUNT requests from the client, each on a new connection (hence
# a new source port and a new flow), sequentially in one curl process. OUT gets one line per
# request: "<http code> <backend or -> <local port>"; 000 is a failed request.
curl_many() {
	local addr=$1 count=$2 tag=$3 out=$4 url n
	url=$(vip_url "$addr")
	{
		# A config file rather than URL globbing: IPv6 brackets and globs do not mix.
		echo 'silent'
		echo 'globoff'
		echo 'connect-timeout = 2'
		echo 'max-time = 5'
		echo 'header = "Connection: close"'
		printf '%s\n' 'write-out = "%{http_code} %header{x-backend} %{local_port}\n"'
		for n in $(seq "$count"); do
			echo "url = \"$url/?t=$tag&n=$n\""
			echo 'output = "/dev/null"'
		done
	} >"$IT_TMP/curl.$tag.conf"
	in_client curl -K "$IT_TMP/curl.$tag.conf" >"$out" || true
	# curl prints nothing for a request that failed before the write-out: pad to COUNT.
	n=$(wc -l <"$out")
	while [ "$n" -lt "$count" ]; do
		echo "000 - 0" >>"$out"
		n=$((n + 1))
	done
	sed -i 's/^\([0-9]*\)  /\1 - /' "$out"
}

# Lines of a curl_many output that are not 200.
count_failed() { awk '$1 != 200' "$1" | wc -l; }
# Requests of a curl_many output answered by backend NAME.
count_backend() { awk -v b="$2" '$1 == 200 && $2 == b' "$1" | wc -l; }
# Distinct source ports in a curl_many output.
count_ports() { awk '{print $3}' "$1" | sort -u | wc -l; }
# "be1=N be2=N ..." for a curl_many output (for messages).
spread() {
	local i s=""
	for i in $(seq "$BE_COUNT"); do
		s+="${BE_NAME[$i]}=$(count_backend "$1" "${BE_NAME[$i]}") "
	done
	echo "${s% }"
}

# log_count INDEX PATTERN: requests in backend INDEX's nginx access log whose line contains
# PATTERN (fixed string; a request's tag, for example).
log_count() { grep -cF -- "$2" "${BE_LOG[$1]}" || true; }

# curl_loop_start ADDR TAG OUT: a client loop, one new connection per request, until
# curl_loop_stop; one curl_many-style line per request in OUT. Returns with the loop running.
curl_loop_start() {
	local url
	url=$(vip_url "$1")
	: >"$3"
	rm -f "$IT_TMP/loop.$2.stop"
	# Expanded by the inner bash:
	# shellcheck disable=SC2016
	in_client bash -c '
		n=0
		while [ ! -e "$1" ]; do
			n=$((n + 1))
			curl -s -g --connect-timeout 2 -m 5 -o /dev/null -H "Connection: close" \
				-w "%{http_code} %header{x-backend} %{local_port}\n" "$2/?t=$3&n=$n" ||
				echo "000 - 0"
		done' loop "$IT_TMP/loop.$2.stop" "$url" "$2" >>"$3" 2>/dev/null &
	track $!
	echo $! >"$IT_TMP/loop.$2.pid"
}

curl_loop_stop() {
	local pid
	pid=$(cat "$IT_TMP/loop.$1.pid")
	touch "$IT_TMP/loop.$1.stop"
	wait_gone "$pid" 10 || die_case "client loop $1 did not stop"
}

# ---- long-lived connections ------------------------------------------------------------------

# long_start ADDR COUNT TAG: opens COUNT keep-alive HTTP connections from the client and keeps
# every one busy (a request every 0.1 s) until long_stop TAG. Every request on a connection
# crosses the LB, so a connection moved to another backend by a change is reset at once.
# Returns when every connection has had its first answer; long_backend_of/long_check read
# the results.
long_start() {
	local addr=$1 count=$2 tag=$3 dir=$IT_TMP/long.$3
	rm -rf "$dir"
	mkdir -p "$dir"
	# nsenter itself in the background (it execs): $! is the client's pid, not a subshell's.
	nsenter --net="/run/netns/$CL_NS" -- "$PY" "$IT_PY/longconn.py" "$addr" "$count" "$dir" \
		>"$dir/out" 2>"$dir/err" &
	track $!
	echo $! >"$dir/pid"
	wait_for 15 test -e "$dir/ready" ||
		die_case "long connections $tag not established: $(tail -n 3 "$dir/err" "$dir/out" | tr '\n' ' ')"
	note "long connections $tag: $(awk '{print $3}' "$dir/ready" | sort | uniq -c | tr '\n' ' ')"
}

# long_stop TAG: asks every connection to finish its last request; waits for the results.
long_stop() {
	local dir=$IT_TMP/long.$1
	touch "$dir/stop"
	wait_for 15 test -e "$dir/done" || die_case "long connections $1 did not finish"
	cp "$dir/done" "$dir/result"
	note "long connections $1 results:"
	sed 's/^/  /' "$dir/result" >>"$IT_TMP/case.notes"
}

# Connections (from the ready list) held by backend NAME.
long_count_on() { awk -v b="$2" '$3 == b' "$IT_TMP/long.$1/ready" | wc -l; }
# Results of connections that were on backend NAME: "ok" lines and others.
long_ok_on() { awk -v b="$2" '$3 == b && $4 == "ok"' "$IT_TMP/long.$1/result" | wc -l; }
long_bad_on() { awk -v b="$2" '$3 == b && $4 != "ok"' "$IT_TMP/long.$1/result" | wc -l; }

# ---- setup and teardown ----------------------------------------------------------------------

# it_init BUILD_DIR: resolves the binaries, makes the temp dir, installs the cleanup trap.
it_init() {
	local build=${1:-build}
	case $build in
	/*) ;;
	*) build=$IT_ROOT/$build ;;
	esac
	XLBD=$build/xlbd
	XLBCTL=$build/xlbctl
	IT_TMP=$(mktemp -d "/tmp/xlb-it-$IT_NAME.XXXXXX")
	trap it_cleanup EXIT
	trap 'exit 130' INT TERM
	if [ "$(id -u)" -ne 0 ]; then
		IT_SETUP_SKIP="needs root (namespaces, XDP)"
	elif [ ! -x "$XLBD" ] || [ ! -x "$XLBCTL" ]; then
		IT_SETUP_SKIP="$XLBD or $XLBCTL not built"
	fi
}

# it_use_routed NLOCAL (after it_init): it_setup builds scripts/topo_routed.sh's topology, with
# NLOCAL more backends on segment A, and xlb-backend from the build directory on the routed
# ones (XLB_BACKEND, exported); the test is skipped when it is not built.
it_use_routed() {
	TOPO_SH=$IT_ROOT/scripts/topo_routed.sh
	XLB_BACKEND=$(dirname "$XLBD")/xlb-backend
	export XLB_BACKEND XLB_TOPO_LOCAL=$1
	[ -x "$XLB_BACKEND" ] || IT_SETUP_SKIP=${IT_SETUP_SKIP:-"$XLB_BACKEND not built"}
}

# it_setup NBACKENDS: topology and a running xlbd. A failure is recorded, not fatal: every
# case then reports it, so the test still prints its lines.
it_setup() {
	[ -z "$IT_SETUP_SKIP" ] || return 0
	IT_TOPO=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	IT_TOPO=i$IT_TOPO
	if ! "$TOPO_SH" up "$IT_TOPO" "$1" >"$IT_TMP/topo.log" 2>&1; then
		IT_SETUP_FAIL="topo.sh up failed: $(tail -n 1 "$IT_TMP/topo.log")"
		IT_TOPO=""
		return 0
	fi
	eval "$("$TOPO_SH" env "$IT_TOPO")"
	if ! xlbd_start 2>>"$IT_TMP/setup.err"; then
		IT_SETUP_FAIL="xlbd did not start: $(grep -v '^===' "$IT_TMP/xlbd.log" | tail -n 1)"
		cat "$IT_TMP/xlbd.log" >&2
	fi
}

it_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	trap '' PIPE # output may go to a pipe that is gone: finish the cleanup regardless
	# The harness itself failed (a bug here, or an interrupt): say so in the report's format.
	if [ -z "$IT_DONE" ] && [ $rc -ne 0 ]; then
		it_fail "$IT_NAME" "test script stopped early with status $rc"
	fi
	it_before_cleanup
	it_kill_pids "$IT_TMP/case.pids"
	xlbd_detach
	xlbd_stop
	# xlbd leaves its lock file (docs/xlbd.md); the interface name was ours alone.
	[ -z "$LB_IF" ] || rm -f "/run/xlb/$LB_IF.lock"
	[ -n "$IT_TOPO" ] && "$TOPO_SH" down "$IT_TOPO"
	rm -rf "$IT_TMP"
	[ $IT_FAILED -eq 0 ] || exit 1
	exit $rc
}

it_finish() {
	IT_DONE=1
	[ $IT_FAILED -eq 0 ]
}
