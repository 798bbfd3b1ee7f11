/* text.c - user input made fit to quote in a one-line message (see text.h). */
#include <string.h>

#include "text.h"

const char *xlb_printable(char *dst, const char *s, size_t len, size_t max)
{
	size_t i, n = len > max ? max : len;

	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return dst;
}
