/* text.h - user input made fit to quote in a one-line message. */
#ifndef XLB_TEXT_H
#define XLB_TEXT_H

#include <stddef.h>

/*
 * s[0..len) as printable ASCII (control and non-ASCII bytes as '?', so messages stay valid
 * UTF-8 in JSON), cut to max bytes with "..." appended. dst holds max + 4 bytes. Returns dst.
 */
const char *xlb_printable(char *dst, const char *s, size_t len, size_t max);

#endif /* XLB_TEXT_H */
