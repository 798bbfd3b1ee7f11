/* refparse.h - the data plane's parse rules (docs/datapath.md) as a reference classifier of frames. */
#ifndef XLB_REFPARSE_H
#define XLB_REFPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "xlb_abi.h"
#include "xlb_counters.h"

/*
 * What docs/datapath.md says the parse makes of a frame, before any map is read. Written from
 * the document over raw bytes (no struct overlays), independently of bpf/lib/parse.h, so that a
 * fuzzer comparing the two catches a program that strays from its specification.
 *   REF_PASS  passes whoever the destination is (reason: a pass_* counter)
 *   REF_BAD   malformed: dropped with reason if key.dst/key.family is a VIP address, else
 *             pass_not_vip
 *   REF_OK    a TCP or UDP packet: key (the whole 5-tuple) and tcp_flags are valid
 */
enum ref_kind { REF_PASS, REF_BAD, REF_OK };

struct ref_parse {
	enum ref_kind kind;
	enum xlb_counter reason; /* REF_PASS, REF_BAD */
	struct xlb_flow_key key; /* REF_BAD: family and dst; REF_OK: all of it */
	uint8_t tcp_flags;
};

/* lb_mac NULL: the program was loaded without an LB MAC (any unicast destination is ours). */
void ref_parse(const uint8_t *f, size_t len, const uint8_t *lb_mac, struct ref_parse *out);

#endif /* XLB_REFPARSE_H */
