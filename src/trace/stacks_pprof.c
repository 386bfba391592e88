// SPDX-License-Identifier: GPL-2.0
#include "trace/stacks_pprof.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/pprof_writer.h"
#include "trace/stacks.h"
#include "trace/symbolize.h"

/* Each sample's values, in this order: the sample types. */
enum { V_HELD, V_TREE, V_TO_PEAK, V_ANON, V_FILE, V_SHMEM, V_GROWN, V_COW, NR_VALUES };

static const char *const value_types[NR_VALUES] = {
	[V_HELD] = "held_at_peak_space",
	[V_TREE] = "held_at_tree_peak_space",
	[V_TO_PEAK] = "faulted_to_peak_space",
	[V_ANON] = "faulted_to_peak_anon_space",
	[V_FILE] = "faulted_to_peak_file_space",
	[V_SHMEM] = "faulted_to_peak_shmem_space",
	[V_GROWN] = "faulted_space",
	[V_COW] = "cow_copied_space",
};

/* What the numbers are, shown by viewers with the profile (go tool pprof
 * -comments): the same words as the text summary's. */
static const char *const about[] = {
	"rsstrace --stacks: bytes of the pages each stack faulted in (made resident), per command",
	"held_at_peak_space: of those, what was still resident at each process's peak RSS (not "
	"unmapped, dropped or cut off the heap before it; --json's held_at_peak_kb). 0 where "
	"that is not measured: see the faulted ones then",
	"held_at_tree_peak_space: what was resident at the moment all traced processes together "
	"peaked (--json's held_at_tree_peak_kb)",
	"faulted_to_peak_space (and its anon, file, shmem parts): faulted in up to each process's "
	"peak RSS, including pages freed before that peak: not what was still resident at the peak. "
	"The summary's and --json's at_peak_kb, anon_kb, file_kb and shmem_kb",
	"faulted_space: faulted in over the whole run (--json's grown_kb)",
	"cow_copied_space: pages each stack copied on write from memory shared since fork, over "
	"whole lifetimes (--cow-folded's; no RSS counter moves when a page is copied)",
	"Pages that came without a user stack of the process (fork's copy, kernel threads, "
	"before tracing began) are not charged",
	"Addresses of user frames are offsets in the mapped file (the stacks are kept as build id "
	"and file offset, alike in every process); kernel frames (--kernel-stacks, names ending "
	"in _[k]) have no address",
};

/* What the text summary warns of, said where pprof shows it (-comments). */
static int add_losses(struct pprof *p, const struct stacks *s, const struct loss_counters *loss)
{
	char text[256];

	if (!loss->stacks_full && !loss->frames_full && !s->unmatched && !s->harvest_errors)
		return 0;
	snprintf(text, sizeof(text),
		 "WARNING: stacks incomplete: %llu charges lost (stack map full, see --stack-entries), "
		 "%llu stacks without frames ([stack lost]), %llu entries of unknown address spaces",
		 (unsigned long long)loss->stacks_full, (unsigned long long)loss->frames_full,
		 (unsigned long long)(s->unmatched + s->harvest_errors));
	return pprof_comment(p, text);
}

static int add_header(struct pprof *p, const struct stacks *s, const char *cow_hook)
{
	bool dwarf = s->dwarf;
	uint32_t sample_pages = s->sample_pages;
	int dflt = s->held_on ? V_HELD : V_TO_PEAK;
	char cow[160], sampled[160];
	int err = 0;

	for (int i = 0; i < NR_VALUES && !err; i++)
		err = pprof_sample_type(p, value_types[i], "bytes", i == dflt);
	for (size_t i = 0; i < sizeof(about) / sizeof(about[0]) && !err; i++)
		err = pprof_comment(p, about[i]);
	if (!err)
		err = pprof_comment(p, dwarf ? "--stacks=dwarf: user stacks unwound with the files' CFI"
					     : "--stacks=fp: user stacks walked by frame pointers");
	if (!err && sample_pages) {
		snprintf(sampled, sizeof(sampled), "--stack-sample: a page in %u on average charged as %u pages "
			 "(estimates; copies on write are not sampled)", sample_pages, sample_pages);
		err = pprof_comment(p, sampled);
	}
	if (cow_hook)
		snprintf(cow, sizeof(cow), "cow_copied_space counted at %s", cow_hook);
	else
		snprintf(cow, sizeof(cow), "WARNING: cow_copied_space is 0: no hook can count "
					   "copies on write on this kernel");
	return err ? err : pprof_comment(p, cow);
}

/* "0123...": the build id as text, the format's convention. */
static const char *build_id_hex(const unsigned char *id, char *buf)
{
	for (int i = 0; i < BUILD_ID_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", id[i]);
	return buf;
}

/* The mapping of a user frame's file, by build id (its path where known). */
static uint64_t file_mapping(struct stacks *s, struct pprof *p, const struct stack_build_id_frame *u)
{
	char hex[2 * BUILD_ID_LEN + 1];
	const char *path = symbolizer_path(s->sym, u->build_id);

	return pprof_mapping(p, path ? path : "", build_id_hex(u->build_id, hex), 1);
}

/* A shared library's name: "*.so" or "*.so.N..." (pprof's own test). */
static bool is_library(const char *path)
{
	for (const char *so = strstr(path, ".so"); so; so = strstr(so + 1, ".so"))
		if (so[3] == 0 || so[3] == '.')
			return true;
	return false;
}

/* The outermost frame of a's stack in a file that is not a shared library
 * (its _start's, or main's where a frame-pointer walk stops in libc),
 * among its MAIN_DEPTH outermost user frames; NULL if none. */
#define MAIN_DEPTH 8
static const struct stack_build_id_frame *main_file_frame(struct stacks *s, const struct stack_frames *f)
{
	uint32_t n = stacks_nframes(f);

	for (uint32_t i = n; i-- > f->kernel_nr && n - i <= MAIN_DEPTH;) {
		const struct stack_build_id_frame *u = &f->user[i - f->kernel_nr];
		const char *path = u->status == 1 ? symbolizer_path(s->sym, u->build_id) : NULL;

		if (path && !is_library(path))
			return u;
	}
	return NULL;
}

/* Viewers take the first mapping for the main binary (go tool pprof names
 * it in its header): that file of the heaviest stack that has one. */
static void add_main_mapping(struct stacks *s, struct pprof *p)
{
	const struct stack_build_id_frame *best = NULL;
	uint64_t best_pages = 0;

	for (size_t i = 0; i < s->aggs_cap; i++) {
		const struct stack_agg *a = &s->aggs[i];
		const struct stack_build_id_frame *u;

		if (!a->used || !a->frames || (best && stacks_resident(a->at_peak) <= best_pages))
			continue;
		u = main_file_frame(s, a->frames);
		if (u) {
			best = u;
			best_pages = stacks_resident(a->at_peak);
		}
	}
	if (best)
		file_mapping(s, p, best);
}

/* Frame i of f as a location: in its file (build id, file offset) with its
 * source line where known, or a name at no address (a kernel frame, one
 * without a file or not in its code). */
static uint64_t frame_location(struct stacks *s, struct pprof *p, const struct stack_frames *f, uint32_t i,
			       const char *name)
{
	const struct stack_build_id_frame *u;
	const char *file;
	uint64_t mapping;
	int line;

	/* a kernel frame is its name only: its address would tell whoever reads
	 * the file (created 0666 less the umask) where the kernel is (KASLR) */
	if (i < f->kernel_nr)
		return pprof_location(p, 0, 0, name, NULL, 0);
	/* nor is an ip without a file, or an offset outside the code of a file
	 * known here ([unknown]: a value a frame-pointer walk read past the real
	 * frames); a file not found here keeps its build id, for viewers that
	 * find files by it */
	u = &f->user[i - f->kernel_nr];
	if (u->status != 1 ||
	    (symbolizer_path(s->sym, u->build_id) && !symbolizer_is_code(s->sym, u->build_id, u->offset)))
		return pprof_location(p, 0, 0, name, NULL, 0);
	mapping = file_mapping(s, p, u);
	file = symbolizer_user_line(s->sym, u->build_id, u->offset, i > f->kernel_nr, &line);
	return mapping ? pprof_location(p, mapping, u->offset, name, file, line) : 0;
}

/* One sample: a's frames leaf first (a pseudo-frame if it has none, as in the
 * folded output), its values in bytes, its command as the label "comm". */
static int add_sample(struct stacks *s, struct pprof *p, const struct stack_agg *a, uint64_t page_bytes)
{
	uint64_t locs[STACK_USER_DEPTH + STACK_KERNEL_DEPTH];
	uint32_t n = stacks_nframes(a->frames), first = a->frames ? stacks_tracing_frames(s, a->frames) : 0;
	int64_t v[NR_VALUES] = {
		[V_HELD] = stacks_resident(a->held) * page_bytes,
		[V_TREE] = stacks_tree_held(s, &a->tree) * page_bytes,
		[V_TO_PEAK] = stacks_resident(a->at_peak) * page_bytes,
		[V_ANON] = a->at_peak[RSS_ANON] * page_bytes,
		[V_FILE] = a->at_peak[RSS_FILE] * page_bytes,
		[V_SHMEM] = a->at_peak[RSS_SHMEM] * page_bytes,
		[V_GROWN] = stacks_resident(a->grown) * page_bytes,
		[V_COW] = a->cow * page_bytes,
	};
	char name[512], comm[STACKS_COMM_LEN];
	size_t nlocs = 0;

	for (uint32_t i = first; i < n; i++)
		if (stacks_frame_name(s, a->frames, i, name, sizeof(name)))
			locs[nlocs++] = frame_location(s, p, a->frames, i, name);
	if (!a->frames || first >= n)
		locs[nlocs++] = pprof_location(p, 0, 0, a->frames ? "[no user stack]" : "[stack lost]", NULL, 0);
	for (size_t i = 0; i < nlocs; i++)
		if (!locs[i])
			return -ENOMEM;
	return pprof_sample(p, locs, nlocs, v, "comm", stacks_comm(a, comm));
}

/* Now, in ns since the epoch. */
static int64_t epoch_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int stacks_write_pprof(struct stacks *s, FILE *out, uint64_t page_kb, uint64_t duration_ns,
		       const struct loss_counters *loss)
{
	struct pprof *p = pprof_new();
	int err = p ? add_header(p, s, s->cow_hook) : -ENOMEM;

	if (!err)
		err = add_losses(p, s, loss);

	if (p)
		pprof_time(p, epoch_ns() - (int64_t)duration_ns, (int64_t)duration_ns);

	stacks_find_files(s);
	if (!err)
		add_main_mapping(s, p);
	for (size_t i = 0; i < s->aggs_cap && !err; i++)
		if (s->aggs[i].used && (stacks_resident(s->aggs[i].grown) || s->aggs[i].cow))
			err = add_sample(s, p, &s->aggs[i], page_kb * 1024);
	if (!err)
		err = pprof_write(p, out);
	pprof_free(p);
	return err;
}
