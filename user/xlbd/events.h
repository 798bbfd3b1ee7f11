/* events.h - the data plane's rare events (BPF ring buffer), logged. */
#ifndef XLBD_EVENTS_H
#define XLBD_EVENTS_H

struct xlbd;
struct ring_buffer;
struct event;

struct xlbd_events {
	struct ring_buffer *rb;
	struct event *ev; /* the ring buffer is readable */
};

/* 0 or -errno. */
int xlbd_events_open(struct xlbd *d);
void xlbd_events_close(struct xlbd *d);

#endif /* XLBD_EVENTS_H */
