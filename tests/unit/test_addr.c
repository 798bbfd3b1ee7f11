/* test_addr.c - unit tests of address, port, protocol and VIP parsing, printing and identities. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "check.h"
#include "addr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An input the parser must refuse, and what its message must contain. */
struct bad_case {
	const char *in;
	const char *want; /* substring of the message */
};

/* One line, printable, naming the input: what a user reads in `xlbctl` output. */
static void check_message(const char *err, size_t errlen)
{
	size_t i, len = strlen(err);

	ASSERT_TRUE(len > 0 && len < errlen, "message present and terminated");
	for (i = 0; i < len; i++)
		if (!ASSERT_TRUE(err[i] >= 0x20 && err[i] < 0x7f, "printable one-line message"))
			break;
}

static void test_parse_addr_good(void)
{
	static const struct {
		const char *in;
		__u8 family;
		__u8 bytes[16];
	} cases[] = {
		{"10.0.0.1", XLB_AF_INET, {10, 0, 0, 1}},
		{"192.168.255.254", XLB_AF_INET, {192, 168, 255, 254}},
		{"0.0.0.0", XLB_AF_INET, {0}}, /* any address parses; VIPs refuse it later */
		{"255.255.255.255", XLB_AF_INET, {255, 255, 255, 255}},
		{"2001:db8::1", XLB_AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"[2001:db8::1]", XLB_AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"2001:0DB8:0000:0000:0000:0000:0000:0001",
		 XLB_AF_INET6,
		 {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"::1", XLB_AF_INET6, {[15] = 1}},
		{"::", XLB_AF_INET6, {0}},
		{"[::]", XLB_AF_INET6, {0}},
		{"fe80::1", XLB_AF_INET6, {0xfe, 0x80, [15] = 1}},
		/* NAT64 (RFC 6052) embeds IPv4 too, but is a real IPv6 destination: accepted. */
		{"64:ff9b::10.0.0.1", XLB_AF_INET6, {0, 0x64, 0xff, 0x9b, [12] = 10, 0, 0, 1}},
	};
	struct xlb_addr addr;
	char err[128];
	__u8 family;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s'", cases[i].in))
			continue;
		memset(&addr, 0xaa, sizeof(addr)); /* every byte must be written */
		family = 0;
		err[0] = '\0';
		if (!ASSERT_OK(xlb_parse_addr(cases[i].in, &addr, &family, err, sizeof(err)),
			       cases[i].in)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_EQ(family, cases[i].family, cases[i].in);
		ASSERT_MEM_EQ(addr.bytes, cases[i].bytes, 16, cases[i].in);
	}
}

static void test_parse_addr_bad(void)
{
	static const struct bad_case cases[] = {
		{"", "missing address"},
		{"10.0.0", "bad address '10.0.0': not an IPv4 or IPv6 address"},
		{"10.0.0.256", "bad address '10.0.0.256'"},
		{"10.0.0.1.2", "bad address"},
		{"010.0.0.1", "bad address"}, /* octal to inet_aton, refused by inet_pton */
		{"0x0a.0.0.1", "bad address"},
		{" 10.0.0.1", "bad address ' 10.0.0.1'"},
		{"10.0.0.1 ", "bad address"},
		{"10.0.0.1/24", "bad address"},
		{"10.0.0.1:80", "bad address"},
		{"[10.0.0.1]", "brackets are for IPv6 addresses only, write 10.0.0.1"},
		{"2001:db8::1::2", "bad address"},
		{"2001:db8:::1", "bad address"},
		{"12345::", "bad address"},
		{"g::1", "bad address"},
		{"[2001:db8::1", "missing ']'"},
		{"2001:db8::1]", "bad address"},
		{"[]", "bad address '[]'"},
		{"[", "missing ']'"},
		{"[2001:db8::1]x", "missing ']'"},
		{"fe80::1%eth0", "zone"},
		{"::ffff:1.2.3.4", "IPv4-mapped IPv6 addresses are not accepted, write the IPv4 "
				   "address 1.2.3.4"},
		{"[::FFFF:10.0.0.1]", "IPv4-mapped"},
		{"::ffff:a00:1", "write the IPv4 address 10.0.0.1"},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999", "not an IPv4 or IPv6 address"},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa", "too long for an IP address"},
		{"10.0.0.1\n", "bad address '10.0.0.1?'"},
	};
	struct xlb_addr addr, before;
	char err[160];
	__u8 family;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s' refused", cases[i].in))
			continue;
		memset(&addr, 0x5a, sizeof(addr));
		before = addr;
		family = 99;
		err[0] = '\0';
		ASSERT_EQ(xlb_parse_addr(cases[i].in, &addr, &family, err, sizeof(err)), -EINVAL,
			  cases[i].in);
		ASSERT_HAS_SUBSTR(err, cases[i].want, cases[i].in);
		check_message(err, sizeof(err));
		ASSERT_MEM_EQ(&addr, &before, sizeof(addr), "no output on error");
		ASSERT_EQ(family, 99, "no family on error");
	}
}

/* Input far longer than any address: refused by length, message cut short. */
static void test_parse_overlong(void)
{
	char in[4096], err[512];
	struct xlb_vip_key key;
	struct xlb_addr addr;
	__u8 family;

	memset(in, '1', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	ASSERT_EQ(xlb_parse_addr(in, &addr, &family, err, sizeof(err)), -EINVAL, "long address");
	ASSERT_HAS_SUBSTR(err, "too long", "long address");
	ASSERT_TRUE(strlen(err) < 160, "long input is not echoed whole");
	ASSERT_HAS_SUBSTR(err, "...", "long address");

	memcpy(in, "10.0.0.10:80/tcp", 16);
	ASSERT_EQ(xlb_parse_vip(in, &key, err, sizeof(err)), -EINVAL, "long VIP");
	ASSERT_HAS_SUBSTR(err, "bad VIP '10.0.0.10:80/tcp111", "long VIP");
	ASSERT_HAS_SUBSTR(err, "too long", "long VIP");
	ASSERT_TRUE(strlen(err) < 160, "long VIP is not echoed whole");
}

static void test_parse_port(void)
{
	static const struct {
		const char *in;
		__u16 port;
	} good[] = {{"1", 1}, {"80", 80}, {"443", 443}, {"8080", 8080}, {"65535", 65535}};
	static const struct bad_case bad[] = {
		{"", "missing port"},
		{"0", "bad port '0': must be 1-65535"},
		{"65536", "bad port '65536': must be 1-65535"},
		{"99999999999999999999999", "must be 1-65535"}, /* no wrap-around to a valid port */
		{"-1", "bad port '-1': must be a decimal number"},
		{"08x", "bad port '08x': must be a decimal number"},
		{"0x50", "bad port '0x50'"},
		{" 80", "bad port ' 80'"},
		{"80 ", "bad port '80 '"},
		{"+80", "bad port '+80'"},
		{"8 0", "bad port '8 0'"},
		{"080", "bad port '080': no leading zeros, write 80"},
		{"http", "bad port 'http'"},
	};
	char err[128];
	__u16 port;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (!xt_row("'%s' is %u", good[i].in, good[i].port))
			continue;
		port = 0;
		if (ASSERT_OK(xlb_parse_port(good[i].in, &port, err, sizeof(err)), good[i].in))
			ASSERT_EQ(port, good[i].port, good[i].in);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!xt_row("'%s' refused", bad[i].in))
			continue;
		port = 7;
		err[0] = '\0';
		ASSERT_EQ(xlb_parse_port(bad[i].in, &port, err, sizeof(err)), -EINVAL, bad[i].in);
		ASSERT_HAS_SUBSTR(err, bad[i].want, bad[i].in);
		check_message(err, sizeof(err));
		ASSERT_EQ(port, 7, "no output on error");
	}
}

static void test_parse_proto(void)
{
	static const struct {
		const char *in;
		__u8 proto;
	} good[] = {{"tcp", IPPROTO_TCP},
		    {"TCP", IPPROTO_TCP},
		    {"Tcp", IPPROTO_TCP},
		    {"udp", IPPROTO_UDP},
		    {"UDP", IPPROTO_UDP}};
	static const struct bad_case bad[] = {
		{"", "missing protocol"},
		{"icmp", "bad protocol 'icmp': must be tcp or udp"},
		{"sctp", "bad protocol 'sctp'"},
		{"tc", "bad protocol 'tc'"},
		{"tcpp", "bad protocol 'tcpp'"},
		{" tcp", "bad protocol ' tcp'"},
		{"6", "bad protocol '6'"},
	};
	char err[128];
	__u8 proto;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (!xt_row("'%s' is %u", good[i].in, good[i].proto))
			continue;
		proto = 0;
		if (ASSERT_OK(xlb_parse_proto(good[i].in, &proto, err, sizeof(err)), good[i].in))
			ASSERT_EQ(proto, good[i].proto, good[i].in);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!xt_row("'%s' refused", bad[i].in))
			continue;
		proto = 0;
		err[0] = '\0';
		ASSERT_EQ(xlb_parse_proto(bad[i].in, &proto, err, sizeof(err)), -EINVAL, bad[i].in);
		ASSERT_HAS_SUBSTR(err, bad[i].want, bad[i].in);
		check_message(err, sizeof(err));
		ASSERT_EQ(proto, 0, "no output on error");
	}
}

static void test_parse_vip_good(void)
{
	static const __u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	static const __u8 port80[2] = {0, 80}, port443[2] = {0x01, 0xbb};
	struct xlb_vip_key key;
	char err[128];

	memset(&key, 0xaa, sizeof(key));
	if (ASSERT_OK(xlb_parse_vip("10.0.0.10:80/tcp", &key, err, sizeof(err)), "v4")) {
		ASSERT_EQ(key.family, XLB_AF_INET, "v4 family");
		ASSERT_EQ(key.proto, IPPROTO_TCP, "v4 proto");
		/* Network byte order, as the XDP program compares it with the TCP header. */
		ASSERT_MEM_EQ(&key.port, port80, 2, "v4 port in network byte order");
		ASSERT_MEM_EQ(key.addr.bytes, ((__u8[16]){10, 0, 0, 10}), 16, "v4 address");
	}
	memset(&key, 0xaa, sizeof(key));
	if (ASSERT_OK(xlb_parse_vip("[2001:db8::10]:443/tcp", &key, err, sizeof(err)), "v6")) {
		ASSERT_EQ(key.family, XLB_AF_INET6, "v6 family");
		ASSERT_EQ(key.proto, IPPROTO_TCP, "v6 proto");
		ASSERT_MEM_EQ(&key.port, port443, 2, "v6 port");
		ASSERT_MEM_EQ(key.addr.bytes, v6, 16, "v6 address");
	}
	if (ASSERT_OK(xlb_parse_vip("10.0.0.10:53/UDP", &key, err, sizeof(err)), "udp"))
		ASSERT_EQ(key.proto, IPPROTO_UDP, "udp proto");
	ASSERT_OK(xlb_parse_vip("[2001:DB8:0:0::10]:65535/Udp", &key, err, sizeof(err)),
		  "v6 long form");
	ASSERT_OK(xlb_parse_vip("[2001:ffff:ffff:ffff:ffff:ffff:255.255.255.254]:65535/tcp", &key,
				err, sizeof(err)),
		  "longest VIP");
}

static void test_parse_vip_bad(void)
{
	static const struct bad_case cases[] = {
		{"", "missing VIP"},
		{"10.0.0.10/tcp", "missing port in '10.0.0.10/tcp'"},
		{"10.0.0.10:/tcp", "missing port in '10.0.0.10:/tcp'"},
		{"10.0.0.10:80", "missing protocol in '10.0.0.10:80'"},
		{"10.0.0.10:80/", "missing protocol in '10.0.0.10:80/'"},
		{"/tcp", "missing address"},
		{":80/tcp", "missing address in ':80/tcp'"},
		{"2001:db8::10:443/tcp", "IPv6 address needs brackets"},
		{"2001:db8::10/tcp", "brackets"},
		{"[2001:db8::10]/tcp", "missing port"},
		{"[2001:db8::10]443/tcp", "bad text '443' after the address"},
		{"[2001:db8::10:443/tcp", "missing ']'"},
		{"10.0.0.10:0/tcp", "bad port '0' in '10.0.0.10:0/tcp': must be 1-65535"},
		{"10.0.0.10:65536/tcp", "bad port '65536' in"},
		{"10.0.0.10:-1/tcp", "bad port '-1'"},
		{"10.0.0.10:80x/tcp", "bad port '80x'"},
		{"10.0.0.10: 80/tcp", "bad port ' 80'"},
		{"10.0.0.10:80/tcpx", "bad protocol 'tcpx' in '10.0.0.10:80/tcpx'"},
		{"10.0.0.10:80/tcp/x", "bad protocol 'tcp/x'"},
		{"10.0.0.10:80/icmp", "bad protocol 'icmp'"},
		{"10.0.0.10:80/tcp ", "bad protocol 'tcp '"},
		{"10.0.0.10:80/tcp\n", "bad protocol 'tcp?'"},
		{"10.0.0.300:80/tcp", "bad address '10.0.0.300' in '10.0.0.300:80/tcp'"},
		{" 10.0.0.10:80/tcp", "bad address ' 10.0.0.10'"},
		{"[10.0.0.10]:80/tcp", "brackets are for IPv6"},
		{"[::ffff:10.0.0.10]:80/tcp", "write the IPv4 address 10.0.0.10"},
		{"0.0.0.0:80/tcp", "a VIP cannot be the unspecified address"},
		{"[::]:80/tcp", "unspecified"},
		{"224.0.0.1:5353/udp", "multicast"},
		{"[ff02::1]:80/udp", "multicast"},
		{"255.255.255.255:80/udp", "broadcast"},
	};
	struct xlb_vip_key key, before;
	char err[200];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s' refused", cases[i].in))
			continue;
		memset(&key, 0x5a, sizeof(key));
		before = key;
		err[0] = '\0';
		ASSERT_EQ(xlb_parse_vip(cases[i].in, &key, err, sizeof(err)), -EINVAL, cases[i].in);
		ASSERT_HAS_SUBSTR(err, cases[i].want, cases[i].in);
		check_message(err, sizeof(err));
		ASSERT_MEM_EQ(&key, &before, sizeof(key), "no output on error");
	}
}

/* err may be NULL or short: still -EINVAL, never an overrun, always terminated. */
static void test_error_buffer(void)
{
	struct xlb_vip_key key;
	char err[8];

	ASSERT_EQ(xlb_parse_vip("10.0.0.10:0/tcp", &key, NULL, 0), -EINVAL, "no err buffer");
	memset(err, 'x', sizeof(err));
	ASSERT_EQ(xlb_parse_vip("10.0.0.10:0/tcp", &key, err, sizeof(err)), -EINVAL, "short");
	ASSERT_EQ(strlen(err), sizeof(err) - 1, "truncated and terminated");
	ASSERT_EQ(xlb_parse_vip(NULL, &key, err, sizeof(err)), -EINVAL, "NULL input");
	ASSERT_EQ(xlb_parse_port(NULL, NULL, NULL, 0), -EINVAL, "NULL port");
}

static void test_format(void)
{
	struct xlb_addr v4 = {.bytes = {10, 0, 0, 1}};
	struct xlb_addr v6 = {.bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10}};
	struct xlb_addr full;
	struct xlb_vip_key key = {
		.addr = v4, .port = htons(80), .proto = IPPROTO_TCP, .family = XLB_AF_INET};
	char buf[XLB_ADDRSTRLEN];

	ASSERT_EQ(xlb_format_addr(&v4, XLB_AF_INET, buf, sizeof(buf)), 8, "v4 length");
	ASSERT_STREQ(buf, "10.0.0.1", "v4 text");
	ASSERT_EQ(xlb_format_addr(&v6, XLB_AF_INET6, buf, sizeof(buf)), 12, "v6 length");
	ASSERT_STREQ(buf, "2001:db8::10", "v6 text");
	ASSERT_EQ(xlb_format_addr(&v4, XLB_AF_INET, buf, 9), 8, "exact fit");
	ASSERT_EQ(xlb_format_addr(&v4, XLB_AF_INET, buf, 8), -ENOSPC, "one short");
	ASSERT_TRUE(buf[0] == '\0', "empty on -ENOSPC");
	ASSERT_EQ(xlb_format_addr(&v4, 0, buf, sizeof(buf)), -EINVAL, "unknown family");

	ASSERT_EQ(xlb_format_vip(&key, buf, sizeof(buf)), 15, "v4 VIP length");
	ASSERT_STREQ(buf, "10.0.0.1:80/tcp", "v4 VIP text");
	ASSERT_EQ(xlb_format_vip(&key, buf, 15), -ENOSPC, "v4 VIP one short");
	ASSERT_TRUE(buf[0] == '\0', "empty on -ENOSPC");
	key.addr = v6;
	key.family = XLB_AF_INET6;
	key.port = htons(443);
	key.proto = IPPROTO_UDP;
	ASSERT_EQ(xlb_format_vip(&key, buf, sizeof(buf)), 22, "v6 VIP length");
	ASSERT_STREQ(buf, "[2001:db8::10]:443/udp", "v6 VIP text");
	key.proto = IPPROTO_ICMP;
	ASSERT_EQ(xlb_format_vip(&key, buf, sizeof(buf)), -EINVAL, "unknown protocol");

	/* The longest text fits XLB_ADDRSTRLEN, as addr.h promises. */
	memset(&full, 0xff, sizeof(full));
	key.addr = full;
	key.port = htons(65535);
	key.proto = IPPROTO_TCP;
	ASSERT_TRUE(xlb_format_vip(&key, buf, sizeof(buf)) > 0, "longest VIP fits");
}

/* parse -> format -> parse gives the same key; canonical text formats back to itself. */
static void test_roundtrip(void)
{
	static const struct {
		const char *in, *canonical;
	} cases[] = {
		{"10.0.0.10:80/tcp", "10.0.0.10:80/tcp"},
		{"192.168.1.1:65535/UDP", "192.168.1.1:65535/udp"},
		{"[2001:db8::10]:443/tcp", "[2001:db8::10]:443/tcp"},
		{"[2001:DB8:0:0:0:0:0:10]:443/Tcp", "[2001:db8::10]:443/tcp"},
		{"[2001:db8:0:1:0:0:0:1]:1/udp", "[2001:db8:0:1::1]:1/udp"},
		{"[fe80::1]:22/tcp", "[fe80::1]:22/tcp"},
		{"[64:ff9b::10.0.0.1]:80/tcp", "[64:ff9b::a00:1]:80/tcp"},
		{"[::1]:8080/tcp", "[::1]:8080/tcp"},
	};
	struct xlb_vip_key a, b;
	char buf[XLB_ADDRSTRLEN], err[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!xt_row("'%s'", cases[i].in))
			continue;
		if (!ASSERT_OK(xlb_parse_vip(cases[i].in, &a, err, sizeof(err)), cases[i].in))
			continue;
		if (!ASSERT_TRUE(xlb_format_vip(&a, buf, sizeof(buf)) > 0, cases[i].in))
			continue;
		ASSERT_STREQ(buf, cases[i].canonical, "canonical text");
		if (!ASSERT_OK(xlb_parse_vip(buf, &b, err, sizeof(err)), buf))
			continue;
		ASSERT_MEM_EQ(&a, &b, sizeof(a), "same key after a round trip");
	}
}

static __u64 key_of(const char *s)
{
	struct xlb_addr addr = {0};
	__u8 family = 0;

	if (!ASSERT_OK(xlb_parse_addr(s, &addr, &family, NULL, 0), s))
		return 0;
	return xlb_addr_key(&addr, family);
}

static int u64_cmp(const void *pa, const void *pb)
{
	__u64 a = *(const __u64 *)pa, b = *(const __u64 *)pb;

	return a < b ? -1 : a > b;
}

static void test_addr_key(void)
{
	struct xlb_addr v4 = {.bytes = {10, 0, 0, 1}}, v6 = {.bytes = {10, 0, 0, 1}};
	const size_t n = 1 << 16;
	__u64 *keys = calloc(2 * n, sizeof(*keys));
	struct xlb_addr a;
	size_t i, dups = 0;

	/* Computed once: a change here reshuffles every deployed Maglev table, so it must be
	 * deliberate (and LB nodes on different versions would disagree meanwhile). */
	ASSERT_TRUE(key_of("10.0.0.1") == 0x345b74e4477dfb1dULL, "key of 10.0.0.1");
	ASSERT_TRUE(key_of("2001:db8::1") == 0xbdd7200e118b781cULL, "key of 2001:db8::1");

	/* The same 16 bytes under two families are two identities. */
	ASSERT_NEQ(xlb_addr_key(&v4, XLB_AF_INET), xlb_addr_key(&v6, XLB_AF_INET6), "family");
	ASSERT_NEQ(key_of("10.0.0.1"), key_of("::a00:1"), "10.0.0.1 vs ::a00:1");
	ASSERT_NEQ(key_of("10.0.0.1"), key_of("10.0.0.2"), "neighbours differ");
	/* IPv4 uses bytes 0..3 only: stray bytes behind them do not change the identity. */
	a = v4;
	memset(a.bytes + 4, 0xee, 12);
	ASSERT_EQ(xlb_addr_key(&a, XLB_AF_INET), xlb_addr_key(&v4, XLB_AF_INET), "v4 tail ignored");

	/* No two of 10.0.x.y and 2001:db8::x:y share a key. */
	if (!ASSERT_TRUE(keys != NULL, "alloc"))
		return;
	for (i = 0; i < n; i++) {
		memset(&a, 0, sizeof(a));
		a.bytes[0] = 10;
		a.bytes[2] = i >> 8;
		a.bytes[3] = i;
		keys[i] = xlb_addr_key(&a, XLB_AF_INET);
		memset(&a, 0, sizeof(a));
		a.bytes[0] = 0x20;
		a.bytes[1] = 0x01;
		a.bytes[2] = 0x0d;
		a.bytes[3] = 0xb8;
		a.bytes[14] = i >> 8;
		a.bytes[15] = i;
		keys[n + i] = xlb_addr_key(&a, XLB_AF_INET6);
	}
	qsort(keys, 2 * n, sizeof(*keys), u64_cmp);
	for (i = 1; i < 2 * n; i++)
		dups += keys[i] == keys[i - 1];
	ASSERT_EQ(dups, 0, "distinct keys");
	free(keys);
}

int main(void)
{
	RUN_TEST(test_parse_addr_good);
	RUN_TEST(test_parse_addr_bad);
	RUN_TEST(test_parse_overlong);
	RUN_TEST(test_parse_port);
	RUN_TEST(test_parse_proto);
	RUN_TEST(test_parse_vip_good);
	RUN_TEST(test_parse_vip_bad);
	RUN_TEST(test_error_buffer);
	RUN_TEST(test_format);
	RUN_TEST(test_roundtrip);
	RUN_TEST(test_addr_key);
	return xt_finish();
}
