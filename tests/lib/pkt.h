/* pkt.h - builds, parses, compares and checksums Ethernet/VLAN/IPv4/IPv6/TCP/UDP test frames. */
#ifndef XLB_PKT_H
#define XLB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "xlb_abi.h"

/*
 * A test describes a frame with a struct pkt_spec (designated initialisers in a table, or
 * pkt_spec_init() and a few changes) and pkt_build() writes it into a caller's buffer: no
 * allocation, so the same code serves tests and the benchmark's per-packet templates.
 * Byte order: addresses are network order (struct xlb_addr, as in the maps); every other number
 * in a spec (ports, lengths, VLAN ids, overrides) is host order and written big-endian.
 * Functions return a length or 0 on success, -EINVAL for a spec they cannot build, -ENOSPC when
 * the buffer is too small.
 */

#define PKT_BUF_SIZE	 4096 /* room for any frame with up to ~3900 bytes of payload */
#define PKT_MAX_VLANS	 2
#define PKT_MAX_EXTS	 8	/* IPv6 extension headers in one frame (built or parsed) */
#define PKT_MAX_IP4_OPTS 40	/* IPv4 option bytes: IHL 15 */
#define PKT_IP_ID	 0x1234 /* IPv4 identification and IPv6 fragment id of every built frame */
#define PKT_TCP_SEQ	 1000	/* TCP sequence number of every built segment */
#define PKT_TCP_ACK_SEQ	 2000	/* TCP acknowledgment number when PKT_TCP_ACK is set, else 0 */

/* TCP flags as in byte 13 of the TCP header. */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

/* One 802.1Q/802.1ad tag. */
struct pkt_vlan {
	uint16_t tpid; /* ETH_P_8021Q (0x8100) or ETH_P_8021AD (0x88a8); 0 means 0x8100 */
	uint16_t vid;  /* 0..4095 */
};

/*
 * One IPv6 extension header: type 0 (hop-by-hop), 43 (routing), 60 (destination options) or
 * 44 (fragment). Options headers hold padding options (PadN, or the skippable experimental
 * option 0x1e when more than 7 bytes are needed, because Linux drops PadN longer than 7 bytes);
 * the routing header is type 0 with segments left 0, which every node steps over (RFC 8200 4.4),
 * so the pseudo-header destination stays the IPv6 destination.
 */
struct pkt_ext {
	uint8_t type;
	uint8_t hlen; /* Hdr Ext Len: the header is (hlen + 1) * 8 bytes; ignored for fragment (8) */
};

/*
 * Deliberate errors. A field whose PKT_O_* bit is set is written as given after the frame is
 * built; checksums are then computed over the bytes as written, with the real lengths, so the
 * overridden field is the only thing wrong with the frame. An override that does not apply to
 * the frame (IHL on IPv6, data offset without a TCP header) makes pkt_build() fail.
 */
#define PKT_O_VERSION	  (1u << 0) /* IP version nibble (IPv4 or IPv6) */
#define PKT_O_IHL	  (1u << 1) /* IPv4 header length, 32-bit words */
#define PKT_O_TOT_LEN	  (1u << 2) /* IPv4 total length */
#define PKT_O_PAYLOAD_LEN (1u << 3) /* IPv6 payload length */
#define PKT_O_DOFF	  (1u << 4) /* TCP data offset, 32-bit words */
#define PKT_O_ETHERTYPE	  (1u << 5) /* innermost EtherType (e.g. ETH_P_ARP for "not IP") */

struct pkt_override {
	uint32_t set; /* PKT_O_* */
	uint8_t version;
	uint8_t ihl;
	uint8_t doff;
	uint16_t tot_len;
	uint16_t payload_len;
	uint16_t ethertype;
};

struct pkt_spec {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint8_t n_vlan;			     /* 0..PKT_MAX_VLANS */
	struct pkt_vlan vlan[PKT_MAX_VLANS]; /* outermost first */

	uint8_t family; /* XLB_AF_INET (4) or XLB_AF_INET6 (6) */
	struct xlb_addr src, dst;
	uint8_t ttl; /* TTL or hop limit; 0 means 64 */

	/* IPv4 only: option bytes (multiple of 4, <= 40: NOPs then EOL), don't-fragment flag. */
	uint8_t ip4_opts_len;
	bool df;
	/* Fragmentation, in the IPv4 header or in the IPv6 fragment header (which must then be in
	 * ext[]). A non-first fragment (frag_off > 0) carries no L4 header, only payload. */
	bool mf;
	uint16_t frag_off; /* in 8-byte units, as on the wire; <= 8191 */

	uint8_t n_ext; /* IPv6 only: extension headers, in order, before the L4 header */
	struct pkt_ext ext[PKT_MAX_EXTS];

	/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (IPv4) or IPPROTO_ICMPV6 (IPv6) get a header;
	 * any other number is written as the protocol with the payload right after L3. */
	uint8_t proto;
	uint16_t sport, dport; /* TCP/UDP ports; ICMP echo request id and sequence */
	uint8_t tcp_flags;     /* PKT_TCP_* */
	uint8_t icmp_type; /* ICMP/ICMPv6 type (code 0, then id and sequence); 0: echo request */

	uint16_t payload_len;
	const uint8_t *payload; /* payload_len bytes; NULL: 'a'..'z' repeated */

	struct pkt_override ovr;
};

/* Byte offsets of the layers of a frame; an offset that does not exist equals len. */
struct pkt_layout {
	size_t l3_off;	    /* also the L2 length: 14 + 4 per VLAN tag */
	size_t l4_off;	    /* after the IPv4 options or the last IPv6 extension header */
	size_t payload_off; /* after the TCP/UDP/ICMP header; l4_off when there is none */
	size_t l3_end;	    /* end of the IP packet by tot_len/payload_len (may exceed len) */
	size_t len;	    /* the whole frame */
	size_t ext_off[PKT_MAX_EXTS];
	uint8_t n_vlan, n_ext;
	uint8_t family; /* 4, 6, or 0 when the EtherType is not IP */
	uint8_t proto;	/* the L4 protocol (after the extension headers) */
	bool frag;	/* a fragment (MF or offset): the L4 checksum cannot be checked */
	bool l4_hdr;	/* a TCP/UDP/ICMP header is present */
};

/* A valid frame to start from: 02:00:00:00:00:01 -> 02:00:00:00:00:02, client 192.0.2.1 or
 * 2001:db8::1, port 40000, to 198.51.100.1 or 2001:db8:100::1, port 80; TCP SYN; no payload. */
void pkt_spec_init(struct pkt_spec *s, uint8_t family, uint8_t proto);

/* Flow i of many distinct ones: source port 1024 + i % 64512, and i added to the low 24 (IPv4)
 * or 32 (IPv6) bits of the source address, keeping the rest. Distinct for i < 2^24 (IPv4). */
void pkt_spec_flow(struct pkt_spec *s, uint32_t i);

/* Where the layers of the frame s describes will be; 0 or -EINVAL. */
int pkt_layout(const struct pkt_spec *s, struct pkt_layout *lo);

/* Writes the frame into buf; returns its length, -EINVAL or -ENOSPC. Never pads to 60 bytes. */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/* The layout of a frame from its bytes. Fills as much as it can read and returns 0 only when
 * every header is present and consistent (lengths within the frame), else -EINVAL. */
int pkt_parse(const uint8_t *buf, size_t len, struct pkt_layout *lo);

/* IPv4 header checksum and the TCP/UDP/ICMP checksum (not for fragments) are right. */
bool pkt_checksum_ok(const uint8_t *buf, size_t len);

/* Copies the Ethernet destination or source MAC out; 0 or -EINVAL for a frame under 14 bytes. */
int pkt_dst_mac(const uint8_t *buf, size_t len, uint8_t mac[6]);
int pkt_src_mac(const uint8_t *buf, size_t len, uint8_t mac[6]);

/* True when the frames are identical; else prints to stderr, under label, the lengths and
 * every differing field named by layer ("ipv4 daddr", "tcp check", "payload +16"). */
bool pkt_same(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
	      const char *label);

#endif /* XLB_PKT_H */
