/* metrics.h - a snapshot of the counters, maps and controller state for one scrape (reads only). */
#ifndef XLBD_METRICS_H
#define XLBD_METRICS_H

#include <linux/types.h>

#include "metrics_text.h"

struct xlbd;

/* The flow table's occupancy, counted at most every XLBD_FLOW_COUNT_MS (see metrics.c). */
struct xlbd_metrics {
	__u64 flow_count;    /* flow-table entries at the last walk */
	__u64 flow_count_ms; /* when (xlb_now_ms); 0: never */
};

/* xlb_flow_table_entries walks the flow table at most this often (ms); see metrics.c. */
#define XLBD_FLOW_COUNT_MS 5000

/* Read the maps and the controller's state into s (arrays allocated; free with _snap_free).
 * A map that cannot be read leaves its have_* false; -ENOMEM is the only error. */
int xlbd_metrics_collect(struct xlbd *d, struct xlbd_metrics_snap *s);
void xlbd_metrics_snap_free(struct xlbd_metrics_snap *s);

#endif /* XLBD_METRICS_H */
