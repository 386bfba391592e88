// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/mmap_events.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/array.h"
#include "core/regular_file.h"

#define MAX_IMAGES 4096
#define MAX_IMAGE_MAPS 4096
/* 64 KiB per CPU: about 500 records between two drains (the trace loop
 * drains every 50 ms at most, and at every stack sample) */
#define RING_PAGES 16

struct code_map {
	uint64_t start, end, pgoff, ino;
	uint32_t maj, min;
	char *path;
};

/* One exec'd image of a process: what it mapped executable since. */
struct image {
	uint32_t tgid;
	uint64_t exec_ns;
	uint64_t exit_ns; /* UINT64_MAX until its process exits */
	uint64_t used; /* the table's clock when last touched: the LRU's */
	struct code_map *v;
	size_t n, cap;
	char *text; /* the maps text made of v (cached until v changes) */
};

/* A record read, waiting for the others of the same read: each CPU has its
 * buffer, and an exec's records can be on two CPUs (it migrated). */
struct pending {
	uint64_t time, seq;
	struct perf_event_header *h; /* a copy */
};

struct mmap_events {
	struct perf_buffer *pb;
	int map_fd;
	struct pending *pending;
	size_t npending, pending_cap;
	struct image *imgs;
	size_t n, cap;
	uint64_t clock, lost;
	long page;
};

/* the trailer sample_id_all appends with PERF_SAMPLE_TID | PERF_SAMPLE_TIME */
struct sample_id {
	uint32_t pid, tid;
	uint64_t time;
};

struct mmap2_record {
	struct perf_event_header header;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
	char filename[];
};

struct comm_record {
	struct perf_event_header header;
	uint32_t pid, tid;
	char comm[];
};

struct exit_record {
	struct perf_event_header header;
	uint32_t pid, ppid, tid, ptid;
	uint64_t time;
};

struct lost_record {
	struct perf_event_header header;
	uint64_t id, lost;
};

static void image_free(struct image *im)
{
	for (size_t i = 0; i < im->n; i++)
		free(im->v[i].path);
	free(im->v);
	free(im->text);
}

/* The image process tgid ran at at_ns: exec'd before, not exited (a
 * process that reuses the pid later is another). */
static struct image *find_image(struct mmap_events *me, uint32_t tgid, uint64_t at_ns)
{
	struct image *best = NULL;

	for (size_t i = 0; i < me->n; i++) {
		struct image *im = &me->imgs[i];

		if (im->tgid == tgid && im->exec_ns <= at_ns && (!best || im->exec_ns > best->exec_ns))
			best = im;
	}
	return best && at_ns < best->exit_ns ? best : NULL;
}

/* A new image (the least recently used one makes room at the limit). */
static struct image *new_image(struct mmap_events *me, uint32_t tgid, uint64_t exec_ns)
{
	struct image *im;

	if (me->n == MAX_IMAGES) {
		size_t lru = 0;

		for (size_t i = 1; i < me->n; i++)
			if (me->imgs[i].used < me->imgs[lru].used)
				lru = i;
		image_free(&me->imgs[lru]);
		me->imgs[lru] = me->imgs[--me->n];
	}
	if (!array_grow((void **)&me->imgs, &me->cap, me->n, sizeof(*me->imgs)))
		return NULL;
	im = &me->imgs[me->n++];
	memset(im, 0, sizeof(*im));
	im->tgid = tgid;
	im->exec_ns = exec_ns;
	im->exit_ns = UINT64_MAX;
	im->used = ++me->clock;
	return im;
}

/* A mapping replaces those it overlaps (the kernel unmapped them). */
static bool add_map(struct mmap_events *me, struct image *im, const struct code_map *m)
{
	size_t k = 0;

	for (size_t i = 0; i < im->n; i++)
		if (im->v[i].end <= m->start || im->v[i].start >= m->end)
			im->v[k++] = im->v[i];
		else
			free(im->v[i].path);
	im->n = k;
	if (im->n == MAX_IMAGE_MAPS || !array_grow((void **)&im->v, &im->cap, im->n, sizeof(*im->v)))
		return false;
	im->v[im->n++] = *m;
	free(im->text);
	im->text = NULL;
	im->used = ++me->clock;
	return true;
}

static void on_mmap2(struct mmap_events *me, const struct mmap2_record *r, const struct sample_id *sid)
{
	size_t room = r->header.size - sizeof(*r) - sizeof(*sid);
	struct image *im = find_image(me, r->pid, sid->time);
	struct code_map m = { .start = r->addr, .end = r->addr + r->len, .pgoff = r->pgoff,
			      .ino = r->ino, .maj = r->maj, .min = r->min };

	/* only images seen from their exec on are complete; a path with a
	 * newline would end its line of the maps text early (/proc escapes it) */
	if (!im || r->header.misc & PERF_RECORD_MISC_MMAP_BUILD_ID || r->filename[0] != '/' ||
	    !memchr(r->filename, 0, room) || strchr(r->filename, '\n'))
		return;
	m.path = strdup(r->filename);
	if (!m.path || !add_map(me, im, &m)) {
		free(m.path);
		me->lost++;
	}
}

static void handle_record(struct mmap_events *me, const struct perf_event_header *h)
{
	const struct sample_id *sid = (const void *)((const char *)h + h->size - sizeof(*sid));

	if (h->type == PERF_RECORD_LOST && h->size >= sizeof(struct lost_record)) {
		me->lost += ((const struct lost_record *)h)->lost;
	} else if (h->type == PERF_RECORD_EXIT && h->size >= sizeof(struct exit_record) + sizeof(*sid)) {
		const struct exit_record *r = (const void *)h;
		struct image *im = r->pid == r->tid ? find_image(me, r->pid, r->time) : NULL;

		if (im)
			im->exit_ns = r->time;
	} else if (h->type == PERF_RECORD_MMAP2 && h->size >= sizeof(struct mmap2_record) + sizeof(*sid) + 1) {
		on_mmap2(me, (const void *)h, sid);
	} else if (h->type == PERF_RECORD_COMM && h->misc & PERF_RECORD_MISC_COMM_EXEC &&
		   h->size >= sizeof(struct comm_record) + sizeof(*sid) &&
		   !new_image(me, ((const struct comm_record *)h)->pid, sid->time)) {
		me->lost++;
	}
}

/* Kept (copied: it may lie in the ring) until the whole read is sorted. */
static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *h)
{
	struct mmap_events *me = ctx;
	const struct sample_id *sid = (const void *)((const char *)h + h->size - sizeof(*sid));
	struct pending *p;

	if (h->size < sizeof(*h) + sizeof(*sid) ||
	    !array_grow((void **)&me->pending, &me->pending_cap, me->npending, sizeof(*me->pending))) {
		me->lost++;
		return LIBBPF_PERF_EVENT_CONT;
	}
	p = &me->pending[me->npending];
	p->h = malloc(h->size);
	if (!p->h) {
		me->lost++;
		return LIBBPF_PERF_EVENT_CONT;
	}
	memcpy(p->h, h, h->size);
	p->time = sid->time;
	p->seq = me->npending++;
	return LIBBPF_PERF_EVENT_CONT;
}

static int by_time(const void *pa, const void *pb)
{
	const struct pending *a = pa, *b = pb;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct mmap_events *mmap_events_open(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.size = sizeof(attr),
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
		.mmap = 1,
		.mmap2 = 1,
		.comm = 1,
		.comm_exec = 1,
		.task = 1, /* exits: a pid used again is another process */
		.sample_id_all = 1,
		/* the clock of bpf_ktime_get_ns(), which stamps an mm's start */
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	struct mmap_events *me = calloc(1, sizeof(*me));
	int ncpus = libbpf_num_possible_cpus(), err;

	if (!me)
		return NULL;
	me->page = sysconf(_SC_PAGESIZE);
	elf_version(EV_CURRENT);
	me->map_fd = ncpus > 0 ? bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "mmap_events", sizeof(int),
						 sizeof(int), (uint32_t)ncpus, NULL)
			       : ncpus;
	if (me->map_fd < 0) {
		err = -me->map_fd;
		free(me);
		errno = err;
		return NULL;
	}
	me->pb = perf_buffer__new_raw(me->map_fd, RING_PAGES, &attr, on_record, me, NULL);
	if (!me->pb) {
		err = errno;
		close(me->map_fd);
		free(me);
		errno = err;
		return NULL;
	}
	return me;
}

void mmap_events_drain(struct mmap_events *me)
{
	perf_buffer__consume(me->pb);
	/* in time order: an exec's image begins before its mappings come */
	qsort(me->pending, me->npending, sizeof(*me->pending), by_time);
	for (size_t i = 0; i < me->npending; i++) {
		handle_record(me, me->pending[i].h);
		free(me->pending[i].h);
	}
	me->npending = 0;
	array_fit((void **)&me->pending, &me->pending_cap, 0, sizeof(*me->pending));
}

/* The address of the file's first segment, given that the file's offset
 * pgoff is mapped at start: libdwfl reports a module from its lowest
 * mapping and takes the load bias from there, but the kernel reports only
 * the executable mappings, and the first segment is read-only data in
 * today's linkers. 0 if the file cannot be read. */
static uint64_t first_segment(const struct mmap_events *me, const struct code_map *m, uint64_t *first_pgoff)
{
	int fd = open_regular_file(m->path);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	uint64_t mask = ~((uint64_t)me->page - 1), low = 0;
	GElf_Phdr ph, first = { 0 }, seg = { 0 };
	bool have_first = false, have_seg = false;
	size_t n = 0;

	if (e && !elf_getphdrnum(e, &n)) {
		for (size_t i = 0; i < n; i++) {
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (!have_first)
				first = ph, have_first = true;
			if ((ph.p_offset & mask) <= m->pgoff && m->pgoff < ph.p_offset + ph.p_filesz && !have_seg)
				seg = ph, have_seg = true;
		}
	}
	if (have_first && have_seg) {
		/* an address of the file is bias + p_vaddr; start maps pgoff */
		uint64_t bias = m->start - m->pgoff + seg.p_offset - seg.p_vaddr;

		low = bias + (first.p_vaddr & mask);
		*first_pgoff = first.p_offset & mask;
	}
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return low;
}

static int by_start(const void *pa, const void *pb)
{
	const struct code_map *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

static bool same_file(const struct code_map *a, const struct code_map *b)
{
	return !strcmp(a->path, b->path) && a->ino == b->ino && a->maj == b->maj && a->min == b->min;
}

static int put_line(FILE *f, uint64_t start, uint64_t end, const char *perms, uint64_t pgoff,
		    const struct code_map *m)
{
	return fprintf(f, "%llx-%llx %s %08llx %02x:%02x %llu %s\n", (unsigned long long)start,
		       (unsigned long long)end, perms, (unsigned long long)pgoff, m->maj, m->min,
		       (unsigned long long)m->ino, m->path);
}

static char *image_text(const struct mmap_events *me, struct image *im)
{
	char *text = NULL;
	size_t size = 0;
	uint64_t prev_end = 0;
	FILE *f;

	qsort(im->v, im->n, sizeof(*im->v), by_start);
	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < im->n; i++) {
		const struct code_map *m = &im->v[i];
		uint64_t first_pgoff = 0, low;

		if (i == 0 || !same_file(m, &im->v[i - 1])) {
			low = first_segment(me, m, &first_pgoff);
			if (low && low < m->start && low >= prev_end)
				put_line(f, low, m->start, "r--p", first_pgoff, m);
		}
		put_line(f, m->start, m->end, "r-xp", m->pgoff, m);
		prev_end = m->end;
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

char *mmap_events_maps_text(struct mmap_events *me, uint32_t tgid, uint64_t start_ns)
{
	struct image *im = find_image(me, tgid, start_ns);

	if (!im || !im->n)
		return NULL;
	im->used = ++me->clock;
	if (!im->text)
		im->text = image_text(me, im);
	return im->text ? strdup(im->text) : NULL;
}

int mmap_events_newer_image(struct mmap_events *me, uint32_t tgid, uint64_t start_ns)
{
	for (size_t i = 0; i < me->n; i++)
		if (me->imgs[i].tgid == tgid && me->imgs[i].exec_ns > start_ns)
			return 1;
	return 0;
}

uint64_t mmap_events_lost(const struct mmap_events *me)
{
	return me->lost;
}

void mmap_events_free(struct mmap_events *me)
{
	if (!me)
		return;
	perf_buffer__free(me->pb);
	close(me->map_fd);
	for (size_t i = 0; i < me->npending; i++)
		free(me->pending[i].h);
	free(me->pending);
	for (size_t i = 0; i < me->n; i++)
		image_free(&me->imgs[i]);
	free(me->imgs);
	free(me);
}
