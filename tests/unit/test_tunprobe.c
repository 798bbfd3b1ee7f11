/* test_tunprobe.c - the tunnel check's echo request (bytes, checksums) and which replies match it. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "tunprobe.h"

/* Expected frames computed independently (Python's struct and the RFC 1071 sum), not by the
 * code under test. */
static const __u8 want_v4[] = {
	0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x1c, 0x0d, 0x0a, 0xdc, 0x09,
	0x01, 0x0a, 0xde, 0x00, 0x0a, 0x08, 0x00, 0xe6, 0xc9, 0x12, 0x34, 0x00, 0x07, 0x78, 0x6c,
	0x62, 0x64, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};
static const __u8 want_v6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0x40, 0xfd, 0x00, 0x02, 0x20, 0x00,
	0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00,
	0x02, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x10, 0x80, 0x00, 0xc3, 0x65, 0xbe, 0xef, 0xff, 0xfe, 0x78, 0x6c, 0x62, 0x64,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

static void addr(__u8 family, const char *s, struct xlb_addr *a)
{
	memset(a, 0, sizeof(*a));
	inet_pton(family == XLB_AF_INET ? AF_INET : AF_INET6, s, a->bytes);
}

static struct xlbd_tunprobe_echo echo_v4(void)
{
	struct xlbd_tunprobe_echo e = {.family = XLB_AF_INET, .id = 0x1234, .seq = 7};

	addr(XLB_AF_INET, "10.220.9.1", &e.src);
	addr(XLB_AF_INET, "10.222.0.10", &e.dst);
	for (int i = 0; i < XLBD_TUNPROBE_COOKIE; i++)
		e.cookie[i] = i + 1;
	return e;
}

static struct xlbd_tunprobe_echo echo_v6(void)
{
	struct xlbd_tunprobe_echo e = {.family = XLB_AF_INET6, .id = 0xbeef, .seq = 0xfffe};

	addr(XLB_AF_INET6, "fd00:220:9::1", &e.src);
	addr(XLB_AF_INET6, "fd00:222::10", &e.dst);
	for (int i = 0; i < XLBD_TUNPROBE_COOKIE; i++)
		e.cookie[i] = i + 1;
	return e;
}

static void test_build_ipv4(void)
{
	struct xlbd_tunprobe_echo e = echo_v4();
	__u8 buf[XLBD_TUNPROBE_PKTMAX];

	memset(buf, 0xaa, sizeof(buf));
	if (!ASSERT_EQ(xlbd_tunprobe_build(&e, buf), sizeof(want_v4), "length"))
		return;
	ASSERT_MEM_EQ(buf, want_v4, sizeof(want_v4), "IPv4 header + ICMP echo request");
}

static void test_build_ipv6(void)
{
	struct xlbd_tunprobe_echo e = echo_v6();
	__u8 buf[XLBD_TUNPROBE_PKTMAX];

	memset(buf, 0xaa, sizeof(buf));
	if (!ASSERT_EQ(xlbd_tunprobe_build(&e, buf), sizeof(want_v6), "length"))
		return;
	ASSERT_MEM_EQ(buf, want_v6, sizeof(want_v6), "IPv6 header + ICMPv6 echo request");
}

/*
 * The reply as the backend's stack sends it, as the raw socket gives it: IPv4 with its header
 * (addresses swapped, type 0; ihl_words > 5 adds zeroed options), IPv6 without (type 129).
 * Returns the length.
 */
static size_t reply(const struct xlbd_tunprobe_echo *e, __u8 *out, int ihl_words)
{
	__u8 req[XLBD_TUNPROBE_PKTMAX];
	size_t len = xlbd_tunprobe_build(e, req);

	if (e->family == XLB_AF_INET) {
		size_t opt = (ihl_words - 5) * 4;

		memcpy(out, req, 20);
		memset(out + 20, 0, opt);
		memcpy(out + 20 + opt, req + 20, len - 20);
		out[0] = 0x40 | ihl_words;
		memcpy(out + 12, req + 16, 4);
		memcpy(out + 16, req + 12, 4);
		out[20 + opt] = 0; /* echo reply */
		return len + opt;
	}
	memcpy(out, req + 40, len - 40);
	out[0] = 129;
	return len - 40;
}

struct mutation {
	const char *desc;
	size_t at; /* offset into the ICMP message; (size_t)-1: none */
	__u8 xor ;
};

static void check_matching(const struct xlbd_tunprobe_echo *e, size_t ip_len)
{
	static const struct mutation muts[] = {
		{"type", 0, 0xff},
		{"code", 1, 1},
		{"id", 4, 1},
		{"seq", 7, 1},
		{"magic", 8, 1},
		{"cookie first", 12, 1},
		{"cookie last", 23, 0x80},
	};
	__u8 buf[128];
	struct xlb_addr other = e->dst;
	size_t len = reply(e, buf, 5);

	ASSERT_TRUE(xlbd_tunprobe_match(e, &e->dst, buf, len), "the reply matches");
	ASSERT_TRUE(!xlbd_tunprobe_match(e, &e->src, buf, len), "the same from another source");
	other.bytes[e->family == XLB_AF_INET ? 3 : 15] ^= 1;
	ASSERT_TRUE(!xlbd_tunprobe_match(e, &other, buf, len), "from a neighbour of the vip");
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		buf[ip_len + muts[i].at] ^= muts[i].xor ;
		if (!ASSERT_TRUE(!xlbd_tunprobe_match(e, &e->dst, buf, len), muts[i].desc))
			fprintf(stderr, "  a reply with another %s matched\n", muts[i].desc);
		buf[ip_len + muts[i].at] ^= muts[i].xor ;
	}
	/* Every truncation: never read past the end, never a match. */
	for (size_t l = 0; l < len; l++)
		if (!ASSERT_TRUE(!xlbd_tunprobe_match(e, &e->dst, buf, l), "truncated"))
			fprintf(stderr, "  matched at %zu of %zu bytes\n", l, len);
	/* The echo request itself (our own, seen on loopback) is no reply. */
	len = xlbd_tunprobe_build(e, buf);
	if (e->family == XLB_AF_INET)
		ASSERT_TRUE(!xlbd_tunprobe_match(e, &e->dst, buf, len), "the request");
	else
		ASSERT_TRUE(!xlbd_tunprobe_match(e, &e->dst, buf + 40, len - 40), "the request");
}

static void test_match_ipv4(void)
{
	struct xlbd_tunprobe_echo e = echo_v4();
	__u8 buf[128];
	size_t len;

	check_matching(&e, 20);
	/* An IPv4 header with options: the ICMP message is found after it. */
	len = reply(&e, buf, 7);
	ASSERT_TRUE(xlbd_tunprobe_match(&e, &e.dst, buf, len), "IHL 7");
	/* A reply to another LB address (someone else's check of the VIP, same id by chance). */
	len = reply(&e, buf, 5);
	buf[19] ^= 1;
	ASSERT_TRUE(!xlbd_tunprobe_match(&e, &e.dst, buf, len), "to another address");
	buf[19] ^= 1;
	buf[9] = 17;
	ASSERT_TRUE(!xlbd_tunprobe_match(&e, &e.dst, buf, len), "not ICMP");
}

static void test_match_ipv6(void)
{
	struct xlbd_tunprobe_echo e = echo_v6();

	check_matching(&e, 0);
}

int main(void)
{
	RUN_TEST(test_build_ipv4);
	RUN_TEST(test_build_ipv6);
	RUN_TEST(test_match_ipv4);
	RUN_TEST(test_match_ipv6);
	return xt_finish();
}
