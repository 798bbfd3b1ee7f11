# transitions.py VIP BACKEND - test_health.sh's transitions: circuit transitions in xlbd's log.
"""Reads xlbd's log on stdin; prints the circuit transitions of backend argv[2] of VIP argv[1]:
"epoch to from backoff_ms reason" per line (reason last: it may hold spaces)."""
import datetime, re, sys

vip, backend = sys.argv[1], sys.argv[2]
field = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
for line in sys.stdin:
    kv = {k: (v[1:-1].replace('\\"', '"').replace("\\\\", "\\") if v.startswith('"') else v)
          for k, v in field.findall(line)}
    if "circuit" not in kv.get("msg", "") or "to" not in kv or kv.get("vip") != vip \
            or kv.get("backend") != backend:
        continue
    ts = datetime.datetime.strptime(kv["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
    print("%.3f %s %s %s %s" % (ts, kv.get("to"), kv.get("from"), kv.get("backoff_ms"),
                                kv.get("reason", "")))
