# udpd.py NAME READY_FILE ADDRESS... - test_health.sh's UDP responder for udp_closed_port: answers
# every datagram to port 53 of each ADDRESS with "pong NAME".
"""UDP responder: argv[1] NAME, argv[2] READY_FILE, then addresses; answers on port 53 of each
address from that address (one socket each, so DSR replies to the VIP come from the VIP)."""
import select, socket, sys

name, ready = sys.argv[1], sys.argv[2]
socks = []
for a in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a, 53))
    socks.append(s)
open(ready, "w").close()
while True:
    for s in select.select(socks, [], [])[0]:
        data, peer = s.recvfrom(2048)
        s.sendto(b"pong " + name.encode(), peer)
