#!/bin/bash
# test_completion.sh - bash completion for xlbctl (dist/completion/xlbctl): what it offers is
# what xlbctl's own help lists (objects and options, each object's commands exactly, every
# keyword of each command), and the VIPs and backend addresses of a running xlbd.
# Usage: tests/integration/test_completion.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

COMPLETION=$IT_ROOT/dist/completion/xlbctl

it_init "$@"
BUILD_DIR=$(dirname "$XLBD")
it_setup 2

V4="$VIP4:80/tcp"
V6="[$VIP6]:80/tcp"

# cands WORD...: what the completion offers after WORD..., sorted, one per line.
cands() {
	# shellcheck source=dist/completion/xlbctl
	(source "$COMPLETION" && _xlbctl_candidates "$XLBCTL" "$@") | sort -u
}

# complete LINE...: COMPREPLY of the completion function for the words of LINE, the last being
# the word under the cursor (empty: a new word), as readline calls it without bash-completion.
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_xlbctl; printf "%s\n" "${COMPREPLY[@]}"' complete "$COMPLETION" "$@" | sort -u
}

words() { awk -v k="$1" '$1 == k' "$IT_TMP/words"; }

# ---- cases -----------------------------------------------------------------------------------

case_top_level() {
	local want got
	"$PY" "$IT_PY/help_words.py" "$XLBCTL" "$XLBD" "$BUILD_DIR/xlb-backend" >"$IT_TMP/words"
	want=$({ words object | awk '{print $2}'; words option | awk '{print $2}'; echo help; } | sort -u)
	got=$(cands)
	[ "$got" = "$want" ] || die_case "top level: got $(echo "$got" | tr '\n' ' '), want $(echo "$want" | tr '\n' ' ')"
	got=$(cands help)
	want=$(words object | awk '{print $2}' | sort -u)
	[ "$got" = "$want" ] || die_case "after help: got $(echo "$got" | tr '\n' ' ')"
	[ "$(cands -s)" = "@file" ] || die_case "-s does not complete a file name"
	[ "$(cands -j -s /x ba)" = "$(cands backend)" ] || die_case "options and a prefix before the object"
}

case_commands_exactly() {
	local obj want got
	for obj in $(words object | awk '{print $2}'); do
		want=$(words command | awk -v o="$obj" '$2 == o {print $3}' | sort -u)
		got=$(cands "$obj")
		[ "$got" = "$want" ] || die_case "$obj: got $(echo "$got" | tr '\n' ' '), want $(echo "$want" | tr '\n' ' ')"
	done
}

# A placeholder typed as the user would.
dummy() {
	case $1 in
	VIP) echo 10.0.0.10:80/tcp ;;
	ADDRESS) echo 10.0.1.2 ;;
	CLIENT) echo 192.0.2.7:40000 ;;
	*) echo x ;;
	esac
}

# Every keyword of a command is offered where it goes: after the positional words, or as the
# value of a keyword offered there.
case_every_keyword_offered() {
	local obj cmd kw pos p offered k n=0
	while read -r _ obj cmd kw; do
		pos=()
		for p in $(words positional | awk -v o="$obj" -v c="$cmd" '$2 == o && $3 == c {$1=$2=$3=""; print}'); do
			pos+=("$(dummy "$p")")
		done
		offered=$(cands "$obj" "$cmd" "${pos[@]}")
		for k in $offered; do
			case $k in @*) ;; *) offered+=$'\n'$(cands "$obj" "$cmd" "${pos[@]}" "$k") ;; esac
		done
		grep -qx -- "$kw" <<<"$offered" ||
			die_case "xlbctl $obj $cmd ${pos[*]}: '$kw' is never offered"
		n=$((n + 1))
	done < <(words keyword)
	[ $n -gt 50 ] || die_case "only $n keywords read from xlbctl help"
	note "$n keywords offered"
}

# Values: a scheduler after sched, a check kind after check, on|off after hash-dport.
case_values() {
	[ "$(cands vip set 10.0.0.10:80/tcp sched | tr '\n' ' ')" = "least-conn maglev rr source-hash wrr " ] ||
		die_case "sched: $(cands vip set 10.0.0.10:80/tcp sched | tr '\n' ' ')"
	[ "$(cands backend set 10.0.0.10:80/tcp 10.0.1.2 check | tr '\n' ' ')" = "http none tcp udp " ] ||
		die_case "backend check: $(cands backend set 10.0.0.10:80/tcp 10.0.1.2 check | tr '\n' ' ')"
	[ "$(cands vip add 10.0.0.10:80/tcp hash-dport | tr '\n' ' ')" = "off on " ] ||
		die_case "hash-dport: $(cands vip add 10.0.0.10:80/tcp hash-dport | tr '\n' ' ')"
	[ -z "$(cands backend add 10.0.0.10:80/tcp 10.0.1.2 weight)" ] || die_case "weight takes a number"
}

# The running xlbd's VIPs and backends, at the socket given with -s.
case_live_vips_and_backends() {
	local sock=$IT_TMP/xlbd.sock got
	setup_vip "$V4" 4 1 2
	setup_vip "$V6" 6 1
	got=$(complete_words "$XLBCTL" -s "$sock" vip del "")
	[ "$got" = "$(printf '%s\n' "$V4" "$V6" | sort)" ] || die_case "vip del: $(echo "$got" | tr '\n' ' ')"
	got=$(complete_words "$XLBCTL" -s "$sock" backend set "$V4" "")
	[ "$got" = "$(printf '%s\n' "${BE_IP4[1]}" "${BE_IP4[2]}" | sort)" ] ||
		die_case "backend set $V4: $(echo "$got" | tr '\n' ' ')"
	got=$(complete_words "$XLBCTL" -s "$sock" backend del "$V6" "")
	[ "$got" = "${BE_IP6[1]}" ] || die_case "backend del $V6: $got"
	got=$(complete_words "$XLBCTL" -s "$sock" stats vip "${VIP4%.*}")
	[ "$got" = "$V4" ] || die_case "stats vip PREFIX: $got"
	got=$(complete_words "$XLBCTL" -s "$sock" b)
	[ "$got" = backend ] || die_case "b: $got"
}

# With bash-completion loaded (as on an installed system): VIPs hold colons, still one word.
case_with_bash_completion() {
	local got
	[ -r /usr/share/bash-completion/bash_completion ] || die_case "bash-completion not installed"
	# shellcheck disable=SC2016 # expanded by the inner bash
	got=$(bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"
		COMP_LINE="$4 -s $2 vip del $3"; COMP_POINT=${#COMP_LINE}
		COMP_WORDS=("$4" -s "$2" vip del "$3"); COMP_CWORD=5
		_xlbctl; printf "%s\n" "${COMPREPLY[@]}"' c "$COMPLETION" "$IT_TMP/xlbd.sock" "${VIP4%.*}" "$XLBCTL")
	[ "$got" = "$V4" ] || die_case "vip del with bash-completion: $got"
}

run_case top_level case_top_level
run_case commands_exactly case_commands_exactly
run_case every_keyword_offered case_every_keyword_offered
run_case values case_values
run_case live_vips_and_backends case_live_vips_and_backends
run_case with_bash_completion case_with_bash_completion
it_finish
