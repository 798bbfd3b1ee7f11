# strace_check.py TRACE XLBD UNIT DIR... - what xlbd did (strace -f) against the unit's sandbox.
"""Reads an `strace -f -qq` log of xlbd's start (after ExecStartPre), work and exit, and the
unit file, and prints one line per thing the unit's sandbox would refuse:

  syscall NAME        not in SystemCallFilter= (its @groups expanded by systemd-analyze)
  family AF_X         a socket() of a family RestrictAddressFamilies= does not list
  write PATH          a file opened for writing, created, renamed or removed outside the
                      writable places: the DIR arguments (the state and runtime directories the
                      unit gets), ReadWritePaths=, /tmp (PrivateTmp), /dev/null, /proc/self

Only the xlbd process (from its execve on) and what it clones are counted: ExecStartPre runs
with "+", outside the sandbox. Prints "checked N syscalls" last.
"""
import re
import subprocess
import sys

trace, xlbd, unit = sys.argv[1:4]
writable = list(sys.argv[4:])


def unit_values(key):
    vals = []
    for line in open(unit):
        if line.startswith(key + "="):
            vals += line.split("=", 1)[1].split()
    return vals


def expand(name, seen):
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True,
                         text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        w = line.strip()
        if w and not w.startswith("#"):
            names |= expand(w, seen)
    return names


allowed = set()
for v in unit_values("SystemCallFilter"):
    allowed |= expand(v, set())
families = set(unit_values("RestrictAddressFamilies"))
writable += unit_values("ReadWritePaths") + ["/tmp", "/dev/null", "/proc/self/"]

line_re = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
pids, names, problems = set(), set(), set()
for line in open(trace):
    m = line_re.match(line)
    if not m:
        continue
    pid, call, rest = m.group(1), m.group(2) or m.group(3), m.group(4)
    if call == "execve" and ('execve("%s"' % xlbd) in line and not rest.rstrip().endswith("-1"):
        pids.add(pid)
    if pid not in pids:
        continue
    names.add(call)
    if call in ("clone", "clone3", "fork", "vfork"):
        r = re.search(r"= (\d+)$", line.strip())
        if r:
            pids.add(r.group(1))
    if call == "socket":
        fam = re.match(r"(AF_\w+)", rest)
        if fam and fam.group(1) not in families:
            problems.add("family " + fam.group(1))
    path = None
    if call in ("openat", "open") and re.search(r"O_(WRONLY|RDWR|CREAT)", rest):
        path = re.search(r'"([^"]*)"', rest)
    elif call in ("mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
                  "bind") and '"' in rest:
        path = re.search(r'"(/[^"]*)"', rest)
    if path and not re.search(r"= -1 ", line) and path.group(1).startswith("/"):
        p = path.group(1)
        if not any(p == w or p.startswith(w.rstrip("/") + "/") for w in writable):
            problems.add("write " + p)

for call in sorted(names - allowed - {"execve"}):
    problems.add("syscall " + call)
for p in sorted(problems):
    print(p)
if not pids:
    print("no execve of %s in the trace" % xlbd)
print("checked %d syscalls" % len(names))
