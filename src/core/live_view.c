// SPDX-License-Identifier: GPL-2.0
#include "core/live_view.h"

#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "proc/cgroup_mem.h"
#include "rss_math.h"

/* What we remember of a process between frames, keyed by (pid, start): pids
 * are reused, the pair is not. */
struct seen {
	uint32_t tgid;
	uint64_t start_ns;
	uint64_t rss_kb;
	uint64_t faults;
	uint64_t events;
	uint64_t gen; /* last frame it was seen in */
	struct top_cgroup *cg; /* read when first seen; NULL if that failed */
	bool used;
};

struct top_state {
	uint64_t page_kb;
	bool have_faults;
	struct seen *seen;
	uint32_t seen_cap; /* power of 2 */
	uint32_t nused;
	uint64_t gen;
	uint64_t prev_ns;
	struct ended {
		struct mm_state st;
		uint64_t at_ns;
	} *ended; /* recently ended, kept TOP_EXITED_KEEP_NS */
	size_t nended, ended_cap;
	uint64_t ended_events; /* rss_stat events of address spaces that ended since the last frame */
	struct top_peak peaks[64]; /* candidates for the recent peaks */
	int npeaks;
};

struct top_state *top_state_new(uint64_t page_kb, bool have_faults)
{
	struct top_state *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->page_kb = page_kb;
	ts->have_faults = have_faults;
	ts->seen_cap = 1 << 14;
	ts->seen = calloc(ts->seen_cap, sizeof(*ts->seen));
	if (!ts->seen) {
		free(ts);
		return NULL;
	}
	return ts;
}

void top_state_free(struct top_state *ts)
{
	if (!ts)
		return;
	for (uint32_t i = 0; i < ts->seen_cap; i++)
		if (ts->seen[i].used)
			free(ts->seen[i].cg);
	free(ts->seen);
	free(ts->ended);
	free(ts);
}

void top_frame_free(struct top_frame *f)
{
	free(f->rows);
	memset(f, 0, sizeof(*f));
}

static uint64_t hash(uint32_t tgid, uint64_t start)
{
	uint64_t h = (start ^ ((uint64_t)tgid << 32)) * 0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

/* The slot of (tgid, start), or the free slot where it would go. The table
 * is kept at most half full (compact_seen), so a free slot is always found. */
static struct seen *probe_seen(struct top_state *ts, uint32_t tgid, uint64_t start)
{
	uint32_t mask = ts->seen_cap - 1, i = hash(tgid, start) & mask;

	for (;; i = (i + 1) & mask) {
		struct seen *s = &ts->seen[i];

		if (!s->used || (s->tgid == tgid && s->start_ns == start))
			return s;
	}
}

/* The slot for (tgid, start), created if new. */
static struct seen *lookup_seen(struct top_state *ts, uint32_t tgid, uint64_t start, bool *fresh)
{
	struct seen *s = probe_seen(ts, tgid, start);

	*fresh = !s->used;
	if (*fresh) {
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->tgid = tgid;
		s->start_ns = start;
		ts->nused++;
	}
	return s;
}

/* Rebuilds the table with only the processes seen in the previous frame, big
 * enough for `live` more: ended processes are forgotten, memory stays flat. */
static bool compact_seen(struct top_state *ts, uint32_t live)
{
	uint32_t oldcap = ts->seen_cap, cap = 1 << 14;
	struct seen *old = ts->seen, *tbl;

	while (cap < live * 3) /* load under 1/3 after a rebuild */
		cap *= 2;
	tbl = calloc(cap, sizeof(*tbl));
	if (!tbl)
		return false;
	ts->seen = tbl;
	ts->seen_cap = cap;
	ts->nused = 0;
	for (uint32_t i = 0; i < oldcap; i++) {
		struct seen *s;
		bool fresh;

		if (!old[i].used)
			continue;
		if (old[i].gen + 1 < ts->gen) {
			free(old[i].cg);
			continue;
		}
		s = lookup_seen(ts, old[i].tgid, old[i].start_ns, &fresh);
		*s = old[i];
	}
	free(old);
	return true;
}

static void user_name(uint32_t uid, char *buf, size_t len)
{
	static uint32_t last_uid = (uint32_t)-1;
	static char last[16];
	struct passwd *pw;

	if (uid != last_uid) {
		pw = getpwuid(uid);
		if (pw)
			snprintf(last, sizeof(last), "%s", pw->pw_name);
		else
			snprintf(last, sizeof(last), "%u", uid);
		last_uid = uid;
	}
	snprintf(buf, len, "%s", last);
}

/* The cgroup a process is shown under, read once: its memory cgroup's path
 * (the v1 memory hierarchy's where the controller is there, else v2), as
 * serve's series name it (bpf/lib/memcg.bpf.h), whole (a pod container's
 * path under the systemd driver is ~195 bytes), with what it says of a
 * container. NULL if the process is gone. */
static struct top_cgroup *read_cgroup(uint32_t pid)
{
	char path[4096]; /* as much as /proc/PID/cgroup is read */
	struct top_cgroup *cg;
	size_t n;
	bool v1;

	if (cgroup_of_pid((int)pid, path, sizeof(path), &v1))
		return NULL;
	n = strlen(path) + 1;
	cg = malloc(sizeof(*cg) + n);
	if (!cg)
		return NULL;
	cg->is_container = container_cgroup_parse(path, &cg->container);
	memcpy(cg->path, path, n);
	return cg;
}

const char *top_row_cgroup(const struct top_row *r)
{
	return r->cg ? r->cg->path : "";
}

static void fill_values(struct top_state *ts, struct top_row *r)
{
	const struct mm_state *st = &r->st;
	uint64_t kb = ts->page_kb, hw;

	r->anon_kb = (uint64_t)rss_clamp(st->cur[RSS_ANON]) * kb;
	r->file_kb = (uint64_t)rss_clamp(st->cur[RSS_FILE]) * kb;
	r->shmem_kb = (uint64_t)rss_clamp(st->cur[RSS_SHMEM]) * kb;
	r->swap_kb = (uint64_t)rss_clamp(st->cur[RSS_SWAP]) * kb;
	r->rss_kb = (uint64_t)rss_pages(st->cur) * kb;
	/* the kernel's VmHWM as read at seeding, and every exact peak since */
	hw = st->hiwater_rss > st->peak_rss ? st->hiwater_rss : st->peak_rss;
	r->hwm_kb = hw * kb > r->rss_kb ? hw * kb : r->rss_kb;
	user_name(st->uid, r->user, sizeof(r->user));
}

static void consider_peak(struct top_state *ts, const struct mm_state *st, uint64_t peak_kb,
			  uint64_t at_ns, bool exited)
{
	int min = 0;

	/* one entry per process: update it if present */
	for (int i = 0; i < ts->npeaks; i++) {
		if (ts->peaks[i].pid == st->tgid && !strncmp(ts->peaks[i].comm, st->comm, RSS_COMM_LEN)) {
			if (peak_kb >= ts->peaks[i].peak_kb) {
				ts->peaks[i].peak_kb = peak_kb;
				ts->peaks[i].at_ns = at_ns;
			}
			ts->peaks[i].exited |= exited;
			return;
		}
	}
	if (ts->npeaks < (int)(sizeof(ts->peaks) / sizeof(ts->peaks[0]))) {
		min = ts->npeaks++;
	} else {
		for (int i = 1; i < ts->npeaks; i++)
			if (ts->peaks[i].peak_kb < ts->peaks[min].peak_kb)
				min = i;
		if (ts->peaks[min].peak_kb >= peak_kb)
			return;
	}
	ts->peaks[min] = (struct top_peak){ .pid = st->tgid, .peak_kb = peak_kb, .at_ns = at_ns,
					    .exited = exited };
	memcpy(ts->peaks[min].comm, st->comm, RSS_COMM_LEN);
}

void top_note_ended(struct top_state *ts, const struct mm_state *st, uint64_t now_ns)
{
	uint64_t peak = st->peak_rss > st->hiwater_rss ? st->peak_rss : st->hiwater_rss;

	consider_peak(ts, st, peak * ts->page_kb, st->peak_ns, true);
	ts->ended_events += st->events;
	if (!array_grow((void **)&ts->ended, &ts->ended_cap, ts->nended, sizeof(*ts->ended)))
		return; /* the row just does not linger on screen */
	ts->ended[ts->nended++] = (struct ended){ .st = *st, .at_ns = now_ns };
}

static struct top_row *add_row(struct top_frame *f)
{
	if (!array_grow((void **)&f->rows, &f->cap, f->nrows, sizeof(*f->rows)))
		return NULL;
	memset(&f->rows[f->nrows], 0, sizeof(f->rows[0]));
	return &f->rows[f->nrows++];
}

int top_build(struct top_state *ts, const struct mm_state *live, uint32_t nlive, uint64_t now_ns,
	      struct top_frame *f)
{
	double secs = ts->prev_ns ? (now_ns - ts->prev_ns) / 1e9 : 0;
	uint64_t events = 0;
	size_t keep = 0;

	f->nrows = 0;
	f->at_ns = now_ns;
	memset(f->total_kb, 0, sizeof(f->total_kb));
	ts->gen++;
	if ((ts->nused + nlive) * 2 >= ts->seen_cap && !compact_seen(ts, nlive))
		return -1;
	for (uint32_t i = 0; i < nlive; i++) {
		struct top_row *r = add_row(f);
		struct seen *s;
		bool fresh;

		if (!r)
			return -1;
		r->st = live[i];
		fill_values(ts, r);
		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			f->total_kb[m] += (uint64_t)rss_clamp(live[i].cur[m]) * ts->page_kb;
		s = lookup_seen(ts, live[i].tgid, live[i].start_ns, &fresh);
		if (fresh) {
			s->cg = read_cgroup(live[i].tgid);
			s->rss_kb = r->rss_kb;
			s->faults = live[i].causes.faults;
			s->events = live[i].events;
		}
		r->growth_kb = (int64_t)r->rss_kb - (int64_t)s->rss_kb;
		r->faults_per_s = !ts->have_faults ? -1 :
				  secs > 0 ? (live[i].causes.faults - s->faults) / secs : 0;
		events += live[i].events - s->events;
		r->cg = s->cg;
		s->rss_kb = r->rss_kb;
		s->faults = live[i].causes.faults;
		s->events = live[i].events;
		s->gen = ts->gen;
		consider_peak(ts, &live[i], r->hwm_kb, live[i].peak_ns, false);
	}
	/* ended ones linger, marked */
	for (size_t i = 0; i < ts->nended; i++) {
		struct top_row *r;
		struct seen *s;

		if (now_ns - ts->ended[i].at_ns > TOP_EXITED_KEEP_NS)
			continue;
		ts->ended[keep++] = ts->ended[i];
		r = add_row(f);
		if (!r)
			return -1;
		r->st = ts->ended[i].st;
		fill_values(ts, r);
		/* its cgroup while it lived, if still remembered (a filter by
		 * cgroup keeps showing it, marked) */
		s = probe_seen(ts, r->st.tgid, r->st.start_ns);
		r->cg = s->used ? s->cg : NULL;
		r->exited = true;
		r->faults_per_s = -1;
	}
	ts->nended = keep;
	/* Rows and ended address spaces are as many as the churn of the last
	 * TOP_EXITED_KEEP_NS: 60,000 short-lived processes made them ~20 MB,
	 * kept for good after the churn (issue 15 item 18). Blocks under
	 * glibc's mmap threshold (raised by every large free) are freed into
	 * the heap only: a 3,000-process churn's 4 MB stayed resident until
	 * malloc_trim() gave the free pages back. */
	if (array_fit((void **)&ts->ended, &ts->ended_cap, ts->nended, sizeof(*ts->ended)) |
	    array_fit((void **)&f->rows, &f->cap, f->nrows, sizeof(*f->rows)))
		malloc_trim(0);
	events += ts->ended_events;
	ts->ended_events = 0;
	f->events_per_s = secs > 0 ? (uint64_t)(events / secs) : 0;
	ts->prev_ns = now_ns;

	/* recent peaks: the largest of the last minute */
	f->npeaks = 0;
	for (int i = 0; i < ts->npeaks; i++) {
		if (now_ns - ts->peaks[i].at_ns > TOP_PEAKS_WINDOW_NS && ts->peaks[i].exited)
			continue;
		if (f->npeaks < TOP_MAX_PEAKS) {
			f->peaks[f->npeaks++] = ts->peaks[i];
		} else {
			int min = 0;

			for (int k = 1; k < f->npeaks; k++)
				if (f->peaks[k].peak_kb < f->peaks[min].peak_kb)
					min = k;
			if (ts->peaks[i].peak_kb > f->peaks[min].peak_kb)
				f->peaks[min] = ts->peaks[i];
		}
	}
	for (int i = 0; i < f->npeaks; i++)
		for (int k = i + 1; k < f->npeaks; k++)
			if (f->peaks[k].peak_kb > f->peaks[i].peak_kb) {
				struct top_peak t = f->peaks[i];

				f->peaks[i] = f->peaks[k];
				f->peaks[k] = t;
			}
	return 0;
}

/* The cgroup filter: a part of the path, or the beginning of the container
 * id or pod UID the path names (the systemd driver writes the UID with '_',
 * and an id is typed as `docker ps` shows it: its first 12 digits). */
static bool cgroup_matches(const struct top_cgroup *cg, const char *text)
{
	return cg && (strstr(cg->path, text) || container_cgroup_id_matches(&cg->container, text));
}

static bool matches(const struct top_row *r, const struct top_filter *flt)
{
	char comm[RSS_COMM_LEN + 1];

	memcpy(comm, r->st.comm, RSS_COMM_LEN);
	comm[RSS_COMM_LEN] = 0;
	if (flt->user[0] && strcmp(flt->user, r->user))
		return false;
	if (flt->cgroup[0] && !cgroup_matches(r->cg, flt->cgroup))
		return false;
	if (flt->comm[0] && !strstr(comm, flt->comm))
		return false;
	return true;
}

static enum top_sort sort_key;

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* descending */
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_key) {
	case SORT_RSS: c = cmp_u64(a->rss_kb, b->rss_kb); break;
	case SORT_HWM: c = cmp_u64(a->hwm_kb, b->hwm_kb); break;
	case SORT_GROWTH: c = a->growth_kb < b->growth_kb ? 1 : a->growth_kb > b->growth_kb ? -1 : 0; break;
	case SORT_SWAP: c = cmp_u64(a->swap_kb, b->swap_kb); break;
	case SORT_PID: c = a->st.tgid < b->st.tgid ? -1 : a->st.tgid > b->st.tgid; break;
	}
	if (!c)
		c = a->st.tgid < b->st.tgid ? -1 : a->st.tgid > b->st.tgid;
	return c;
}

/*
 * Tree view, in O(n log n): rows indexed by pid and by parent pid (sorted
 * copies, binary search), subtree sums by walking each row's ancestors, then a
 * depth-first walk from the roots (rows whose parent is not shown), biggest
 * subtree first at every level. 10,000 processes stay cheap at 1 Hz.
 */
static struct top_row *tree_rows;

static int cmp_idx_tgid(const void *a, const void *b)
{
	uint32_t x = tree_rows[*(const uint32_t *)a].st.tgid, y = tree_rows[*(const uint32_t *)b].st.tgid;

	return x < y ? -1 : x > y;
}

static int cmp_idx_ppid_subtree(const void *a, const void *b)
{
	const struct top_row *x = &tree_rows[*(const uint32_t *)a], *y = &tree_rows[*(const uint32_t *)b];

	if (x->st.ppid != y->st.ppid)
		return x->st.ppid < y->st.ppid ? -1 : 1;
	return x->subtree_rss_kb < y->subtree_rss_kb ? 1 : x->subtree_rss_kb > y->subtree_rss_kb ? -1 : 0;
}

/* Index of the live row with this pid, or -1. */
static long find_pid(const uint32_t *by_tgid, uint32_t n, uint32_t pid)
{
	long lo = 0, hi = (long)n - 1;

	while (lo <= hi) {
		long mid = (lo + hi) / 2;
		uint32_t t = tree_rows[by_tgid[mid]].st.tgid;

		if (t == pid)
			return by_tgid[mid];
		if (t < pid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* First position in by_ppid whose row has this ppid (n if none). */
static uint32_t first_child(const uint32_t *by_ppid, uint32_t n, uint32_t ppid)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (tree_rows[by_ppid[mid]].st.ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void walk(uint32_t i, int depth, const uint32_t *by_ppid, uint32_t n, bool *done, struct top_row *out,
		 uint32_t *nout)
{
	uint32_t k;

	if (done[i])
		return;
	done[i] = true;
	out[*nout] = tree_rows[i];
	out[(*nout)++].depth = depth;
	if (tree_rows[i].exited)
		return; /* an ended process's pid may already be someone else's */
	for (k = first_child(by_ppid, n, tree_rows[i].st.tgid);
	     k < n && tree_rows[by_ppid[k]].st.ppid == tree_rows[i].st.tgid; k++)
		walk(by_ppid[k], depth < 32 ? depth + 1 : 32, by_ppid, n, done, out, nout);
}

static int arrange_tree(struct top_frame *f)
{
	uint32_t n = f->nrows, nlive = 0, nout = 0;
	uint32_t *by_tgid = malloc(n * sizeof(*by_tgid)), *by_ppid = malloc(n * sizeof(*by_ppid));
	struct top_row *out = malloc(n * sizeof(*out));
	bool *done = calloc(n, sizeof(*done));
	int ret = -1;

	if (!by_tgid || !by_ppid || !out || !done)
		goto out;
	tree_rows = f->rows;
	for (uint32_t i = 0; i < n; i++) {
		f->rows[i].subtree_rss_kb = f->rows[i].rss_kb;
		by_ppid[i] = i;
		if (!f->rows[i].exited)
			by_tgid[nlive++] = i;
	}
	qsort(by_tgid, nlive, sizeof(*by_tgid), cmp_idx_tgid);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ppid = f->rows[i].st.ppid;

		for (int depth = 0; ppid && depth < 64; depth++) { /* bounded: pid reuse can loop */
			long k = find_pid(by_tgid, nlive, ppid);

			if (k < 0 || k == (long)i)
				break;
			f->rows[k].subtree_rss_kb += f->rows[i].rss_kb;
			ppid = f->rows[k].st.ppid;
		}
	}
	qsort(by_ppid, n, sizeof(*by_ppid), cmp_idx_ppid_subtree);
	/* roots, biggest subtree first: reuse the order of by_ppid for ties */
	{
		uint32_t nroots = 0;
		uint32_t *tmp = malloc(n * sizeof(*tmp));

		if (!tmp)
			goto out;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = by_ppid[k];

			if (f->rows[i].exited || find_pid(by_tgid, nlive, f->rows[i].st.ppid) < 0)
				tmp[nroots++] = i;
		}
		for (uint32_t a = 1; a < nroots; a++) { /* insertion sort by subtree: few roots */
			uint32_t v = tmp[a], b = a;

			while (b > 0 && f->rows[tmp[b - 1]].subtree_rss_kb < f->rows[v].subtree_rss_kb) {
				tmp[b] = tmp[b - 1];
				b--;
			}
			tmp[b] = v;
		}
		for (uint32_t r = 0; r < nroots; r++)
			walk(tmp[r], 0, by_ppid, n, done, out, &nout);
		for (uint32_t i = 0; i < n; i++) /* what a pid cycle left out */
			walk(i, 0, by_ppid, n, done, out, &nout);
		free(tmp);
	}
	memcpy(f->rows, out, nout * sizeof(*out));
	f->nrows = nout;
	ret = 0;
out:
	free(by_tgid);
	free(by_ppid);
	free(out);
	free(done);
	return ret;
}

void top_arrange(struct top_frame *f, const struct top_filter *flt, enum top_sort sort, bool tree)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->nrows; i++)
		if (matches(&f->rows[i], flt))
			f->rows[n++] = f->rows[i];
	f->nrows = n;
	sort_key = sort;
	if (n && !tree)
		qsort(f->rows, n, sizeof(*f->rows), cmp_rows);
	if (tree && n)
		arrange_tree(f);
}
