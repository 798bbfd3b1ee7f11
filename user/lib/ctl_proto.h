/* ctl_proto.h - constants of the xlbd control protocol (docs/control.md): socket, line size. */
#ifndef XLB_CTL_PROTO_H
#define XLB_CTL_PROTO_H

/* Where xlbd listens unless told otherwise (xlbd --socket, xlbctl -s). */
#define XLB_CTL_SOCK_DEFAULT "/run/xlb/xlbd.sock"

/*
 * The longest request line xlbd accepts, counting its terminating '\n': a request holds at
 * most XLB_CTL_LINE_MAX - 1 bytes of JSON. A peer that sends a longer line is out of
 * step with the protocol: the receiver refuses it and closes the connection.
 */
#define XLB_CTL_LINE_MAX (64 * 1024)

/* Answers may be longer: `backend show` of 1,000 backends is ~300 KiB. The client's limit. */
#define XLB_CTL_ANSWER_MAX (64 * 1024 * 1024)

#endif /* XLB_CTL_PROTO_H */
