# cluster_udp.py VIP PORT FIRST_SRC_PORT PORTS SRC... - test_cluster.sh's flows with fixed 5-tuples.
"""Sends one datagram from every (SRC, FIRST_SRC_PORT + k), k < PORTS, to VIP:PORT and prints
"SRC:SPORT ANSWER" per flow, sorted ("-" for none after three tries). Every 5-tuple is fixed by
its arguments, so two runs through different LB nodes ask for the same flows; udpd.py answers
"pong NAME" from the backend the LB chose."""
import select, socket, sys, time

vip, port, first, nports = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
srcs = sys.argv[5:]
flows = {}
for src in srcs:
    for k in range(nports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, first + k))
        s.setblocking(False)
        flows[s] = "%s:%d" % (src, first + k)
answer = {}
byfd = {s.fileno(): s for s in flows}
for attempt in range(3):
    waiting = [s for s in flows if s not in answer]
    if not waiting:
        break
    for s in waiting:
        try:
            s.sendto(b"ping", (vip, port))
        except BlockingIOError:
            pass
    # poll, not select: a thousand sockets have descriptors above select's 1024.
    p = select.poll()
    for s in waiting:
        p.register(s, select.POLLIN)
    deadline = time.monotonic() + 2
    while len(answer) < len(flows) and time.monotonic() < deadline:
        for fd, _ in p.poll(200):
            s = byfd[fd]
            try:
                data = s.recv(100).decode()
            except OSError:
                continue
            answer[s] = data.split()[-1] if data.startswith("pong ") else "?"
            p.unregister(fd)
for s, name in sorted(flows.items(), key=lambda x: x[1]):
    print(name, answer.get(s, "-"))
    s.close()
