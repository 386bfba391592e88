/* SPDX-License-Identifier: GPL-2.0 */
/* Parsing and printing of sizes and durations given by people. */
#ifndef UNITS_H
#define UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512M", "2G", "1.5g", "4096" (bytes), "64K", "1T"; binary multiples.
 * Returns 0 and the size in bytes, or -1 on malformed / out of range input. */
int parse_size(const char *s, uint64_t *bytes);

/* "10", "0.5", "2.25": seconds, > 0 and at most a year. Returns 0 or -1. */
int parse_seconds(const char *s, double *seconds);

/* A positive decimal integer in [min, max]. Returns 0 or -1. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* kB (1024 bytes) to a short human string: "976K", "12.0M", "1.50G". */
const char *fmt_kb(uint64_t kb, char *buf, size_t len);

#endif
