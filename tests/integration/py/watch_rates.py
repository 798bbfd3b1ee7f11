# watch_rates.py FILE - test_explain.sh's stats_watch: every line of `xlbctl -j stats watch` has
# rates (an interval near 1 s, packets per second on the VIP and over the 3 backends).
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert 0.5 < r["interval_s"] < 3, r
    assert r["vips"] and all(v["pps"] > 0 for v in r["vips"]), r
    assert len(r["backends"]) == 3, r
    assert sum(b["pps"] for b in r["backends"]) > 0, r
