#!/bin/bash
# ctl_live.sh - controller numbers against a real xlbd: config latency and health-check CPU.
#
#        namespace xlbb-NAME-lb                      namespace xlbb-NAME-be
#   +------------------------------+           +----------------------------------+
#   | xlbd, XDP on NAME            |   veth    | eth0 10.220.0.2/24               |
#   | NAME 10.220.0.1/24           |-----------| 10.222.0.0/16 local (AnyIP)      |
#   | 10.222.0.0/16 dev NAME       |           | ctl-bench listen 8001..8008      |
#   | neigh 10.222.x.y permanent   |           | (accepts and closes: tcp checks) |
#   +------------------------------+           +----------------------------------+
#
# 1. Config latency: VIP 10.221.0.10:80/tcp with 1,000 backends (check none: a backend is up once
#    its MAC is known, and every backend address has a permanent neighbour entry). ctl-bench
#    then adds a backend with xlbctl and waits until a new flow through xlbd's program lands on
#    it; 15 times, each backend deleted again so every add is the 1,001st.
# 2. Health-check CPU: 8 VIPs x 1,000 backends with tcp checks every 1 s (the ABI allows 8,191
#    backends, not 10,000), then every 800 ms (10,000 checks a second: the target's rate).
#    xlbd's CPU from /proc/PID/stat over 10 s after a settling period.
# Both configurations are written as xlbd state files (cloned from one xlbd wrote itself), since
# adding thousands of backends one command at a time publishes a table per command.
#
# Usage: ctl_live.sh BUILD_DIR OUT_DIR      writes OUT_DIR/ctl_latency.json, OUT_DIR/ctl_health.json
# XLB_BENCH_PERF=FILE also records 5 s of xlbd's stacks (perf, cpu-clock) at the 1 s interval;
# XLB_BENCH_STRACE=FILE traces xlbd's bpf, fsync, rename and netlink calls during the adds.
set -euo pipefail

BUILD=$(cd "$1" && pwd)
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
XLBD=$BUILD/xlbd
XLBCTL=$BUILD/xlbctl
CTL_BENCH=$BUILD/ctl-bench
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

NAME=xb$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n') # interface name: the pin directory
LB_NS=xlbb-$NAME-lb
BE_NS=xlbb-$NAME-be
BE_MAC=02:00:0a:dc:00:02
VIP=10.221.0.10:80/tcp
NLAT=1000        # backends of the latency VIP
NADD=15          # timed adds
NHC_VIPS=8       # health-check VIPs, 1,000 backends each
WINDOWS=3        # CPU measurement windows per setting
WINDOW_S=4       # seconds each
TMP=$(mktemp -d "/tmp/xlb-bench-ctl.XXXXXX")
XLBD_PID=""
LISTEN_PID=""

log() { echo "ctl_live: $*" >&2; }

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

alive() {
	local st
	st=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

wait_for() {
	local n=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}

xlbctl() { "$XLBCTL" -s "$TMP/xlbd.sock" "$@"; }

# Backend k (1..65000) -> 10.222.(k / 250).(k % 250 + 1)
be_addr() { echo "10.222.$(($1 / 250)).$(($1 % 250 + 1))"; }

xlbd_start() {
	local state=$1
	shift
	nsenter --net="/run/netns/$LB_NS" -- "$XLBD" --interface "$NAME" --state "$state" \
		--socket "$TMP/xlbd.sock" "$@" >>"$TMP/xlbd.log" 2>&1 &
	XLBD_PID=$!
	wait_for 20 xlbctl vip show || {
		tail -n 20 "$TMP/xlbd.log" >&2
		return 1
	}
}

xlbd_stop() {
	[ -n "$XLBD_PID" ] || return 0
	kill -TERM "$XLBD_PID" 2>/dev/null || true
	wait_for 10 bash -c "! kill -0 $XLBD_PID" || kill -KILL "$XLBD_PID" 2>/dev/null || true
	wait "$XLBD_PID" 2>/dev/null || true
	XLBD_PID=""
}

# Clean end: xlbd detaches the program and removes its pins.
xlbd_detach() {
	[ -n "$XLBD_PID" ] && alive "$XLBD_PID" || return 0
	xlbctl prog detach >/dev/null 2>&1 || true
	wait_for 5 bash -c "! kill -0 $XLBD_PID" || true
	xlbd_stop
}

cleanup() {
	set +e
	if [ -n "$LISTEN_PID" ]; then
		kill "$LISTEN_PID" 2>/dev/null
		wait "$LISTEN_PID" 2>/dev/null
	fi
	xlbd_detach
	ip netns del "$LB_NS" 2>/dev/null
	ip netns del "$BE_NS" 2>/dev/null
	[ -d "/sys/fs/bpf/xlb/$NAME" ] && rm -rf "/sys/fs/bpf/xlb/$NAME"
	# xlbd leaves its instance lock file (docs/xlbd.md); the interface name was ours alone.
	rm -f "/run/xlb/$NAME.lock"
	cp "$TMP/xlbd.log" "$OUT/ctl_live.xlbd.log" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

topology() {
	local k
	ip netns add "$LB_NS"
	ip netns add "$BE_NS"
	ip -n "$LB_NS" link set lo up
	ip -n "$BE_NS" link set lo up
	in_ns "$BE_NS" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n "$LB_NS" link add "$NAME" type veth peer name eth0 netns "$BE_NS"
	ip -n "$BE_NS" link set eth0 address $BE_MAC
	ip -n "$LB_NS" addr add 10.220.0.1/24 dev "$NAME"
	ip -n "$BE_NS" addr add 10.220.0.2/24 dev eth0
	ip -n "$LB_NS" link set "$NAME" up
	ip -n "$BE_NS" link set eth0 up
	ip -n "$LB_NS" route add 10.222.0.0/16 dev "$NAME"
	ip -n "$BE_NS" route add local 10.222.0.0/16 dev lo
	add_neigh 1 $((NLAT + NADD))
}

# add_neigh FIRST LAST: permanent neighbour entries for backends FIRST..LAST, so that they are
# usable at once (xlbd reads MACs from this table; the checks' SYNs need them too). xlbd asks
# the table with a whole dump per backend it does not know yet: the latency phase runs with
# only its own 1,015 entries, as a 1,000-backend LB would have.
add_neigh() {
	local k
	for ((k = $1; k <= $2; k++)); do
		echo "neigh add $(be_addr $k) lladdr $BE_MAC dev $NAME nud permanent"
	done >"$TMP/neigh.batch"
	ip -n "$LB_NS" -batch "$TMP/neigh.batch"
}

# make_state TEMPLATE OUT NVIPS NBE: xlbd's own state file with NVIPS VIPs (ports 8001.. or the
# template's single VIP when NVIPS is 1) of NBE backends each, cloned from its first VIP/backend.
make_state() {
	"$PY" - "$@" <<'EOF'
import copy, json, sys
tpl, out, nvips, nbe = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = json.load(open(tpl))
v0 = s["vips"][0]
b0 = v0["backends"][0]
addr, port_proto = v0["vip"].rsplit(":", 1)
port, proto = port_proto.split("/")
vips, k = [], 0
for i in range(nvips):
    v = copy.deepcopy(v0)
    v["id"] = i + 1
    if nvips > 1:
        v["vip"] = "%s:%d/%s" % (addr, int(port) + i, proto)
    v["backends"] = []
    for j in range(nbe):
        k += 1
        b = copy.deepcopy(b0)
        b["address"] = "10.222.%d.%d" % (k // 250, k % 250 + 1)
        b["id"] = k
        b["weight"] = 1 + k % 10
        v["backends"].append(b)
    vips.append(v)
s["vips"] = vips
json.dump(s, open(out, "w"), indent=1)
EOF
}

# A state file template: xlbd writes it for one VIP (args: VIP and its check words) and one backend.
template() {
	local state=$1 vip=$2
	shift 2
	rm -f "$state"
	xlbd_start "$state"
	xlbctl vip add "$vip" "$@" >/dev/null
	xlbctl backend add "$vip" "$(be_addr 1)" >/dev/null
	xlbctl prog detach >/dev/null 2>&1 || true
	wait_for 5 bash -c "! kill -0 $XLBD_PID" || true
	xlbd_stop
}

# Backend entries in the data plane by state: "UP DOWN DRAINING" (from the pinned map: xlbctl's
# answers are limited to 64 KiB, about 200 backends).
count_up() { "$CTL_BENCH" states "/sys/fs/bpf/xlb/$NAME"; }

all_up() {
	local up down
	read -r up down _ < <(count_up)
	[ "$up" = "$1" ] && [ "$down" = 0 ]
}

# What the data plane and xlbd's log say about the checks since log line FROM.
health_summary() {
	local up down fails
	read -r up down _ < <(count_up)
	fails=$(tail -n "+$1" "$TMP/xlbd.log" | grep -c -e "health check failed" -e "circuit open" || true)
	echo "up=$up down=$down, failure log lines $fails"
}

# CPU% (of one core) of PID over SECONDS from /proc/PID/stat: "TOTAL USER SYSTEM".
# (The command name in field 2 has no spaces here: xlbd, ctl-bench.)
cpu_percent() {
	local pid=$1 secs=$2 a b t0 t1
	a=$(awk '{print $14, $15}' "/proc/$pid/stat")
	t0=$(date +%s.%N)
	sleep "$secs"
	b=$(awk '{print $14, $15}' "/proc/$pid/stat")
	t1=$(date +%s.%N)
	echo "$a $b" | awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
		'{ f = 100 / hz / (t1 - t0); u = ($3 - $1) * f; s = ($4 - $2) * f
		   printf "%.2f %.2f %.2f\n", u + s, u, s }'
}

# WINDOWS measurements of PID's CPU, separated by ';'.
cpu_windows() {
	local i out=""
	for ((i = 0; i < WINDOWS; i++)); do
		out+="$(cpu_percent "$1" $WINDOW_S);"
	done
	echo "$out"
}

phase_latency() {
	local k addrs=() strace_pid
	log "config latency: $NLAT backends on $VIP, $NADD timed adds"
	template "$TMP/tpl-lat.json" "$VIP"
	make_state "$TMP/tpl-lat.json" "$TMP/lat.json" 1 $NLAT
	xlbd_start "$TMP/lat.json"
	wait_for 30 all_up $NLAT || {
		log "backends not all up: $(count_up)"
		return 1
	}
	for ((k = NLAT + 1; k <= NLAT + NADD; k++)); do
		addrs+=("$(be_addr $k)")
	done
	if [ -n "${XLB_BENCH_STRACE:-}" ]; then # what one add costs xlbd (docs/benchmarks.md)
		strace -q -T -tt -e trace=bpf,fsync,fdatasync,rename,sendto,recvfrom,recvmsg,sendmsg \
			-p "$XLBD_PID" -o "$XLB_BENCH_STRACE" &
		strace_pid=$!
		sleep 0.5
	fi
	"$CTL_BENCH" latency "$OUT/ctl_latency.json" --xlbctl "$XLBCTL" --socket "$TMP/xlbd.sock" \
		--state "$TMP/lat.json" --pin-dir "/sys/fs/bpf/xlb/$NAME" --vip "$VIP" "${addrs[@]}"
	if [ -n "${XLB_BENCH_STRACE:-}" ]; then
		kill "$strace_pid" 2>/dev/null || true
		wait "$strace_pid" 2>/dev/null || true
	fi
	xlbd_detach
}

phase_health() {
	local n=$((NHC_VIPS * 1000)) i ports=() cpu1 cpu08 h1 h08 lcpu from
	log "health checks: $n backends, tcp every 1 s, then every 800 ms"
	for ((i = 0; i < NHC_VIPS; i++)); do
		ports+=($((8001 + i)))
	done
	# nsenter execs the listener: $! is its pid.
	nsenter --net="/run/netns/$BE_NS" -- "$CTL_BENCH" listen "${ports[@]}" >"$TMP/listen.out" &
	LISTEN_PID=$!
	wait_for 5 grep -q ready "$TMP/listen.out"
	add_neigh $((NLAT + NADD + 1)) "$n"
	template "$TMP/tpl-hc.json" 10.221.0.10:8001/tcp check tcp interval 1s
	make_state "$TMP/tpl-hc.json" "$TMP/hc.json" $NHC_VIPS 1000
	# As if an xlbd had run before (a restart): without it, xlbd would dump the neighbour table
	# once per backend at start, 8,000 dumps of 8,000 entries (about 40 s here).
	"$CTL_BENCH" seed "/sys/fs/bpf/xlb/$NAME" "$TMP/hc.json" $BE_MAC
	xlbd_start "$TMP/hc.json"
	wait_for 30 all_up $n || log "not all up: $(count_up)"
	sleep 3 # a few check rounds before measuring
	from=$(($(wc -l <"$TMP/xlbd.log") + 1))
	cpu1=$(cpu_windows "$XLBD_PID")
	h1=$(health_summary $from)
	if [ -n "${XLB_BENCH_PERF:-}" ]; then # where xlbd's time goes (docs/benchmarks.md)
		perf record -q -F 999 -e cpu-clock -g -p "$XLBD_PID" -o "$XLB_BENCH_PERF" -- sleep 5 \
			>/dev/null 2>&1 || log "perf record failed"
	fi
	for ((i = 0; i < NHC_VIPS; i++)); do
		xlbctl vip set "10.221.0.10:$((8001 + i))/tcp" interval 800ms >/dev/null
	done
	sleep 3
	lcpu=$(cpu_percent "$LISTEN_PID" 2) # the targets' own cost, for the note
	from=$(($(wc -l <"$TMP/xlbd.log") + 1))
	cpu08=$(cpu_windows "$XLBD_PID")
	h08=$(health_summary $from)
	log "xlbd cpu (total user system): $cpu1 at 1 s ($h1), $cpu08 at 800 ms ($h08)"
	"$PY" - "$OUT/ctl_health.json" "$n" "$cpu1" "$cpu08" "$h1" "$h08" "$lcpu" "$WINDOW_S" <<'EOF'
import json, sys
out, n, cpu1, cpu08, h1, h08, lcpu, secs = sys.argv[1:]
n = int(n)
# Windows separated by ';', each "TOTAL USER SYSTEM".
c1 = [[float(x) for x in w.split()] for w in cpu1.split(";") if w.strip()]
c08 = [[float(x) for x in w.split()] for w in cpu08.split(";") if w.strip()]
lc = lcpu.split()[0]
method = ("utime+stime of xlbd from /proc/PID/stat, %d windows of %s s, tcp checks to local "
          "listeners" % (len(c1), secs))
umethod = "utime of xlbd alone (its own code: no kernel TCP work of either end)"


def row(name, method, vals, note, target=None):
    v = sorted(vals)
    r = {"group": "controller", "name": name, "method": method, "unit": "%",
         "median": v[(len(v) - 1) // 2], "min": v[0], "max": v[-1], "n": len(v), "note": note}
    if target is not None:
        r.update(target_op="<=", target=target)
    return r


def med(ws, i):
    v = sorted(w[i] for w in ws)
    return v[(len(v) - 1) // 2]


rows = [
    row("health checks: xlbd cpu, %d backends every 1 s" % n, method, [w[0] for w in c1],
        "checks: %s; user %.1f%% + system %.1f%% (medians); the ABI allows 8191 backends"
        % (h1, med(c1, 1), med(c1, 2))),
    row("health checks: xlbd cpu, 10,000 checks/s (%d every 800 ms)" % n, method,
        [w[0] for w in c08],
        "checks: %s; user %.1f%% + system %.1f%% (medians); system time includes the "
        "listeners' side of every handshake (veth delivers in the sender's context); "
        "listener process %s%%" % (h08, med(c08, 1), med(c08, 2), lc), target=10),
    row("health checks: xlbd user cpu, 10,000 checks/s", umethod, [w[1] for w in c08], "",
        target=10),
]
json.dump({"rows": rows}, open(out, "w"), indent=1)
EOF
	xlbd_detach
}

[ "$(id -u)" -eq 0 ] || {
	log "needs root (namespaces, XDP)"
	exit 1
}
topology
phase_latency
phase_health
