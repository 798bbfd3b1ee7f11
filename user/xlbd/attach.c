/* attach.c - attach the XDP program with libxdp; replace our own earlier program without a gap. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "xlbd.h"

#define PROG_NAME "xlb_xdp"

static bool libxdp_quiet; /* during an attach: see attach_mode */

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	char line[512], q[600];
	size_t n;

	if (level == LIBXDP_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/* libxdp's own messages one level below ours: they explain ours, they are not news. */
	xlb_log(level == LIBXDP_WARN && !libxdp_quiet ? XLB_LOG_INFO : XLB_LOG_DEBUG, "libxdp",
		"detail=%s", xlb_log_quote(line, q, sizeof(q)));
	return 0;
}

static enum xdp_attach_mode xdp_mode(enum xlbd_mode m)
{
	return m == XLBD_MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static void note_attached(struct xlbd *d, enum xlbd_mode m)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	d->attach.mode = m;
	if (!bpf_obj_get_info_by_fd(d->dp->prog_fd, &info, &len))
		d->attach.prog_id = info.id;
	pr_info("attached", "interface=%s mode=%s prog_id=%u", d->ifname,
		m == XLBD_MODE_GENERIC ? "generic" : "native", d->attach.prog_id);
}

/* Detaches earlier xlb programs from a libxdp dispatcher (after ours is in). */
static void detach_old_from_dispatcher(struct xlbd *d, struct xdp_multiprog *mp)
{
	struct xdp_program *p = NULL;

	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (strcmp(xdp_program__name(p), PROG_NAME) ||
		    xdp_program__id(p) == d->attach.prog_id)
			continue;
		if (xdp_program__detach(p, d->ifindex, xdp_multiprog__attach_mode(mp), 0))
			pr_warn("cannot detach an earlier xlb program", "prog_id=%u",
				xdp_program__id(p));
	}
}

/*
 * The program attached to the interface on its own (no dispatcher), read with bpf_xdp_query
 * rather than libxdp's multiprog: libxdp 1.3's xdp_multiprog__close leaves the fd of a legacy
 * program open (one fd leaked per look). Its id is 0 when there is none (or a dispatcher).
 */
struct legacy_prog {
	__u32 id;
	__u32 flags; /* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE: how it is attached */
	int fd;	     /* with legacy_open: the caller closes it */
	char name[BPF_OBJ_NAME_LEN];
};

static __u32 legacy_prog_id(int ifindex, __u32 *flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) || q.attach_mode == XDP_ATTACHED_MULTI)
		return 0;
	if (flags)
		*flags =
			q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	return q.prog_id;
}

/* The legacy program with an fd and its name: 1, 0 when there is none, or -errno. */
static int legacy_open(int ifindex, struct legacy_prog *lp)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err;

	*lp = (struct legacy_prog){.fd = -1};
	lp->id = legacy_prog_id(ifindex, &lp->flags);
	if (!lp->id)
		return 0;
	lp->fd = bpf_prog_get_fd_by_id(lp->id);
	if (lp->fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(lp->fd, &info, &len);
	if (err) {
		close(lp->fd);
		lp->fd = -1;
		return err;
	}
	memcpy(lp->name, info.name, sizeof(lp->name));
	lp->name[sizeof(lp->name) - 1] = '\0';
	return 1;
}

/*
 * An xlb program from an earlier xlbd is attached on its own (legacy mode, as on kernels
 * that refuse libxdp's dispatcher): swap ours in with one XDP_FLAGS_REPLACE, so no packet
 * meets an interface without a program.
 */
static int replace_legacy(struct xlbd *d, const struct legacy_prog *old)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old->fd);
	bool skb = old->flags & XDP_FLAGS_SKB_MODE;
	int err;

	if (strcmp(old->name, PROG_NAME)) {
		pr_err("another XDP program is attached", "interface=%s prog=%s prog_id=%u",
		       d->ifname, old->name, old->id);
		return -EBUSY;
	}
	if (skb != (d->mode == XLBD_MODE_GENERIC) && d->mode != XLBD_MODE_AUTO)
		pr_warn("keeping the mode of the attached program", "interface=%s mode=%s",
			d->ifname, skb ? "generic" : "native");
	err = bpf_xdp_attach(d->ifindex, d->dp->prog_fd, old->flags | XDP_FLAGS_REPLACE, &opts);
	if (err) {
		pr_err("cannot replace the attached xlb program", "interface=%s err=\"%s\"",
		       d->ifname, strerror(-err));
		return err;
	}
	pr_info("replaced the program of an earlier xlbd", "interface=%s old_prog_id=%u", d->ifname,
		old->id);
	note_attached(d, skb ? XLBD_MODE_GENERIC : XLBD_MODE_NATIVE);
	return 0;
}

/* Was the program attached on its own rather than through libxdp's dispatcher? */
static bool attached_alone(struct xlbd *d)
{
	return d->attach.prog_id && legacy_prog_id(d->ifindex, NULL) == d->attach.prog_id;
}

static int attach_mode(struct xlbd *d, struct xdp_program *prog, enum xlbd_mode m)
{
	int err;

	/* libxdp tries its multi-program dispatcher first; kernels that refuse freplace programs
	 * make libbpf print a load failure and a hint about `ulimit -l` that mean nothing here:
	 * they go to debug, and one line below says what happened. */
	libxdp_quiet = true;
	xlb_log_libbpf_quiet(true);
	err = xdp_program__attach(prog, d->ifindex, xdp_mode(m), 0);
	xlb_log_libbpf_quiet(false);
	libxdp_quiet = false;
	if (err)
		return err;
	note_attached(d, m);
	if (attached_alone(d))
		pr_info("libxdp's dispatcher is not available here: attached directly (no other "
			"XDP "
			"program can share the interface)",
			"interface=%s", d->ifname);
	return 0;
}

int xlbd_attach(struct xlbd *d)
{
	struct legacy_prog old;
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	int err;

	libxdp_set_print(libxdp_print);
	err = legacy_open(d->ifindex, &old);
	if (err) {
		if (err > 0) { /* one attached alone: swap ours in, no gap */
			err = replace_legacy(d, &old);
			close(old.fd);
		}
		return err;
	}
	/* Nothing attached, or libxdp's dispatcher: earlier xlb programs leave it after ours is in. */
	mp = xdp_multiprog__get_from_ifindex(d->ifindex);
	if (libxdp_get_error(mp))
		mp = NULL;

	prog = xdp_program__from_fd(d->dp->prog_fd);
	if (libxdp_get_error(prog)) {
		err = (int)libxdp_get_error(prog);
		pr_err("libxdp cannot use the program", "err=\"%s\"", strerror(-err));
		goto out;
	}
	if (d->mode == XLBD_MODE_AUTO) {
		err = attach_mode(d, prog, XLBD_MODE_NATIVE);
		if (err) {
			pr_warn("native mode failed: falling back to generic (about 2.7x slower)",
				"interface=%s err=\"%s\"", d->ifname, strerror(-err));
			err = attach_mode(d, prog, XLBD_MODE_GENERIC);
		}
	} else {
		err = attach_mode(d, prog, d->mode);
	}
	if (err)
		pr_err(d->mode == XLBD_MODE_NATIVE
			       ? "cannot attach in native mode: try --mode generic or --mode auto"
			       : "cannot attach",
		       "interface=%s err=\"%s\"", d->ifname, strerror(-err));
	else if (mp)
		detach_old_from_dispatcher(d, mp);
	xdp_program__close(prog);
out:
	if (mp)
		xdp_multiprog__close(mp);
	return err;
}

/* Our program attached alone: detached with the kernel's call, only if it is still ours
 * (XDP_FLAGS_REPLACE); libxdp's xdp_program__detach leaks two fds here. */
static int detach_legacy(struct xlbd *d)
{
	struct legacy_prog lp;
	int err = legacy_open(d->ifindex, &lp);

	if (err <= 0)
		return err;
	if (!strcmp(lp.name, PROG_NAME)) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = lp.fd);

		err = bpf_xdp_detach(d->ifindex, lp.flags | XDP_FLAGS_REPLACE, &opts);
	} else {
		err = 0;
	}
	close(lp.fd);
	return err;
}

int xlbd_detach(struct xlbd *d)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int err = 0;

	if (legacy_prog_id(d->ifindex, NULL)) {
		err = detach_legacy(d);
	} else {
		/* Under libxdp's dispatcher: ours among its programs. */
		mp = xdp_multiprog__get_from_ifindex(d->ifindex);
		if (libxdp_get_error(mp) || !mp)
			return 0;
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), PROG_NAME))
				err = xdp_program__detach(p, d->ifindex,
							  xdp_multiprog__attach_mode(mp), 0);
		xdp_multiprog__close(mp);
	}
	if (err)
		pr_err("cannot detach", "interface=%s err=\"%s\"", d->ifname, strerror(-err));
	else
		pr_info("detached", "interface=%s", d->ifname);
	return err;
}
