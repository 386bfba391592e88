/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pprof profile (proto/profile.proto), built up sample by sample and
 * written gzip-compressed, as go tool pprof, Pyroscope and the Perfetto UI
 * read it. Strings, functions, locations and mappings are each stored once
 * (the format refers to them by index or id). Knows nothing of stacks: the
 * caller says what each frame is (trace/stacks_pprof.c for --pprof).
 */
#ifndef PPROF_WRITER_H
#define PPROF_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pprof;

struct pprof *pprof_new(void);
void pprof_free(struct pprof *p);

/* Every sample has one value per sample type, in the order they were
 * added; def marks the one viewers show first. Returns 0 or -ENOMEM. */
int pprof_sample_type(struct pprof *p, const char *type, const char *unit, int def);

/* When collection began (ns since the epoch) and how long it lasted. */
void pprof_time(struct pprof *p, int64_t time_ns, int64_t duration_ns);

/* Free text that viewers show with the profile. Returns 0 or -ENOMEM. */
int pprof_comment(struct pprof *p, const char *text);

/* The mapping (loaded file) named path, with build_id (hex, or NULL).
 * offsets: its locations' addresses are offsets in the file (its
 * file_offset is then its start). Returns its id, or 0 if memory ran out. */
uint64_t pprof_mapping(struct pprof *p, const char *path, const char *build_id, int offsets);

/* The location at address in mapping (0: none) in function, from source
 * file:line where known (file NULL, line 0 if not); the mapping's address
 * range grows to hold it. Returns its id, or 0 if memory ran out. */
uint64_t pprof_location(struct pprof *p, uint64_t mapping, uint64_t address, const char *function,
			const char *file, int64_t line);

/* A sample: its locations leaf first, one value per sample type, and a
 * label (key = str; key NULL: none). Returns 0 or -ENOMEM. */
int pprof_sample(struct pprof *p, const uint64_t *locations, size_t n, const int64_t *values,
		 const char *label_key, const char *label_str);

/* The profile, encoded and gzip-compressed, to out. Returns 0, -ENOMEM, or
 * -EIO if out has an error. */
int pprof_write(struct pprof *p, FILE *out);

#endif
