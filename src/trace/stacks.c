// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/stacks.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/text_escape.h"
#include "proc/proc_maps.h"
#include "trace/debuginfo.h"
#include "trace/mmap_events.h"
#include "trace/unwind_worker.h"
#include "trace/symbolize.h"
#include "core/units.h"

/* A stack as printed: distinct raw stacks that symbolize alike (return
 * addresses at different lines of one function) are one. */
struct named_stack {
	char *folded; /* "comm;outer;...;inner" */
	uint64_t at_peak[RSS_NR_MEMBERS];
	uint64_t grown[RSS_NR_MEMBERS];
	uint64_t held[RSS_NR_MEMBERS];
	struct tree_held tree;
	uint32_t procs;
	uint64_t *mms; /* the address spaces that ran it, sorted, procs of them */
	uint64_t samples;
	uint64_t cow;
	uint32_t cow_procs;
	uint32_t tgid; /* a process's own copies (cow_charges_named): its pid */
};

int stacks_init(struct stacks *s, int counts_fd, int frames_fd, bool kernel, bool dwarf,
		const char *debug_dir)
{
	memset(s, 0, sizeof(*s));
	s->cow_fd = -1;
	s->counts_fd = counts_fd;
	s->frames_fd = frames_fd;
	s->kernel = kernel;
	s->sym = symbolizer_new();
	if (!s->sym)
		return -ENOMEM;
	s->dwarf = dwarf;
	held_pages_init(&s->held);
	/* before the unwinding thread: it sets variables */
	if (debuginfo_setup(debug_dir))
		return -ENOMEM;
	if (dwarf) {
		s->unw = unwind_worker_start(frames_fd);
		if (!s->unw)
			return -errno;
		s->mmaps = mmap_events_open();
		if (!s->mmaps)
			wlog("--stacks=dwarf: the kernel's mmap records are not available (%s): a process gone "
			     "before its maps were read is not unwound", strerror(errno));
	}
	/* the C library and loader every traced process likely shares */
	symbolizer_add_maps(s->sym, getpid());
	return 0;
}

void stacks_init_cow(struct stacks *s, int cow_fd, const char *hook)
{
	s->cow_fd = cow_fd;
	s->cow_hook = hook;
}

static void free_named(struct named_stack *v, long n)
{
	for (long i = 0; i < n; i++) {
		free(v[i].folded);
		free(v[i].mms);
	}
	free(v);
}

void stacks_free(struct stacks *s)
{
	free_named(s->named, s->nnamed);
	free_named(s->cow_named, s->ncow_named);
	free(s->cows);
	for (size_t i = 0; i < s->aggs_cap; i++) {
		free(s->aggs[i].frames);
		free(s->aggs[i].mms);
	}
	free(s->aggs);
	free(s->mms);
	unwind_worker_free(s->unw);
	mmap_events_free(s->mmaps);
	free(s->ends);
	held_pages_free(&s->held);
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

/* tests: every process as if gone before its maps could be read */
static bool proc_maps_unread(void)
{
#ifdef RSSTRACE_TEST_HOOKS
	return getenv("RSSTRACE_TEST_NO_PROC_MAPS") != NULL;
#else
	return false;
#endif
}

/* The maps of the sample's address space (malloc'ed text, or NULL), its
 * files indexed by build id for naming later: /proc/PID/maps now, unless
 * the process is gone or has exec'd since; then, for an exec'd image, the
 * kernel's mmap records of it. */
static char *read_maps(struct stacks *s, const struct stack_sample *smp)
{
	struct proc_maps m = { 0 };
	bool newer = false;
	char *text = NULL;

	if (s->mmaps) {
		mmap_events_drain(s->mmaps);
		newer = mmap_events_newer_image(s->mmaps, smp->tgid, smp->start_ns);
	}
	if (newer || proc_maps_unread() || read_proc_maps_text((int)smp->tgid, &m, &text)) {
		/* none for a child that has not exec'd: its parent's (unwind_worker) */
		if (s->mmaps)
			text = mmap_events_maps_text(s->mmaps, smp->tgid, smp->start_ns);
		if (!text || parse_proc_maps(text, &m)) {
			free(text);
			return NULL;
		}
		s->maps_from_events++;
	}
	for (size_t i = 0; i < m.n; i++)
		symbolizer_add_file(s->sym, m.v[i].path);
	proc_maps_free(&m);
	return text;
}

void stacks_read_mmap_records(struct stacks *s)
{
	if (s->mmaps)
		mmap_events_drain(s->mmaps);
}

void stacks_on_sample(struct stacks *s, const void *data, size_t len)
{
	const struct stack_sample *smp = data;

	if (!s->unw || len < offsetof(struct stack_sample, stack) ||
	    len < offsetof(struct stack_sample, stack) + smp->stack_len)
		return;
	if (unwind_worker_sample(s->unw, smp, len, read_maps(s, smp)))
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

void stacks_on_held(struct stacks *s, const void *data, size_t len)
{
	if (len >= sizeof(struct held_record))
		held_pages_record(&s->held, data);
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
	m->tree_seq = ended ? st->tree_seq : s->final_tree_seq;
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

/* Adds what an address space held at the tree's latest peak while it lived
 * (seq) to what others did: a later peak (seq above) replaces the sum, an
 * earlier one adds nothing (that address space was gone at the later one). */
static void tree_held_add(struct tree_held *into, const uint64_t *pages, uint64_t seq)
{
	if (seq < into->seq)
		return;
	if (seq > into->seq)
		*into = (struct tree_held){ .seq = seq };
	for (int i = 0; i < RSS_NR_MEMBERS; i++)
		into->pages[i] += pages[i];
}

/* One entry of an address space whose final peak_seq is known. */
static void fold(struct stacks *s, const struct stack_key *k, const void *value, const struct stack_mm *m)
{
	const struct stack_count *c = value;
	bool after_peak = c->seq == m->peak_seq;
	struct stack_agg *a = agg_get(s, k->hash, m->comm);
	uint64_t held[RSS_NR_MEMBERS], at_tree[RSS_NR_MEMBERS];

	if (!a) {
		s->harvest_errors++;
		return;
	}
	held_pages_at_peak(&s->held, k->tgid, k->start_ns, k->hash, m->peak_seq, m->tree_seq, held, at_tree);
	tree_held_add(&a->tree, at_tree, m->tree_seq);
	for (int i = 0; i < RSS_NR_MEMBERS; i++) {
		a->grown[i] += c->grown[i];
		a->at_peak[i] += after_peak ? c->at_peak[i] : c->grown[i];
		a->held[i] += held[i];
	}
	a->samples += c->samples;
	/* one entry per (address space, stack): each address space once */
	if (!array_grow((void **)&a->mms, &a->mms_cap, a->procs, sizeof(*a->mms))) {
		s->harvest_errors++;
		return;
	}
	a->mms[a->procs++] = address_space_key(m->tgid, m->start_ns);
}

/* One cow_counts entry: pages an ended (or, at the end, live) process copied. */
static void fold_cow(struct stacks *s, const struct stack_key *k, const void *value, const struct stack_mm *m)
{
	uint64_t pages = *(const uint64_t *)value;
	struct stack_agg *a = agg_get(s, k->hash, m->comm);
	struct cow_charge *c;

	if (!a || !array_grow((void **)&s->cows, &s->cows_cap, s->ncows, sizeof(*s->cows))) {
		s->harvest_errors++;
		return;
	}
	a->cow += pages;
	c = &s->cows[s->ncows++];
	c->tgid = k->tgid;
	memcpy(c->comm, m->comm, RSS_COMM_LEN);
	c->hash = k->hash;
	c->pages = pages;
}

static bool tgid_listed(const uint32_t *v, size_t n, uint32_t tgid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tgid)
			return true;
	return false;
}

static void read_frames(struct stacks *s);

typedef void (*fold_fn)(struct stacks *s, const struct stack_key *k, const void *value,
			const struct stack_mm *m);

/* Folds in the entries of map fd (values read into value) whose address
 * space ended (all if final), and deletes them. */
static void harvest_map(struct stacks *s, int fd, void *value, fold_fn fold, bool final)
{
	struct stack_key key, next, *prev = NULL, *done = NULL;
	size_t ndone = 0, done_cap = 0, nlive = 0;
	uint32_t live[64];

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct stack_mm *m;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, value))
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
		fold(s, &key, value, m);
		if (final)
			continue;
		if (!array_grow((void **)&done, &done_cap, ndone, sizeof(*done)))
			break;
		done[ndone++] = key;
	}
	/* deleted after the walk: deleting under get_next_key restarts it */
	for (size_t i = 0; i < ndone; i++)
		bpf_map_delete_elem(fd, &done[i]);
	free(done);
}

int stacks_harvest(struct stacks *s, bool final)
{
	struct stack_count c;
	uint64_t copied;

	if (s->unw)
		sync_worker(s, final);
	harvest_map(s, s->counts_fd, &c, fold, final);
	if (s->cow_fd >= 0)
		harvest_map(s, s->cow_fd, &copied, fold_cow, final);
	/* forget ended address spaces: their entries are all folded in */
	if (!final) {
		size_t w = 0;

		for (size_t i = 0; i < s->nmms; i++)
			if (!s->mms[i].ended)
				s->mms[w++] = s->mms[i];
			else
				held_pages_forget(&s->held, s->mms[i].tgid, s->mms[i].start_ns);
		s->nmms = w;
	} else {
		read_frames(s);
	}
	return 0;
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
	uint64_t x = stacks_resident(a->held), y = stacks_resident(b->held);

	if (x != y)
		return x < y ? 1 : -1;
	x = stacks_resident(a->at_peak);
	y = stacks_resident(b->at_peak);
	if (x != y)
		return x < y ? 1 : -1;
	if (stacks_resident(a->grown) != stacks_resident(b->grown))
		return stacks_resident(a->grown) < stacks_resident(b->grown) ? 1 : -1;
	return strcmp(a->folded, b->folded);
}

/* Fills *out from source i (the stack aggregate or one process's copies)
 * but its name; returns the aggregate that names it, NULL to skip i. */
typedef const struct stack_agg *(*named_source)(struct stacks *s, size_t i, struct named_stack *out);
/* Adds from's numbers to into's: one name (and process) on both. */
typedef void (*named_merge)(struct named_stack *into, const struct named_stack *from);

/* The nsrc sources named (*out malloc'ed), those that compare equal by
 * same merged, sorted by order. Returns how many, or -ENOMEM. */
static long name_and_merge(struct stacks *s, size_t nsrc, named_source src,
			   int (*same)(const void *, const void *), named_merge merge,
			   int (*order)(const void *, const void *), struct named_stack **out)
{
	struct named_stack *v = calloc(nsrc ? nsrc : 1, sizeof(*v));
	char *line = malloc(65536);
	size_t n = 0, w = 0;

	*out = NULL;
	if (!v || !line) {
		free(v);
		free(line);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nsrc; i++) {
		const struct stack_agg *a = src(s, i, &v[n]);

		if (!a)
			continue;
		folded_name(s, a, line, 65536);
		v[n].folded = strdup(line);
		if (v[n].folded)
			n++;
	}
	free(line);
	if (n)
		qsort(v, n, sizeof(*v), same);
	for (size_t r = 0; r < n; r++) {
		if (w && !same(&v[w - 1], &v[r])) {
			merge(&v[w - 1], &v[r]);
			free(v[r].folded);
			free(v[r].mms);
			continue;
		}
		v[w++] = v[r];
	}
	if (w)
		qsort(v, w, sizeof(*v), order);
	*out = v;
	return (long)w;
}

static const struct stack_agg *agg_source(struct stacks *s, size_t i, struct named_stack *out)
{
	const struct stack_agg *a = &s->aggs[i];

	if (!a->used)
		return NULL;
	memcpy(out->at_peak, a->at_peak, sizeof(a->at_peak));
	memcpy(out->grown, a->grown, sizeof(a->grown));
	memcpy(out->held, a->held, sizeof(a->held));
	out->tree = a->tree;
	out->procs = a->procs;
	out->mms = a->procs ? malloc(a->procs * sizeof(*out->mms)) : NULL;
	if (out->mms)
		memcpy(out->mms, a->mms, a->procs * sizeof(*out->mms));
	else
		out->procs = 0; /* out of memory: counted as none */
	out->samples = a->samples;
	out->cow = a->cow;
	return a;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* The address spaces of two variants of one named stack, each counted once:
 * one process has variants of its own (return addresses at other lines of
 * one function), and with ASLR each process has its own hash of one code
 * path (8 processes of one stack said "1 process" when the larger variant
 * won). */
static void add_processes(struct named_stack *into, const struct named_stack *from)
{
	uint64_t *v = realloc(into->mms, (into->procs + from->procs + 1) * sizeof(*v));
	uint32_t n = 0;

	if (!v) { /* out of memory: the larger count, as a floor */
		into->procs = from->procs > into->procs ? from->procs : into->procs;
		return;
	}
	if (from->procs) /* from->mms is NULL otherwise */
		memcpy(v + into->procs, from->mms, from->procs * sizeof(*v));
	qsort(v, into->procs + from->procs, sizeof(*v), cmp_u64);
	for (uint32_t i = 0; i < into->procs + from->procs; i++)
		if (!n || v[n - 1] != v[i])
			v[n++] = v[i];
	into->mms = v;
	into->procs = n;
}

static void merge_variants(struct named_stack *into, const struct named_stack *from)
{
	for (int m = 0; m < RSS_NR_MEMBERS; m++) {
		into->at_peak[m] += from->at_peak[m];
		into->grown[m] += from->grown[m];
		into->held[m] += from->held[m];
	}
	tree_held_add(&into->tree, from->tree.pages, from->tree.seq);
	into->cow += from->cow;
	into->samples += from->samples;
	add_processes(into, from);
}

/* Every stack, named and merged (*out malloc'ed), heaviest first. Returns
 * how many, or -ENOMEM. */
static long name_stacks(struct stacks *s, struct named_stack **out)
{
	stacks_find_files(s);
	return name_and_merge(s, s->aggs_cap, agg_source, cmp_name, merge_variants, cmp_weight, out);
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

static int cmp_process_name(const void *pa, const void *pb)
{
	const struct named_stack *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return strcmp(a->folded, b->folded);
}

static int cmp_cow(const void *pa, const void *pb)
{
	const struct named_stack *a = pa, *b = pb;

	if (a->cow != b->cow)
		return a->cow < b->cow ? 1 : -1;
	return cmp_process_name(pa, pb);
}

static const struct stack_agg *cow_source(struct stacks *s, size_t i, struct named_stack *out)
{
	const struct cow_charge *c = &s->cows[i];

	out->tgid = c->tgid;
	out->cow = c->pages;
	return agg_find(s->aggs, s->aggs_cap, c->hash, c->comm);
}

static void merge_cow(struct named_stack *into, const struct named_stack *from)
{
	into->cow += from->cow;
}

/* Each process's copies by named stack (*out malloc'ed), merged, heaviest
 * first; after named_stacks() (which finds the files to name them). Returns
 * how many, or -ENOMEM. */
static long name_cow_charges(struct stacks *s, struct named_stack **out)
{
	return name_and_merge(s, s->ncows, cow_source, cmp_process_name, merge_cow, cmp_cow, out);
}

/* How many named stacks have faulted-in charges: they come first (their
 * order is by those charges), the ones that only copied on write after. */
static long charged_stacks(const struct named_stack *v, long n)
{
	long k = 0;

	while (k < n && stacks_resident(v[k].grown))
		k++;
	return k;
}

static uint64_t at_peak_weight(const struct named_stack *v)
{
	return stacks_resident(v->at_peak);
}

static uint64_t cow_weight(const struct named_stack *v)
{
	return v->cow;
}

/* A folded line per stack of non-zero weight (pages). */
static int write_folded(struct stacks *s, FILE *out, uint64_t (*weight)(const struct named_stack *))
{
	struct named_stack *v;
	long n = named_stacks(s, &v);

	if (n < 0)
		return (int)n;
	for (long i = 0; i < n; i++)
		if (weight(&v[i]))
			fprintf(out, "%s %llu\n", v[i].folded, (unsigned long long)weight(&v[i]));
	return ferror(out) ? -EIO : 0;
}

int stacks_write_folded(struct stacks *s, FILE *out)
{
	return write_folded(s, out, at_peak_weight);
}

int stacks_write_cow_folded(struct stacks *s, FILE *out)
{
	return write_folded(s, out, cow_weight);
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

/* --stack-sample: a 95% bound of the error of a figure made of k samples:
 * the samples of a stack are a Poisson count (each page one independently),
 * whose standard deviation is sqrt(k), times 1.96, in pages. */
static uint64_t sample_error_pages(const struct stacks *s, uint64_t k)
{
	return (uint64_t)ceil(1.96 * sqrt((double)k) * s->sample_pages);
}

/* The faulted-in sample type: "stack" objects, or the text section. */
static void print_charged(struct stacks *s, FILE *out, bool json, uint64_t page_kb,
			  const struct loss_counters *loss)
{
	struct named_stack *v;
	long n = named_stacks(s, &v);
	uint64_t charged = 0, held = 0, tree = 0, samples = 0;
	char a[5][16];
	struct json_obj j;

	if (n < 0) {
		fprintf(out, "WARNING: out of memory: stacks not shown\n");
		return;
	}
	n = charged_stacks(v, n);
	for (long i = 0; i < n; i++) {
		charged += stacks_resident(v[i].at_peak);
		held += stacks_resident(v[i].held);
		tree += stacks_tree_held(s, &v[i].tree);
		samples += v[i].samples;
	}
	if (json) {
		for (long i = 0; i < n; i++) {
			json_begin(&j, out);
			json_str(&j, "type", "stack");
			json_uint(&j, "at_peak_kb", stacks_resident(v[i].at_peak) * page_kb);
			json_uint(&j, "anon_kb", v[i].at_peak[RSS_ANON] * page_kb);
			json_uint(&j, "file_kb", v[i].at_peak[RSS_FILE] * page_kb);
			json_uint(&j, "shmem_kb", v[i].at_peak[RSS_SHMEM] * page_kb);
			json_uint(&j, "grown_kb", stacks_resident(v[i].grown) * page_kb);
			if (s->held_on) {
				json_uint(&j, "held_at_peak_kb", stacks_resident(v[i].held) * page_kb);
				json_uint(&j, "held_anon_kb", v[i].held[RSS_ANON] * page_kb);
				json_uint(&j, "held_file_kb", v[i].held[RSS_FILE] * page_kb);
				json_uint(&j, "held_shmem_kb", v[i].held[RSS_SHMEM] * page_kb);
				json_uint(&j, "held_at_tree_peak_kb", stacks_tree_held(s, &v[i].tree) * page_kb);
			}
			json_uint(&j, "processes", v[i].procs);
			if (s->sample_pages) {
				json_uint(&j, "samples", v[i].samples);
				json_uint(&j, "error_kb", sample_error_pages(s, v[i].samples) * page_kb);
			}
			json_str(&j, "folded", v[i].folded);
			json_end(&j);
		}
		json_begin(&j, out);
		json_str(&j, "type", "stacks");
		json_uint(&j, "sample_kb", s->sample_pages * page_kb);
		json_uint(&j, "charge_samples", samples);
		json_uint(&j, "stacks", (uint64_t)n);
		json_uint(&j, "charged_at_peaks_kb", charged * page_kb);
		json_uint(&j, "sum_of_peaks_kb", s->peak_pages * page_kb);
		json_bool(&j, "held_measured", s->held_on);
		if (s->held_on) {
			json_uint(&j, "held_at_peaks_kb", held * page_kb);
			json_uint(&j, "held_at_tree_peak_kb", tree * page_kb);
			json_uint(&j, "held_unknown_address_kb", s->held.unknown_pages * page_kb);
			json_uint(&j, "held_given_back_kb", s->held.given_back * page_kb);
			json_uint(&j, "held_records_lost", loss->held_lost);
			json_uint(&j, "held_records_dropped", s->held.errors);
		}
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
			json_uint(&j, "samples_with_mmap_records", s->maps_from_events);
			json_uint(&j, "mmap_records_lost", s->mmaps ? mmap_events_lost(s->mmaps) : 0);
			json_uint(&j, "samples_not_unwound", s->unwind_failed);
			json_uint(&j, "samples_lost", loss->samples_lost);
		}
		debuginfod_json(&j);
		json_end(&j);
		return;
	}
	if (s->held_on)
		fprintf(out, "\nWhere the memory came from (--stacks=%s): pages each stack made resident\n"
			     "and still held at its process's peak, and those it faulted in up to it,\n"
			     "freed before it or not (innermost frame first; %s)\n",
			s->dwarf ? "dwarf" : "fp", s->dwarf ? "unwound with the files' CFI" : "frame-pointer walk");
	else
		fprintf(out, "\nWhere the memory came from (--stacks=%s): pages each stack faulted in,\n"
			     "up to its process's peak (innermost frame first; %s)\n",
			s->dwarf ? "dwarf" : "fp", s->dwarf ? "unwound with the files' CFI" : "frame-pointer walk");
	for (long i = 0; i < n && i < STACKS_TOP; i++) {
		const char *semi = strchr(v[i].folded, ';');
		const uint64_t *shown = s->held_on ? v[i].held : v[i].at_peak;

		fprintf(out, "  #%-2ld %s%s (anon %s, file %s, shmem %s)", i + 1,
			fmt_kb(stacks_resident(shown) * page_kb, a[0], 16), s->held_on ? " held" : "",
			fmt_kb(shown[RSS_ANON] * page_kb, a[1], 16), fmt_kb(shown[RSS_FILE] * page_kb, a[2], 16),
			fmt_kb(shown[RSS_SHMEM] * page_kb, a[3], 16));
		if (s->held_on)
			fprintf(out, " of %s faulted in,", fmt_kb(stacks_resident(v[i].at_peak) * page_kb, a[0], 16));
		if (s->held_on && stacks_tree_held(s, &v[i].tree) != stacks_resident(v[i].held))
			fprintf(out, " %s at the tree's peak,", fmt_kb(stacks_tree_held(s, &v[i].tree) * page_kb, a[0], 16));
		fprintf(out, " in %u %.*s process%s\n", v[i].procs,
			semi ? (int)(semi - v[i].folded) : (int)strlen(v[i].folded), v[i].folded,
			v[i].procs == 1 ? "" : "es");
		if (s->sample_pages)
			fprintf(out, "        estimated from %llu sample%s: within %s (95%%)\n",
				(unsigned long long)v[i].samples, v[i].samples == 1 ? "" : "s",
				fmt_kb(sample_error_pages(s, v[i].samples) * page_kb, a[4], 16));
		print_frames(out, v[i].folded, 8);
	}
	if (n > STACKS_TOP)
		fprintf(out, "  ... %ld more stacks (--folded FILE or --json has them all)\n", n - STACKS_TOP);
	fprintf(out, "  Charged to stacks up to each peak: %s; the peaks add up to %s. Charges\n"
		     "  count pages faulted in, including any freed before the peak; pages that\n"
		     "  came without a user stack of the process (fork's copy, kernel threads,\n"
		     "  before tracing began) are not charged.\n",
		fmt_kb(charged * page_kb, a[0], 16), fmt_kb(s->peak_pages * page_kb, a[1], 16));
	if (s->held_on)
		fprintf(out, "  Held at the peaks by these stacks: %s; at the tree's peak (the moment\n"
			     "  all processes together peaked): %s. A charge counts as held until its\n"
			     "  fault's page is unmapped, dropped (MADV_DONTNEED/REMOVE), cut off a\n"
			     "  shrinking heap%s;\n"
			     "  %s charged without a fault (MAP_POPULATE, mlock) stays held.\n",
			fmt_kb(held * page_kb, a[0], 16), fmt_kb(tree * page_kb, a[2], 16),
			s->reclaim_seen ? ", or reclaimed (swap-out, MADV_PAGEOUT)"
					: " (reclaim and swap-out are not seen here: rsstrace --hooks)",
			fmt_kb(s->held.unknown_pages * page_kb, a[1], 16));
	else
		fprintf(out, "  What each stack still held at the peak was not measured (no fault or\n"
			     "  memory syscall tracepoints here).\n");
	if (loss->held_lost || s->held.errors)
		fprintf(out, "WARNING: held figures approximate: %llu charges or freed ranges lost (ring buffer "
			     "full), %llu dropped (out of memory)\n",
			(unsigned long long)loss->held_lost, (unsigned long long)s->held.errors);
	if (s->sample_pages)
		fprintf(out, "  Sampled (--stack-sample %s): a page in %u on average was charged, as\n"
			     "  %u pages; %llu samples in all. A stack's figure from k samples is within\n"
			     "  2 * sqrt(k) samples of what it faulted in, 19 times out of 20.\n",
			fmt_kb(s->sample_pages * page_kb, a[0], 16), s->sample_pages, s->sample_pages,
			(unsigned long long)samples);
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
			     "  frame (innermost frame only), %llu lost (ring buffer full); %llu of processes\n"
			     "  gone (or exec'd) before their maps were read, with the kernel's mmap records\n",
			(unsigned long long)s->unwound, (unsigned long long)s->unwound_to_end,
			(unsigned long long)s->unwind_failed, (unsigned long long)loss->samples_lost,
			(unsigned long long)s->maps_from_events);
	if (s->mmaps && mmap_events_lost(s->mmaps))
		fprintf(out, "  %llu mmap records lost (the kernel's buffers full)\n",
			(unsigned long long)mmap_events_lost(s->mmaps));
	print_debuginfod(out);
}

/* The innermost frame of a folded name (the function that wrote). */
static const char *innermost(const char *folded)
{
	const char *semi = strrchr(folded, ';');

	return semi ? semi + 1 : folded;
}

static int cmp_tree_cow(const void *pa, const void *pb)
{
	const struct named_stack *a = *(struct named_stack *const *)pa, *b = *(struct named_stack *const *)pb;

	if (a->cow != b->cow)
		return a->cow < b->cow ? 1 : -1;
	return strcmp(a->folded, b->folded);
}

/* The named stacks that copied, heaviest first (*out malloc'ed). */
static long cow_stacks(struct stacks *s, struct named_stack ***out, uint64_t *pages)
{
	struct named_stack *v;
	long n = named_stacks(s, &v), k = 0;
	struct named_stack **p;

	*pages = 0;
	*out = NULL;
	if (n < 0)
		return n;
	p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (long i = 0; i < n; i++)
		if (v[i].cow) {
			p[k++] = &v[i];
			*pages += v[i].cow;
		}
	qsort(p, k, sizeof(*p), cmp_tree_cow);
	*out = p;
	return k;
}

static void print_cow_json(struct stacks *s, FILE *out, uint64_t page_kb, const struct loss_counters *loss,
			   struct named_stack **tree, long ntree, uint64_t pages)
{
	struct json_obj j;

	for (long i = 0; i < ntree; i++) {
		json_begin(&j, out);
		json_str(&j, "type", "cow_stack");
		json_uint(&j, "copied_kb", tree[i]->cow * page_kb);
		json_uint(&j, "processes", tree[i]->cow_procs);
		json_str(&j, "folded", tree[i]->folded);
		json_end(&j);
	}
	for (long i = 0; i < s->ncow_named; i++) {
		json_begin(&j, out);
		json_str(&j, "type", "cow_process_stack");
		json_uint(&j, "pid", s->cow_named[i].tgid);
		json_uint(&j, "copied_kb", s->cow_named[i].cow * page_kb);
		json_str(&j, "folded", s->cow_named[i].folded);
		json_end(&j);
	}
	json_begin(&j, out);
	json_str(&j, "type", "cow_stacks");
	if (s->cow_hook)
		json_str(&j, "hook", s->cow_hook);
	else
		json_null(&j, "hook");
	json_uint(&j, "stacks", (uint64_t)ntree);
	json_uint(&j, "copied_kb", pages * page_kb);
	json_uint(&j, "unknown_faults", loss->cow_unknown);
	json_end(&j);
}

static void print_cow_text(struct stacks *s, FILE *out, uint64_t page_kb, const struct loss_counters *loss,
			   struct named_stack **tree, long ntree, uint64_t pages)
{
	char a[16];

	if (!s->cow_hook) {
		fprintf(out, "\nWhich code broke copy-on-write: not counted (no hook on this kernel;\n"
			     "rsstrace --hooks tells why)\n");
		return;
	}
	fprintf(out, "\nWhich code broke copy-on-write: pages each stack copied on write to memory\n"
		     "shared since fork, whole lifetimes (%s)\n", s->cow_hook);
	for (long i = 0; i < ntree && i < STACKS_TOP; i++) {
		const char *semi = strchr(tree[i]->folded, ';');

		fprintf(out, "  #%-2ld %s in %u %.*s process%s\n", i + 1, fmt_kb(tree[i]->cow * page_kb, a, 16),
			tree[i]->cow_procs, semi ? (int)(semi - tree[i]->folded) : (int)strlen(tree[i]->folded),
			tree[i]->folded, tree[i]->cow_procs == 1 ? "" : "es");
		print_frames(out, tree[i]->folded, 8);
	}
	if (ntree > STACKS_TOP)
		fprintf(out, "  ... %ld more stacks (--cow-folded FILE or --json has them all)\n", ntree - STACKS_TOP);
	if (s->ncow_named)
		fprintf(out, "  Per process (pid: copied, innermost frame):\n");
	for (long i = 0; i < s->ncow_named && i < STACKS_TOP; i++)
		fprintf(out, "    %-8u %8s  %s\n", s->cow_named[i].tgid,
			fmt_kb(s->cow_named[i].cow * page_kb, a, 16), innermost(s->cow_named[i].folded));
	fprintf(out, "  Copied in all: %s.\n", fmt_kb(pages * page_kb, a, 16));
	if (loss->cow_unknown)
		fprintf(out, "  %llu write faults not told apart (their mapping could not be looked up)\n",
			(unsigned long long)loss->cow_unknown);
}

static int cmp_ptr_name(const void *pa, const void *pb)
{
	return cmp_name(*(struct named_stack *const *)pa, *(struct named_stack *const *)pb);
}

/* Each tree stack's processes: those with copies through it. Not the
 * largest count among its merged variants, as for faulted-in stacks: with
 * --stacks=dwarf every process has variants of its own. The per-process
 * list has one entry per (process, name). */
static int count_cow_processes(struct stacks *s, struct named_stack **tree, long ntree)
{
	struct named_stack **by_name = malloc((ntree ? ntree : 1) * sizeof(*by_name));

	if (!by_name)
		return -ENOMEM;
	memcpy(by_name, tree, ntree * sizeof(*by_name));
	qsort(by_name, ntree, sizeof(*by_name), cmp_ptr_name);
	for (long i = 0; i < ntree; i++)
		tree[i]->cow_procs = 0;
	for (long i = 0; i < s->ncow_named; i++) {
		struct named_stack *key = &s->cow_named[i];
		struct named_stack **found = bsearch(&key, by_name, ntree, sizeof(*by_name), cmp_ptr_name);

		if (found)
			(*found)->cow_procs++;
	}
	free(by_name);
	return 0;
}

/* The copy-on-write sample type: per stack for the tree, per process. */
static void print_cow(struct stacks *s, FILE *out, bool json, uint64_t page_kb, const struct loss_counters *loss)
{
	struct named_stack **tree;
	uint64_t pages;
	long ntree = cow_stacks(s, &tree, &pages);

	if (ntree >= 0 && !s->cow_named && s->ncows)
		s->ncow_named = name_cow_charges(s, &s->cow_named);
	if (ntree < 0 || s->ncow_named < 0 || count_cow_processes(s, tree, ntree)) {
		fprintf(out, "WARNING: out of memory: copy-on-write stacks not shown\n");
		free(tree);
		return;
	}
	if (json)
		print_cow_json(s, out, page_kb, loss, tree, ntree, pages);
	else
		print_cow_text(s, out, page_kb, loss, tree, ntree, pages);
	free(tree);
}

void stacks_print(struct stacks *s, FILE *out, bool json, uint64_t page_kb,
		  const struct loss_counters *loss)
{
	print_charged(s, out, json, page_kb, loss);
	print_cow(s, out, json, page_kb, loss);
}
