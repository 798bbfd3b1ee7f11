# oloop.py ADDR RATE CONNECT_TIMEOUT STOP_FILE OUT - test_health.sh's open-loop client (oloop_start):
# starts RATE connections a second to ADDR:80, each in its own thread so that a stalled one holds
# nothing up, until STOP_FILE exists; then waits for all of them and writes OUT: one line per
# connection, "START END CODE BACKEND PORT CONNECT_S", as tloop's.
import os, socket, sys, threading, time

addr, rate, ct, stop, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
lock = threading.Lock()
lines = []


def one(n):
    t0 = time.time()
    code, be, port, tc = "000", "-", 0, 0.0
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(ct)
        s.connect((addr, 80))
        tc = time.time() - t0
        port = s.getsockname()[1]
        s.settimeout(3)
        s.sendall(b"GET /?t=oloop&n=%d HTTP/1.0\r\nHost: vip\r\n\r\n" % n)
        buf = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        code = head[0].split()[1]
        for h in head[1:]:
            k, v = h.split(":", 1)
            if k.strip().lower() == "x-backend":
                be = v.strip()
    except Exception:
        pass
    finally:
        s.close()
    with lock:
        lines.append("%.6f %.6f %s %s %d %.6f\n" % (t0, time.time(), code, be, port, tc))


threads = []
n = 0
start = time.time()
while not os.path.exists(stop):
    n += 1
    t = threading.Thread(target=one, args=(n,), daemon=True)
    t.start()
    threads.append(t)
    time.sleep(max(0.0, start + n / rate - time.time()))
for t in threads:
    t.join()
with open(out + ".tmp", "w") as f:
    f.writelines(sorted(lines))
os.rename(out + ".tmp", out)
