#!/bin/bash
# test_config.sh - the configuration as one whole (docs/cluster.md): `config export` on one
# node and `config apply` on another give the same configuration and the same table
# fingerprints though the two number their backends differently; a bad file changes nothing;
# dry-run changes nothing; re-applying is "no changes"; an apply while connections run breaks
# none of them; a configuration past the control socket's 64 KiB line goes in pieces.
# The second node is the same LB namespace with another xlbd and another state file: one xlbd
# per interface, and what is compared (configuration, tables) is each xlbd's own.
# Usage: tests/integration/test_config.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
it_setup 3

V4="$VIP4:80/tcp"
V6="[$VIP6]:80/tcp"

# fingerprints: "VIP fingerprint" per VIP, sorted.
fingerprints() {
	xlbctl -j vip show | json_get "'\n'.join(sorted(v['vip'] + ' ' + v['fingerprint'] for v in j['vips']))"
}

# The export without the ids, which are each node's own.
export_without_ids() {
	xlbctl config export | json_get "json.dumps({**j, 'vips': [{**{k: x for k, x in v.items() if k != 'id'}, 'backends': [{k: x for k, x in b.items() if k != 'id'} for b in v['backends']]} for v in j['vips']]}, sort_keys=True)"
}

# What a refused or dry-run apply must leave as it was: the tables (fingerprints), backends
# (MACs, states), the change count, the state file and its mtime (not even rewritten).
snapshot() {
	xlbctl -j vip show
	xlbctl -j backend show
	xlbctl -j config show
	cat "$1"
	stat -c %y "$1"
}

# Node A: two VIPs, weights, a drained backend, the seed given; its export and fingerprints.
case_node_a() {
	xlbctl_ok config set hash-seed 12345
	setup_vip "$V4" 4 1:3 2:1 3:2
	setup_vip "$V6" 6 1 2
	xlbctl_ok vip set "$V6" sched rr
	xlbctl_ok backend set "$V4" "${BE_IP4[3]}" drain
	[ "$(xlbctl -j prog show | json_get "j['hash_seed']")" = 12345 ] || die_case "prog show: no seed 12345"
	[ "$(xlbctl -j config show | json_get "j['hash_seed']")" = 12345 ] || die_case "config show: no seed 12345"
	xlbctl config export >"$IT_TMP/a.json"
	export_without_ids >"$IT_TMP/a.noids"
	fingerprints >"$IT_TMP/a.fp"
	note "node A fingerprints: $(tr '\n' ' ' <"$IT_TMP/a.fp")"
	! grep -q ' 0000000000000$' "$IT_TMP/a.fp" || die_case "a VIP has no fingerprint: $(cat "$IT_TMP/a.fp")"
	[ "$(cut -d' ' -f2 "$IT_TMP/a.fp" | sort -u | wc -l)" -eq 2 ] || die_case "two VIPs, one fingerprint"
}

# Node B: another state (another seed, a VIP of its own first, so its ids differ), then A's
# export applied: the same configuration but for the ids, the same fingerprints.
case_node_b_apply() {
	xlbd_stop
	xlbd_start --state "$IT_TMP/b.json" --hash-seed 999 --metrics 127.0.0.1:9109
	[ "$(xlbctl -j config show | json_get "j['hash_seed']")" = 999 ] || die_case "--hash-seed 999 not taken"
	xlbctl_ok vip add "$VIP4:81/tcp"
	xlbctl_ok backend add "$VIP4:81/tcp" "${BE_IP4[2]}"
	xlbctl_ok backend add "$VIP4:81/tcp" "${BE_IP4[1]}"
	xlbctl config apply "$IT_TMP/a.json" >"$IT_TMP/b.changes" || die_case "apply: $(cat "$IT_TMP/b.changes")"
	note "changes: $(tr '\n' '|' <"$IT_TMP/b.changes")"
	grep -q '^seed changed: hash-seed 999 -> 12345$' "$IT_TMP/b.changes" || die_case "no seed change listed"
	grep -qF "vip removed $VIP4:81/tcp" "$IT_TMP/b.changes" || die_case "no vip removed listed"
	grep -qF "vip added $V4" "$IT_TMP/b.changes" || die_case "no vip added listed"
	[ "$(grep -c '^backend added' "$IT_TMP/b.changes")" -eq 5 ] || die_case "not 5 backends added"
	wait_for 10 all_backends_up "$V6" || die_case "backends of $V6 not up"
	wait_for 10 test "$(xlbctl -j backend show "$V4" | json_get "sum(b['state'] in ('up', 'draining') for b in j['backends'])")" = 3 ||
		die_case "backends of $V4 not up"
	export_without_ids >"$IT_TMP/b.noids"
	cmp -s "$IT_TMP/a.noids" "$IT_TMP/b.noids" || die_case "configurations differ: $(diff "$IT_TMP/a.noids" "$IT_TMP/b.noids" | head -n 4 | tr '\n' ' ')"
	[ "$(xlbctl -j backend show "$V4" | json_get "[b['id'] for b in j['backends']]")" != \
		"$(json_get "[b['id'] for b in j['vips'][0]['backends']]" <"$IT_TMP/a.json")" ] ||
		die_case "node B numbered its backends as A did: the test proves nothing about ids"
	fingerprints >"$IT_TMP/b.fp"
	note "node B fingerprints: $(tr '\n' ' ' <"$IT_TMP/b.fp")"
	cmp -s "$IT_TMP/a.fp" "$IT_TMP/b.fp" || die_case "fingerprints differ: A $(tr '\n' ' ' <"$IT_TMP/a.fp") B $(tr '\n' ' ' <"$IT_TMP/b.fp")"
	# /metrics: the same fingerprint as a number, and the seed.
	in_ns "$LB_NS" curl -s http://127.0.0.1:9109/metrics >"$IT_TMP/b.metrics" || die_case "no metrics"
	grep -qx 'xlb_hash_seed 12345' "$IT_TMP/b.metrics" || die_case "metrics: no xlb_hash_seed 12345"
	while read -r vip fp; do
		grep -qxF "xlb_vip_table_fingerprint{vip=\"$vip\"} $((16#$fp))" "$IT_TMP/b.metrics" ||
			die_case "metrics: no fingerprint $((16#$fp)) for $vip: $(grep fingerprint "$IT_TMP/b.metrics" | tr '\n' ' ')"
	done <"$IT_TMP/b.fp"
}

# The same file again: no changes, nothing written.
case_reapply_no_changes() {
	local before out
	before=$(snapshot "$IT_TMP/b.json")
	out=$(xlbctl config apply "$IT_TMP/a.json") || die_case "re-apply: $out"
	[ "$out" = "no changes" ] || die_case "re-apply printed: $out"
	[ "$(snapshot "$IT_TMP/b.json")" = "$before" ] || die_case "re-apply changed something"
}

# dry-run: the changes are printed, nothing changes.
case_dry_run() {
	local before out
	json_get "json.dumps({**j, 'vips': [{**v, 'backends': [{**b, 'weight': 7} for b in v['backends']]} for v in j['vips']]})" \
		<"$IT_TMP/a.json" >"$IT_TMP/w7.json"
	before=$(snapshot "$IT_TMP/b.json")
	out=$(xlbctl config apply "$IT_TMP/w7.json" dry-run) || die_case "dry-run: $out"
	note "dry-run: $out"
	grep -qF "backend changed $V4 ${BE_IP4[1]}: weight 3 -> 7" <<<"$out" || die_case "dry-run did not list the weight change: $out"
	grep -q '^dry run: nothing was changed$' <<<"$out" || die_case "dry-run did not say so: $out"
	out=$(xlbctl config apply "$IT_TMP/w7.json" --dry-run) || die_case "--dry-run: $out"
	[ "$(snapshot "$IT_TMP/b.json")" = "$before" ] || die_case "dry-run changed something"
}

# bad_file NAME REGEX PYEXPR: A's export changed by PYEXPR must be refused with a message
# matching REGEX, and nothing may change.
bad_file() {
	local before out rc=0
	json_get "$3" <"$IT_TMP/a.json" >"$IT_TMP/bad.$1.json"
	before=$(snapshot "$IT_TMP/b.json")
	out=$(xlbctl config apply "$IT_TMP/bad.$1.json" 2>&1) || rc=$?
	note "bad file $1: status $rc: $out"
	[ $rc -ne 0 ] || die_case "bad file $1 was applied"
	grep -qiE -- "$2" <<<"$out" || die_case "bad file $1: message does not name the problem (/$2/): $out"
	[ "$(snapshot "$IT_TMP/b.json")" = "$before" ] || die_case "bad file $1 changed something"
}

case_bad_files() {
	local before out rc=0
	# The last backend bad: everything before it would be fine.
	bad_file weight 'weight' "json.dumps({**j, 'vips': j['vips'][:-1] + [{**j['vips'][-1], 'backends': j['vips'][-1]['backends'] + [{'address': '${BE_IP6[3]}', 'weight': 0}]}]})"
	bad_file twice 'twice' "json.dumps({**j, 'vips': j['vips'] + [j['vips'][0]]})"
	bad_file loopback 'loopback|never a backend' "json.dumps({**j, 'vips': [{**j['vips'][0], 'backends': j['vips'][0]['backends'] + [{'address': '127.0.0.1'}]}] + j['vips'][1:]})"
	bad_file sched 'scheduler' "json.dumps({**j, 'vips': [{**j['vips'][0], 'sched': 'fastest'}] + j['vips'][1:]})"
	bad_file member 'unknown member' "json.dumps({**j, 'vips': [{**j['vips'][0], 'wieght': 1}] + j['vips'][1:]})"
	bad_file lbaddr 'this host' "json.dumps({**j, 'vips': [{**j['vips'][0], 'backends': j['vips'][0]['backends'] + [{'address': '$LB_IP4'}]}] + j['vips'][1:]})"
	printf '{"version": 1, "vips": [' >"$IT_TMP/bad.syntax.json"
	before=$(snapshot "$IT_TMP/b.json")
	out=$(xlbctl config apply "$IT_TMP/bad.syntax.json" 2>&1) || rc=$?
	[ $rc -ne 0 ] || die_case "a syntax error was applied"
	grep -q 'line 1' <<<"$out" || die_case "syntax error: the line is not named: $out"
	[ "$(snapshot "$IT_TMP/b.json")" = "$before" ] || die_case "a bad file changed something"
}

# An apply while connections run (weights, a backend removed and another added, the seed):
# every established connection stays on its backend.
case_apply_under_traffic() {
	local bad out
	long_start "$VIP4" 24 ap
	json_get "json.dumps({**j, 'hash_seed': 777, 'vips': [{**j['vips'][0], 'backends': [{**b, 'weight': 5, 'admin': 'up'} for b in j['vips'][0]['backends']]}, {**j['vips'][1], 'backends': j['vips'][1]['backends'][:1] + [{'address': '${BE_IP6[3]}', 'weight': 2}]}]})" \
		<"$IT_TMP/a.json" >"$IT_TMP/traffic.json"
	out=$(xlbctl config apply "$IT_TMP/traffic.json") || die_case "apply: $out"
	note "changes: $(tr '\n' '|' <<<"$out")"
	grep -q 'hash-seed 12345 -> 777' <<<"$out" || die_case "no seed change: $out"
	sleep 1
	long_stop ap
	[ "$(wc -l <"$IT_TMP/long.ap/result")" -eq 24 ] || die_case "not 24 results"
	bad=$(awk '$4 != "ok"' "$IT_TMP/long.ap/result" | wc -l)
	[ "$bad" -eq 0 ] || die_case "$bad established connection(s) broke: $(awk '$4 != "ok"' "$IT_TMP/long.ap/result" | head -n 1)"
	[ "$(xlbctl -j prog show | json_get "j['hash_seed']")" = 777 ] || die_case "seed not 777"
}

# More than the control socket's 64 KiB line: sent in pieces, applied, re-applied as no change.
case_big_config() {
	local out
	json_get "json.dumps({**j, 'vips': j['vips'] + [{'vip': '$VIP4:%d/tcp' % p, 'backends': [{'address': '10.%d.%d.%d' % (p - 10, i // 250, i % 250 + 1), 'weight': 1 + i % 7} for i in range(1000)]} for p in (82, 83)]})" \
		<"$IT_TMP/a.json" >"$IT_TMP/big.json"
	[ "$(stat -c %s "$IT_TMP/big.json")" -gt 65536 ] || die_case "the big file is not big"
	out=$(xlbctl config apply "$IT_TMP/big.json") || die_case "big apply: $out"
	[ "$(grep -c '^backend added' <<<"$out")" -ge 2000 ] || die_case "big apply: $(head -n 3 <<<"$out")"
	[ "$(xlbctl -j backend show "$VIP4:83/tcp" | json_get "len(j['backends'])")" = 1000 ] || die_case "not 1000 backends"
	out=$(xlbctl config apply "$IT_TMP/big.json") || die_case "big re-apply: $out"
	[ "$out" = "no changes" ] || die_case "big re-apply: $(head -n 3 <<<"$out")"
	out=$(xlbctl config apply "$IT_TMP/a.json") || die_case "back to A: $out"
}

# The seed changes every fingerprint, and another seed back gives the same ones again.
case_seed_changes_fingerprints() {
	local fp
	fp=$(fingerprints)
	xlbctl_ok config set hash-seed 4242
	[ "$(fingerprints | cut -d' ' -f2 | sort)" != "$(cut -d' ' -f2 <<<"$fp" | sort)" ] || die_case "seed change kept a fingerprint"
	! fingerprints | cut -d' ' -f2 | grep -qxFf <(cut -d' ' -f2 <<<"$fp") || die_case "seed change kept a fingerprint"
	xlbctl_ok config set hash-seed 12345
	[ "$(fingerprints)" = "$(cat "$IT_TMP/a.fp")" ] || die_case "seed back: fingerprints differ from A's: $(fingerprints | tr '\n' ' ')"
}

run_case node_a case_node_a
run_case node_b_apply case_node_b_apply
run_case reapply_no_changes case_reapply_no_changes
run_case dry_run case_dry_run
run_case bad_files case_bad_files
run_case seed_changes_fingerprints case_seed_changes_fingerprints
run_case apply_under_traffic case_apply_under_traffic
run_case big_config case_big_config
it_finish
