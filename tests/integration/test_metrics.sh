#!/bin/bash
# test_metrics.sh - xlbd's Prometheus endpoint under real traffic: the text promtool accepts and
# values that agree with xlbctl, a real Prometheus server scraping it every second (traffic split
# per backend as the weights say), and the Grafana dashboard (valid JSON, every metric it names
# exported, every query accepted by Prometheus).
# Usage: tests/integration/test_metrics.sh BUILD_DIR
#
#   client ns --HTTP--> VIP (LB ns: XDP, xlbd --metrics 127.0.0.1:9100) --DSR--> be1, be2, be3
#                        LB ns loopback: prometheus 127.0.0.1:9090 scrapes 127.0.0.1:9100
#
# Both servers listen on the LB namespace's own loopback: nothing outside the test sees them.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

METRICS_ADDR=127.0.0.1:9100
PROM_ADDR=127.0.0.1:9090
DASHBOARD=$IT_ROOT/dashboards/xlb.json

it_init "$@"
# Every xlbd start of this test (also a restart after a failed case) serves metrics.
XLB_IT_XLBD_ARGS="${XLB_IT_XLBD_ARGS:-} --metrics $METRICS_ADDR"
it_setup 3

V4="$VIP4:80/tcp"
V6="[$VIP6]:80/tcp"
# Weights 1:1:2: the split Prometheus must show. Checks on (HTTP, fast) so that the health
# families have samples; slow start off so that weights hold from the first request.
CHECK=(check http path / interval 100ms timeout 50ms slow-start 0)

# ---- helpers ---------------------------------------------------------------------------------

in_lb() { in_ns "$LB_NS" "$@"; }

# scrape [PATH]: GET http://METRICS_ADDR/PATH (default metrics) from the LB namespace.
scrape() { in_lb curl -sS --max-time 5 "http://$METRICS_ADDR/${1:-metrics}"; }

# metric FILE 'NAME{LABELS}': the value of one sample line of a scrape (empty if absent).
metric() { awk -v s="$2" 'index($0, s " ") == 1 {print $NF; exit}' "$1"; }

# bl BACKEND_INDEX: the label set of backend I of V4, as xlbd prints it.
bl() { echo "vip=\"$V4\",backend=\"${BE_IP4[$1]}\""; }

# The VIP with backends 1:1, 2:1, 3:2 and checks; waits until every backend is up.
vip_setup() {
	xlbctl vip del "$V4" >/dev/null 2>&1 || true
	xlbctl_ok vip add "$V4" "${CHECK[@]}"
	xlbctl_ok backend add "$V4" "${BE_IP4[1]}" weight 1
	xlbctl_ok backend add "$V4" "${BE_IP4[2]}" weight 1
	xlbctl_ok backend add "$V4" "${BE_IP4[3]}" weight 2
	wait_for 10 all_backends_up "$V4" || die_case "backends not up: $(xlbctl backend show "$V4" 2>&1 | tr '\n' ' ')"
}

# prom_start: a Prometheus server in the LB namespace scraping xlbd every second, its data in
# our temp dir; stopped by its pid when the case ends (track). Returns once it has scraped xlbd.
prom_start() {
	local dir=$IT_TMP/prom pid
	rm -rf "$dir"
	mkdir -p "$dir/data"
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xlbd
    static_configs:
      - targets: ['$METRICS_ADDR']
EOF
	# nsenter execs prometheus (no fork for a network namespace): $! is its pid.
	nsenter --net="/run/netns/$LB_NS" -- prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" --web.listen-address="$PROM_ADDR" \
		--storage.tsdb.retention.time=1h --log.level=warn >"$dir/log" 2>&1 &
	pid=$!
	track "$pid"
	note "prometheus pid $pid"
	wait_for 20 prom_up || die_case "prometheus did not scrape xlbd within 20 s: $(tail -n 3 "$dir/log" | tr '\n' ' ')"
}

# prom_query EXPR: the API's JSON answer to an instant query (fails on an HTTP error).
prom_query() {
	in_lb curl -sS --fail --max-time 5 "http://$PROM_ADDR/api/v1/query" --data-urlencode "query=$1"
}

prom_up() {
	[ "$(prom_query 'up{job="xlbd"}' | json_get "j['data']['result'][0]['value'][1]")" = 1 ]
}

# ---- cases -----------------------------------------------------------------------------------

# Traffic through the VIP, then one scrape: promtool finds nothing to say, the values agree with
# the data plane as xlbctl reports it, the backends' state and circuit are what backend show
# says, the health families have samples; /healthz answers, other paths are 404. An IPv6 VIP
# without checks is there too: its label (brackets, colons) and no circuit series.
case_scrape() {
	local out=$IT_TMP/scrape.out m=$IT_TMP/m1.txt lint i pk_m pk_c sum=0 v
	vip_setup
	setup_vip "$V6" 6 1 2
	curl_many "$VIP4" 200 scrape "$out"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 200 requests failed"
	curl_many "$VIP6" 20 scrape6 "$out.6"
	[ "$(count_failed "$out.6")" -eq 0 ] || die_case "$(count_failed "$out.6") of 20 IPv6 requests failed"
	scrape metrics >"$m"
	note "scrape: $(wc -l <"$m") lines, $(wc -c <"$m") bytes"
	if command -v promtool >/dev/null; then
		lint=$(promtool check metrics <"$m" 2>&1) || die_case "promtool check metrics: $lint"
		[ -z "$lint" ] || die_case "promtool check metrics remarks: $lint"
	else
		note "promtool not installed: lint skipped"
	fi
	[ "$(scrape healthz)" = ok ] || die_case "/healthz did not answer ok"
	[ "$(in_lb curl -s -o /dev/null -w '%{http_code}' "http://$METRICS_ADDR/nope")" = 404 ] ||
		die_case "/nope: not 404"
	# Counters agree with the data plane (xlbctl reads the same maps; no traffic meanwhile).
	for i in 1 2 3; do
		pk_m=$(metric "$m" "xlb_backend_packets_total{$(bl "$i")}")
		pk_c=$(xlbctl -j stats show vip "$V4" | json_get "[b for b in j['backends'] if b['address'] == '${BE_IP4[$i]}'][0]['packets']")
		{ [ -n "$pk_m" ] && [ "$pk_m" = "$pk_c" ]; } || die_case "${BE_NAME[$i]}: metrics say ${pk_m:-nothing}, xlbctl $pk_c packets"
		[ "$pk_m" -gt 0 ] || die_case "${BE_NAME[$i]}: no packets"
		sum=$((sum + $(metric "$m" "xlb_backend_new_flows_total{$(bl "$i")}")))
		[ "$(metric "$m" "xlb_backend_up{$(bl "$i")}")" = 1 ] || die_case "${BE_NAME[$i]} not up"
		[ "$(metric "$m" "xlb_backend_state{$(bl "$i"),state=\"up\"}")" = 1 ] || die_case "${BE_NAME[$i]}: state up not 1"
		[ "$(metric "$m" "xlb_backend_state{$(bl "$i"),state=\"down\"}")" = 0 ] || die_case "${BE_NAME[$i]}: state down not 0"
		[ "$(metric "$m" "xlb_backend_circuit_state{$(bl "$i"),state=\"closed\"}")" = 1 ] || die_case "${BE_NAME[$i]}: circuit not closed"
		[ "$(metric "$m" "xlb_backend_weight{$(bl "$i")}")" = "$(backend_field "$V4" "${BE_IP4[$i]}" weight)" ] || die_case "${BE_NAME[$i]}: weight"
		[ "$(metric "$m" "xlb_backend_effective_weight{$(bl "$i")}")" = "$(backend_field "$V4" "${BE_IP4[$i]}" effective_weight)" ] || die_case "${BE_NAME[$i]}: effective weight"
		[ "$(metric "$m" "xlb_health_check_failures_total{$(bl "$i")}")" = 0 ] || die_case "${BE_NAME[$i]}: check failures"
	done
	v=$(metric "$m" "xlb_vip_new_flows_total{vip=\"$V4\"}")
	[ "$v" = "$sum" ] || die_case "VIP new flows $v, backends' sum $sum"
	[ "$v" -ge 200 ] || die_case "VIP new flows $v < 200 connections"
	v=$(metric "$m" "xlb_health_check_duration_seconds_count{vip=\"$V4\"}")
	[ "${v:-0}" -gt 0 ] || die_case "no health-check durations"
	[ "$(metric "$m" "xlb_health_check_duration_seconds_bucket{vip=\"$V4\",le=\"+Inf\"}")" = "$v" ] ||
		die_case "+Inf bucket differs from the count"
	[ "$(metric "$m" 'xlb_xdp_actions_total{action="tx"}')" -ge "$(metric "$m" "xlb_vip_packets_total{vip=\"$V4\"}")" ] ||
		die_case "fewer XDP_TX than VIP packets"
	[ "$(metric "$m" xlb_flow_table_entries)" -ge 200 ] || die_case "flow table: $(metric "$m" xlb_flow_table_entries) entries after 200 connections"
	grep -q '^xlb_build_info{version="[^"]*",abi="[0-9]*"} 1$' "$m" || die_case "no xlb_build_info"
	[ "$(metric "$m" "xlb_vip_new_flows_total{vip=\"$V6\"}")" = 20 ] || die_case "IPv6 VIP: $(metric "$m" "xlb_vip_new_flows_total{vip=\"$V6\"}") new flows, expected 20"
	[ "$(metric "$m" "xlb_backend_up{vip=\"$V6\",backend=\"${BE_IP6[1]}\"}")" = 1 ] || die_case "IPv6 backend not up"
	! grep -qF "xlb_backend_circuit_state{vip=\"$V6\"" "$m" || die_case "circuit series for a VIP without checks"
	# One accepted change counts, a refused one does not.
	v=$(metric "$m" xlb_config_changes_total)
	xlbctl_ok backend set "$V4" "${BE_IP4[1]}" weight 1
	! xlbctl backend set "$V4" "${BE_IP4[1]}" weight 0 >/dev/null 2>&1 || die_case "weight 0 accepted"
	scrape metrics >"$m"
	[ "$(metric "$m" xlb_config_changes_total)" = $((v + 1)) ] ||
		die_case "config changes: $v before, $(metric "$m" xlb_config_changes_total) after one accepted and one refused change"
}

# A real Prometheus scrapes every second while 800 new connections cross the VIP. Every backend
# shows a rate while traffic runs, and the packets per backend over the traffic window
# (increase()) split as the weights 1:1:2 say: shares 25 %, 25 %, 50 % within +-7 points. Why 7:
# each connection is a Maglev pick, so a share of n = 800 picks has a standard deviation of at
# most sqrt(0.25 / 800) = 1.8 points; 7 points is ~4 sigma (a false failure well under 0.1 %),
# while weights ignored (33 % each) or one backend's weight lost misses by 8 points or more.
# Packets per connection are the same for every backend (same request, same answer), so packet
# shares are connection shares; increase() extrapolates every series of one scrape alike.
case_prometheus() {
	local out=$IT_TMP/prom.out t0 pid shares
	vip_setup
	prom_start
	sleep 2 # samples from before the traffic: the window starts at the counters' old values
	t0=$SECONDS
	curl_many "$VIP4" 800 prom "$out" &
	pid=$!
	track "$pid"
	sleep 3
	# While traffic runs: every backend has a rate.
	wait_for 10 prom_rates_all 3 || die_case "not every backend has a rate during traffic: $(prom_query "rate(xlb_backend_packets_total[10s])" | head -c 600)"
	wait_gone "$pid" 60 || die_case "800 requests did not finish within 60 s"
	[ "$(count_failed "$out")" -eq 0 ] || die_case "$(count_failed "$out") of 800 requests failed"
	sleep 3 # two more scrapes after the last packet
	shares=$(prom_query "increase(xlb_backend_packets_total{vip=\"$V4\"}[$((SECONDS - t0 + 4))s])" |
		json_get "' '.join('%s=%s' % (r['metric']['backend'], r['value'][1]) for r in j['data']['result'])")
	note "increase over the traffic window: $shares (client: $(spread "$out"))"
	"$PY" "$IT_PY/split_1_1_2.py" "$shares" "${BE_IP4[1]}" "${BE_IP4[2]}" "${BE_IP4[3]}" || die_case "packets per backend not split 1:1:2 within 7 points: $shares"
}

# prom_rates_all N: N backends of V4 have a non-zero packet rate in Prometheus.
prom_rates_all() {
	[ "$(prom_query "rate(xlb_backend_packets_total{vip=\"$V4\"}[10s]) > 0" | json_get "len(j['data']['result'])")" = "$1" ]
}

# The dashboard: valid JSON with a Prometheus data-source variable; every metric name its
# expressions use is exported by xlbd (a live scrape with checks on); every expression, with
# Grafana's variables filled in, is accepted by Prometheus.
case_dashboard() {
	local m=$IT_TMP/m2.txt exprs=$IT_TMP/exprs.txt e summary
	[ -r "$DASHBOARD" ] || die_case "no $DASHBOARD"
	"$PY" -m json.tool "$DASHBOARD" >/dev/null 2>"$IT_TMP/json.err" || die_case "invalid JSON: $(head -n 1 "$IT_TMP/json.err")"
	vip_setup
	scrape metrics >"$m"
	summary=$("$PY" "$IT_PY/dashboard.py" "$DASHBOARD" "$m" "$exprs" "$IT_TMP/dash.err") ||
		die_case "$(tail -n 1 "$IT_TMP/dash.err")"
	note "dashboard: $summary"
	prom_start
	while IFS= read -r e; do
		prom_query "$e" | json_get "j['status']" | grep -qx success || die_case "Prometheus refused: $e"
	done <"$exprs"
}

run_case scrape case_scrape
if command -v prometheus >/dev/null; then
	run_case prometheus case_prometheus
	run_case dashboard case_dashboard
else
	it_skip prometheus "prometheus not installed (Debian package prometheus; scripts/deps.sh)"
	it_skip dashboard "prometheus not installed (Debian package prometheus; scripts/deps.sh)"
fi
it_finish
