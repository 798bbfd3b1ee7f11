#!/bin/bash
# test_install.sh - `make install` and `make uninstall` into a DESTDIR: the files land under
# PREFIX only, in the places systemd, bash-completion and man search there; the installed
# programs run; uninstall leaves nothing of ours; the installed unit passes `systemd-analyze
# verify` without a word; PREFIX reaches the unit's ExecStart.
# Usage: tests/integration/test_install.sh BUILD_DIR
#
# Runs `make` in the repository (its build is up to date when BUILD_DIR is): nothing is built
# anew unless sources changed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

it_init "$@"
BUILD_DIR=$(dirname "$XLBD")
touch "$IT_TMP/xlbd.log" # the harness counts its lines; no xlbd runs here
# No topology: the cases need none. As a normal user too (IT_SETUP_SKIP is only about root).
IT_SETUP_SKIP=""
[ -x "$XLBD" ] || IT_SETUP_SKIP="$XLBD not built"
command -v scdoc >/dev/null || IT_SETUP_SKIP="scdoc not installed (scripts/deps.sh)"

DEST=$IT_TMP/dest

mk() { make -s -C "$IT_ROOT" --no-print-directory BUILD="$BUILD_DIR" "$@"; }

# ---- cases -----------------------------------------------------------------------------------

# The files are exactly `make installed-files`, all under PREFIX.
case_install_destdir() {
	local got want
	mk install DESTDIR="$DEST" PREFIX=/opt/xlbtest >"$IT_TMP/install.log" 2>&1 ||
		die_case "make install failed: $(tail -n 3 "$IT_TMP/install.log")"
	got=$(cd "$DEST" && find . -type f -o -type l | sed 's|^\.||' | sort)
	want=$(mk installed-files PREFIX=/opt/xlbtest | sort)
	note "installed:"
	note "$got"
	[ "$got" = "$want" ] || die_case "installed files differ from installed-files: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	if grep -v '^/opt/xlbtest/' <<<"$got"; then
		die_case "files outside PREFIX"
	fi
	for f in sbin/xlbd sbin/xlbctl sbin/xlb-backend lib/systemd/system/xlbd@.service \
		share/man/man8/xlbd.8 share/man/man8/xlbctl.8 share/man/man8/xlb-backend.8 \
		share/bash-completion/completions/xlbctl lib/sysusers.d/xlb.conf \
		share/xlb/dashboards/xlb.json; do
		[ -e "$DEST/opt/xlbtest/$f" ] || die_case "missing $f"
	done
	[ -x "$DEST/opt/xlbtest/sbin/xlbd" ] || die_case "xlbd is not executable"
	"$DEST/opt/xlbtest/sbin/xlbd" --help | grep -q -- --interface || die_case "installed xlbd --help"
	"$DEST/opt/xlbtest/sbin/xlbctl" help | grep -q 'OBJECT :=' || die_case "installed xlbctl help"
	grep -qx 'ExecStart=/opt/xlbtest/sbin/xlbd .*' "$DEST/opt/xlbtest/lib/systemd/system/xlbd@.service" ||
		die_case "the unit's ExecStart does not name PREFIX's xlbd"
}

case_uninstall_leaves_nothing() {
	local left
	mk uninstall DESTDIR="$DEST" PREFIX=/opt/xlbtest >"$IT_TMP/uninstall.log" 2>&1 ||
		die_case "make uninstall failed: $(tail -n 3 "$IT_TMP/uninstall.log")"
	left=$(cd "$DEST" && find . -type f -o -type l)
	[ -z "$left" ] || die_case "left after uninstall: $(echo "$left" | tr '\n' ' ')"
	[ ! -e "$DEST/opt/xlbtest/share/xlb" ] || die_case "share/xlb is still there"
}

# The unit as `make install PREFIX=/usr` writes it, verified where its ExecStart and man
# pages are found (systemd-analyze checks both): no output at all.
case_unit_verifies() {
	local d=$IT_TMP/usr out
	command -v systemd-analyze >/dev/null || die_case "systemd-analyze not found"
	mk install DESTDIR="$d" PREFIX=/usr >"$IT_TMP/install.usr.log" 2>&1 ||
		die_case "make install PREFIX=/usr failed"
	mkdir -p "$IT_TMP/units"
	sed "s|=/usr/sbin/xlbd |=$d/usr/sbin/xlbd |" "$d/usr/lib/systemd/system/xlbd@.service" \
		>"$IT_TMP/units/xlbd@eth0.service"
	grep -q "^ExecStart=$d/usr/sbin/xlbd " "$IT_TMP/units/xlbd@eth0.service" ||
		die_case "cannot point the unit at the installed xlbd"
	out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$IT_TMP/units/xlbd@eth0.service" 2>&1) ||
		die_case "systemd-analyze verify failed: $out"
	[ -z "$out" ] || die_case "systemd-analyze verify says: $(echo "$out" | tr '\n' '|')"
	# What the unit must say (README.md, Install).
	for k in Type=notify User=xlb Restart=on-failure LimitNOFILE= StateDirectory=xlb \
		RuntimeDirectory=xlb NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
		CapabilityBoundingSet=CAP_ AmbientCapabilities=CAP_; do
		grep -q "^$k" "$IT_TMP/units/xlbd@eth0.service" || die_case "the unit lacks $k"
	done
}

run_case install_destdir case_install_destdir
run_case uninstall_leaves_nothing case_uninstall_leaves_nothing
run_case unit_verifies case_unit_verifies
it_finish
