/* test_frame.c - the frame `flow explain` runs through the program (user/lib/frame.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/in.h>
#include <string.h>

#include "check.h"
#include "frame.h"

static const __u8 mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/* The exact bytes of an IPv4 TCP SYN frame, built at every offset of a byte buffer: the frame
 * builder writes no header through a misaligned pointer (`make sanitize` runs this under UBSan,
 * which the old builder failed). */
static void test_ipv4_tcp_any_alignment(void)
{
	static const __u8 want[] = {
		/* ethernet: dst, src, type */
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0, 0x08, 0x00,
		/* ipv4: version/ihl, tos, tot_len 40, id, frag, ttl 64, tcp, csum, src, dst */
		0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 10,
		/* tcp: ports 40000 -> 80, seq, ack, doff 5, flags SYN, window 65535, csum, urg */
		0x9c, 0x40, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
	struct xlb_flow_key k = {.family = XLB_AF_INET, .proto = IPPROTO_TCP};
	__u8 buf[XLB_FRAME_MAX + 8];

	k.src.v4 = htonl(0x0a000001);
	k.dst.v4 = htonl(0x0a00000a);
	k.sport = htons(40000);
	k.dport = htons(80);
	for (size_t off = 0; off < 8; off++) {
		if (!xt_row("offset %zu", off))
			continue;
		memset(buf, 0xee, sizeof(buf));
		if (!ASSERT_EQ(xlb_frame_build(&k, mac, 0x02, buf + off, XLB_FRAME_MAX),
			       (int)sizeof(want), "length"))
			continue;
		ASSERT_MEM_EQ(buf + off, want, sizeof(want), "frame");
	}
	xt_row_end();
}

/* IPv6 and UDP: the fields the program reads. */
static void test_ipv6_udp(void)
{
	struct xlb_flow_key k = {.family = XLB_AF_INET6, .proto = IPPROTO_UDP};
	__u8 buf[XLB_FRAME_MAX + 1], *f = buf + 1;
	__u16 v;

	inet_pton(AF_INET6, "2001:db8::1", k.src.bytes);
	inet_pton(AF_INET6, "2001:db8::10", k.dst.bytes);
	k.sport = htons(5353);
	k.dport = htons(53);
	if (!ASSERT_EQ(xlb_frame_build(&k, mac, 0, f, XLB_FRAME_MAX), 14 + 40 + 8, "length"))
		return;
	ASSERT_EQ(f[12] << 8 | f[13], 0x86dd, "ethertype");
	ASSERT_EQ(f[14] >> 4, 6, "version");
	ASSERT_EQ(f[14 + 6], IPPROTO_UDP, "next header");
	ASSERT_MEM_EQ(f + 14 + 8, k.src.bytes, 16, "source");
	ASSERT_MEM_EQ(f + 14 + 24, k.dst.bytes, 16, "destination");
	memcpy(&v, f + 14 + 40 + 2, 2);
	ASSERT_EQ(ntohs(v), 53, "destination port");
}

static void test_refused(void)
{
	struct xlb_flow_key k = {.family = XLB_AF_INET, .proto = IPPROTO_TCP};
	__u8 buf[XLB_FRAME_MAX];

	ASSERT_EQ(xlb_frame_build(&k, mac, 0, buf, 20), -ENOSPC, "no room");
	k.proto = 1; /* ICMP */
	ASSERT_EQ(xlb_frame_build(&k, mac, 0, buf, sizeof(buf)), -EINVAL, "not TCP or UDP");
}

int main(void)
{
	RUN_TEST(test_ipv4_tcp_any_alignment);
	RUN_TEST(test_ipv6_udp);
	RUN_TEST(test_refused);
	return xt_finish();
}
