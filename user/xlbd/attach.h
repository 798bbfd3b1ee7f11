/* attach.h - the XDP program on the interface, through libxdp; our own earlier one replaced. */
#ifndef XLBD_ATTACH_H
#define XLBD_ATTACH_H

#include <linux/types.h>

struct xlbd;

enum xlbd_mode { XLBD_MODE_NATIVE, XLBD_MODE_GENERIC, XLBD_MODE_AUTO };

struct xlbd_attach {
	enum xlbd_mode mode; /* native or generic, once attached */
	__u32 prog_id;
};

/* Attach d->dp's program to d->ifindex in d->mode. 0 or -errno (logged). */
int xlbd_attach(struct xlbd *d);
/* Detach every xlb program from the interface (`prog detach`). 0 or -errno (logged). */
int xlbd_detach(struct xlbd *d);

#endif /* XLBD_ATTACH_H */
