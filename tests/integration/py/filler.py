"""Fills a stopped xlbd's accept backlog and holds it full: argv[1] SOCKET, argv[2] READY_FILE
(gets the count of connections held), argv[3] STOP_FILE (ends it)."""
import os, socket, sys, time

path, ready, stop = sys.argv[1:4]
held = []
while len(held) < 1000:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:  # EAGAIN: the backlog is full
        s.close()
        break
    held.append(s)
open(ready, "w").write("%d\n" % len(held))
while not os.path.exists(stop):
    time.sleep(0.1)
