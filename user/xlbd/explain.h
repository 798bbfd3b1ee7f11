/* explain.h - `flow explain`: where would this flow go, and why (the real program, no writes). */
#ifndef XLBD_EXPLAIN_H
#define XLBD_EXPLAIN_H

#include <jansson.h>
#include <stddef.h>

struct xlbd;
struct xlb_dp;

struct xlbd_explain {
	struct xlb_dp *dp; /* explain instance of the program (shares the live maps, writes none),
			      loaded at the first `flow explain` */
};

/* The answer to `flow explain` (NULL with a message in err on bad input). */
json_t *xlbd_flow_explain(struct xlbd *d, const char *client, const char *vip, const char *flags,
			  char *err, size_t errlen);
void xlbd_explain_close(struct xlbd *d);

#endif /* XLBD_EXPLAIN_H */
