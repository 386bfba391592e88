/* SPDX-License-Identifier: GPL-2.0 */
/* Text that traced processes control (comms, command lines, paths, cgroup
 * paths), made safe to print on a terminal, as ps and systemd do.
 *
 *  - a control byte (0x00-0x1f, 0x7f), a C1 control (U+0080-U+009F, which
 *    some terminals obey in UTF-8) and every byte that is not part of valid
 *    UTF-8 becomes the four characters \xHH (lower-case hex): "\x1b", "\x0a";
 *  - a backslash becomes "\\", so an escape cannot be forged by the name;
 *  - valid UTF-8 passes through unchanged.
 * The output is bounded by the caller's buffer and by a number of columns,
 * never ends in a split UTF-8 sequence or a split escape, and is always
 * NUL-terminated. A column is one code point (an East Asian wide character
 * shows two columns wide on a terminal: such names may shift a table by one).
 * JSON output does not use this (core/json_writer.c escapes for JSON). */
#ifndef TEXT_ESCAPE_H
#define TEXT_ESCAPE_H

#include <stddef.h>

/* the most bytes one input byte becomes */
#define TEXT_ESC_MAX 4
/* a buffer for a whole escaped string of n input bytes */
#define TEXT_ESC_LEN(n) ((n) * TEXT_ESC_MAX + 1)

/* Escapes at most srclen bytes of src (less if a NUL comes first) into dst
 * (len bytes). Returns dst. */
char *text_escape(char *dst, size_t len, const char *src, size_t srclen);

/* The same, cut to at most maxcols columns (after escaping). Returns the
 * bytes of src consumed: less than strnlen(src, srclen) if it was cut. */
size_t text_escape_cols(char *dst, size_t len, const char *src, size_t srclen, size_t maxcols);

/* The same, cut to at most width columns (after escaping), then padded with
 * spaces to exactly width columns: a table cell. Returns dst. */
char *text_cell(char *dst, size_t len, const char *src, size_t srclen, size_t width);

/* The columns text that is already escaped takes (one per code point). */
size_t text_cols(const char *s);

#endif
