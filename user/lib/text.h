/* text.h - user input made fit to quote in a one-line message. */
#ifndef XLB_TEXT_H
#define XLB_TEXT_H

#include <stddef.h>

/*
 * s[0..len) as printable ASCII (control and non-ASCII bytes as '?', so messages stay valid
 * UTF-8 in JSON), cut to max bytes with "..." appended. dst holds max + 4 bytes. Returns dst.
 */
const char *xlb_printable(char *dst, const char *s, size_t len, size_t max);

/*
 * The length of the longest prefix of s[0..len) that does not end inside a UTF-8 character:
 * where to cut a valid UTF-8 text that was truncated at len bytes (snprintf), so that it
 * stays valid UTF-8 (jansson refuses anything else).
 */
size_t xlb_utf8_cut(const char *s, size_t len);

#endif /* XLB_TEXT_H */
