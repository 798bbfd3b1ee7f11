#!/bin/bash
# test_man.sh - the manual pages: each man/*.scd renders with scdoc and `man -l` without a
# warning, and every object, command, keyword and option the programs' own help lists
# (`xlbctl help [OBJECT]`, `xlbd --help`, `xlb-backend help`) is in its page, so that page and
# program cannot drift apart; a word taken out of a page is caught.
# Usage: tests/integration/test_man.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
BUILD_DIR=$(dirname "$XLBD")
IT_SETUP_SKIP="" # no root needed: no namespaces
command -v scdoc >/dev/null || IT_SETUP_SKIP="scdoc not installed (scripts/deps.sh)"
command -v man >/dev/null || IT_SETUP_SKIP="man (man-db) not installed"
[ -x "$BUILD_DIR/xlb-backend" ] || IT_SETUP_SKIP="$BUILD_DIR/xlb-backend not built"
touch "$IT_TMP/xlbd.log"

# render PAGE: the page as text, wide and without hyphenation (a word split over two lines
# would look missing).
render() {
	scdoc <"$IT_ROOT/man/$1.scd" >"$IT_TMP/$1"
	MANWIDTH=250 MANROFFOPT='-rHY=0' man --warnings -l "$IT_TMP/$1" 2>"$IT_TMP/$1.warn" |
		col -b >"$IT_TMP/$1.txt"
}

# missing TEXT WORD...: the words not in TEXT as a whole word ("-json" is not "json").
missing() {
	local text=$1 w
	shift
	for w in "$@"; do
		grep -qP -- "(?<![A-Za-z0-9-])\\Q$w\\E(?![A-Za-z0-9-])" "$text" || echo "$w"
	done
}

words() { awk -v k="$1" '$1 == k {print $NF}' "$IT_TMP/words" | sort -u; }

# ---- cases -----------------------------------------------------------------------------------

case_pages_render() {
	local p
	for p in xlbd.8 xlbctl.8 xlb-backend.8; do
		render "$p" || die_case "$p does not render"
		[ ! -s "$IT_TMP/$p.warn" ] || die_case "man -l $p: $(head -n 3 "$IT_TMP/$p.warn" | tr '\n' '|')"
		grep -q '^NAME' "$IT_TMP/$p.txt" || die_case "$p has no NAME section"
		grep -q "^SYNOPSIS" "$IT_TMP/$p.txt" || die_case "$p has no SYNOPSIS"
	done
}

case_xlbctl_page_has_the_grammar() {
	local miss n
	"$PY" "$IT_PY/help_words.py" "$XLBCTL" "$XLBD" "$BUILD_DIR/xlb-backend" >"$IT_TMP/words"
	render xlbctl.8
	n=$(grep -c '^\(object\|option\|command\|keyword\) ' "$IT_TMP/words")
	[ "$n" -gt 50 ] || die_case "only $n words read from xlbctl help: the help parser broke"
	# shellcheck disable=SC2046 # one word each
	miss=$(missing "$IT_TMP/xlbctl.8.txt" $(words object) $(words option) $(words command) \
		$(words keyword) | sort -u)
	[ -z "$miss" ] || die_case "xlbctl(8) lacks what xlbctl help lists: $(echo "$miss" | tr '\n' ' ')"
	note "$n grammar words checked"
}

case_xlbd_page_has_the_options() {
	local miss
	render xlbd.8
	# shellcheck disable=SC2046
	miss=$(missing "$IT_TMP/xlbd.8.txt" $(words xlbd-option))
	[ -z "$miss" ] || die_case "xlbd(8) lacks options of xlbd --help: $(echo "$miss" | tr '\n' ' ')"
	[ "$(words xlbd-option | wc -l)" -ge 8 ] || die_case "too few xlbd options read"
}

case_backend_page_has_the_commands() {
	local miss
	render xlb-backend.8
	# shellcheck disable=SC2046
	miss=$(missing "$IT_TMP/xlb-backend.8.txt" $(words backend-word))
	[ -z "$miss" ] || die_case "xlb-backend(8) lacks words of xlb-backend help: $(echo "$miss" | tr '\n' ' ')"
}

# The check itself: a page without one keyword (least-conn) must be caught.
case_drift_is_caught() {
	local miss
	sed 's/least-conn/LEASTCONN/g' "$IT_TMP/xlbctl.8.txt" >"$IT_TMP/cut.txt"
	# shellcheck disable=SC2046
	miss=$(missing "$IT_TMP/cut.txt" $(words keyword))
	grep -qx least-conn <<<"$miss" || die_case "a page without least-conn passed the check"
}

run_case pages_render case_pages_render
run_case xlbctl_page_has_the_grammar case_xlbctl_page_has_the_grammar
run_case xlbd_page_has_the_options case_xlbd_page_has_the_options
run_case backend_page_has_the_commands case_backend_page_has_the_commands
run_case drift_is_caught case_drift_is_caught
it_finish
