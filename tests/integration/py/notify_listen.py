# notify_listen.py SOCKET OUT - a stand-in for systemd's NOTIFY_SOCKET: one line per datagram.
"""Usage: notify_listen.py SOCKET OUT. Binds SOCKET (mode 0666: the daemon under test need not be
root), writes "READY=1" style lines to OUT as they arrive (newlines inside a message become
spaces), and runs until killed.
"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        msg = s.recv(4096).decode(errors="replace")
        f.write(" ".join(msg.split("\n")) + "\n")
