"""icmp_err.py - sends one ICMP fragmentation-needed to VIP about a UDP packet VIP:SPORT -> CLIENT:DPORT.

  icmp_err.py VIP CLIENT SPORT DPORT MTU
What a router on the path from a backend to its client sends when the backend's reply (from the
VIP) does not fit: the quoted packet is that reply's IP header and first 8 bytes.
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    vip, client, sport, dport, mtu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    udp = struct.pack("!HHHH", sport, dport, 8 + 1400, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 1400, 1, 0x4000, 64, 17, 0,
                     socket.inet_aton(vip), socket.inet_aton(client))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + ip + udp
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(body, (vip, 0))


if __name__ == "__main__":
    main()
