# udp_ask.py ADDR COUNT - test_health.sh's udp_ask: asks ADDR:53/udp COUNT times, each from a
# new socket (a new flow); prints the answers one a line ("timeout" for none).
import socket, sys

for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.connect((sys.argv[1], 53))
    s.send(b"ping")
    try:
        print(s.recv(100).decode())
    except OSError as e:
        print("timeout" if isinstance(e, socket.timeout) else type(e).__name__)
    s.close()
