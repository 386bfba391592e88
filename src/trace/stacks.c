// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/stacks.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/text_escape.h"
#include "proc/proc_maps.h"
#include "trace/debuginfo.h"
#include "trace/unwind_worker.h"
#include "trace/symbolize.h"
#include "core/units.h"

/* A stack as printed: distinct raw stacks that symbolize alike (return
 * addresses at different lines of one function) are one. */
struct named_stack {
	char *folded; /* "comm;outer;...;inner" */
	uint64_t at_peak[RSS_NR_MEMBERS];
	uint64_t grown[RSS_NR_MEMBERS];
	uint32_t procs;
};

int stacks_init(struct stacks *s, int counts_fd, int frames_fd, bool kernel, bool dwarf,
		const char *debug_dir)
{
	memset(s, 0, sizeof(*s));
	s->counts_fd = counts_fd;
	s->frames_fd = frames_fd;
	s->kernel = kernel;
	s->sym = symbolizer_new();
	if (!s->sym)
		return -ENOMEM;
	s->dwarf = dwarf;
	/* before the unwinding thread: it sets variables */
	if (debuginfo_setup(debug_dir))
		return -ENOMEM;
	if (dwarf) {
		s->unw = unwind_worker_start(frames_fd);
		if (!s->unw)
			return -errno;
	}
	/* the C library and loader every traced process likely shares */
	symbolizer_add_maps(s->sym, getpid());
	return 0;
}

void stacks_free(struct stacks *s)
{
	for (long i = 0; i < s->nnamed; i++)
		free(s->named[i].folded);
	free(s->named);
	for (size_t i = 0; i < s->aggs_cap; i++)
		free(s->aggs[i].frames);
	free(s->aggs);
	free(s->mms);
	unwind_worker_free(s->unw);
	free(s->ends);
	symbolizer_free(s->sym);
	debuginfo_reset();
	memset(s, 0, sizeof(*s));
}

void stacks_on_exec(struct stacks *s, uint32_t tgid, const char *filename)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	/* /proc/PID/exe is absolute and is the file really mapped; the exec'd
	 * name may be relative (to a cwd we cannot see once it is gone) */
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = 0;
		symbolizer_add_file(s->sym, path);
	} else if (realpath(filename, path)) {
		symbolizer_add_file(s->sym, path);
	}
	symbolizer_add_maps(s->sym, (int)tgid);
}

/* /proc/PID/maps now (malloc'ed text, or NULL if gone), its files indexed
 * by build id for naming later. */
static char *read_maps(struct stacks *s, uint32_t tgid)
{
	struct proc_maps m = { 0 };
	char *text;

	if (read_proc_maps_text((int)tgid, &m, &text))
		return NULL;
	for (size_t i = 0; i < m.n; i++)
		symbolizer_add_file(s->sym, m.v[i].path);
	proc_maps_free(&m);
	return text;
}

void stacks_on_sample(struct stacks *s, const void *data, size_t len)
{
	const struct stack_sample *smp = data;

	if (!s->unw || len < offsetof(struct stack_sample, stack) ||
	    len < offsetof(struct stack_sample, stack) + smp->stack_len)
		return;
	if (unwind_worker_sample(s->unw, smp, len, read_maps(s, smp->tgid)))
		s->unwind_failed++;
}

/* Hands the ends seen so far to the worker (after their samples: the
 * ring buffers were read to the end before this); at the last harvest,
 * waits for it to finish. */
static void sync_worker(struct stacks *s, bool final)
{
	struct unwind_stats st;
	uint64_t failed;

	for (size_t i = 0; i < s->nends && !final; i++)
		unwind_worker_end(s->unw, s->ends[i].tgid, s->ends[i].start_ns);
	s->nends = 0;
	if (!final)
		return;
	unwind_worker_finish(s->unw, &st, &failed);
	s->unwound = st.samples;
	s->unwound_to_end = st.to_end;
	s->unwound_without_maps = st.no_maps;
	s->unwound_parent_maps = st.from_parent;
	s->unwind_failed += failed;
	/* what bench/ and docs/performance.md quote */
	vlog("unwinding (CPU time): %llu first samples of a maps snapshot, %.1f us each on average "
	     "(ELF and CFI read); %llu others, %.1f us each",
	     (unsigned long long)st.cold, st.cold ? st.cold_ns / 1e3 / st.cold : 0.0,
	     (unsigned long long)st.cached, st.cached ? st.cached_ns / 1e3 / st.cached : 0.0);
	unwind_worker_free(s->unw);
	s->unw = NULL;
}

void stacks_on_mm(struct stacks *s, const struct mm_state *st, bool ended)
{
	struct stack_mm *m;

	if (!array_grow((void **)&s->mms, &s->mms_cap, s->nmms, sizeof(*s->mms))) {
		s->harvest_errors++;
		return;
	}
	m = &s->mms[s->nmms++];
	memset(m, 0, sizeof(*m));
	m->start_ns = st->start_ns;
	m->tgid = st->tgid;
	m->peak_seq = st->peak_seq;
	m->exec_seq = st->exec_seq;
	m->ended = ended;
	memcpy(m->comm, st->comm, sizeof(m->comm));
	if (ended && s->unw && array_grow((void **)&s->ends, &s->ends_cap, s->nends, sizeof(*s->ends)))
		s->ends[s->nends++] = *m;
	s->peak_pages += st->peak_rss;
	s->mms_sorted = false;
}

static int cmp_mm(const void *pa, const void *pb)
{
	const struct stack_mm *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

static struct stack_mm *find_mm(struct stacks *s, uint32_t tgid, uint64_t start_ns)
{
	struct stack_mm key = { .tgid = tgid, .start_ns = start_ns };

	if (!s->mms_sorted && s->nmms) {
		qsort(s->mms, s->nmms, sizeof(*s->mms), cmp_mm);
		s->mms_sorted = true;
	}
	return s->nmms ? bsearch(&key, s->mms, s->nmms, sizeof(*s->mms), cmp_mm) : NULL;
}

static uint64_t agg_slot(uint64_t hash, const char *comm, size_t cap)
{
	uint64_t h = hash;

	for (int i = 0; i < RSS_COMM_LEN && comm[i]; i++)
		h = (h ^ (unsigned char)comm[i]) * 0x100000001b3ULL;
	return h & (cap - 1);
}

static struct stack_agg *agg_find(struct stack_agg *tab, size_t cap, uint64_t hash, const char *comm)
{
	for (uint64_t i = agg_slot(hash, comm, cap);; i = (i + 1) & (cap - 1)) {
		struct stack_agg *a = &tab[i];

		if (!a->used || (a->hash == hash && !strncmp(a->comm, comm, RSS_COMM_LEN)))
			return a;
	}
}

static int agg_grow(struct stacks *s)
{
	size_t cap = s->aggs_cap ? s->aggs_cap * 2 : 1024;
	struct stack_agg *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < s->aggs_cap; i++)
		if (s->aggs[i].used)
			*agg_find(tab, cap, s->aggs[i].hash, s->aggs[i].comm) = s->aggs[i];
	free(s->aggs);
	s->aggs = tab;
	s->aggs_cap = cap;
	return 0;
}

static struct stack_agg *agg_get(struct stacks *s, uint64_t hash, const char *comm)
{
	struct stack_agg *a;

	if ((s->naggs + 1) * 2 > s->aggs_cap && agg_grow(s))
		return NULL;
	a = agg_find(s->aggs, s->aggs_cap, hash, comm);
	if (a->used)
		return a;
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->hash = hash;
	memcpy(a->comm, comm, RSS_COMM_LEN);
	s->naggs++;
	return a;
}

/* One entry of an address space whose final peak_seq is known. */
static void fold(struct stacks *s, const struct stack_key *k, const struct stack_count *c,
		 const struct stack_mm *m)
{
	bool after_peak = c->seq == m->peak_seq;
	struct stack_agg *a = agg_get(s, k->hash, m->comm);

	if (!a) {
		s->harvest_errors++;
		return;
	}
	for (int i = 0; i < RSS_NR_MEMBERS; i++) {
		a->grown[i] += c->grown[i];
		a->at_peak[i] += after_peak ? c->at_peak[i] : c->grown[i];
	}
	a->procs++;
}

static bool tgid_listed(const uint32_t *v, size_t n, uint32_t tgid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tgid)
			return true;
	return false;
}

static void read_frames(struct stacks *s);

int stacks_harvest(struct stacks *s, bool final)
{
	struct stack_key key, next, *prev = NULL, *done = NULL;
	size_t ndone = 0, done_cap = 0, nlive = 0;
	uint32_t live[64];
	struct stack_count c;

	if (s->unw)
		sync_worker(s, final);
	while (!bpf_map_get_next_key(s->counts_fd, prev, &next)) {
		struct stack_mm *m;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(s->counts_fd, &key, &c))
			continue;
		m = find_mm(s, key.tgid, key.start_ns);
		if (!m || (!m->ended && !final)) {
			if (final) {
				s->unmatched++; /* its end was lost: no peak to go by */
				continue;
			}
			/* alive: index what it maps now, while it can be read */
			if (nlive < sizeof(live) / sizeof(live[0]) && !tgid_listed(live, nlive, key.tgid)) {
				live[nlive++] = key.tgid;
				symbolizer_add_maps(s->sym, (int)key.tgid);
			}
			continue;
		}
		fold(s, &key, &c, m);
		if (final)
			continue;
		if (!array_grow((void **)&done, &done_cap, ndone, sizeof(*done)))
			break;
		done[ndone++] = key;
	}
	/* deleted after the walk: deleting under get_next_key restarts it */
	for (size_t i = 0; i < ndone; i++)
		bpf_map_delete_elem(s->counts_fd, &done[i]);
	free(done);
	/* forget ended address spaces: their entries are all folded in */
	if (!final) {
		size_t w = 0;

		for (size_t i = 0; i < s->nmms; i++)
			if (!s->mms[i].ended)
				s->mms[w++] = s->mms[i];
		s->nmms = w;
	} else {
		read_frames(s);
	}
	return 0;
}

static uint64_t total(const uint64_t *v)
{
	return v[RSS_ANON] + v[RSS_FILE] + v[RSS_SHMEM];
}

/* Names in folded lines (comms, and symbols from the traced binaries): ';'
 * separates frames, a newline ends the line, and whoever shows the file sees
 * no control byte: escaped (core/text_escape.h), in place, within len. */
static void sanitize(char *p, size_t len)
{
	char raw[512];

	snprintf(raw, sizeof(raw), "%s", p);
	for (text_escape(p, len, raw, sizeof(raw)); *p; p++)
		if (*p == ';')
			*p = '_';
}

bool stacks_frame_name(struct stacks *s, const struct stack_frames *f, uint32_t i, char *buf, size_t len)
{
	if (i < f->kernel_nr) {
		symbolizer_kernel(s->sym, f->kernel[i], i > 0, buf, len - 4);
		strcat(buf, "_[k]");
	} else if (i - f->kernel_nr < f->user_nr && i - f->kernel_nr < STACK_USER_DEPTH) {
		const struct stack_build_id_frame *u = &f->user[i - f->kernel_nr];

		if (u->status == 1)
			symbolizer_user(s->sym, u->build_id, u->offset, i > f->kernel_nr, buf, len);
		else if (u->status == 2)
			snprintf(buf, len, "[unknown]");
		else
			return false;
	} else {
		return false;
	}
	sanitize(buf, len);
	return true;
}

uint32_t stacks_nframes(const struct stack_frames *f)
{
	return f ? f->kernel_nr + (f->user_nr < STACK_USER_DEPTH ? f->user_nr : STACK_USER_DEPTH) : 0;
}

uint32_t stacks_tracing_frames(struct stacks *s, const struct stack_frames *f)
{
	static const char *const glue[] = { "bpf_", "__bpf", "__traceiter_", "trace_rss_stat",
					    "__trace_", "perf_trace_", "mm_trace_" };
	char name[512];
	uint32_t i;

	for (i = 0; i < f->kernel_nr; i++) {
		bool is_glue = false;

		symbolizer_kernel(s->sym, f->kernel[i], i > 0, name, sizeof(name));
		for (size_t g = 0; g < sizeof(glue) / sizeof(glue[0]); g++)
			is_glue |= !strncmp(name, glue[g], strlen(glue[g]));
		if (!is_glue)
			break;
	}
	return i;
}

const char *stacks_comm(const struct stack_agg *a, char *buf)
{
	memcpy(buf, a->comm, RSS_COMM_LEN);
	buf[RSS_COMM_LEN] = 0;
	sanitize(buf, STACKS_COMM_LEN);
	return buf;
}

/* "comm;outer;...;inner" into out (always terminated). */
static void folded_name(struct stacks *s, const struct stack_agg *a, char *out, size_t len)
{
	char comm[STACKS_COMM_LEN], fr[512];
	size_t off;
	uint32_t n = stacks_nframes(a->frames);

	off = snprintf(out, len, "%s", stacks_comm(a, comm));
	if (!a->frames) {
		snprintf(out + off, len - off, ";[stack lost]");
		return;
	}
	if (!n)
		off += snprintf(out + off, len - off, ";[no user stack]");
	for (uint32_t i = n; i-- > stacks_tracing_frames(s, a->frames) && off < len - 1;)
		if (stacks_frame_name(s, a->frames, i, fr, sizeof(fr)))
			off += snprintf(out + off, len - off, ";%s", fr);
}

/* Each stack's frames, read at the final harvest, once all are final
 * (--stacks=dwarf: unwound), while the map is still there. */
static void read_frames(struct stacks *s)
{
	for (size_t i = 0; i < s->aggs_cap; i++) {
		struct stack_agg *a = &s->aggs[i];

		if (!a->used || a->frames)
			continue;
		a->frames = malloc(sizeof(*a->frames));
		if (a->frames && bpf_map_lookup_elem(s->frames_fd, &a->hash, a->frames)) {
			free(a->frames); /* the frames did not fit the map: counted there */
			a->frames = NULL;
		}
	}
}

void stacks_find_files(struct stacks *s)
{
	for (size_t i = 0; i < s->aggs_cap; i++) {
		const struct stack_frames *f = s->aggs[i].used ? s->aggs[i].frames : NULL;

		for (uint32_t j = 0; f && j < f->user_nr && j < STACK_USER_DEPTH; j++)
			if (f->user[j].status == 1 && !symbolizer_knows(s->sym, f->user[j].build_id)) {
				symbolizer_add_all_maps(s->sym);
				return;
			}
	}
}


static int cmp_name(const void *pa, const void *pb)
{
	return strcmp(((const struct named_stack *)pa)->folded, ((const struct named_stack *)pb)->folded);
}

static int cmp_weight(const void *pa, const void *pb)
{
	const struct named_stack *a = pa, *b = pb;
	uint64_t x = total(a->at_peak), y = total(b->at_peak);

	if (x != y)
		return x < y ? 1 : -1;
	if (total(a->grown) != total(b->grown))
		return total(a->grown) < total(b->grown) ? 1 : -1;
	return strcmp(a->folded, b->folded);
}

/* Every stack, named and merged (*out malloc'ed), heaviest first. Returns
 * how many, or -ENOMEM. */
static long name_stacks(struct stacks *s, struct named_stack **out)
{
	struct named_stack *v = calloc(s->naggs ? s->naggs : 1, sizeof(*v));
	char *line = malloc(65536);
	size_t n = 0, w = 0;

	*out = NULL;
	if (!v || !line) {
		free(v);
		free(line);
		return -ENOMEM;
	}
	stacks_find_files(s);
	for (size_t i = 0; i < s->aggs_cap; i++) {
		const struct stack_agg *a = &s->aggs[i];

		if (!a->used)
			continue;
		folded_name(s, a, line, 65536);
		v[n].folded = strdup(line);
		if (!v[n].folded)
			continue;
		memcpy(v[n].at_peak, a->at_peak, sizeof(a->at_peak));
		memcpy(v[n].grown, a->grown, sizeof(a->grown));
		v[n].procs = a->procs;
		n++;
	}
	free(line);
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	for (size_t r = 0; r < n; r++) {
		if (w && !strcmp(v[w - 1].folded, v[r].folded)) {
			for (int m = 0; m < RSS_NR_MEMBERS; m++) {
				v[w - 1].at_peak[m] += v[r].at_peak[m];
				v[w - 1].grown[m] += v[r].grown[m];
			}
			/* variants of one stack are mostly hit by the same processes */
			if (v[r].procs > v[w - 1].procs)
				v[w - 1].procs = v[r].procs;
			free(v[r].folded);
			continue;
		}
		v[w++] = v[r];
	}
	if (w)
		qsort(v, w, sizeof(*v), cmp_weight);
	*out = v;
	return (long)w;
}

/* Every stack, named and merged, heaviest first: computed once (the folded
 * file and the summary both need it). Returns how many, or -ENOMEM. */
static long named_stacks(struct stacks *s, struct named_stack **out)
{
	if (!s->named)
		s->nnamed = name_stacks(s, &s->named);
	*out = s->named;
	return s->nnamed;
}

int stacks_write_folded(struct stacks *s, FILE *out)
{
	struct named_stack *v;
	long n = named_stacks(s, &v);

	if (n < 0)
		return (int)n;
	for (long i = 0; i < n; i++)
		if (total(v[i].at_peak))
			fprintf(out, "%s %llu\n", v[i].folded, (unsigned long long)total(v[i].at_peak));
	return ferror(out) ? -EIO : 0;
}

/* The frames of a folded name, innermost first, at most max of them. */
static void print_frames(FILE *out, const char *folded, int max)
{
	const char *end = folded + strlen(folded), *p = end;
	const char *first = strchr(folded, ';'); /* after the comm */
	int shown = 0, total_frames = 0;

	for (const char *q = first; q; q = strchr(q + 1, ';'))
		total_frames++;
	while (first && p > first && shown < max) {
		const char *sep = p - 1;

		while (sep > first && *sep != ';')
			sep--;
		fprintf(out, "        %.*s\n", (int)(p - sep - 1), sep + 1);
		p = sep;
		shown++;
	}
	if (total_frames > shown)
		fprintf(out, "        ... %d more frames (--folded FILE has them all)\n", total_frames - shown);
}

/* Which files' names debuginfod gave (a line per file: their names come
 * from traced processes' maps). */
static void print_debuginfod(FILE *out)
{
	struct debuginfo_report r;
	char esc[TEXT_ESC_LEN(256)];

	debuginfo_get_report(&r);
	if (!r.urls)
		return;
	fprintf(out, "  debuginfod (%s):\n  asked for %zu debug file%s, got %zu%s\n",
		text_escape(esc, sizeof(esc), r.urls, 256), r.asked, r.asked == 1 ? "" : "s", r.found,
		r.found ? "; the names in these files came from them:" : "");
	for (size_t i = 0; i < r.found; i++)
		fprintf(out, "        %s\n", text_escape(esc, sizeof(esc), r.files[i], 256));
	if (r.server_error)
		fprintf(out, "  debuginfod not asked again after: %s\n", strerror(r.server_error));
}

static void debuginfod_json(struct json_obj *j)
{
	struct debuginfo_report r;

	debuginfo_get_report(&r);
	if (!r.urls)
		return;
	json_str(j, "debuginfod_urls", r.urls);
	json_uint(j, "debuginfod_asked", r.asked);
	json_uint(j, "debuginfod_found", r.found);
	if (r.server_error)
		json_str(j, "debuginfod_error", strerror(r.server_error));
}

void stacks_print(struct stacks *s, FILE *out, bool json, uint64_t page_kb,
		  const struct loss_counters *loss)
{
	struct named_stack *v;
	long n = named_stacks(s, &v);
	uint64_t charged = 0;
	char a[4][16];
	struct json_obj j;

	if (n < 0) {
		fprintf(out, "WARNING: out of memory: stacks not shown\n");
		return;
	}
	for (long i = 0; i < n; i++)
		charged += total(v[i].at_peak);
	if (json) {
		for (long i = 0; i < n; i++) {
			json_begin(&j, out);
			json_str(&j, "type", "stack");
			json_uint(&j, "at_peak_kb", total(v[i].at_peak) * page_kb);
			json_uint(&j, "anon_kb", v[i].at_peak[RSS_ANON] * page_kb);
			json_uint(&j, "file_kb", v[i].at_peak[RSS_FILE] * page_kb);
			json_uint(&j, "shmem_kb", v[i].at_peak[RSS_SHMEM] * page_kb);
			json_uint(&j, "grown_kb", total(v[i].grown) * page_kb);
			json_uint(&j, "processes", v[i].procs);
			json_str(&j, "folded", v[i].folded);
			json_end(&j);
		}
		json_begin(&j, out);
		json_str(&j, "type", "stacks");
		json_uint(&j, "stacks", (uint64_t)n);
		json_uint(&j, "charged_at_peaks_kb", charged * page_kb);
		json_uint(&j, "sum_of_peaks_kb", s->peak_pages * page_kb);
		json_uint(&j, "lost_charges", loss->stacks_full);
		json_uint(&j, "lost_frames", loss->frames_full);
		json_uint(&j, "unreadable_stacks", loss->stack_errors);
		json_uint(&j, "unmatched_entries", s->unmatched + s->harvest_errors);
		json_str(&j, "unwind", s->dwarf ? "dwarf" : "fp");
		if (s->dwarf) {
			json_uint(&j, "samples", s->unwound);
			json_uint(&j, "samples_unwound_to_end", s->unwound_to_end);
			json_uint(&j, "samples_without_maps", s->unwound_without_maps);
			json_uint(&j, "samples_with_parent_maps", s->unwound_parent_maps);
			json_uint(&j, "samples_not_unwound", s->unwind_failed);
			json_uint(&j, "samples_lost", loss->samples_lost);
		}
		debuginfod_json(&j);
		json_end(&j);
		return;
	}
	fprintf(out, "\nWhere the memory came from (--stacks=%s): pages each stack faulted in,\n"
		     "up to its process's peak (innermost frame first; %s)\n",
		s->dwarf ? "dwarf" : "fp", s->dwarf ? "unwound with the files' CFI" : "frame-pointer walk");
	for (long i = 0; i < n && i < STACKS_TOP; i++) {
		const char *semi = strchr(v[i].folded, ';');

		fprintf(out, "  #%-2ld %s (anon %s, file %s, shmem %s) in %u %.*s process%s\n", i + 1,
			fmt_kb(total(v[i].at_peak) * page_kb, a[0], 16),
			fmt_kb(v[i].at_peak[RSS_ANON] * page_kb, a[1], 16),
			fmt_kb(v[i].at_peak[RSS_FILE] * page_kb, a[2], 16),
			fmt_kb(v[i].at_peak[RSS_SHMEM] * page_kb, a[3], 16), v[i].procs,
			semi ? (int)(semi - v[i].folded) : (int)strlen(v[i].folded), v[i].folded,
			v[i].procs == 1 ? "" : "es");
		print_frames(out, v[i].folded, 8);
	}
	if (n > STACKS_TOP)
		fprintf(out, "  ... %ld more stacks (--folded FILE or --json has them all)\n", n - STACKS_TOP);
	fprintf(out, "  Charged to stacks up to each peak: %s; held at the peaks: %s. Charges\n"
		     "  count pages faulted in, including any freed before the peak; pages that\n"
		     "  came without a user stack of the process (fork's copy, kernel threads,\n"
		     "  before tracing began) are not charged.\n",
		fmt_kb(charged * page_kb, a[0], 16), fmt_kb(s->peak_pages * page_kb, a[1], 16));
	if (loss->stacks_full || loss->frames_full || s->unmatched || s->harvest_errors)
		fprintf(out, "WARNING: stacks incomplete: %llu charges lost (stack map full, see --stack-entries), "
			     "%llu stacks without frames, %llu entries of unknown address spaces\n",
			(unsigned long long)loss->stacks_full, (unsigned long long)loss->frames_full,
			(unsigned long long)(s->unmatched + s->harvest_errors));
	if (loss->stack_errors)
		fprintf(out, "  %llu user stacks could not be read (charged to [no user stack])\n",
			(unsigned long long)loss->stack_errors);
	if (s->dwarf)
		fprintf(out, "  Unwound %llu stack samples, %llu to the outermost frame; %llu gave no\n"
			     "  frame (innermost frame only), %llu lost (ring buffer full)\n",
			(unsigned long long)s->unwound, (unsigned long long)s->unwound_to_end,
			(unsigned long long)s->unwind_failed, (unsigned long long)loss->samples_lost);
	print_debuginfod(out);
}
