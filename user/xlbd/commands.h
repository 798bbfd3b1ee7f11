/* commands.h - the control protocol's commands (docs/control.md): validate, persist, apply. */
#ifndef XLBD_COMMANDS_H
#define XLBD_COMMANDS_H

#include <jansson.h>
#include <linux/types.h>
#include <stdbool.h>

struct xlbd;

struct xlbd_commands {
	__u64 changes;	      /* changes committed since start (xlb_config_changes_total) */
	bool detach_and_exit; /* `prog detach`: main.c detaches and unpins once the loop ends */
};

/* One request -> one response (never NULL). uid/pid name the caller in logs. */
json_t *xlbd_handle(struct xlbd *d, json_t *req, unsigned int uid, int pid);

#endif /* XLBD_COMMANDS_H */
