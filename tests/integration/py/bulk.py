"""bulk.py - bulk TCP transfers for the ipip test: a server on the backends, upload and download clients.

  bulk.py serve NAME PORT ADDR...   listen on ADDR:PORT (each); per connection, a request line
                                    "up N" (N bytes follow; answered "NAME RECEIVED") or
                                    "down N" (answered "NAME", a newline, then N bytes)
  bulk.py up ADDR PORT N            sends N bytes; prints "NAME RECEIVED SENT"
  bulk.py down ADDR PORT N          prints "NAME RECEIVED" after reading to the end
A client exits 1 (and prints "error ...") when the connection fails or times out (30 s idle).
"""
import socket
import sys
import threading

CHUNK = 65536


def handle(conn, name):
    with conn:
        f = conn.makefile("rb")
        line = f.readline().split()
        if len(line) != 2 or line[0] not in (b"up", b"down"):
            return
        n = int(line[1])
        if line[0] == b"up":
            got = 0
            while got < n:
                b = f.read1(min(CHUNK, n - got))
                if not b:
                    break
                got += len(b)
            conn.sendall(("%s %d\n" % (name, got)).encode())
        else:
            conn.sendall(("%s\n" % name).encode())
            buf = b"x" * CHUNK
            left = n
            while left > 0:
                k = min(CHUNK, left)
                conn.sendall(buf[:k])
                left -= k
            conn.shutdown(socket.SHUT_WR)


def serve(name, port, addrs):
    socks = []
    for a in addrs:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))
        s.listen(128)
        socks.append(s)

    def loop(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c, name), daemon=True).start()

    for s in socks[1:]:
        threading.Thread(target=loop, args=(s,), daemon=True).start()
    loop(socks[0])


def client(mode, addr, port, n):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect((addr, port))
        s.sendall(("%s %d\n" % (mode, n)).encode())
        if mode == "up":
            buf = b"u" * CHUNK
            left = n
            while left > 0:
                k = min(CHUNK, left)
                s.sendall(buf[:k])
                left -= k
            reply = s.makefile("rb").readline().decode().split()
            print("%s %s %d" % (reply[0], reply[1], n))
        else:
            f = s.makefile("rb")
            name = f.readline().decode().strip()
            got = 0
            while True:
                b = f.read1(CHUNK)
                if not b:
                    break
                got += len(b)
            print("%s %d" % (name, got))
    except (OSError, IndexError) as e:
        print("error %s" % e)
        sys.exit(1)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif len(sys.argv) == 5 and sys.argv[1] in ("up", "down"):
        client(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
