// SPDX-License-Identifier: GPL-2.0
#include "core/text_escape.h"

#include <stdint.h>
#include <string.h>

#include "core/json_writer.h" /* utf8_seq_len: RFC 3629, as JSON output checks it */

/* Escapes into dst (len > 0), at most maxcols columns; returns the columns,
 * and in *used the bytes of src consumed. */
static size_t escape(char *dst, size_t len, const char *src, size_t srclen, size_t maxcols, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, cols = 0, i = 0;

	while (i < srclen && s[i] && cols < maxcols) {
		size_t n = utf8_seq_len(s + i, srclen - i), w;
		char piece[TEXT_ESC_MAX];

		/* a NUL inside a sequence is no continuation: the lead byte is escaped, then the NUL ends it */
		if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			n = 0;
		if (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
			n = 0; /* C1 control: escape both bytes */
		if (n == 0) {
			piece[0] = '\\', piece[1] = 'x', piece[2] = hex[s[i] >> 4], piece[3] = hex[s[i] & 15];
			w = 4, n = 1;
		} else if (s[i] == '\\') {
			piece[0] = piece[1] = '\\';
			w = 2;
		} else {
			memcpy(piece, s + i, n);
			w = n;
		}
		/* ASCII and escapes: a column a byte; else one column per code point */
		size_t c = (unsigned char)piece[0] < 0x80 ? w : 1;

		if (out + w >= len || cols + c > maxcols)
			break;
		memcpy(dst + out, piece, w);
		out += w, cols += c, i += n;
	}
	dst[out] = 0;
	*used = i;
	return cols;
}

char *text_escape(char *dst, size_t len, const char *src, size_t srclen)
{
	text_escape_cols(dst, len, src, srclen, SIZE_MAX);
	return dst;
}

size_t text_escape_cols(char *dst, size_t len, const char *src, size_t srclen, size_t maxcols)
{
	size_t used = 0;

	if (len)
		escape(dst, len, src ? src : "", src ? srclen : 0, maxcols, &used);
	return used;
}

char *text_cell(char *dst, size_t len, const char *src, size_t srclen, size_t width)
{
	size_t cols, out, used;

	if (!len)
		return dst;
	cols = escape(dst, len, src ? src : "", src ? srclen : 0, width, &used);
	out = strlen(dst);
	while (cols < width && out + 1 < len)
		dst[out++] = ' ', cols++;
	dst[out] = 0;
	return dst;
}

size_t text_cols(const char *s)
{
	size_t cols = 0;

	for (; *s; s++)
		cols += ((unsigned char)*s & 0xc0) != 0x80;
	return cols;
}
