#!/bin/bash
# test_unit_caps.sh - xlbd run as xlbd@.service runs it, without systemd: a non-root user with
# exactly the unit's capability set (setpriv), the unit's ExecStartPre preparing the pins on a
# bpffs mounted 0700 as systemd mounts it; READY=1 and STOPPING=1 on NOTIFY_SOCKET; traffic and
# a hitless restart under those capabilities; every capability of the set is needed; and what
# xlbd does (strace) stays inside the unit's system call filter, address families and
# writable paths.
# Usage: tests/integration/test_unit_caps.sh BUILD_DIR
#
# systemd is not PID 1 on the test machine: the unit's user, capabilities, ExecStartPre and
# ExecStart options run here for real; its sandbox (SystemCallFilter, RestrictAddressFamilies,
# ProtectSystem) is compared with what xlbd did under strace, not enforced by systemd.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

UNIT_IN=$IT_ROOT/dist/systemd/xlbd@.service.in
TEST_UID=65534 # nobody: any user but root

# The unit's capabilities: "CAP_NET_ADMIN CAP_SYS_ADMIN" -> net_admin sys_admin.
unit_caps() {
	sed -n "s/^$1=//p" "$UNIT_IN" | tr ' ' '\n' | sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | grep . | sort
}
# setpriv's form of a capability list: +a,+b.
setpriv_caps() { sed 's/^/+/' | paste -sd, -; }

# The unit's ExecStartPre script ("+/bin/sh -c '...'"), for the test's user.
unit_pre() {
	sed -n "s/^ExecStartPre=+\/bin\/sh -c '\(.*\)'$/\1/p" "$UNIT_IN" |
		sed "s/-o xlb -g xlb/-o $TEST_UID -g $TEST_UID/g; s/xlb:xlb/$TEST_UID:$TEST_UID/g"
}

it_init "$@"
REAL_XLBD=$XLBD
HOLDER=""
CAPS=$(unit_caps CapabilityBoundingSet | setpriv_caps)
if [ -z "$IT_SETUP_SKIP" ] && ! command -v setpriv >/dev/null; then
	IT_SETUP_SKIP="setpriv (util-linux) not found"
fi

# A mount namespace of the test's own, which xlbd enters: a bpffs mounted 0700 (systemd's
# sys-fs-bpf.mount) and /run/xlb on a tmpfs owned by the user (RuntimeDirectory=), so nothing of the host's pins or locks is touched.
if [ -z "$IT_SETUP_SKIP" ]; then
	# shellcheck disable=SC2016 # $1 is the inner shell's
	unshare --mount --propagation private -- sh -c \
		'mount -t bpf -o mode=0700 bpf /sys/fs/bpf && mount -t tmpfs -o mode=0755,uid=$2,gid=$2 tmpfs /run/xlb &&
		 touch "$1" && exec sleep 100000' holder "$IT_TMP/holder.ready" "$TEST_UID" &
	HOLDER=$!
	disown "$HOLDER" 2>/dev/null || true
	wait_for 10 test -e "$IT_TMP/holder.ready" || IT_SETUP_FAIL="the mount namespace did not come up"
fi
it_before_cleanup() {
	# The mount namespace's holder may go before xlbd detaches (it_cleanup): the namespace
	# lives on while xlbd is in it.
	[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null
	[ ! -e "$IT_TMP/notify.pid" ] || kill "$(cat "$IT_TMP/notify.pid")" 2>/dev/null
	[ ! -e "$IT_TMP/try.netns" ] || while read -r ns; do
		ip netns del "$ns" 2>/dev/null
	done <"$IT_TMP/try.netns"
}

# xlbd as the unit starts it: ExecStartPre as root, then the user and the capabilities
# ($XLBD_CAPS, default the unit's), NOTIFY_SOCKET pointing at our listener.
cat >"$IT_TMP/xlbd-unit" <<EOF
#!/bin/bash
set -eu
iface="" prev=""
for a in "\$@"; do
	[ "\$prev" != --interface ] || iface=\$a
	prev=\$a
done
pre=\$(cat "$IT_TMP/pre")
pre=\${pre//%i/\$iface}
caps=\${XLBD_CAPS:-$CAPS}
export NOTIFY_SOCKET=\${XLBD_NOTIFY:-$IT_TMP/notify.sock}
exec nsenter --mount=/proc/$HOLDER/ns/mnt -- /bin/sh -c "\$pre && exec \"\\\$0\" \"\\\$@\"" \\
	setpriv --reuid=$TEST_UID --regid=$TEST_UID --clear-groups --no-new-privs \\
	--inh-caps=-all,\$caps --ambient-caps=-all,\$caps --bounding-set=-all,\$caps \\
	-- "$REAL_XLBD" "\$@"
EOF
chmod 755 "$IT_TMP/xlbd-unit"
unit_pre >"$IT_TMP/pre"
XLBD=$IT_TMP/xlbd-unit
# The state file and socket live in the temp dir: the test's user must own it (0700).
chown "$TEST_UID:$TEST_UID" "$IT_TMP"
if [ -z "$IT_SETUP_SKIP" ]; then
	"$PY" "$IT_PY/notify_listen.py" "$IT_TMP/notify.sock" "$IT_TMP/notify.log" 2>/dev/null &
	echo $! >"$IT_TMP/notify.pid"
	disown "$(cat "$IT_TMP/notify.pid")" 2>/dev/null || true
	wait_for 10 test -S "$IT_TMP/notify.sock" || IT_SETUP_FAIL="no notify listener"
fi
it_setup 2

V4="$VIP4:80/tcp"

# ---- cases -----------------------------------------------------------------------------------

case_unit_caps_are_minimal_form() {
	[ -n "$CAPS" ] || die_case "no CapabilityBoundingSet in $UNIT_IN"
	[ "$(unit_caps CapabilityBoundingSet)" = "$(unit_caps AmbientCapabilities)" ] ||
		die_case "AmbientCapabilities differs from CapabilityBoundingSet"
	grep -q '^NoNewPrivileges=yes' "$UNIT_IN" || die_case "NoNewPrivileges is not set"
	[ -n "$(unit_pre)" ] || die_case "no ExecStartPre script found in the unit"
	note "unit capabilities: $CAPS"
}

# The running xlbd: our user, and effective capabilities exactly the unit's.
case_runs_unprivileged() {
	local pid uid eff want
	pid=$(xlbd_pid)
	uid=$(awk '/^Uid:/ {print $3}' "/proc/$pid/status")
	[ "$uid" = "$TEST_UID" ] || die_case "xlbd's effective uid is $uid, not $TEST_UID"
	eff=$(capsh --decode="$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")" |
		sed 's/.*=//' | tr ',' '\n' | sed 's/^cap_//' | sort)
	want=$(unit_caps CapabilityBoundingSet)
	[ "$eff" = "$want" ] || die_case "effective capabilities $(echo "$eff" | paste -sd,) != $(echo "$want" | paste -sd,)"
}

case_ready_notified() {
	grep -q '^READY=1 STATUS=serving ' "$IT_TMP/notify.log" ||
		die_case "no READY=1 on NOTIFY_SOCKET: $(tr '\n' '|' <"$IT_TMP/notify.log")"
	note "notify: $(tr '\n' '|' <"$IT_TMP/notify.log")"
}

case_serves_traffic() {
	setup_vip "$V4" 4 1 2
	curl_many "$VIP4" 40 caps "$IT_TMP/caps.out"
	[ "$(count_failed "$IT_TMP/caps.out")" -eq 0 ] ||
		die_case "$(count_failed "$IT_TMP/caps.out") of 40 requests failed: $(spread "$IT_TMP/caps.out")"
}

# SIGTERM (STOPPING=1), a new start over the pins: established connections never notice.
case_restart_hitless() {
	local bad
	long_start "$VIP4" 16 rs
	: >"$IT_TMP/notify.log"
	xlbd_stop || die_case "xlbd did not stop on SIGTERM"
	grep -q '^STOPPING=1' "$IT_TMP/notify.log" || die_case "no STOPPING=1 on SIGTERM"
	xlbd_start || die_case "xlbd did not start again under the unit's capabilities"
	awk '/^=== xlbd start/ {n = NR} {l[NR] = $0} END {for (i = n; i <= NR; i++) print l[i]}' \
		"$IT_TMP/xlbd.log" | grep -q 'maps=reused' ||
		die_case "the new xlbd did not take over the pins and the program"
	sleep 1
	long_stop rs
	bad=$(awk '$4 != "ok"' "$IT_TMP/long.rs/result" | wc -l)
	note "restart: $bad of 16 established connections broke"
	[ "$bad" -eq 0 ] || die_case "$bad of 16 established connections broke across the restart"
}

ready_or_dead() { grep -q READY=1 "$IT_TMP/try.notify.log" || [ -e "$IT_TMP/try.rc" ]; }

# xlbd on a veth of its own with the set minus one capability must fail to start; with the
# whole set it starts (so the failures are the capability's).
try_caps() {
	local caps=$1 ns=$2 rc=0
	rm -f "$IT_TMP/try.sock" "$IT_TMP/try.notify.log"
	"$PY" "$IT_PY/notify_listen.py" "$IT_TMP/try.notify" "$IT_TMP/try.notify.log" &
	track $!
	wait_for 10 test -S "$IT_TMP/try.notify"
	rm -f "$IT_TMP/try.rc"
	# A subshell that records xlbd's exit status (a crash is 139, not a refusal).
	(
		rc=0
		XLBD_CAPS=$caps XLBD_NOTIFY=$IT_TMP/try.notify nsenter --net="/run/netns/$ns" -- \
			"$XLBD" --interface xc0 --mode generic --state "$IT_TMP/try.json" \
			--socket "$IT_TMP/try.sock" >>"$IT_TMP/try.log" 2>&1 || rc=$?
		echo $rc >"$IT_TMP/try.rc"
	) &
	track $!
	wait_for 10 ready_or_dead || true
	grep -q READY=1 "$IT_TMP/try.notify.log" || rc=1
	if [ ! -e "$IT_TMP/try.rc" ]; then
		"$XLBCTL" -s "$IT_TMP/try.sock" prog detach >/dev/null 2>&1 ||
			die_case "cannot stop the xlbd of the capability check"
		wait_for 10 test -e "$IT_TMP/try.rc" || die_case "the xlbd of the capability check did not stop"
	fi
	TRY_STATUS=$(cat "$IT_TMP/try.rc")
	rm -f "$IT_TMP/try.notify"
	return $rc
}

# try_ns: the name of a namespace of our own with a veth xc0 (made once).
try_ns() {
	local ns=xc$IT_TOPO
	if [ ! -e "/run/netns/$ns" ]; then
		ip netns add "$ns"
		echo "$ns" >>"$IT_TMP/try.netns"
		ip -n "$ns" link add xc0 type veth peer name xc1
		ip -n "$ns" link set xc0 up
		ip -n "$ns" link set xc1 up
		ip -n "$ns" addr add 10.77.0.1/24 dev xc0
		ip -n "$ns" link set lo up
	fi
	echo "$ns"
}

# The unit does not grant CAP_NET_RAW: turning a tunnel check on is refused with the reason,
# rather than taken and failing every check (docs/xlbd.md, "The tunnel check").
case_tunnel_check_needs_net_raw() {
	local out
	xlbctl_ok vip add "$VIP4:81/tcp" fwd ipip check tcp
	out=$(xlbctl vip set "$VIP4:81/tcp" tunnel on 2>&1) && die_case "tunnel on taken without CAP_NET_RAW"
	note "refused: $out"
	[[ $out == *CAP_NET_RAW* ]] || die_case "the refusal does not name CAP_NET_RAW: $out"
	[[ $(xlbctl vip show "$VIP4:81/tcp") != *tunnel* ]] || die_case "the refused setting is in force"
	xlbctl_ok vip del "$VIP4:81/tcp"
}

case_every_cap_needed() {
	local ns cap all rest
	ns=$(try_ns)
	all=$(unit_caps CapabilityBoundingSet)
	try_caps "$CAPS" "$ns" || die_case "xlbd did not start with the unit's set: $(tail -n 3 "$IT_TMP/try.log")"
	for cap in $all; do
		rest=$(grep -vx "$cap" <<<"$all" | setpriv_caps)
		if try_caps "$rest" "$ns"; then
			die_case "xlbd started without cap_$cap: the unit's set is not minimal"
		fi
		note "without cap_$cap: status $TRY_STATUS, $(grep -v '^ts=.*level=info' "$IT_TMP/try.log" | tail -n 1)"
	done
	# CAP_BPF and CAP_PERFMON do not stand in for CAP_SYS_ADMIN: libxdp reads the dispatcher's
	# BTF by id and the restart opens the attached program by id, both CAP_SYS_ADMIN's.
	if try_caps +net_admin,+bpf,+perfmon "$ns"; then
		die_case "xlbd started with CAP_BPF and CAP_PERFMON instead of CAP_SYS_ADMIN: use them"
	fi
	note "net_admin,bpf,perfmon: status $TRY_STATUS, $(grep -v '^ts=.*level=info' "$IT_TMP/try.log" | tail -n 1)"
}

# traced_start NAME: xlbd on xc0 under strace -f (log $IT_TMP/trace.NAME), the unit's set,
# metrics on; returns once READY=1 came.
traced_start() {
	local ns
	ns=$(try_ns)
	rm -f "$IT_TMP/try.rc" "$IT_TMP/try.notify.log"
	"$PY" "$IT_PY/notify_listen.py" "$IT_TMP/try.notify" "$IT_TMP/try.notify.log" &
	track $!
	wait_for 10 test -S "$IT_TMP/try.notify"
	(
		rc=0
		XLBD_NOTIFY=$IT_TMP/try.notify nsenter --net="/run/netns/$ns" -- \
			strace -f -qq -o "$IT_TMP/trace.$1" "$XLBD" --interface xc0 --mode generic \
			--state "$IT_TMP/try.json" --socket "$IT_TMP/try.sock" \
			--metrics 127.0.0.1:9089 >>"$IT_TMP/try.log" 2>&1 || rc=$?
		echo $rc >"$IT_TMP/try.rc"
	) &
	track $!
	wait_for 20 ready_or_dead || true
	rm -f "$IT_TMP/try.notify"
	grep -q READY=1 "$IT_TMP/try.notify.log" || die_case "traced xlbd did not start: $(tail -n 2 "$IT_TMP/try.log")"
}

# What xlbd does under the unit (start, configuration, health checks, metrics, explain, SIGTERM,
# a restart over the pins, detach) stays inside the unit's system call filter, address
# families and writable paths, which a real systemd would enforce (py/strace_check.py).
case_sandbox_allows_what_xlbd_does() {
	local ns pid t out c=("$XLBCTL" -s "$IT_TMP/try.sock")
	command -v strace >/dev/null || die_case "strace not installed"
	ns=$(try_ns)
	rm -f "$IT_TMP/try.json"
	traced_start first
	"${c[@]}" vip add 10.77.0.10:80/tcp check tcp interval 100ms >/dev/null
	"${c[@]}" backend add 10.77.0.10:80/tcp 10.77.0.2 >/dev/null
	"${c[@]}" flow explain 192.0.2.7:40000 10.77.0.10:80/tcp >/dev/null
	"${c[@]}" stats >/dev/null
	"${c[@]}" config export >"$IT_TMP/try.export"
	"${c[@]}" config apply "$IT_TMP/try.export" >/dev/null
	nsenter --net="/run/netns/$ns" -- curl -sf http://127.0.0.1:9089/metrics >/dev/null ||
		die_case "metrics not served"
	sleep 0.5 # some health checks
	pid=$(nsenter --mount="/proc/$HOLDER/ns/mnt" -- sed -n 's/^pid=\([0-9]*\) .*/\1/p' /run/xlb/xc0.lock)
	[ -n "$pid" ] || die_case "no pid in the lock file"
	kill -TERM "$pid"
	wait_for 10 test -e "$IT_TMP/try.rc" || die_case "traced xlbd did not stop on SIGTERM"
	traced_start second
	"${c[@]}" vip show >/dev/null
	"${c[@]}" prog detach >/dev/null
	wait_for 10 test -e "$IT_TMP/try.rc" || die_case "traced xlbd did not exit on detach"
	for t in first second; do
		out=$("$PY" "$IT_PY/strace_check.py" "$IT_TMP/trace.$t" "$REAL_XLBD" "$UNIT_IN" \
			"$IT_TMP" /run/xlb)
		note "$t run: $(tail -n 1 <<<"$out")"
		[ "$(wc -l <<<"$out")" -eq 1 ] ||
			die_case "$t run outside the unit's sandbox: $(head -n -1 <<<"$out" | tr '\n' ' ')"
	done
}

run_case unit_caps_are_minimal_form case_unit_caps_are_minimal_form
run_case runs_unprivileged case_runs_unprivileged
run_case ready_notified case_ready_notified
run_case serves_traffic case_serves_traffic
run_case restart_hitless case_restart_hitless
run_case tunnel_check_needs_net_raw case_tunnel_check_needs_net_raw
run_case every_cap_needed case_every_cap_needed
run_case sandbox_allows_what_xlbd_does case_sandbox_allows_what_xlbd_does
it_finish
