/* test_flowtab.c - the flow table's own rules: races, ages, exact counts, flood rule, eviction, promotion. */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <arpa/inet.h>
#include <linux/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "fixture.h"
#include "xlb.skel.h"
#include "xlb_flowtab.h"
#include "xlbd.h"
#include "commands.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static struct fx fx;

static void vip_flow_spec(int vip, __u32 i, struct pkt_spec *s)
{
	pkt_spec_init(s, fx.vip[vip].key.family, fx.vip[vip].key.proto);
	s->dst = fx.vip[vip].key.addr;
	s->dport = ntohs(fx.vip[vip].key.port);
	pkt_spec_flow(s, i);
}

static void flow_key(int vip, __u32 i, struct xlb_flow_key *k)
{
	struct pkt_spec s;

	vip_flow_spec(vip, i, &s);
	fx_spec_key(&s, k);
}

/* Flow i of a VIP through the program: the backend it went to (0: not forwarded). */
static __u32 send_flow(int vip, __u32 i, __u8 tcp_flags)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = 0;
	struct pkt_spec s;
	int len;

	vip_flow_spec(vip, i, &s);
	s.tcp_flags = tcp_flags;
	len = pkt_build(&s, frame, sizeof(frame));
	if (len <= 0 || fx_run(&fx, frame, len, out, &out_len, &act))
		return 0;
	return act == XDP_TX ? fx_backend_of(out, out_len) : 0;
}

static __u64 counter(enum xlb_counter c)
{
	__u64 v[XLB_C_MAX];

	return xlb_dp_read_counters(fx.dp, v) ? ~0ULL : v[c];
}

static __s64 active(__u32 be)
{
	__s64 n = 0;

	xlb_dp_read_backend_active(fx.dp, be, &n);
	return n;
}

static __s64 active_sum(int vip)
{
	__s64 s = 0;

	for (__u32 j = 0; j < fx.vip[vip].nbe; j++)
		s += active(fx.vip[vip].be[j]);
	return s;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* vip 0 (TCP) with a scheduler whose picks depend on per-node state: ring = its members. */
static int use_sched(int vip, __u8 sched)
{
	struct xlb_vip v = {.id = fx.vip[vip].id, .sched = sched};
	int err = xlb_dp_set_vip(fx.dp, &fx.vip[vip].key, &v);

	if (err)
		return err;
	if (sched == XLB_SCHED_MAGLEV)
		return fx_publish(&fx, vip);
	return xlb_dp_publish_table(fx.dp, v.id, fx.vip[vip].be, fx.vip[vip].nbe, fx.vip[vip].be,
				    fx.vip[vip].nbe);
}

static void reset(void)
{
	use_sched(0, XLB_SCHED_MAGLEV);
	fx_flush_flows(&fx);
	for (__u32 id = 1; id < FX_MAX_BE; id++)
		xlb_dp_set_backend_active(fx.dp, id, 0);
}

static int put_flow(__u32 i, __u32 be, __u16 flags, __u64 age_s)
{
	struct xlb_flow_key k;
	struct xlb_flow f = {.backend_id = be,
			     .vip_id = fx.vip[0].id,
			     .flags = flags,
			     .last_seen_ns = now_ns() - age_s * 1000000000ULL};

	flow_key(0, i, &k);
	return xlb_dp_flow_put(fx.dp, &k, &f);
}

static int has_flow(__u32 i)
{
	struct xlb_flow_key k;
	struct xlb_flow f;

	flow_key(0, i, &k);
	return xlb_dp_flow_get(fx.dp, &k, &f) == 0;
}

static __u32 home_of(__u32 i)
{
	struct xlb_flow_key k;
	__u32 b, sig;

	flow_key(0, i, &k);
	xlb_dp_flow_place(fx.dp, &k, &b, &sig);
	return b;
}

static __u32 alt_of(__u32 i)
{
	struct xlb_flow_key k;
	__u32 b, sig;

	flow_key(0, i, &k);
	xlb_dp_flow_place(fx.dp, &k, &b, &sig);
	return xlb_flow_alt(b, sig, fx.dp->flow_buckets - 1);
}

static int bucket_full(__u32 idx)
{
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (!fx.dp->flows[idx].ent[w])
			return 0;
	return 1;
}

/* Fills bucket idx with established live entries of flows whose home it is (numbers from..). */
static int fill_bucket(__u32 idx, __u32 from)
{
	for (__u32 i = from; !bucket_full(idx) && i < from + 100000000; i++)
		if (home_of(i) == idx && put_flow(i, fx.vip[0].be[1], XLB_FLOW_F_EST, 1))
			return -1;
	return bucket_full(idx) ? 0 : -1;
}

/* Every bucket's ovf is the number of entries in second buckets whose home it is. */
static __u32 ovf_wrong(void)
{
	__u32 n = fx.dp->flow_buckets, bad = 0, *want = calloc(n, sizeof(*want));

	if (!want)
		return ~0U;
	for (__u32 bi = 0; bi < n; bi++)
		for (int w = 0; w < XLB_FLOW_WAYS; w++) {
			__u64 e = fx.dp->flows[bi].ent[w];

			if (e & XLB_FLOW_F_ALT)
				want[xlb_flow_alt(bi, xlb_fent_sig(e), n - 1)]++;
		}
	for (__u32 bi = 0; bi < n; bi++)
		bad += fx.dp->flows[bi].ovf != want[bi];
	free(want);
	return bad;
}

/* Flows with two entries: a signature in both of its flow's buckets, or twice in one bucket
 * (two different flows of one home with one signature: about 1 in 2^29 per entry here). */
static __u32 flows_twice(void)
{
	__u32 n = fx.dp->flow_buckets, twice = 0;

	for (__u32 bi = 0; bi < n; bi++)
		for (int w = 0; w < XLB_FLOW_WAYS; w++) {
			__u64 e = fx.dp->flows[bi].ent[w], who = e & XLB_FENT_WHO;
			__u32 alt = xlb_flow_alt(bi, xlb_fent_sig(e), n - 1);

			if (!e)
				continue;
			for (int w2 = w + 1; w2 < XLB_FLOW_WAYS; w2++)
				twice += fx.dp->flows[bi].ent[w2] &&
					 (fx.dp->flows[bi].ent[w2] & XLB_FENT_WHO) == who;
			if (e & XLB_FLOW_F_ALT)
				continue;
			for (int w2 = 0; w2 < XLB_FLOW_WAYS; w2++)
				twice += fx.dp->flows[alt].ent[w2] &&
					 (fx.dp->flows[alt].ent[w2] & XLB_FENT_WHO) ==
						 (who | XLB_FLOW_F_ALT);
		}
	return twice;
}

/* The entry word of flow i in bucket idx (0: none there). */
static __u64 word_in(__u32 idx, __u32 i)
{
	struct xlb_flow_key k;
	__u32 b, sig;

	flow_key(0, i, &k);
	xlb_dp_flow_place(fx.dp, &k, &b, &sig);
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		__u64 e = fx.dp->flows[idx].ent[w];

		/* Its signature and its place: a flow of the same signature whose home is idx
		 * has an entry there too (test_one_signature_two_flows). */
		if (e && (e & XLB_FENT_WHO) == xlb_fent_who(sig, idx != b))
			return e;
	}
	return 0;
}

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * Two CPUs send the same new flows at once: CPU 0 and CPU 1 each send flow i as soon as both
 * are ready for it (a spin rendezvous per flow). With rr positions one apart on the two CPUs,
 * two first packets that both scheduled would pick different backends.
 */
#define RACE_FLOWS 20000

struct racer {
	int cpu;
	__u8 flags; /* the packet each side sends */
	__u32 base;
	__u32 be[RACE_FLOWS];
	volatile __u32 *turn; /* both sides' progress, for the rendezvous */
	volatile int *stop;
	__u32 done;
};

static volatile __u32 turn[2];
static volatile int race_stop;

static void *race_loop(void *arg)
{
	struct racer *r = arg;
	int other = !r->cpu;

	pin_to_cpu(r->cpu);
	for (__u32 i = 0; i < RACE_FLOWS && !*r->stop; i++) {
		turn[r->cpu] = i + 1;
		/* Bounded wait: the other side may be descheduled for a while. */
		for (long spin = 0; turn[other] < i + 1 && spin < 50000000L && !*r->stop; spin++)
			;
		r->be[i] = send_flow(0, r->base + i, r->flags);
		r->done = i + 1;
	}
	turn[r->cpu] = RACE_FLOWS + 1;
	return NULL;
}

/* Runs both sides over flows base..; returns how many flows both sent. */
static __u32 race(struct racer *a, struct racer *b, __u32 base, __u8 flags)
{
	pthread_t ta, tb;

	turn[0] = turn[1] = 0;
	race_stop = 0;
	a->cpu = 0;
	b->cpu = 1;
	a->base = b->base = base;
	a->flags = b->flags = flags;
	a->turn = b->turn = turn;
	a->stop = b->stop = &race_stop;
	a->done = b->done = 0;
	pthread_create(&ta, NULL, race_loop, a);
	pthread_create(&tb, NULL, race_loop, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	return a->done < b->done ? a->done : b->done;
}

static struct racer ra, rb;

static void test_one_backend_two_cpus(void)
{
	__u32 pos[256] = {0}, n, split = 0;
	__u64 lost0, fail0;
	int ncpu = libbpf_num_possible_cpus();

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || ncpu < 2 || ncpu > 256) {
		xt_skip("needs two CPUs");
		return;
	}
	reset();
	ASSERT_OK(use_sched(0, XLB_SCHED_RR), "rr");
	/* CPU 1 one step ahead of CPU 0 in the ring. */
	pos[1] = 1;
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(fx.dp->skel->maps.xlb_rr_pos), &fx.vip[0].id, pos,
				      0),
		  "rr positions");
	lost0 = counter(XLB_C_FLOW_INSERT_LOST);
	fail0 = counter(XLB_C_FLOW_INSERT_FAIL);
	n = race(&ra, &rb, 100000, TCP_SYN);
	for (__u32 i = 0; i < n; i++) {
		struct xlb_flow_key k;
		struct xlb_flow f;

		flow_key(0, 100000 + i, &k);
		if (ra.be[i] != rb.be[i] || xlb_dp_flow_get(fx.dp, &k, &f) ||
		    f.backend_id != ra.be[i])
			split++;
	}
	printf("    %u flows sent by both CPUs at once: %u on two backends, %llu inserts lost "
	       "to the other CPU, %llu failed\n",
	       n, split, (unsigned long long)(counter(XLB_C_FLOW_INSERT_LOST) - lost0),
	       (unsigned long long)(counter(XLB_C_FLOW_INSERT_FAIL) - fail0));
	ASSERT_TRUE(n > 0, "flows raced");
	ASSERT_EQ(split, 0, "one backend per flow, the one in its entry");
}

/* The same race into a table half full of established flows, where many new flows meet a home
 * bucket of established live entries and go to their second bucket: a flow with an entry went
 * to its entry's backend from both CPUs, and every ovf is exact. */
static void test_one_backend_two_cpus_second_bucket(void)
{
	struct xlb_dp_opts o = {.flow_entries = 32768, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 n, split = 0, none = 0, in_alt = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	ASSERT_OK(use_sched(0, XLB_SCHED_RR), "rr");
	for (__u32 i = 0; i < 16384; i++)
		put_flow(i, fx.vip[0].be[0], XLB_FLOW_F_EST, 1);
	n = race(&ra, &rb, 100000, TCP_SYN);
	for (__u32 i = 0; i < n; i++) {
		struct xlb_flow_key k;
		struct xlb_flow f;

		flow_key(0, 100000 + i, &k);
		if (xlb_dp_flow_get(fx.dp, &k, &f)) {
			none++;
			continue;
		}
		in_alt += !word_in(home_of(100000 + i), 100000 + i);
		if (ra.be[i] != f.backend_id || rb.be[i] != f.backend_id)
			split++;
	}
	printf("    %u flows sent by both CPUs into 32768 slots, 16384 held: %u in their second "
	       "bucket, %u "
	       "without an entry, %u with an entry sent elsewhere\n",
	       n, in_alt, none, split);
	ASSERT_TRUE(in_alt > 100, "many in their second bucket");
	ASSERT_EQ(split, 0, "one backend per flow, the one in its entry");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	ASSERT_EQ(flows_twice(), 0, "no flow has two entries");
	fx_teardown(&fx);
out:
	fx = saved;
}

/* Least-conn's counts stay exact when both CPUs open each flow and both close it at once: one
 * +1 per flow (the losing insert adds nothing) and one -1 (the losing close subtracts nothing). */
static void test_counts_exact_two_cpus(void)
{
	__u32 n, m;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	reset();
	ASSERT_OK(use_sched(0, XLB_SCHED_LEAST_CONN), "least-conn");
	n = race(&ra, &rb, 200000, TCP_SYN);
	ASSERT_EQ(active_sum(0), n, "one count per flow opened by both CPUs");
	m = race(&ra, &rb, 200000, TCP_FIN | TCP_ACK);
	printf("    %u flows opened, %u closed by both CPUs at once; active left %lld\n", n, m,
	       (long long)active_sum(0));
	ASSERT_EQ(active_sum(0), (__s64)n - (__s64)(m < n ? m : n), "one -1 per flow closed");
	reset();
}

/* A tick written by another CPU after this packet read the clock is age 0: the busy UDP flow
 * keeps its backend (an unsigned now - last_seen would make it look 584 years idle). */
static void test_age_never_negative(void)
{
	struct xlb_flow_key k;
	struct xlb_flow f;
	__u32 fresh, other;
	int how;

	reset();
	flow_key(1, 7, &k);
	fresh = fx_oracle_pick(&fx, 1, &k, &how);
	other = fx.vip[1].be[0] == fresh ? fx.vip[1].be[1] : fx.vip[1].be[0];
	f = (struct xlb_flow){.backend_id = other,
			      .vip_id = fx.vip[1].id,
			      .flags = XLB_FLOW_F_EST,
			      .last_seen_ns = now_ns() + 2000000000ULL};
	ASSERT_OK(xlb_dp_flow_put(fx.dp, &k, &f), "entry touched 'after' our clock");
	ASSERT_EQ(send_flow(1, 7, 0), other, "not expired: kept on its backend");
	f.last_seen_ns = now_ns() - 31000000000ULL;
	ASSERT_OK(xlb_dp_flow_put(fx.dp, &k, &f), "entry idle 31 s");
	ASSERT_EQ(send_flow(1, 7, 0), fresh, "idle past the timeout: re-picked");
}

/* A FIN or RST that creates an entry, or re-steers one, is closed at once and never counted;
 * the re-steered entry's own +1 is taken back. */
static void test_fin_rst_counts(void)
{
	struct xlb_flow_key k;
	struct xlb_flow f;
	__u32 be, down;

	reset();
	ASSERT_OK(use_sched(0, XLB_SCHED_LEAST_CONN), "least-conn");
	be = send_flow(0, 1, TCP_FIN | TCP_ACK);
	ASSERT_TRUE(be != 0, "forwarded");
	flow_key(0, 1, &k);
	ASSERT_OK(xlb_dp_flow_get(fx.dp, &k, &f), "entry made");
	ASSERT_TRUE((f.flags & XLB_FLOW_F_CLOSED) && !(f.flags & XLB_FLOW_F_COUNTED),
		    "closed, not counted");
	ASSERT_TRUE(send_flow(0, 2, TCP_RST) != 0, "rst forwarded");
	ASSERT_EQ(active_sum(0), 0, "no count left by a FIN or RST that created an entry");

	/* Re-steer: a counted entry on a backend that goes down; then its RST. */
	be = send_flow(0, 3, TCP_SYN);
	ASSERT_EQ(active(be), 1, "counted");
	down = be;
	fx_set_state(&fx, down, XLB_BE_DOWN);
	be = send_flow(0, 3, TCP_RST | TCP_ACK);
	ASSERT_TRUE(be != 0 && be != down, "re-steered off the down backend");
	ASSERT_EQ(active(down), 0, "the old backend's +1 taken back");
	ASSERT_EQ(active_sum(0), 0, "nothing counted for the re-steering RST");
	fx_set_state(&fx, down, XLB_BE_UP);
	reset();
}

/* Keys of VIP 0 whose entries share one bucket: n of them, from flow numbers from.. */
static int same_bucket(__u32 n, __u32 from, __u32 *out)
{
	struct xlb_flow_key k;
	__u32 want, b, sig, got = 0;

	flow_key(0, from, &k);
	xlb_dp_flow_place(fx.dp, &k, &want, &sig);
	for (__u32 i = from; got < n && i < from + 10000000; i++) {
		flow_key(0, i, &k);
		xlb_dp_flow_place(fx.dp, &k, &b, &sig);
		if (b == want)
			out[got++] = i;
	}
	return got == n ? 0 : -1;
}

/*
 * Eviction order when a flow's home bucket and its second bucket are full: an expired entry
 * first (idle past the TCP timeout), then the oldest unpromoted ones; an established live
 * entry never.
 */
static void test_eviction_order(void)
{
	__u32 f[8], be = fx.vip[0].be[0];
	__u64 ev0;

	reset();
	if (!ASSERT_OK(same_bucket(8, 1000, f), "keys sharing a bucket"))
		return;
	ASSERT_OK(put_flow(f[0], be, XLB_FLOW_F_EST, 5), "established, live");
	ASSERT_OK(put_flow(f[1], be, 0, 10), "unpromoted, 10 s");
	ASSERT_OK(put_flow(f[2], be, 0, 20), "unpromoted, 20 s");
	ASSERT_OK(put_flow(f[3], be, XLB_FLOW_F_EST, 400), "established, idle past 300 s");
	/* The new flows' second buckets hold only established live entries. */
	for (int i = 4; i < 8; i++)
		ASSERT_OK(fill_bucket(alt_of(f[i]), 20000000), "second bucket full");
	ev0 = counter(XLB_C_FLOW_EVICTED);
	send_flow(0, f[4], TCP_SYN);
	ASSERT_TRUE(has_flow(f[4]) && !has_flow(f[3]), "the expired entry goes first");
	ASSERT_TRUE(has_flow(f[0]) && has_flow(f[1]) && has_flow(f[2]), "the others stay");
	send_flow(0, f[5], TCP_SYN);
	ASSERT_TRUE(has_flow(f[5]) && !has_flow(f[2]), "then the oldest unpromoted");
	send_flow(0, f[6], TCP_SYN);
	ASSERT_TRUE(has_flow(f[6]) && !has_flow(f[1]), "then the next oldest");
	ASSERT_TRUE(has_flow(f[0]), "the established live entry stays");
	ASSERT_EQ(counter(XLB_C_FLOW_EVICTED) - ev0, 3, "flow_evicted");
	/* Promote the three new ones: now only established live entries are left. */
	for (int i = 4; i < 7; i++)
		send_flow(0, f[i], TCP_ACK);
	__u64 fail0 = counter(XLB_C_FLOW_INSERT_FAIL);
	ASSERT_TRUE(send_flow(0, f[7], TCP_SYN) != 0, "a new flow still forwarded");
	ASSERT_TRUE(!has_flow(f[7]), "but not inserted over established live entries");
	ASSERT_EQ(counter(XLB_C_FLOW_INSERT_FAIL) - fail0, 1, "flow_insert_fail");
	for (int i = 0; i < 7; i++)
		if (i != 1 && i != 2 && i != 3)
			ASSERT_TRUE(has_flow(f[i]), "established entries all kept");
}

/* A failed insert counts nothing: least-conn's +1 is made only for a stored entry. */
static void test_failed_insert_not_counted(void)
{
	__u32 f[5], be = fx.vip[0].be[0];

	reset();
	ASSERT_OK(use_sched(0, XLB_SCHED_LEAST_CONN), "least-conn");
	if (!ASSERT_OK(same_bucket(5, 5000, f), "keys sharing a bucket"))
		return;
	for (int i = 0; i < 4; i++)
		ASSERT_OK(put_flow(f[i], be, XLB_FLOW_F_EST, 1), "established");
	ASSERT_OK(fill_bucket(alt_of(f[4]), 20000000), "second bucket full");
	ASSERT_TRUE(send_flow(0, f[4], TCP_SYN) != 0, "forwarded");
	ASSERT_TRUE(!has_flow(f[4]), "not inserted");
	ASSERT_EQ(active_sum(0), 0, "not counted");
	reset();
}

/*
 * A flow whose home bucket holds only established live entries goes to its second bucket
 * (the home's ovf counts it while it is there), is found there by every later packet, keeps
 * its place there through promotion, re-steer, close and reuse, and can be evicted there by
 * another flow like any entry; userspace finds, lists and deletes it. A small table, so that
 * flows sharing both buckets are quick to find.
 */
static void test_second_bucket(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 f[4], home, alt, g = 0, be, be2, down;
	struct xlb_flow_key k;
	struct xlb_flow fl;
	__u64 ins0, fail0, ev0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	if (!ASSERT_OK(same_bucket(4, 1000, f), "keys sharing a home"))
		goto done;
	home = home_of(f[0]);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(put_flow(f[i], fx.vip[0].be[0], XLB_FLOW_F_EST, 1), "established");
	ASSERT_OK(fill_bucket(home, 30000000), "home full of established live entries");
	alt = alt_of(f[3]);
	ASSERT_TRUE(alt != home, "two buckets");
	ins0 = counter(XLB_C_FLOW_INSERT);
	fail0 = counter(XLB_C_FLOW_INSERT_FAIL);
	be = send_flow(0, f[3], TCP_SYN);
	ASSERT_TRUE(be != 0, "forwarded");
	ASSERT_EQ(counter(XLB_C_FLOW_INSERT) - ins0, 1, "inserted");
	ASSERT_EQ(counter(XLB_C_FLOW_INSERT_FAIL) - fail0, 0, "no failed insert");
	ASSERT_TRUE(word_in(alt, f[3]) & XLB_FLOW_F_ALT, "stored in its second bucket");
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "the home counts it");
	ASSERT_TRUE(has_flow(f[3]), "userspace finds it");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	/* Another flow of the same two buckets evicts it there (it is unpromoted). */
	ASSERT_OK(fill_bucket(alt, 40000000), "the rest of the second bucket established");
	for (__u32 i = 50000000; i < 60000000 && !g; i++)
		if (home_of(i) == home && alt_of(i) == alt)
			g = i;
	if (!ASSERT_TRUE(g != 0, "a flow of the same home and second bucket"))
		goto done;
	ev0 = counter(XLB_C_FLOW_EVICTED);
	be = send_flow(0, g, TCP_SYN);
	ASSERT_TRUE(be != 0 && has_flow(g) && !has_flow(f[3]), "the unpromoted entry evicted");
	ASSERT_EQ(counter(XLB_C_FLOW_EVICTED) - ev0, 1, "flow_evicted");
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "one flow of the home there still");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact after the eviction");
	/* Promotion, re-steer, close and reuse keep it where it is. */
	ASSERT_EQ(send_flow(0, g, TCP_ACK), be, "a hit in the second bucket");
	ASSERT_TRUE((word_in(alt, g) & (XLB_FLOW_F_ALT | XLB_FLOW_F_EST)) ==
			    (XLB_FLOW_F_ALT | XLB_FLOW_F_EST),
		    "promoted in place");
	down = be;
	fx_set_state(&fx, down, XLB_BE_DOWN);
	be2 = send_flow(0, g, TCP_ACK);
	ASSERT_TRUE(be2 != 0 && be2 != down, "re-steered");
	ASSERT_TRUE(word_in(alt, g) & XLB_FLOW_F_ALT, "re-steered in place");
	fx_set_state(&fx, down, XLB_BE_UP);
	ASSERT_EQ(send_flow(0, g, TCP_ACK), be2, "stays on its new backend");
	send_flow(0, g, TCP_FIN | TCP_ACK);
	ASSERT_TRUE(word_in(alt, g) & XLB_FLOW_F_CLOSED, "closed in place");
	ASSERT_TRUE(send_flow(0, g, TCP_SYN) != 0, "a reused 5-tuple");
	ASSERT_TRUE(word_in(alt, g) && !(word_in(alt, g) & XLB_FLOW_F_CLOSED), "reused in place");
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "still one");
	/* Userspace: get, list with its key, delete. */
	flow_key(0, g, &k);
	ASSERT_OK(xlb_dp_flow_get(fx.dp, &k, &fl), "get");
	ASSERT_TRUE(!(fl.flags & XLB_FLOW_F_ALT), "the place is not shown");
	ASSERT_OK(xlb_dp_flow_del(fx.dp, &k), "delete");
	ASSERT_EQ(fx.dp->flows[home].ovf, 0, "the home counts none");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact after the delete");
	send_flow(0, g, TCP_SYN);
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "again");
	fx_flush_flows(&fx);
	ASSERT_EQ(fx.dp->flows[home].ovf, 0, "a walk's deletes take it back");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact after the flush");
done:
	fx_teardown(&fx);
out:
	fx = saved;
}

/* A handshake in progress is not evicted while the new flow's second bucket has room: the next
 * packet of an rr, wrr or least-conn flow without its entry would be re-picked. */
static void test_handshakes_kept_while_room(void)
{
	__u32 f[5];

	reset();
	if (!ASSERT_OK(same_bucket(5, 7000, f), "keys sharing a home"))
		return;
	for (int i = 0; i < 5; i++)
		ASSERT_TRUE(send_flow(0, f[i], TCP_SYN) != 0, "a SYN forwarded");
	for (int i = 0; i < 5; i++)
		ASSERT_TRUE(has_flow(f[i]), "every handshake keeps its entry");
	ASSERT_TRUE(word_in(alt_of(f[4]), f[4]) & XLB_FLOW_F_ALT, "the fifth in its second bucket");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	reset();
}

/*
 * Flows that meet a full home bucket take their second one: at half load, flows without an
 * entry are a small fraction of what one bucket per flow leaves (3.7% there, by the Poisson
 * spread of flows over buckets; docs/datapath.md).
 */
static void test_second_bucket_load(void)
{
	struct xlb_dp_opts o = {.flow_entries = 65536, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 n = 32768, missing = 0, in_alt = 0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "table"))
		goto out;
	for (__u32 i = 0; i < n; i++) {
		send_flow(0, i, TCP_SYN);
		send_flow(0, i, TCP_ACK);
	}
	for (__u32 i = 0; i < n; i++) {
		struct xlb_flow_key k;
		struct xlb_flow f;

		flow_key(0, i, &k);
		if (xlb_dp_flow_get(fx.dp, &k, &f))
			missing++;
		else
			in_alt += !word_in(home_of(i), i);
	}
	printf("    %u flows into 65536 slots: %u without an entry (%.3f%%), %u in their second "
	       "bucket\n",
	       n, missing, 100.0 * missing / n, in_alt);
	ASSERT_TRUE(missing < n / 200, "under 0.5% without an entry");
	ASSERT_TRUE(in_alt > 0, "some in their second bucket");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	fx_teardown(&fx);
out:
	fx = saved;
}

/*
 * A walk gives an entry's own key or none: one CPU sends new flows into a small table (each
 * takes a slot, often an unpromoted entry's, and writes its key just after its entry) while
 * the other walks it. A maglev pick is a function of the key, so a key given with an entry
 * that is not its own shows as a backend the key would not get.
 */
struct walk_check {
	__u32 given, wrong, unknown;
};

static int check_walked(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct walk_check *c = arg;
	int how;

	if (!k) {
		c->unknown++;
		return 0;
	}
	c->given++;
	c->wrong += fx_oracle_pick(&fx, 0, k, &how) != f->backend_id;
	return 0;
}

static volatile int walk_stop;

static void *flood_loop(void *arg)
{
	__u32 *sent = arg;

	pin_to_cpu(0);
	for (__u32 i = 0; !walk_stop; i++) {
		send_flow(0, 5000000 + i, TCP_SYN);
		*sent = i + 1;
	}
	return NULL;
}

static void test_walk_keys_are_entries(void)
{
	struct xlb_dp_opts o = {.flow_entries = 1024, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	struct walk_check c = {0};
	__u32 sent = 0, walks = 0;
	pthread_t t;
	__u64 end;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	walk_stop = 0;
	pthread_create(&t, NULL, flood_loop, &sent);
	pin_to_cpu(1);
	end = now_ns() + 1500000000ULL;
	while (now_ns() < end) {
		xlb_dp_for_each_flow(fx.dp, check_walked, &c);
		walks++;
	}
	walk_stop = 1;
	pthread_join(t, NULL);
	printf("    %u new flows, %u walks: %u keys given, %u not the entry's, %u entries without "
	       "a key yet\n",
	       sent, walks, c.given, c.wrong, c.unknown);
	ASSERT_TRUE(c.given > 1000, "keys given");
	ASSERT_EQ(c.wrong, 0, "every key given is its entry's");
	fx_teardown(&fx);
out:
	fx = saved;
}

/*
 * Userspace's put of a flow whose home is full of established entries takes a free way of its
 * second bucket and counts the flow in the home's ovf before the entry is visible; when the
 * data plane takes that way first, the put fails (-EAGAIN) and must take its count back, or the
 * home reads its second line for ever. CPU 0 sends SYNs of flows whose home is that second
 * bucket (each takes a free way there at once) while CPU 1 deletes and puts the flow again and
 * again; then every ovf is exact.
 */
struct home_flood {
	__u32 n, *flows; /* flow numbers whose home is one bucket */
	__u32 sent;
};

static volatile int flood_stop;

static void *home_flood_loop(void *arg)
{
	struct home_flood *h = arg;

	pin_to_cpu(0);
	for (__u32 i = 0; !flood_stop; i++) {
		send_flow(0, h->flows[i % h->n], TCP_SYN);
		h->sent++;
	}
	return NULL;
}

/* n flow numbers from from.. whose home is bucket idx. */
static __u32 *flows_of_home(__u32 idx, __u32 from, __u32 n)
{
	__u32 *out = calloc(n, sizeof(*out)), got = 0;

	for (__u32 i = from; out && got < n && i < from + 100000000; i++)
		if (home_of(i) == idx)
			out[got++] = i;
	if (out && got < n) {
		free(out);
		out = NULL;
	}
	return out;
}

static int unpromoted(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k;
	(void)arg;
	return !(f->flags & XLB_FLOW_F_EST);
}

static void test_put_losing_its_way_keeps_ovf(void)
{
	cpu_set_t was;
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	struct home_flood h = {.n = 4096};
	__u32 f = 1000, home, alt, lost = 0, stored = 0, full = 0;
	pthread_t t;

	pthread_getaffinity_np(pthread_self(), sizeof(was), &was);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	home = home_of(f);
	alt = alt_of(f);
	ASSERT_OK(fill_bucket(home, 30000000), "home full of established live entries");
	h.flows = flows_of_home(alt, 40000000, h.n);
	if (!ASSERT_TRUE(h.flows != NULL, "flows whose home is the second bucket"))
		goto done;
	flood_stop = 0;
	pthread_create(&t, NULL, home_flood_loop, &h);
	pin_to_cpu(1);
	for (__u32 i = 0; i < 2000000 && lost < 100; i++) {
		size_t gone;
		int r = put_flow(f, fx.vip[0].be[0], 0, 0);

		lost += r == -EAGAIN;
		stored += r == 0;
		full += r == -ENOSPC;
		/* Every unpromoted entry goes (the flow's, the flood's): free ways again. */
		xlb_dp_delete_flows(fx.dp, unpromoted, NULL, &gone);
	}
	flood_stop = 1;
	pthread_join(t, NULL);
	free(h.flows);
	printf("    %u SYNs into the second bucket; puts: %u stored, %u lost their way, %u found "
	       "it "
	       "full\n",
	       h.sent, stored, lost, full);
	ASSERT_TRUE(lost > 0, "puts lost their way to the data plane");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
done:
	fx_teardown(&fx);
out:
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	fx = saved;
}

/*
 * Userspace's put of a flow found in its second bucket rewrites its entry, which stays counted
 * in the home's ovf; when a delete takes the entry first, the put fails and has no count to
 * take back (the delete took it). One thread puts the flow while another deletes it; then
 * every ovf is exact.
 */
struct put_del {
	__u32 f, lost, stored;
};

static void *put_loop(void *arg)
{
	struct put_del *p = arg;

	pin_to_cpu(0);
	while (!flood_stop) {
		int r = put_flow(p->f, fx.vip[0].be[0], XLB_FLOW_F_EST, 0);

		p->lost += r == -EAGAIN;
		p->stored += r == 0;
	}
	return NULL;
}

static void test_put_racing_delete_keeps_ovf(void)
{
	cpu_set_t was;
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	struct put_del p = {.f = 1000};
	__u32 deleted = 0;
	struct xlb_flow_key k;
	pthread_t t;

	pthread_getaffinity_np(pthread_self(), sizeof(was), &was);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	ASSERT_OK(fill_bucket(home_of(p.f), 30000000), "home full of established live entries");
	flow_key(0, p.f, &k);
	flood_stop = 0;
	pthread_create(&t, NULL, put_loop, &p);
	pin_to_cpu(1);
	for (__u32 i = 0; i < 50000000 && p.lost < 200; i++)
		deleted += xlb_dp_flow_del(fx.dp, &k) == 0;
	flood_stop = 1;
	pthread_join(t, NULL);
	xlb_dp_flow_del(fx.dp, &k);
	printf("    puts: %u stored, %u lost to a delete; %u deletes\n", p.stored, p.lost, deleted);
	ASSERT_TRUE(p.lost > 0, "puts lost their entry to a delete");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	ASSERT_EQ(fx.dp->flows[home_of(p.f)].ovf, 0, "the home counts none");
	fx_teardown(&fx);
out:
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	fx = saved;
}

/*
 * An entry in its second bucket evicted by a flow of another home: the count goes from the
 * evicted entry's home (its bucket and word name it), not the new flow's. f's home is full of
 * established entries, so f goes to its second bucket B as an unpromoted entry; then g, whose
 * home is B, takes f's slot there (its own second bucket is full), and so does h, whose second
 * bucket is B and whose home is neither (after f is put back).
 */
static void test_alt_victim_of_other_home(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 f = 1000, home, b, g = 0, h = 0;
	__u64 ev0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	home = home_of(f);
	b = alt_of(f);
	ASSERT_OK(fill_bucket(home, 30000000), "f's home full of established live entries");
	ASSERT_TRUE(send_flow(0, f, TCP_SYN) != 0, "f forwarded");
	ASSERT_TRUE(word_in(b, f) & XLB_FLOW_F_ALT, "f in its second bucket");
	ASSERT_OK(fill_bucket(b, 40000000), "the rest of B established");
	for (__u32 i = 50000000; i < 60000000 && !g; i++)
		if (home_of(i) == b && alt_of(i) != home)
			g = i;
	for (__u32 i = 60000000; i < 70000000 && !h; i++)
		if (alt_of(i) == b && home_of(i) != home && home_of(i) != alt_of(g))
			h = i;
	if (!ASSERT_TRUE(g && h, "flows of B's home and of another home with B second"))
		goto done;
	ASSERT_OK(fill_bucket(alt_of(g), 70000000), "g's second bucket full");
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "f counted in its home");
	ev0 = counter(XLB_C_FLOW_EVICTED);
	ASSERT_TRUE(send_flow(0, g, TCP_SYN) != 0, "g forwarded");
	ASSERT_TRUE(has_flow(g) && !has_flow(f), "g took f's slot in its own home");
	ASSERT_TRUE(word_in(b, g) && !(word_in(b, g) & XLB_FLOW_F_ALT), "g at home");
	ASSERT_EQ(counter(XLB_C_FLOW_EVICTED) - ev0, 1, "flow_evicted");
	ASSERT_EQ(fx.dp->flows[home].ovf, 0, "f's home counts none");
	ASSERT_EQ(fx.dp->flows[b].ovf, 0, "B counts none");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact after g");
	/* f again, beside g (promoted now, so that only f is unpromoted there): a filler of B
	 * goes to make room, f's home is still full. */
	send_flow(0, g, TCP_ACK);
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (fx.dp->flows[b].ent[w] != word_in(b, g)) {
			ASSERT_OK(xlb_dp_flow_del(fx.dp, &fx.dp->flow_keys[b * XLB_FLOW_WAYS + w]),
				  "a filler of B deleted");
			break;
		}
	ASSERT_TRUE(send_flow(0, f, TCP_SYN) != 0, "f again");
	ASSERT_TRUE(word_in(b, f) & XLB_FLOW_F_ALT, "f in its second bucket again");
	ASSERT_OK(fill_bucket(home_of(h), 80000000), "h's home full");
	ev0 = counter(XLB_C_FLOW_EVICTED);
	ASSERT_TRUE(send_flow(0, h, TCP_SYN) != 0, "h forwarded");
	ASSERT_TRUE(has_flow(h) && !has_flow(f), "h took f's slot, in its second bucket too");
	ASSERT_TRUE(word_in(b, h) & XLB_FLOW_F_ALT, "h in its second bucket");
	ASSERT_EQ(counter(XLB_C_FLOW_EVICTED) - ev0, 1, "flow_evicted");
	ASSERT_EQ(fx.dp->flows[home].ovf, 0, "f's home counts none");
	ASSERT_EQ(fx.dp->flows[home_of(h)].ovf, 1, "h's home counts h");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact after h");
done:
	fx_teardown(&fx);
out:
	fx = saved;
}

/*
 * Two flows with one signature where each one's home is the other's second bucket: their
 * entries can share a bucket, one marked ALT, and every reader tells them apart by that flag
 * (a signature match alone would give one flow the other's entry, whichever way comes first).
 * Found by sorting the signatures of a few million keys (a pair like this turns up about once
 * in 2^38 pairs of keys with a 64-bucket table).
 */
static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int sig_twins(__u32 n, __u32 *pa, __u32 *pb)
{
	__u64 *v = calloc(n, sizeof(*v));
	int found = 0;

	if (!v)
		return 0;
	for (__u32 i = 0; i < n; i++) {
		struct xlb_flow_key k;
		__u32 b, sig;

		flow_key(0, i, &k);
		xlb_dp_flow_place(fx.dp, &k, &b, &sig);
		v[i] = (__u64)sig << 32 | i;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (__u32 i = 0; i + 1 < n && !found; i++)
		for (__u32 j = i + 1; j < n && v[j] >> 32 == v[i] >> 32 && !found; j++)
			if (alt_of((__u32)v[i]) == home_of((__u32)v[j])) {
				*pa = (__u32)v[i];
				*pb = (__u32)v[j];
				found = 1;
			}
	free(v);
	return found;
}

static void test_one_signature_two_flows(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 a = 0, b = 0, ha, hb, bea, beb;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	if (!ASSERT_TRUE(sig_twins(3000000, &a, &b), "two keys, one signature, crossed buckets"))
		goto done;
	ha = home_of(a);
	hb = home_of(b);
	bea = fx.vip[0].be[0];
	beb = fx.vip[0].be[1];
	/* Both orders of the two entries in b's home: a's (ALT) first, then b's first. */
	for (int order = 0; order < 2; order++) {
		struct xlb_flow_key ka, kb;
		struct xlb_flow fa, fb;

		flow_key(0, a, &ka);
		flow_key(0, b, &kb);
		ASSERT_OK(fill_bucket(ha, 30000000), "a's home full of established live entries");
		if (order)
			ASSERT_OK(put_flow(b, beb, XLB_FLOW_F_EST, 1), "b at home");
		ASSERT_OK(put_flow(a, bea, XLB_FLOW_F_EST, 1), "a in its second bucket");
		if (!order)
			ASSERT_OK(put_flow(b, beb, XLB_FLOW_F_EST, 1), "b at home");
		ASSERT_TRUE(word_in(hb, a) && word_in(ha, b) == 0, "both entries in b's home");
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &ka, &fa), "userspace finds a");
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &kb, &fb), "userspace finds b");
		ASSERT_EQ(fa.backend_id, bea, "a's own entry (userspace)");
		ASSERT_EQ(fb.backend_id, beb, "b's own entry (userspace)");
		ASSERT_EQ(send_flow(0, a, TCP_ACK), bea, "a's packets to a's entry");
		ASSERT_EQ(send_flow(0, b, TCP_ACK), beb, "b's packets to b's entry");
		send_flow(0, a, TCP_FIN | TCP_ACK);
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &ka, &fa), "a still there");
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &kb, &fb), "b still there");
		ASSERT_TRUE((fa.flags & XLB_FLOW_F_CLOSED) && !(fb.flags & XLB_FLOW_F_CLOSED),
			    "a's FIN closes a's entry only");
		ASSERT_OK(xlb_dp_flow_del(fx.dp, &kb), "b deleted");
		ASSERT_OK(xlb_dp_flow_get(fx.dp, &ka, &fa), "a still there after b's delete");
		ASSERT_TRUE(xlb_dp_flow_get(fx.dp, &kb, &fb) == -ENOENT, "b gone");
		ASSERT_EQ(fx.dp->flows[ha].ovf, 1, "a's home counts a");
		ASSERT_OK(xlb_dp_flow_del(fx.dp, &ka), "a deleted");
		ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
		fx_flush_flows(&fx);
	}
done:
	fx_teardown(&fx);
out:
	fx = saved;
}

/* Flow i's packet through an explain instance: what it did (the return: its action). */
static __u32 explain_flow(struct xlb_dp *ex, __u32 i, __u8 tcp_flags, struct xlb_explain *t)
{
	__u8 frame[PKT_BUF_SIZE], out[PKT_BUF_SIZE];
	__u32 out_len = sizeof(out), act = ~0U;
	struct pkt_spec s;
	int len;

	vip_flow_spec(0, i, &s);
	s.tcp_flags = tcp_flags;
	len = pkt_build(&s, frame, sizeof(frame));
	memset(t, 0, sizeof(*t));
	if (len <= 0 || xlb_dp_explain(ex, frame, len, out, &out_len, &act, t))
		return ~0U;
	return act;
}

/*
 * An explain instance (same maps, its own copy of the table's mask and seed) reads a flow's
 * entry where the live program does, in its second bucket included, and a new flow whose home
 * is full is not put in its second bucket by it (nor counted in ovf).
 */
static void test_explain_reads_second_bucket(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	struct xlb_dp *ex = NULL;
	struct xlb_explain t;
	__u32 f = 1000, g = 0, home, bef;
	__u64 w0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	if (!ASSERT_OK(xlb_dp_load_explain(fx.dp, &ex), "explain instance"))
		goto done;
	home = home_of(f);
	bef = fx.vip[0].be[1];
	ASSERT_OK(fill_bucket(home, 30000000), "home full of established live entries");
	ASSERT_OK(put_flow(f, bef, XLB_FLOW_F_EST, 1), "f in its second bucket");
	w0 = word_in(alt_of(f), f);
	ASSERT_TRUE(w0 & XLB_FLOW_F_ALT, "f's entry marked ALT");
	ASSERT_EQ(explain_flow(ex, f, TCP_ACK, &t), XDP_TX, "forwarded");
	ASSERT_EQ(t.flow_backend, bef, "explain reads f's entry");
	ASSERT_EQ(t.backend, bef, "and sends it where the entry says");
	ASSERT_TRUE(t.counters & (1ULL << XLB_C_FLOW_HIT), "path: flow hit");
	ASSERT_EQ(send_flow(0, f, TCP_ACK), bef, "as the live program does");
	for (__u32 i = 2000; i < 10000000 && !g; i++)
		if (home_of(i) == home && alt_of(i) != alt_of(f))
			g = i;
	if (!ASSERT_TRUE(g != 0, "a new flow of the same home"))
		goto done;
	ASSERT_EQ(explain_flow(ex, g, TCP_SYN, &t), XDP_TX, "a new flow forwarded");
	ASSERT_EQ(t.flow_backend, 0, "no entry for g");
	ASSERT_TRUE(!(t.counters & (1ULL << XLB_C_FLOW_INSERT)), "path: nothing inserted");
	ASSERT_TRUE(!has_flow(g), "g not stored");
	ASSERT_EQ(fx.dp->flows[home].ovf, 1, "the home counts f alone");
	ASSERT_EQ(word_in(alt_of(f), f), w0, "f's entry untouched");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
done:
	if (ex)
		xlb_dp_destroy(ex);
	fx_teardown(&fx);
out:
	fx = saved;
}

/*
 * Every writer at once on a small table: CPU 0's packets insert, promote, close and evict
 * (entries of both buckets, of every home) while CPU 1 puts flows the data plane never sees,
 * deletes them again and deletes closed entries with walks. Afterwards every ovf is exact and
 * no flow has two entries (userspace's own flows are never sent, so its put, which takes no
 * guard, never races an insert of the same flow: docs/datapath.md).
 */
static void *mixed_traffic_loop(void *arg)
{
	__u32 *sent = arg;

	pin_to_cpu(0);
	for (__u32 i = 0; !flood_stop; i++) {
		__u32 fl = 3000000 + i % 4096;

		send_flow(0, fl, TCP_SYN);
		if (i % 2)
			send_flow(0, fl, TCP_ACK);
		if (i % 3 == 0)
			send_flow(0, 3000000 + (i + 2048) % 4096, TCP_FIN | TCP_ACK);
		*sent = i + 1;
	}
	return NULL;
}

static int closed_entry(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	(void)k;
	(void)arg;
	return f->flags & XLB_FLOW_F_CLOSED;
}

static void test_every_writer_keeps_ovf(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 sent = 0, puts = 0, dels = 0;
	size_t walked = 0;
	cpu_set_t was;
	pthread_t t;

	pthread_getaffinity_np(pthread_self(), sizeof(was), &was);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		xt_skip("needs two CPUs");
		return;
	}
	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	flood_stop = 0;
	pthread_create(&t, NULL, mixed_traffic_loop, &sent);
	pin_to_cpu(1);
	for (__u32 i = 0; i < 300000; i++) {
		struct xlb_flow_key k;
		size_t gone = 0;

		puts += put_flow(8000000 + i % 512, fx.vip[0].be[0], XLB_FLOW_F_EST, 0) == 0;
		flow_key(0, 8000000 + (i + 256) % 512, &k);
		dels += xlb_dp_flow_del(fx.dp, &k) == 0;
		if (i % 64 == 0) {
			xlb_dp_delete_flows(fx.dp, closed_entry, NULL, &gone);
			walked += gone;
		}
	}
	flood_stop = 1;
	pthread_join(t, NULL);
	printf("    %u rounds of packets; userspace: %u puts, %u deletes, %zu closed entries "
	       "deleted by walks\n",
	       sent, puts, dels, walked);
	ASSERT_TRUE(sent > 1000 && puts > 1000 && walked > 0, "every writer wrote");
	ASSERT_EQ(ovf_wrong(), 0, "every ovf exact");
	ASSERT_EQ(flows_twice(), 0, "no flow has two entries");
	fx_teardown(&fx);
out:
	pthread_setaffinity_np(pthread_self(), sizeof(was), &was);
	fx = saved;
}

/*
 * A walk gives an entry in its second bucket its own key (its home follows from its bucket and
 * ALT flag), so xlbd's purge of a removed VIP's flows deletes it too: given no key, the purge
 * would keep it, and the home would read its second line, for as long as it lived.
 */
struct walk_keys {
	struct xlb_flow_key want;
	__u32 given, unknown, found;
};

static int note_key(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct walk_keys *w = arg;

	(void)f;
	if (!k) {
		w->unknown++;
		return 0;
	}
	w->given++;
	w->found += !memcmp(k, &w->want, sizeof(*k));
	return 0;
}

static void test_walk_gives_second_bucket_keys(void)
{
	struct xlb_dp_opts o = {.flow_entries = 256, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	static struct xlbd d;
	struct walk_keys w = {0};
	__u32 f = 1000, home, n = 0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	home = home_of(f);
	ASSERT_OK(fill_bucket(home, 30000000), "home full of established live entries");
	ASSERT_TRUE(send_flow(0, f, TCP_SYN) != 0, "f forwarded");
	ASSERT_TRUE(word_in(alt_of(f), f) & XLB_FLOW_F_ALT, "f in its second bucket");
	flow_key(0, f, &w.want);
	xlb_dp_for_each_flow(fx.dp, note_key, &w);
	ASSERT_EQ(w.given, XLB_FLOW_WAYS + 1, "every entry given with a key");
	ASSERT_EQ(w.unknown, 0, "none without");
	ASSERT_EQ(w.found, 1, "f's own key given");
	/* No VIP configured: every entry is a removed VIP's. */
	memset(&d, 0, sizeof(d));
	d.dp = fx.dp;
	xlbd_purge_stale_flows(&d);
	for (__u32 bi = 0; bi < fx.dp->flow_buckets; bi++)
		for (int way = 0; way < XLB_FLOW_WAYS; way++)
			n += fx.dp->flows[bi].ent[way] != 0;
	ASSERT_EQ(n, 0, "the purge deleted every entry, f's included");
	ASSERT_EQ(fx.dp->flows[home].ovf, 0, "the home counts none");
	fx_teardown(&fx);
out:
	fx = saved;
}

/* Promotion: a SYN makes an unpromoted entry, a SYN retry leaves it so, the next other packet
 * promotes it; a UDP flow's second packet does. */
static void test_promotion(void)
{
	struct xlb_flow_key k;
	struct xlb_flow f;

	reset();
	flow_key(0, 9, &k);
	send_flow(0, 9, TCP_SYN);
	ASSERT_OK(xlb_dp_flow_get(fx.dp, &k, &f), "entry");
	ASSERT_TRUE(!(f.flags & XLB_FLOW_F_EST), "a SYN: unpromoted");
	send_flow(0, 9, TCP_SYN);
	xlb_dp_flow_get(fx.dp, &k, &f);
	ASSERT_TRUE(!(f.flags & XLB_FLOW_F_EST), "a SYN retry: still unpromoted");
	send_flow(0, 9, TCP_ACK);
	xlb_dp_flow_get(fx.dp, &k, &f);
	ASSERT_TRUE(f.flags & XLB_FLOW_F_EST, "the ACK promotes");
	flow_key(1, 9, &k);
	send_flow(1, 9, 0);
	xlb_dp_flow_get(fx.dp, &k, &f);
	ASSERT_TRUE(!(f.flags & XLB_FLOW_F_EST) && (f.flags & XLB_FLOW_F_UDP),
		    "udp, one packet: unpromoted");
	send_flow(1, 9, 0);
	xlb_dp_flow_get(fx.dp, &k, &f);
	ASSERT_TRUE(f.flags & XLB_FLOW_F_EST, "udp, second packet: promoted");
}

/*
 * The SYN-flood rule: 100 times more spoofed SYNs (new 5-tuples) than the table has slots,
 * into a table holding established flows: every established flow keeps its entry and backend.
 */
static void test_syn_flood_keeps_established(void)
{
	struct xlb_dp_opts o = {.flow_entries = 1024, .lb_mac = FX_LB_MAC};
	struct fx saved = fx;
	__u32 be[600], kept = 0, had = 0;

	if (!ASSERT_OK(fx_setup(&fx, &o), "small table"))
		goto out;
	for (__u32 i = 0; i < 600; i++) {
		be[i] = send_flow(0, i, TCP_SYN);
		send_flow(0, i, TCP_ACK);
	}
	for (__u32 i = 0; i < 600; i++)
		had += has_flow(i);
	for (__u32 i = 0; i < 100 * 1024; i++)
		send_flow(0, 1000000 + i, TCP_SYN);
	for (__u32 i = 0; i < 600; i++) {
		struct xlb_flow_key k;
		struct xlb_flow f;

		flow_key(0, i, &k);
		if (!xlb_dp_flow_get(fx.dp, &k, &f) && f.backend_id == be[i] &&
		    send_flow(0, i, TCP_ACK) == be[i])
			kept++;
	}
	printf("    1024 slots, %u of 600 established flows had an entry; after 102400 spoofed "
	       "SYNs %u keep it\n",
	       had, kept);
	ASSERT_TRUE(had > 500, "most established flows have an entry");
	ASSERT_EQ(kept, had, "every established flow keeps its entry and backend");
	fx_teardown(&fx);
out:
	fx = saved;
}

/* `flow show` (xlbd's handler): the table's entries of one VIP, client, backend and state, at
 * most count of them. */
static void test_flow_show(void)
{
	static struct xlbd d;
	struct xlbd_vip vips[2] = {{.key = fx.vip[0].key, .id = fx.vip[0].id},
				   {.key = fx.vip[1].key, .id = fx.vip[1].id}};
	json_t *req, *r, *flows, *f;
	__u32 be;

	reset();
	d.dp = fx.dp;
	d.cfg.vips = vips;
	d.cfg.nvips = 2;
	be = send_flow(0, 1, TCP_SYN);
	send_flow(0, 1, TCP_ACK);
	send_flow(0, 2, TCP_SYN);
	send_flow(1, 3, 0); /* another VIP's */
	req = json_pack("{s:s, s:s}", "cmd", "flow show", "vip", "198.51.100.1:80/tcp");
	r = xlbd_handle(&d, req, 0, 0);
	ASSERT_TRUE(json_is_true(json_object_get(r, "ok")), "ok");
	flows = json_object_get(r, "flows");
	ASSERT_EQ(json_array_size(flows), 2, "the VIP's two flows");
	for (size_t i = 0; i < json_array_size(flows); i++) {
		char want[32];

		f = json_array_get(flows, i);
		ASSERT_STREQ(json_string_value(json_object_get(f, "vip")), "198.51.100.1:80/tcp",
			     "vip");
		if (strcmp(json_string_value(json_object_get(f, "state")), "established"))
			continue;
		snprintf(want, sizeof(want), "10.0.1.%u", be);
		ASSERT_STREQ(json_string_value(json_object_get(f, "backend")), want, "backend");
	}
	json_decref(r);
	json_decref(req);
	req = json_pack("{s:s, s:i}", "cmd", "flow show", "count", 1);
	r = xlbd_handle(&d, req, 0, 0);
	ASSERT_EQ(json_array_size(json_object_get(r, "flows")), 1, "count 1");
	ASSERT_TRUE(json_is_true(json_object_get(r, "truncated")), "more left");
	json_decref(r);
	json_decref(req);
}

int main(void)
{
	/* Enough buckets that the race tests' 20,000 flows never meet a full one. */
	struct xlb_dp_opts o = {.flow_entries = 1 << 20, .lb_mac = FX_LB_MAC};

	if (fx_setup(&fx, &o)) {
		printf("FAIL test_flowtab/setup: cannot load the XDP program\n");
		return 1;
	}
	RUN_TEST(test_one_backend_two_cpus);
	RUN_TEST(test_one_backend_two_cpus_second_bucket);
	RUN_TEST(test_counts_exact_two_cpus);
	RUN_TEST(test_age_never_negative);
	RUN_TEST(test_fin_rst_counts);
	RUN_TEST(test_eviction_order);
	RUN_TEST(test_failed_insert_not_counted);
	RUN_TEST(test_second_bucket);
	RUN_TEST(test_second_bucket_load);
	RUN_TEST(test_handshakes_kept_while_room);
	RUN_TEST(test_promotion);
	RUN_TEST(test_syn_flood_keeps_established);
	RUN_TEST(test_flow_show);
	RUN_TEST(test_walk_keys_are_entries);
	RUN_TEST(test_put_losing_its_way_keeps_ovf);
	RUN_TEST(test_put_racing_delete_keeps_ovf);
	RUN_TEST(test_alt_victim_of_other_home);
	RUN_TEST(test_one_signature_two_flows);
	RUN_TEST(test_explain_reads_second_bucket);
	RUN_TEST(test_every_writer_keeps_ovf);
	RUN_TEST(test_walk_gives_second_bucket_keys);
	fx_teardown(&fx);
	return xt_finish();
}
