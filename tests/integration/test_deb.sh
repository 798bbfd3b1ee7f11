#!/bin/bash
# test_deb.sh - the Debian package: `make deb` builds it, lintian finds no error or warning,
# dpkg installs it on this machine (files, the xlb user, the unit verified) and removes and
# purges it without a trace but the user; and an upgrade to a newer package under a running
# xlbd with established connections, xlbd restarted on the new binary as the package's
# postinst has systemd do, breaks none of them.
# Usage: tests/integration/test_deb.sh BUILD_DIR
#
# systemd is not PID 1 here: the postinst's `deb-systemd-invoke try-restart` of the running
# instances has nothing to act on, so the test does that restart itself (SIGTERM, start).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
BUILD_DIR=$(dirname "$XLBD")
DEBS=$IT_TMP/debs
mkdir -p "$DEBS"
touch "$IT_TMP/xlbd.log" # the harness counts its lines before xlbd first runs
INSTALLED_BY_US=""

mk() { make -s -C "$IT_ROOT" --no-print-directory BUILD="$BUILD_DIR" "$@"; }

# deb VERSION: builds the package at VERSION into $DEBS.
deb() {
	mk deb DEB_VERSION="$1" >"$IT_TMP/deb.$1.log" 2>&1 || return 1
	cp "$BUILD_DIR/deb/xlb_$1_"*.deb "$DEBS/"
}

if [ -z "$IT_SETUP_SKIP" ]; then
	for t in dpkg-buildpackage lintian dh; do
		command -v $t >/dev/null || IT_SETUP_SKIP="$t not installed (scripts/deps.sh)"
	done
fi
if [ -z "$IT_SETUP_SKIP" ] && dpkg-query -W -f='${Status}' xlb 2>/dev/null | grep -q installed; then
	IT_SETUP_SKIP="a package xlb is installed on this machine already: left alone"
fi
# Purge removes /var/lib/xlb and /etc/xlb: only when they were not there before.
for d in /var/lib/xlb /etc/xlb /etc/default/xlbd; do
	[ -z "$IT_SETUP_SKIP" ] && [ -e $d ] && IT_SETUP_SKIP="$d exists: a purge would remove it"
done
# The package creates the xlb user and, by Debian's rule, never removes it: the test does,
# if it was not there before.
USER_BEFORE=$(getent passwd xlb || true)
if [ -z "$IT_SETUP_SKIP" ]; then
	deb 0.1.0 || IT_SETUP_FAIL="make deb failed: $(tail -n 3 "$IT_TMP/deb.0.1.0.log" | tr '\n' '|')"
fi

it_before_cleanup() {
	# xlbd first (it runs the packaged binary), then the package.
	xlbd_detach
	xlbd_stop
	[ -z "$INSTALLED_BY_US" ] || dpkg --purge xlb >/dev/null 2>&1
	[ -n "$USER_BEFORE" ] || ! getent passwd xlb >/dev/null || userdel xlb
}

# ---- cases -----------------------------------------------------------------------------------

case_deb_contents() {
	local f list
	list=$(dpkg-deb -c "$DEBS"/xlb_0.1.0_*.deb | awk '{print $6}')
	for f in ./usr/sbin/xlbd ./usr/sbin/xlbctl ./usr/sbin/xlb-backend \
		./lib/systemd/system/xlbd@.service ./usr/lib/sysusers.d/xlb.conf \
		./usr/share/man/man8/xlbd.8.gz ./usr/share/man/man8/xlbctl.8.gz \
		./usr/share/man/man8/xlb-backend.8.gz ./usr/share/bash-completion/completions/xlbctl \
		./usr/share/xlb/dashboards/xlb.json ./etc/default/xlbd; do
		grep -qx -- "$f" <<<"$list" || die_case "the package lacks $f"
	done
	dpkg-deb -I "$DEBS"/xlb_0.1.0_*.deb conffiles | grep -qx /etc/default/xlbd ||
		die_case "/etc/default/xlbd is not a conffile"
}

case_lintian_clean() {
	local out
	out=$(lintian "$BUILD_DIR"/deb/xlb_0.1.0_*.changes 2>&1 | grep -v 'running with root' || true)
	note "lintian: ${out:-no findings}"
	if grep -q '^[EW]: ' <<<"$out"; then
		die_case "lintian: $(grep '^[EW]: ' <<<"$out" | tr '\n' '|')"
	fi
}

case_install_remove_purge() {
	local f
	dpkg -i "$DEBS"/xlb_0.1.0_*.deb >"$IT_TMP/dpkg.log" 2>&1 || die_case "dpkg -i: $(tail -n 3 "$IT_TMP/dpkg.log")"
	INSTALLED_BY_US=1
	getent passwd xlb >/dev/null || die_case "no xlb user after install"
	for f in /usr/sbin/xlbd /usr/sbin/xlbctl /lib/systemd/system/xlbd@.service /etc/default/xlbd; do
		[ -e "$f" ] || die_case "$f not installed"
	done
	man -w xlbctl | grep -q '^/usr/share/man/man8/xlbctl.8.gz$' || die_case "man does not find xlbctl(8)"
	out=$(systemd-analyze verify /lib/systemd/system/xlbd@eth0.service 2>&1) ||
		die_case "systemd-analyze verify of the installed unit: $out"
	[ -z "$out" ] || die_case "systemd-analyze verify says: $(echo "$out" | tr '\n' '|')"
	dpkg -r xlb >>"$IT_TMP/dpkg.log" 2>&1 || die_case "dpkg -r failed"
	for f in $(dpkg-deb -c "$DEBS"/xlb_0.1.0_*.deb | awk '$1 !~ /^d/ {print substr($6, 2)}'); do
		[ "$f" = /etc/default/xlbd ] && continue # a conffile: kept until purge
		[ ! -e "$f" ] || die_case "$f is left after dpkg -r"
	done
	[ -e /etc/default/xlbd ] || die_case "dpkg -r removed the conffile"
	dpkg --purge xlb >>"$IT_TMP/dpkg.log" 2>&1 || die_case "dpkg --purge failed"
	INSTALLED_BY_US=""
	for f in /etc/default/xlbd /etc/xlb /var/lib/xlb /usr/share/xlb; do
		[ ! -e "$f" ] || die_case "$f is left after purge"
	done
	! dpkg-query -W -f='${Status}' xlb 2>/dev/null | grep -q 'installed' || die_case "still installed"
}

# The packaged xlbd serves; a newer package goes in under it; xlbd restarts on the new binary.
case_upgrade_hitless() {
	local bad total=24
	dpkg -i "$DEBS"/xlb_0.1.0_*.deb >"$IT_TMP/dpkg.log" 2>&1 ||
		die_case "dpkg -i 0.1.0 failed: $(tail -n 5 "$IT_TMP/dpkg.log" | tr '\n' '|')"
	INSTALLED_BY_US=1
	XLBD=/usr/sbin/xlbd
	XLBCTL=/usr/sbin/xlbctl
	xlbd_stop
	xlbd_start || die_case "the packaged xlbd did not start"
	setup_vip "$VIP4:80/tcp" 4 1 2 3
	long_start "$VIP4" $total up
	deb 0.1.1 || die_case "make deb 0.1.1 failed"
	dpkg -i "$DEBS"/xlb_0.1.1_*.deb >>"$IT_TMP/dpkg.log" 2>&1 ||
		die_case "dpkg -i 0.1.1 failed: $(tail -n 5 "$IT_TMP/dpkg.log" | tr '\n' '|')"
	[ "$(dpkg-query -W -f='${Version}' xlb)" = 0.1.1 ] || die_case "not upgraded"
	# What the postinst has systemd do: try-restart, that is SIGTERM and a new start.
	xlbd_stop || die_case "xlbd did not stop"
	xlbd_start || die_case "the upgraded xlbd did not start"
	grep -q 'maps=reused' <(tail -n 20 "$IT_TMP/xlbd.log") || die_case "the new xlbd did not reuse the maps"
	sleep 1
	long_stop up
	bad=$(awk '$4 != "ok"' "$IT_TMP/long.up/result" | wc -l)
	note "upgrade 0.1.0 -> 0.1.1: $bad of $total established connections broke"
	echo "upgrade: $bad of $total established connections broke" >&2
	[ "$bad" -eq 0 ] || die_case "$bad of $total established connections broke across the upgrade"
	xlbd_detach
	dpkg --purge xlb >>"$IT_TMP/dpkg.log" 2>&1 || die_case "dpkg --purge failed"
	INSTALLED_BY_US=""
}

run_case deb_contents case_deb_contents
run_case lintian_clean case_lintian_clean
run_case install_remove_purge case_install_remove_purge
it_setup 3
run_case upgrade_hitless case_upgrade_hitless
it_finish
