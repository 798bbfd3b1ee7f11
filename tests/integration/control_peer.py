"""Peers of xlbd's control socket and metrics server that misbehave, for test_control.sh.

Usage: control_peer.py MODE SOCKET [ARGS]. Each mode prints one JSON object on stdout: what it
saw (the shell checks it). Modes:
  pipe SOCKET FILE         send every line of FILE, read one answer per line (prints them)
  halfclose SOCKET FILE    send the lines of FILE, shut the write side, read until EOF
  toolong SOCKET N         send one line of N bytes (all of it, blocking), then read until EOF
  trickle SOCKET SECONDS   a request one byte a second, never finished: when xlbd closes
  flood SOCKET N SECONDS   N clients pipelining `backend show` without ever reading
  storm SOCKET HOST:PORT NCTL NHTTP SECONDS
                           NCTL idle control connections and NHTTP slowloris HTTP clients (one
                           byte every 2 s) held for SECONDS, each reopened once closed (at most
                           400 a second of each kind, evenly, after the first NCTL and NHTTP)
"""
import json
import resource
import select
import socket
import sys
import time


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_all(s):
    buf = b""
    err = ""
    while True:
        try:
            d = s.recv(1 << 16)
        except OSError as e:
            err = e.strerror or str(e)
            break
        if not d:
            break
        buf += d
    return buf, err


def answers(buf):
    """The complete lines of buf, each parsed (None where a line is not JSON)."""
    out = []
    for line in buf.split(b"\n")[:-1]:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(None)
    return out


def mode_pipe(path, fname):
    reqs = open(fname, "rb").read().splitlines()
    s = connect(path)
    s.sendall(b"".join(r + b"\n" for r in reqs))
    buf = b""
    err = ""
    while buf.count(b"\n") < len(reqs):
        try:
            d = s.recv(1 << 16)
        except OSError as e:
            err = e.strerror or str(e)
            break
        if not d:
            break
        buf += d
    print(json.dumps({"answers": answers(buf), "error": err}))


def mode_halfclose(path, fname):
    reqs = open(fname, "rb").read().splitlines()
    s = connect(path)
    s.sendall(b"".join(r + b"\n" for r in reqs))
    s.shutdown(socket.SHUT_WR)
    buf, err = read_all(s)
    print(json.dumps({"bytes": len(buf), "answers": answers(buf),
                      "ends_with_newline": buf.endswith(b"\n"), "error": err}))


def mode_toolong(path, n):
    s = connect(path)
    send_err = ""
    try:
        s.sendall(b'{"cmd": "vip show", "pad": "' + b"x" * n + b'"}\n')
    except OSError as e:
        send_err = e.strerror or str(e)
    buf, err = read_all(s)
    print(json.dumps({"send_error": send_err, "answers": answers(buf), "error": err}))


def mode_trickle(path, seconds):
    s = connect(path)
    req = b'{"cmd": "prog show", "pad": "' + b"x" * 1000
    t0 = time.time()
    closed_after = None
    for i in range(int(seconds)):
        try:
            s.send(req[i:i + 1])
        except OSError:
            closed_after = time.time() - t0
            break
        r, _, _ = select.select([s], [], [], 1)
        if r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                closed_after = time.time() - t0
                break
    print(json.dumps({"closed_after_s": closed_after and round(closed_after, 1)}))


def mode_flood(path, n, seconds):
    req = b'{"cmd": "backend show"}\n' * 64
    socks = []
    for _ in range(n):
        s = connect(path)
        s.setblocking(False)
        socks.append(s)
    sent = 0
    end = time.time() + seconds
    while time.time() < end:
        _, w, _ = select.select([], socks, [], 0.2)
        for s in w:
            try:
                sent += s.send(req)
            except OSError:
                pass
    print(json.dumps({"requests_sent": sent // len(req.splitlines()[0] + b"\n")}))
    for s in socks:
        s.close()


def mode_storm(path, haddr, nctl, nhttp, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = nctl + nhttp + 256
    if hard < want:
        hard = want
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    host, port = haddr.rsplit(":", 1)
    port = int(port)
    line = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"y" * 200 + b"\r\n"
    ctl = {}  # fd -> [socket, got an answer]
    http = {}  # fd -> [socket, opened_at, bytes_sent, got an answer]
    stats = {"ctl_opened": 0, "ctl_refused": 0, "ctl_closed_idle": 0, "http_opened": 0,
             "http_refused": 0, "http_cut": 0, "http_cut_after_s": [], "open_errors": 0}

    def open_ctl():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError:  # EAGAIN: xlbd's backlog is full (a Unix socket does not wait)
            s.close()
            stats["open_errors"] += 1
            return
        ctl[s.fileno()] = [s, False]
        stats["ctl_opened"] += 1

    def open_http():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            stats["open_errors"] += 1
            return
        http[s.fileno()] = [s, time.time(), 0, False]
        stats["http_opened"] += 1

    RATE = 400
    budget_ctl = budget_http = 0.0
    errors_seen = 0
    last = time.time()
    end = time.time() + seconds
    next_trickle = 0.0
    poller = select.epoll()
    registered = set()
    while time.time() < end:
        # Top up: the connections xlbd closed are opened again, at most RATE a second of
        # each kind after the first fill (an attacker that insists, not a connect flood).
        now = time.time()
        budget_ctl = min(budget_ctl + (now - last) * RATE, RATE / 20)  # no bursts
        budget_http = min(budget_http + (now - last) * RATE, RATE / 20)
        last = now
        while len(ctl) < nctl and (stats["ctl_opened"] < nctl or budget_ctl >= 1):
            budget_ctl -= stats["ctl_opened"] >= nctl
            open_ctl()
            if len(ctl) < nctl and stats["open_errors"] > errors_seen:
                errors_seen = stats["open_errors"]
                break  # backlog full: next round
        while len(http) < nhttp and (stats["http_opened"] < nhttp or budget_http >= 1):
            budget_http -= stats["http_opened"] >= nhttp
            open_http()
        for fd in list(ctl) + list(http):
            if fd not in registered:
                poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
                registered.add(fd)
        for fd, ev in poller.poll(0.05):
            c = ctl.get(fd) or http.get(fd)
            if c is None:
                continue
            s = c[0]
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d:
                c[-1] = True  # a refusal's text: the close follows
                continue
            poller.unregister(fd)
            registered.discard(fd)
            if fd in ctl:
                del ctl[fd]
                stats["ctl_refused" if c[-1] else "ctl_closed_idle"] += 1
            else:
                del http[fd]
                if c[-1]:
                    stats["http_refused"] += 1
                else:
                    stats["http_cut"] += 1
                    stats["http_cut_after_s"].append(round(time.time() - c[1], 1))
            s.close()
        now = time.time()
        if now >= next_trickle:  # slowloris: one byte every 2 s on each HTTP connection
            next_trickle = now + 2
            for h in http.values():
                if h[2] < len(line):
                    try:
                        h[0].send(line[h[2]:h[2] + 1])
                        h[2] += 1
                    except OSError:
                        pass
    cuts = sorted(stats.pop("http_cut_after_s"))
    stats["http_cut_count"] = len(cuts)
    stats["http_cut_max_s"] = cuts[-1] if cuts else None
    stats["http_cut_median_s"] = cuts[len(cuts) // 2] if cuts else None
    stats["ctl_open_at_end"] = len(ctl)
    stats["http_open_at_end"] = len(http)
    print(json.dumps(stats))
    for c in list(ctl.values()) + list(http.values()):
        c[0].close()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    a = sys.argv[3:]
    if mode == "pipe":
        mode_pipe(path, a[0])
    elif mode == "halfclose":
        mode_halfclose(path, a[0])
    elif mode == "toolong":
        mode_toolong(path, int(a[0]))
    elif mode == "trickle":
        mode_trickle(path, float(a[0]))
    elif mode == "flood":
        mode_flood(path, int(a[0]), float(a[1]))
    elif mode == "storm":
        mode_storm(path, a[0], int(a[1]), int(a[2]), float(a[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
