#!/bin/bash
# test_sched_ipip.sh - test_sched.sh's cases (schedulers, failover, drain) on fwd ipip VIPs, backends behind a router: IPv4, IPv6, IPv4 in IPv6.
# Usage: tests/integration/test_sched_ipip.sh BUILD_DIR
set -euo pipefail
SCHED_FWD=ipip
# shellcheck source=tests/integration/test_sched.sh
source "$(dirname "$0")/test_sched.sh"
