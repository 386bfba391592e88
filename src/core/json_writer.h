/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal JSON Lines writer: one flat object per line. Strings are escaped
 * per RFC 8259 and always valid UTF-8 (invalid bytes, possible in a comm set
 * with prctl(PR_SET_NAME), become U+FFFD).
 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

struct json_obj {
	FILE *out;
	int fields;
};

void json_begin(struct json_obj *j, FILE *out);
void json_str(struct json_obj *j, const char *key, const char *val);
/* Like json_str, but stops after len bytes (for fixed-size, maybe unterminated fields). */
void json_strn(struct json_obj *j, const char *key, const char *val, size_t len);
void json_int(struct json_obj *j, const char *key, int64_t val);
void json_uint(struct json_obj *j, const char *key, uint64_t val);
void json_null(struct json_obj *j, const char *key);
void json_bool(struct json_obj *j, const char *key, int val);
/* Closes the object and the line. */
void json_end(struct json_obj *j);

/* Escape src (len bytes) into dst as a JSON string body, without quotes;
 * returns the number of bytes written (dst always NUL-terminated). */
size_t json_escape(char *dst, size_t dstlen, const char *src, size_t len);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if
 * invalid (overlong, surrogate, past U+10FFFF, truncated). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
