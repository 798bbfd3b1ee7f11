/* bench_gen.bpf.c - packet generator for `make bench`: rewrites a 64-byte TCP template per flow, XDP_TX. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * Run with BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES) with ingress_ifindex a
 * veth: XDP_TX becomes a redirect out of that veth, into its peer (the interface under test).
 * Live mode recycles its pages, and the program under test rewrites the frames it forwards, so
 * every frame gets the whole template again, never what the page held before.
 * Flow i (i = frame number % nflows): TCP source port 1024 + i % 60000, IPv4 source address
 * template + i / 60000; the IPv4 checksum is recomputed, the TCP checksum is not (nothing on
 * the path checks it: the receiver drops every frame).
 */

#define GEN_LEN 64

/* Set before load. Read through volatile words: a plain memcpy would let clang copy the
 * initialiser (zeros) instead of what the loader wrote into .rodata. */
const volatile __u64 tmpl[GEN_LEN / 8] = {};
const volatile __u32 nflows = 1; /* >= 1 */

__u64 seq = 0; /* frames generated: one CPU runs the generator, no atomics needed */

static __always_inline __u16 ip_csum(const __u16 *w)
{
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	__u32 flow;

	if (data + GEN_LEN > data_end)
		return XDP_ABORTED;
	for (int i = 0; i < GEN_LEN / 8; i++)
		((__u64 *)data)[i] = tmpl[i];
	flow = seq++ % nflows;
	tcp->source = bpf_htons(1024 + flow % 60000);
	ip->saddr = bpf_htonl(bpf_ntohl(ip->saddr) + flow / 60000);
	ip->check = 0;
	ip->check = ip_csum((const __u16 *)ip);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
