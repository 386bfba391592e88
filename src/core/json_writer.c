// SPDX-License-Identifier: GPL-2.0
#include "core/json_writer.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* reject overlong forms, surrogates and code points past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t json_escape(char *dst, size_t dstlen, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;
	char tmp[8];

	if (!dstlen)
		return 0;
	while (i < len && s[i]) {
		const char *piece = tmp;
		size_t plen, adv = 1;

		switch (s[i]) {
		case '"': piece = "\\\""; break;
		case '\\': piece = "\\\\"; break;
		case '\n': piece = "\\n"; break;
		case '\r': piece = "\\r"; break;
		case '\t': piece = "\\t"; break;
		case '\b': piece = "\\b"; break;
		case '\f': piece = "\\f"; break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", s[i]);
			} else if (s[i] < 0x80) {
				tmp[0] = (char)s[i];
				tmp[1] = 0;
			} else {
				adv = utf8_seq_len(s + i, len - i);
				if (adv) {
					memcpy(tmp, s + i, adv);
					tmp[adv] = 0;
				} else {
					piece = "\\ufffd";
					adv = 1;
				}
			}
		}
		plen = strlen(piece);
		if (o + plen + 1 > dstlen)
			break; /* never split an escape */
		memcpy(dst + o, piece, plen);
		o += plen;
		i += adv;
	}
	dst[o] = 0;
	return o;
}

static void key(struct json_obj *j, const char *k)
{
	fprintf(j->out, "%s\"%s\":", j->fields++ ? "," : "", k);
}

void json_begin(struct json_obj *j, FILE *out)
{
	j->out = out;
	j->fields = 0;
	fputc('{', out);
}

void json_strn(struct json_obj *j, const char *k, const char *val, size_t len)
{
	char buf[1024];
	size_t n = strnlen(val, len);

	/* 6 bytes per input byte is the worst case; larger strings go in pieces */
	key(j, k);
	fputc('"', j->out);
	while (n) {
		size_t chunk = n < 160 ? n : 160;

		/* do not cut a UTF-8 sequence in two */
		while (chunk < n && chunk > 1 && (((unsigned char)val[chunk]) & 0xc0) == 0x80)
			chunk--;
		json_escape(buf, sizeof(buf), val, chunk);
		fputs(buf, j->out);
		val += chunk;
		n -= chunk;
	}
	fputc('"', j->out);
}

void json_str(struct json_obj *j, const char *k, const char *val)
{
	json_strn(j, k, val, strlen(val));
}

void json_int(struct json_obj *j, const char *k, int64_t val)
{
	key(j, k);
	fprintf(j->out, "%lld", (long long)val);
}

void json_uint(struct json_obj *j, const char *k, uint64_t val)
{
	key(j, k);
	fprintf(j->out, "%llu", (unsigned long long)val);
}

void json_null(struct json_obj *j, const char *k)
{
	key(j, k);
	fputs("null", j->out);
}

void json_bool(struct json_obj *j, const char *k, int val)
{
	key(j, k);
	fputs(val ? "true" : "false", j->out);
}

void json_end(struct json_obj *j)
{
	fputs("}\n", j->out);
}
