#!/bin/bash
# test_control.sh - xlbd's control socket and metrics server against clients that misbehave:
# half-close, a line over 64 KiB, error messages cut inside a UTF-8 character, clients that
# pipeline and never read, a request trickling in, a client of another uid, a descriptor limit reached (accept paused,
# not spun), and a storm of idle control connections and slowloris /metrics clients under
# RLIMIT_NOFILE 1024 (healthy backends stay up, xlbctl answers: its latency is printed).
# The peers are tests/integration/control_peer.py. Usage: tests/integration/test_control.sh BUILD
#
#   client ns          LB ns: XDP, xlbd --metrics 127.0.0.1:9100      be1, be2 (nginx)
#                      control_peer.py on the control socket and on the LB's own loopback
#
# The figures (RSS, answer latency, when slowloris clients were cut) go to stderr as `# ...`.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

METRICS_ADDR=127.0.0.1:9100
PEER=$IT_ROOT/tests/integration/control_peer.py

it_init "$@"
XLB_IT_XLBD_ARGS="${XLB_IT_XLBD_ARGS:-} --metrics $METRICS_ADDR"
it_setup 2

V4="$VIP4:80/tcp"
BIG="10.211.0.50:80/tcp" # a VIP with many (unreachable) backends: long `backend show` answers
SOCK=$IT_TMP/xlbd.sock

in_lb() { in_ns "$LB_NS" "$@"; }
peer() { "$PY" "$PEER" "$@"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$(xlbd_pid)/status"; }
fd_count() { find "/proc/$(xlbd_pid)/fd" -mindepth 1 | wc -l; }
# ms CMD...: runs CMD, prints how long it took in milliseconds (stdout of CMD dropped).
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# Lines of requests in a file for `control_peer.py pipe|halfclose`.
requests() { printf '%s\n' "$@" >"$IT_TMP/req.txt"; }

# The configuration: V4 with both nginx backends and a TCP check (they must stay up), BIG
# with 200 backends that cannot answer (addresses nobody has), added over one connection.
case_setup() {
	xlbctl_ok vip add "$V4" check tcp interval 200ms timeout 100ms
	xlbctl_ok backend add "$V4" "${BE_IP4[1]}"
	xlbctl_ok backend add "$V4" "${BE_IP4[2]}"
	xlbctl_ok vip add "$BIG"
	: >"$IT_TMP/req.txt"
	local i
	for i in $(seq 0 199); do
		echo "{\"cmd\": \"backend add\", \"vip\": \"$BIG\", \"address\": \"10.212.$((i / 100)).$((i % 100 + 1))\"}" >>"$IT_TMP/req.txt"
	done
	peer pipe "$SOCK" "$IT_TMP/req.txt" >"$IT_TMP/adds.json"
	[ "$(json_get "sum(1 for a in j['answers'] if a and a.get('ok'))" <"$IT_TMP/adds.json")" = 200 ] ||
		die_case "200 backend adds over one connection: $(head -c 300 "$IT_TMP/adds.json")"
	wait_for 10 all_backends_up "$V4" || die_case "the nginx backends are not up"
	note "backend show: $(xlbctl -j backend show | wc -c) bytes"
}

# Item 5: `echo REQ | socat - UNIX-CONNECT:SOCK` shuts its write side after the request. Every
# request received before the EOF is run and answered in full, then the connection closes. The
# last line has no newline: it is a request all the same.
case_half_close() {
	printf '%s\n%s\n%s' '{"cmd": "backend show"}' '{"cmd": "vip show"}' '{"cmd": "prog show"}' >"$IT_TMP/req.txt"
	peer halfclose "$SOCK" "$IT_TMP/req.txt" >"$IT_TMP/hc.json"
	note "half-close: $(json_get "{'bytes': j['bytes'], 'answers': len(j['answers']), 'error': j['error']}" <"$IT_TMP/hc.json")"
	[ "$(json_get "len(j['answers'])" <"$IT_TMP/hc.json")" = 3 ] || die_case "expected 3 answers, got $(json_get "len(j['answers'])" <"$IT_TMP/hc.json") ($(json_get "j['bytes']" <"$IT_TMP/hc.json") bytes)"
	[ "$(json_get "len(j['answers'][0]['backends'])" <"$IT_TMP/hc.json")" = 202 ] || die_case "backend show cut short"
	[ "$(json_get "j['answers'][2].get('prog_id', 0) > 0 and j['ends_with_newline']" <"$IT_TMP/hc.json")" = True ] ||
		die_case "prog show (after the EOF) not answered"
}

# Item 7: a line over 64 KiB gets the error line, then the close; the peer may go on sending
# its line (what it sends is read and dropped, so the close does not reset the answer away).
case_too_long() {
	peer toolong "$SOCK" 200000 >"$IT_TMP/tl.json"
	note "too long: $(cat "$IT_TMP/tl.json")"
	json_get "j['answers'][0]['error']" <"$IT_TMP/tl.json" 2>/dev/null | grep -q '64 KiB' ||
		die_case "no error line for a 200 kB request: $(cat "$IT_TMP/tl.json")"
	[ "$(json_get "j['send_error'] + j['error']" <"$IT_TMP/tl.json")" = "" ] ||
		die_case "the connection was reset: $(cat "$IT_TMP/tl.json")"
	xlbctl prog show >/dev/null || die_case "xlbd does not answer after the long line"
}

# Item 6: error messages that quote a long argument are cut at 255 bytes; cut inside a UTF-8
# character they used to produce no answer at all, and the next answers went out of step.
# Names of 1..3 ASCII bytes then 3-byte characters: one of three offsets cuts inside one.
case_utf8_cut() {
	local e="€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€"
	requests "{\"cmd\": \"vip show\", \"vip\": \"a$e\"}" \
		"{\"cmd\": \"backend add\", \"vip\": \"$V4\", \"address\": \"ab$e\"}" \
		"{\"cmd\": \"vip add\", \"vip\": \"abc$e:80/tcp\"}" \
		"{\"cmd\": \"vip frob $e\"}" \
		"{\"cmd\": \"vip show\", \"vip\": \"$V4\"}" \
		'{"cmd": "prog show"}'
	peer pipe "$SOCK" "$IT_TMP/req.txt" >"$IT_TMP/u8.json"
	note "utf-8: $(json_get "[(a or {}).get('error', 'ok') [:60] for a in j['answers']]" <"$IT_TMP/u8.json")"
	[ "$(json_get "len(j['answers'])" <"$IT_TMP/u8.json")" = 6 ] || die_case "6 requests, $(json_get "len(j['answers'])" <"$IT_TMP/u8.json") answers"
	[ "$(json_get "[a.get('ok') for a in j['answers']]" <"$IT_TMP/u8.json")" = '[false, false, false, false, true, true]' ] ||
		die_case "answers out of step: $(json_get "[a.get('ok') for a in j['answers']]" <"$IT_TMP/u8.json")"
	[ "$(json_get "j['answers'][4]['vips'][0]['vip'] == '$V4' and j['answers'][5]['prog_id'] > 0" <"$IT_TMP/u8.json")" = True ] ||
		die_case "the last two answers are not those of their requests"
}

# Item 4: four clients pipeline `backend show` (~60 kB answers) and never read. xlbd stops
# reading them once their unsent answers pass the cap; its memory stays bounded and another
# client is answered meanwhile (latency printed, not asserted).
case_backpressure() {
	local before peak=0 r lat=() i
	before=$(rss_kb)
	peer flood "$SOCK" 4 15 >"$IT_TMP/flood.json" &
	track $!
	sleep 1
	for i in 1 2 3 4 5 6 7 8; do
		lat+=("$(ms xlbctl prog show)") || die_case "prog show failed during the flood"
		r=$(rss_kb)
		[ "$r" -le "$peak" ] || peak=$r
		sleep 1
	done
	wait_gone "$(tail -n 1 "$IT_TMP/case.pids")" 30 || true
	echo "# backpressure: 4 clients pipelining backend show ($(xlbctl -j backend show | wc -c) bytes) without reading, 15 s: RSS ${before} kB -> at most ${peak} kB; prog show from another client meanwhile: ${lat[*]} ms; $(cat "$IT_TMP/flood.json" 2>/dev/null)" >&2
	# The cap is 1 MiB of unsent answers per connection: 4 of them and their buffers fit in
	# 16 MiB; without it the answers pile up as fast as xlbd can make them.
	[ "$peak" -lt $((before + 16384)) ] || die_case "RSS grew from $before kB to $peak kB"
}

# Item 3: a request must be whole 10 s after the previous answer (here: the accept); one
# trickling in a byte a second is cut then, not kept alive by its bytes.
case_slow_request() {
	peer trickle "$SOCK" 25 >"$IT_TMP/trickle.json"
	note "trickle: $(cat "$IT_TMP/trickle.json")"
	# The deadline (10 s), plus a stated slack of 3 s.
	[ "$(json_get "j['closed_after_s'] is not None and j['closed_after_s'] < 13" <"$IT_TMP/trickle.json")" = True ] ||
		die_case "a request trickling in was not cut at the deadline: $(cat "$IT_TMP/trickle.json")"
}

# Item 14: a client of another uid on a socket made 0666 is told why, not cut mid-request.
case_other_uid() {
	local out rc=0
	chmod 0711 "$IT_TMP"
	chmod 0666 "$SOCK"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$XLBCTL" -s "$SOCK" vip show 2>&1) || rc=$?
	chmod 0700 "$IT_TMP"
	chmod 0600 "$SOCK"
	note "uid 65534: status $rc: $out"
	[ $rc -ne 0 ] || die_case "uid 65534 was served"
	grep -qi "permission denied.*uid 65534" <<<"$out" || die_case "no reason given: $out"
}

# The metrics server's answers (its own HTTP/1.x code since the connection caps): GET and
# HEAD, 404, 501 for other methods, 400 for a bad request line, 431 for a head over 16 KiB,
# a request from a client that shut its side after sending it.
case_http_answers() {
	local url=http://$METRICS_ADDR code
	code=$(in_lb curl -s -o "$IT_TMP/m.txt" -w '%{http_code}' -m 5 "$url/metrics")
	[ "$code" = 200 ] || die_case "GET /metrics: $code"
	grep -q '^xlb_build_info' "$IT_TMP/m.txt" || die_case "GET /metrics: no xlb_build_info"
	[ "$(in_lb curl -s -m 5 "$url/healthz?x=1")" = ok ] || die_case "GET /healthz?x=1 is not ok"
	code=$(in_lb curl -s -I -o "$IT_TMP/h.txt" -w '%{http_code}' -m 5 "$url/metrics")
	[ "$code" = 200 ] || die_case "HEAD /metrics: $code"
	grep -qi '^content-length: [1-9]' "$IT_TMP/h.txt" || die_case "HEAD /metrics: no length"
	[ "$(in_lb curl -s -o /dev/null -w '%{http_code}' -m 5 "$url/nope")" = 404 ] || die_case "/nope: not 404"
	[ "$(in_lb curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST -d x=1 "$url/metrics")" = 501 ] || die_case "POST: not 501"
	[ "$(in_lb curl -s -o /dev/null -w '%{http_code}' -m 5 -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' y)" "$url/metrics")" = 431 ] ||
		die_case "a 17 kB header: not 431"
	in_lb "$PY" -c 'import socket, sys
h, p = sys.argv[1].split(":")
s = socket.create_connection((h, int(p)), timeout=5)
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
b = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    b += d
print(b.split(b"\r\n")[0].decode())' "$METRICS_ADDR" $'GET /healthz HTTP/1.0\r\n\r\n' >"$IT_TMP/hc.txt"
	grep -q '^HTTP/1.1 200' "$IT_TMP/hc.txt" || die_case "half-closed request: $(cat "$IT_TMP/hc.txt")"
	in_lb "$PY" -c 'import socket, sys
h, p = sys.argv[1].split(":")
s = socket.create_connection((h, int(p)), timeout=5)
s.sendall(b"NONSENSE\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())' "$METRICS_ADDR" >"$IT_TMP/bad.txt"
	grep -q '^HTTP/1.1 400' "$IT_TMP/bad.txt" || die_case "bad request line: $(cat "$IT_TMP/bad.txt")"
}

# Item 14: connections open when xlbd exits are freed. xlbd under valgrind with idle and
# half-sent control connections and metrics connections open at SIGTERM: no block allocated
# by control.c or metrics_http.c is lost. (Valgrind's other complaints, about the bpf()
# arguments it does not model, are not this test's business.)
case_freed_at_exit() {
	command -v valgrind >/dev/null || {
		note "valgrind not installed: skipped"
		return 0
	}
	xlbd_stop
	echo "=== xlbd start under valgrind $(date +%T.%N)" >>"$IT_TMP/xlbd.log"
	# shellcheck disable=SC2086 # XLB_IT_XLBD_ARGS: extra words
	nsenter --net="/run/netns/$LB_NS" -- valgrind --leak-check=full --num-callers=30 \
		--log-file="$IT_TMP/vg.txt" "$XLBD" --interface "$LB_IF" --state "$IT_TMP/state.json" \
		--socket "$SOCK" ${XLB_IT_XLBD_ARGS:-} >>"$IT_TMP/xlbd.log" 2>&1 &
	echo $! >"$IT_TMP/xlbd.pid"
	disown $! 2>/dev/null || true
	wait_for 60 xlbctl prog show || die_case "xlbd under valgrind did not answer"
	in_lb "$PY" -c 'import socket, sys, time
ss = [socket.socket(socket.AF_UNIX) for _ in range(4)]
for s in ss:
    s.connect(sys.argv[1])
ss[0].sendall(b"{\"cmd\": \"prog show\"}\n{\"cmd\": \"vip")
host, port = sys.argv[2].split(":")
hs = [socket.create_connection((host, int(port))) for _ in range(3)]
hs[0].sendall(b"GET /metr")
print("connected", flush=True)
time.sleep(60)' "$SOCK" "$METRICS_ADDR" >"$IT_TMP/vg.peer" &
	track $!
	wait_for 10 grep -q connected "$IT_TMP/vg.peer" || die_case "the connections were not made"
	sleep 1
	xlbd_stop || die_case "xlbd under valgrind did not stop"
	grep -q 'LEAK SUMMARY\|no leaks are possible' "$IT_TMP/vg.txt" || die_case "no leak report from valgrind"
	awk '/are definitely lost in loss record/ {r = 1; s = ""} r {s = s $0 "\n"} /^==[0-9]+== $/ {if (r && s ~ /control\.c|metrics_http\.c/) printf "%s", s; r = 0}' \
		"$IT_TMP/vg.txt" >"$IT_TMP/vg.lost"
	note "valgrind: $(grep -E 'definitely lost:' "$IT_TMP/vg.txt" || echo 'nothing definitely lost')"
	[ ! -s "$IT_TMP/vg.lost" ] || die_case "connections not freed at exit: $(grep -m 3 -E 'lost in|control\.c|metrics_http\.c' "$IT_TMP/vg.lost" | tr -s ' ' | tr '\n' ' ')"
	xlbd_start
}

# Item 3, accept(): at the descriptor limit xlbd pauses accepting (one log line per pause)
# instead of retrying on every loop turn with a warning each time; it serves again once
# descriptors are free.
case_accept_paused() {
	local pid lowest lines spins pauses
	pid=$(xlbd_pid)
	lowest=$("$PY" -c 'import os,sys; fds = {int(f) for f in os.listdir("/proc/%s/fd" % sys.argv[1])}; print(min(set(range(len(fds) + 1)) - fds))' "$pid")
	lines=$(wc -l <"$IT_TMP/xlbd.log")
	prlimit --pid "$pid" --nofile="$lowest:1024"
	peer storm "$SOCK" "$METRICS_ADDR" 20 0 1 >/dev/null 2>&1 || true
	in_lb curl -s -m 1 -o /dev/null "http://$METRICS_ADDR/metrics" || true
	sleep 3
	prlimit --pid "$pid" --nofile=1024:1024
	wait_for 5 xlbctl prog show || die_case "no answer once descriptors are free again"
	spins=$(tail -n "+$((lines + 1))" "$IT_TMP/xlbd.log" | grep -c 'Error from accept' || true)
	pauses=$(tail -n "+$((lines + 1))" "$IT_TMP/xlbd.log" | grep -c 'control socket: cannot accept, paused' || true)
	note "at the limit ($lowest): $pauses pause lines, $spins accept warnings"
	# One pause a second (1000 ms) at most, over the ~4 s at the limit: 8 leaves room.
	if [ "$spins" -gt 0 ] || [ "$pauses" -gt 8 ]; then
		die_case "accept spun: $spins warnings, $pauses pauses in 4 s"
	fi
	[ "$pauses" -ge 1 ] || die_case "accept never failed (limit $lowest)?"
	in_lb curl -sf -m 5 -o /dev/null "http://$METRICS_ADDR/healthz" || die_case "metrics server not serving again"
}

# Item 3: under RLIMIT_NOFILE 1024 (soft 256 at start: xlbd raises it to the hard limit),
# 2,000 idle control connections and 2,000 slowloris /metrics clients for 25 s. The caps hold
# the descriptors xlbd spends; the health checks keep the nginx backends up; xlbctl is answered
# (latency printed); slowloris clients are cut at the 10 s deadline, not kept by their bytes.
case_fd_storm() {
	local lat=() i fds_max=0 n pid soft lines
	xlbd_stop
	(
		ulimit -Sn 256 && ulimit -Hn 1024 && xlbd_start
	) || die_case "xlbd did not start under nofile 256:1024"
	pid=$(xlbd_pid)
	soft=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
	[ "$soft" = 1024 ] || die_case "soft fd limit $soft: not raised to the hard limit 1024"
	grep -q 'file descriptor limit raised' "$IT_TMP/xlbd.log" || die_case "the raise is not logged"
	wait_for 10 all_backends_up "$V4" || die_case "backends not up after the restart"
	lines=$(wc -l <"$IT_TMP/xlbd.log")
	in_lb "$PY" "$PEER" storm "$SOCK" "$METRICS_ADDR" 2000 2000 25 >"$IT_TMP/storm.json" 2>"$IT_TMP/storm.err" &
	track $!
	sleep 3
	for i in $(seq 1 10); do
		lat+=("$(ms xlbctl prog show)") || die_case "xlbctl not answered during the storm (try $i)"
		n=$(fd_count)
		[ "$n" -le "$fds_max" ] || fds_max=$n
		xlbctl -j backend show "$V4" >"$IT_TMP/bs.json" 2>&1 || die_case "backend show failed during the storm: $(cat "$IT_TMP/bs.json")"
		[ "$(json_get "all(b['state'] == 'up' for b in j['backends'])" <"$IT_TMP/bs.json")" = True ] ||
			die_case "a healthy backend went down during the storm: $(cat "$IT_TMP/bs.json")"
		sleep 2
	done
	wait_gone "$(tail -n 1 "$IT_TMP/case.pids")" 30 || die_case "the storm did not end"
	echo "# fd storm (nofile 1024, 2000 idle control + 2000 slowloris /metrics, 25 s): xlbctl prog show ${lat[*]} ms; xlbd fds at most $fds_max; $(cat "$IT_TMP/storm.json")" >&2
	# Cut at the deadline (10 s from the accept), plus a stated slack of 5 s for the backlog.
	[ "$(json_get "j['http_cut_max_s'] is not None and j['http_cut_max_s'] < 15" <"$IT_TMP/storm.json")" = True ] ||
		die_case "slowloris clients not cut at the deadline: $(cat "$IT_TMP/storm.json") $(tail -n 3 "$IT_TMP/storm.err")"
	[ "$(json_get "j['http_cut']" <"$IT_TMP/storm.json")" -gt 0 ] || die_case "no slowloris client was cut"
	tail -n "+$((lines + 1))" "$IT_TMP/xlbd.log" >"$IT_TMP/storm.log"
	[ "$(grep -c 'Error from accept' "$IT_TMP/storm.log" || true)" -eq 0 ] || die_case "accept spun"
	[ "$(grep -c 'health check failed' "$IT_TMP/storm.log" || true)" -eq 0 ] ||
		die_case "health checks failed during the storm: $(grep 'health check failed' "$IT_TMP/storm.log" | head -n 2)"
}

run_case control_setup case_setup
run_case control_half_close case_half_close
run_case control_too_long case_too_long
run_case control_utf8_cut case_utf8_cut
run_case control_backpressure case_backpressure
run_case control_slow_request case_slow_request
run_case control_other_uid case_other_uid
run_case control_http_answers case_http_answers
run_case control_freed_at_exit case_freed_at_exit
run_case control_accept_paused case_accept_paused
run_case control_fd_storm case_fd_storm
it_finish
