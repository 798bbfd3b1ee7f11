#!/bin/sh
# Installs every Debian package the build, tests, demo, bench and `make check` need (only what is
# missing) and mounts bpffs.
set -eu

# prometheus (~100 MB installed): promtool and a real server for the metrics tests; valgrind:
# the control test that connections open at exit are freed; bird2: the cluster test's routing
# daemon, run by scripts/cluster.sh in namespaces with its own -c config and -s socket (the
# package's bird.service, root namespace and /run/bird/bird.ctl, is neither used nor in the way).
# libsystemd-dev: xlbd's sd_notify; scdoc, man-db: the manual pages (make man, test_man.sh);
# debhelper, dpkg-dev, fakeroot, lintian: make deb and test_deb.sh; bash-completion and
# systemd (systemd-analyze verify): test_completion.sh and test_install.sh; libcap2-bin (capsh)
# and strace: test_unit_caps.sh.
PKGS="make gcc clang llvm pkg-config libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
linux-libc-dev libevent-dev libjansson-dev iproute2 ethtool iputils-ping procps
util-linux cppcheck clang-format shellcheck curl wrk nginx-light python3 nftables gnuplot-nox
prometheus valgrind bird2 libsystemd-dev scdoc man-db debhelper dpkg-dev fakeroot lintian
bash-completion systemd libcap2-bin strace"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# bpffs: pinned maps live under /sys/fs/bpf/xlb.
if [ "$(id -u)" -eq 0 ] && ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mount -t bpf bpf /sys/fs/bpf
fi
exit 0
