/* flows.h - flow-table upkeep: least-conn's active-flow recount, removed VIPs' entries deleted. */
#ifndef XLBD_FLOWS_H
#define XLBD_FLOWS_H

#include <stdbool.h>

struct xlbd;

struct xlbd_flows {
	bool purge_pending; /* removed VIPs' flow entries not deleted yet */
};

/* Put the active-flow counts back to the live flow-table entries (every 10 s). 0 or -errno. */
int xlbd_recount_active(struct xlbd *d);
/* Delete flow entries of VIPs no longer configured (under that id); a failure is retried by
 * the next recount. */
void xlbd_purge_stale_flows(struct xlbd *d);

#endif /* XLBD_FLOWS_H */
