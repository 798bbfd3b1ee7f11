# dashboard.py DASHBOARD METRICS EXPRS_OUT ERR_OUT - test_metrics.sh's dashboard case: the
# Grafana dashboard uses a Prometheus data-source variable and only metrics xlbd exports (METRICS,
# a scrape); writes its expressions, variables filled in, to EXPRS_OUT; a failure to ERR_OUT.
import json, re, sys
dash = json.load(open(sys.argv[1]))
exported = {l.split("{")[0].split(" ")[0] for l in open(sys.argv[2]) if l[:1] not in ("#", "\n")}
err = open(sys.argv[4], "w")
def fail(msg):
    err.write(msg + "\n"); err.close(); sys.exit(1)
if not 36 <= dash.get("schemaVersion", 0) <= 39:
    fail("schemaVersion %s, expected ~38" % dash.get("schemaVersion"))
ds = [v for v in dash["templating"]["list"] if v["type"] == "datasource" and v["query"] == "prometheus"]
if not ds:
    fail("no Prometheus data-source variable")
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${%s}" % ds[0]["name"]:
            fail("panel %r does not use the data-source variable" % p["title"])
        if not p.get("targets"):
            fail("panel %r has no query" % p["title"])
        exprs.extend(t["expr"] for t in p["targets"])
walk(dash["panels"])
for v in dash["templating"]["list"]:
    if v["type"] == "query":
        exprs.append(re.sub(r"label_values\((.*),\s*\w+\)$", r"\1", v["query"]["query"]))
used = set()
for e in exprs:
    used |= set(re.findall(r"\bxlb_[a-z0-9_]+", e))
missing = sorted(used - exported)
if missing:
    fail("metrics the dashboard uses but xlbd does not export: %s" % " ".join(missing))
with open(sys.argv[3], "w") as f:
    for e in exprs:
        # Grafana's variables, as Prometheus would receive them.
        e = e.replace("$__rate_interval", "10s").replace("$__interval", "10s").replace("$__range", "5m")
        e = re.sub(r"\$\{?(instance|vip)\}?", ".*", e)
        f.write(e + "\n")
print("%d metric names used, all exported; %d expressions" % (len(used), len(exprs)))
