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

size_t xlb_utf8_cut(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t lead = len, want;

	/* Back over at most 3 continuation bytes (10xxxxxx) to the character's first byte. */
	while (lead > 0 && len - lead < 3 && (u[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0 || (u[lead - 1] & 0xc0) == 0x80)
		return len; /* not UTF-8 we can judge: leave it to the encoder */
	lead--;
	if (u[lead] < 0x80)
		want = 1;
	else if ((u[lead] & 0xe0) == 0xc0)
		want = 2;
	else if ((u[lead] & 0xf0) == 0xe0)
		want = 3;
	else if ((u[lead] & 0xf8) == 0xf0)
		want = 4;
	else
		return len;
	return lead + want > len ? lead : len;
}
