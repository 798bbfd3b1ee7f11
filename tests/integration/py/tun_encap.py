"""A client-side tunnel without the ipip module: reads IP packets from a TUN device and sends each
inside an outer IPv4 or IPv6 header (IPIP, IP6IP6, IPv4-in-IPv6), as a raw Ethernet frame on DEV
to the backend's MAC. Arguments: TUN DEV DST_MAC SRC4 DST4 SRC6 DST6 V4_OVER(4|6) READY_FILE.
The TUN device is created (IFF_TUN, no packet info) and exists while this runs."""
import fcntl, os, socket, struct, sys

tun_name, dev, dst_mac, src4, dst4, src6, dst6, v4_over, ready = sys.argv[1:10]
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", tun_name.encode(), IFF_TUN | IFF_NO_PI))
out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
out.bind((dev, 0))
src_mac = out.getsockname()[4]
dmac = bytes.fromhex(dst_mac.replace(":", ""))
s4, d4 = socket.inet_pton(socket.AF_INET, src4), socket.inet_pton(socket.AF_INET, dst4)
s6, d6 = socket.inet_pton(socket.AF_INET6, src6), socket.inet_pton(socket.AF_INET6, dst6)


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def outer4(inner):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(inner), 0, 0x4000, 64, 4, 0, s4, d4)
    return struct.pack("!6s6sH", dmac, src_mac, 0x0800) + h[:10] + struct.pack("!H", csum(h)) + h[12:]


def outer6(inner, nh):
    h = struct.pack("!IHBB16s16s", 6 << 28, len(inner), nh, 64, s6, d6)
    return struct.pack("!6s6sH", dmac, src_mac, 0x86DD) + h


open(ready, "w").write("ready\n")
while True:
    pkt = os.read(tun, 65535)
    if not pkt:
        continue
    version = pkt[0] >> 4
    if version == 4:
        frame = outer4(pkt) + pkt if v4_over == "4" else outer6(pkt, 4) + pkt
    elif version == 6:
        frame = outer6(pkt, 41) + pkt
    else:
        continue
    out.send(frame)
