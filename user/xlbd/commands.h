/* commands.h - the control protocol's commands (docs/control.md): validate, persist, apply. */
#ifndef XLBD_COMMANDS_H
#define XLBD_COMMANDS_H

#include <jansson.h>
#include <linux/types.h>
#include <stdbool.h>

struct event;
struct xlbd;

/*
 * A configuration sent to `config apply` in pieces (`config upload`): a request line holds at
 * most 64 KiB (docs/control.md), a whole configuration up to a few MiB. Only its sender (uid)
 * may add to it or apply it; one left idle for XLBD_UPLOAD_IDLE_MS is dropped (its memory
 * freed by a timer, whether or not room is needed).
 */
#define XLBD_UPLOADS	    4
#define XLBD_UPLOAD_MAX	    (16u << 20)
#define XLBD_UPLOAD_IDLE_MS 30000
struct xlbd_upload {
	__u64 id; /* 0: slot free */
	unsigned int uid;
	char *buf;
	size_t len;
	__u64 touched_ms;
};

struct xlbd_commands {
	__u64 changes;	      /* changes committed since start (xlb_config_changes_total) */
	bool detach_and_exit; /* `prog detach`: main.c detaches and unpins once the loop ends */
	struct xlbd_upload uploads[XLBD_UPLOADS];
	struct event *upload_ev; /* drops idle uploads; NULL until the first (or without a loop) */
};

/* Frees the uploads in progress (at exit). */
void xlbd_commands_free(struct xlbd_commands *c);

/* One request -> one response (never NULL). uid/pid name the caller in logs. */
json_t *xlbd_handle(struct xlbd *d, json_t *req, unsigned int uid, int pid);

#endif /* XLBD_COMMANDS_H */
