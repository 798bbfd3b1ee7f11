# ctl_request.py SOCKET LINE - test_xlbctl.sh's bad_raw: sends one request line straight to
# xlbd's control socket and prints the answer line.
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode().strip())
