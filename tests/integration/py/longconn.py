# longconn.py - long_start's client (tests/integration/lib.sh). Raw sockets, not http.client:
# http.client reconnects silently, which would hide exactly the failure we look for.
"""Holds COUNT keep-alive HTTP connections to ADDR:80 busy until DIR/stop exists.

Each connection sends a request every 0.1 s and checks every answer: status 200 from the same
backend (X-Backend) as its first answer. Writes DIR/ready ("conn port backend" per connection)
once all have answered once, and DIR/done at the end: "conn port backend ok|FAIL requests [why]".
"""
import os, socket, sys, threading, time

addr, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
stop_file = os.path.join(out, "stop")
first = [None] * count
result = [None] * count
ready = threading.Barrier(count + 1)


def read_answer(sock, buf):
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise ConnectionError("closed by peer")
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(hdrs.get("content-length", "0"))
    while len(buf) < length:
        data = sock.recv(4096)
        if not data:
            raise ConnectionError("closed by peer in body")
        buf += data
    return status, hdrs.get("x-backend", "-"), buf[length:]


def conn(i):
    port, backend, n, why = 0, "-", 0, ""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((addr, 80))
        port = s.getsockname()[1]
        buf = b""
        while True:
            n += 1
            req = "GET /?t=long&c=%d&r=%d HTTP/1.1\r\nHost: vip\r\n\r\n" % (i, n)
            s.sendall(req.encode())
            status, be, buf = read_answer(s, buf)
            if status != 200:
                raise ValueError("status %d" % status)
            if n == 1:
                backend = be
                first[i] = (port, be)
                ready.wait(timeout=20)
            elif be != backend:
                raise ValueError("moved from %s to %s" % (backend, be))
            if os.path.exists(stop_file):
                break
            time.sleep(0.1)
        result[i] = (port, backend, "ok", n, "")
    except Exception as e:  # any failure is this connection's result
        if first[i] is None:
            first[i] = (port, "-")
            try:
                ready.wait(timeout=20)
            except threading.BrokenBarrierError:
                pass
        why = "%s: %s" % (type(e).__name__, e)
        result[i] = (port, backend, "FAIL", n, why)
    finally:
        s.close()


threads = [threading.Thread(target=conn, args=(i,), daemon=True) for i in range(count)]
for t in threads:
    t.start()
ready.wait(timeout=20)
with open(os.path.join(out, "ready.tmp"), "w") as f:
    for i, (port, be) in enumerate(first):
        f.write("%d %d %s\n" % (i, port, be))
os.rename(os.path.join(out, "ready.tmp"), os.path.join(out, "ready"))
for t in threads:
    t.join()
with open(os.path.join(out, "done.tmp"), "w") as f:
    for i, r in enumerate(result):
        f.write("%d %d %s %s %d %s\n" % ((i,) + r))
os.rename(os.path.join(out, "done.tmp"), os.path.join(out, "done"))
