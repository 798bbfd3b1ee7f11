#!/usr/bin/env python3
"""layers.py - xlbd's files call each other without a loop (docs/xlbd.md, "Who calls whom").

Reads the symbols of user/xlbd's objects with nm: an edge A -> B when A's object uses a function
or variable B's defines. Prints the graph; exits 1 naming the loop when there is one.
Usage: scripts/layers.py BUILD_DIR
"""
import glob
import os
import subprocess
import sys


def graph(objdir):
    defs, uses = {}, {}
    for obj in sorted(glob.glob(os.path.join(objdir, "*.o"))):
        mod = os.path.basename(obj)[:-2]
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDRB":
                defs[parts[2]] = mod
            elif len(parts) == 2 and parts[0] == "U":
                uses.setdefault(mod, set()).add(parts[1])
    edges = {}
    for mod, syms in uses.items():
        for sym in syms:
            if sym in defs and defs[sym] != mod:
                edges.setdefault(mod, set()).add(defs[sym])
    return edges


def find_loop(edges):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                loop = visit(nxt)
                if loop:
                    return loop
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            loop = visit(node)
            if loop:
                return loop
    return None


def main():
    objdir = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "build", "user", "xlbd")
    edges = graph(objdir)
    if not edges:
        print(f"layers.py: no objects in {objdir}: build first", file=sys.stderr)
        return 1
    for mod in sorted(edges):
        print(f"  {mod:13s} -> {' '.join(sorted(edges[mod]))}")
    loop = find_loop(edges)
    if loop:
        print("layers.py: xlbd's files call around a loop: " + " -> ".join(loop), file=sys.stderr)
        return 1
    print("layers.py: no call loop between xlbd's files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
