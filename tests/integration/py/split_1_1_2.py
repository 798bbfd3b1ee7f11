# split_1_1_2.py SHARES BE1 BE2 BE3 - test_metrics.sh's prometheus case: SHARES ("addr=packets ...")
# splits 1:1:2 over BE1, BE2 and BE3 within 7 points; exit status 1 if not.
import sys
vals = dict(kv.split("=") for kv in sys.argv[1].split())
want = {sys.argv[2]: 0.25, sys.argv[3]: 0.25, sys.argv[4]: 0.5}
total = sum(float(vals.get(b, 0)) for b in want)
assert total > 0, "no packets"
bad = [b for b, w in want.items() if abs(float(vals.get(b, 0)) / total - w) > 0.07]
sys.exit(1 if bad else 0)
