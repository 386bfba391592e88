// SPDX-License-Identifier: GPL-2.0
#include "trace/timeline.h"

#include "core/array.h"
#include "core/text_escape.h"
#include "rss_math.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t pages_kb(int64_t pages, uint64_t page_kb)
{
	return (uint64_t)rss_clamp(pages) * page_kb;
}

void csv_field(FILE *out, const char *raw, size_t maxlen)
{
	/* escaped first (core/text_escape.h): a newline in a comm must not
	 * split the row for line-oriented readers, nor an escape sequence reach
	 * a terminal that shows the file */
	char s[TEXT_ESC_LEN(64)];
	size_t len = strlen(text_escape(s, sizeof(s), raw, maxlen));

	if (strcspn(s, ",\"\r\n") >= len) {
		fwrite(s, 1, len, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

int timeline_init(struct timeline *tl, FILE *csv, bool keep, uint64_t t0_ns, uint64_t page_kb,
		  double interval_s, uint32_t top_procs)
{
	memset(tl, 0, sizeof(*tl));
	tl->csv = csv;
	tl->keep = keep;
	tl->t0_ns = t0_ns;
	tl->page_kb = page_kb;
	tl->interval_ns = (uint64_t)(interval_s * 1e9);
	tl->next_ns = t0_ns;
	tl->top_procs = top_procs;
	if (csv && fprintf(csv, "time_s,scope,pid,comm,rss_kb,anon_kb,file_kb,shmem_kb,swap_kb,processes\n") < 0)
		return -EIO;
	return 0;
}

bool timeline_due(const struct timeline *tl, uint64_t now_ns)
{
	return now_ns >= tl->next_ns;
}

/* Halves the kept series: of each pair of neighbouring samples the larger
 * stays (peak points always stay); the process points of a dropped sample go. */
static void thin(struct timeline *tl)
{
	size_t w = 0, pw = 0, k = 0;
	long pending = -1;

	for (size_t r = 0; r < tl->npts; r++) {
		struct timeline_point p = tl->pts[r];

		if (p.peak) {
			if (pending >= 0)
				tl->pts[w++] = tl->pts[pending];
			pending = -1;
			tl->pts[w++] = p;
		} else if (pending < 0) {
			pending = (long)r; /* >= w: not overwritten yet */
		} else {
			tl->pts[w++] = tl->pts[pending].rss_kb >= p.rss_kb ? tl->pts[pending] : p;
			pending = -1;
		}
	}
	if (pending >= 0)
		tl->pts[w++] = tl->pts[pending];
	tl->npts = w;
	for (size_t r = 0; r < tl->npp; r++) {
		while (k < w && (tl->pts[k].ns < tl->pp[r].ns || tl->pts[k].peak))
			k++;
		if (k < w && tl->pts[k].ns == tl->pp[r].ns)
			tl->pp[pw++] = tl->pp[r];
	}
	tl->npp = pw;
	tl->interval_ns *= 2;
	tl->thinned++;
}

static void keep_point(struct timeline *tl, const struct timeline_point *p)
{
	if (!tl->keep)
		return;
	if (tl->npts >= TIMELINE_MAX_POINTS)
		thin(tl);
	if (!array_grow((void **)&tl->pts, &tl->pts_cap, tl->npts, sizeof(*tl->pts))) {
		tl->oom = true;
		return;
	}
	tl->pts[tl->npts++] = *p;
}

static void keep_proc_point(struct timeline *tl, const struct timeline_proc_point *p)
{
	if (!tl->keep)
		return;
	if (!array_grow((void **)&tl->pp, &tl->pp_cap, tl->npp, sizeof(*tl->pp))) {
		tl->oom = true;
		return;
	}
	tl->pp[tl->npp++] = *p;
}

static void csv_row(struct timeline *tl, uint64_t ns, const char *scope, uint32_t pid,
		    const char *comm, uint64_t rss_kb, const uint64_t *kb, int64_t procs)
{
	FILE *f = tl->csv;

	if (!f)
		return;
	fprintf(f, "%.6f,%s,", ns > tl->t0_ns ? (ns - tl->t0_ns) / 1e9 : 0.0, scope);
	if (pid)
		fprintf(f, "%u,", pid);
	else
		fputc(',', f);
	csv_field(f, comm, RSS_COMM_LEN);
	fprintf(f, ",%llu,", (unsigned long long)rss_kb);
	if (kb)
		fprintf(f, "%llu,%llu,%llu,%llu,", (unsigned long long)kb[RSS_ANON],
			(unsigned long long)kb[RSS_FILE], (unsigned long long)kb[RSS_SHMEM],
			(unsigned long long)kb[RSS_SWAP]);
	else
		fputs(",,,,", f);
	if (procs >= 0)
		fprintf(f, "%lld", (long long)procs);
	if (fputc('\n', f) == EOF)
		tl->write_error = true;
}

static void add_tree_point(struct timeline *tl, uint64_t ns, const __s64 *part, int64_t procs,
			   bool peak)
{
	struct timeline_point p = { .ns = ns, .peak = peak, .procs = procs > 0 ? procs : 0 };

	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		p.kb[m] = pages_kb(part[m], tl->page_kb);
	p.rss_kb = p.kb[RSS_FILE] + p.kb[RSS_ANON] + p.kb[RSS_SHMEM];
	csv_row(tl, ns, peak ? "tree_peak" : "tree", 0, "", p.rss_kb, p.kb, procs);
	keep_point(tl, &p);
}

/* The peak point, if the tree's peak moved since the last one. */
static void peak_point(struct timeline *tl, const struct tree_state *t)
{
	if (t->peak <= tl->last_peak)
		return;
	tl->last_peak = t->peak;
	tl->last_peak_ns = t->peak_ns;
	add_tree_point(tl, t->peak_ns, t->peak_part, t->peak_procs, true);
}

static int cmp_rss_desc(const void *pa, const void *pb)
{
	const struct mm_state *a = pa, *b = pb;
	__s64 x = rss_pages(a->cur), y = rss_pages(b->cur);

	if (x != y)
		return x < y ? 1 : -1;
	return a->tgid < b->tgid ? -1 : a->tgid > b->tgid;
}

void timeline_sample(struct timeline *tl, const struct tree_state *t, struct mm_state *live,
		     size_t n, uint64_t now_ns)
{
	size_t top = tl->top_procs && tl->top_procs < n ? tl->top_procs : n;

	/* a peak reached since the last sample comes first: it is older */
	if (t->peak_ns <= now_ns)
		peak_point(tl, t);
	add_tree_point(tl, now_ns, t->cur, t->live_mms, false);
	if (n)
		qsort(live, n, sizeof(*live), cmp_rss_desc);
	for (size_t i = 0; i < top; i++) {
		struct timeline_proc_point p = { .ns = now_ns, .tgid = live[i].tgid,
						 .exec_seq = live[i].exec_seq };
		uint64_t kb[RSS_NR_MEMBERS];

		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			kb[m] = pages_kb(live[i].cur[m], tl->page_kb);
		p.rss_kb = kb[RSS_FILE] + kb[RSS_ANON] + kb[RSS_SHMEM];
		memcpy(p.comm, live[i].comm, sizeof(p.comm));
		csv_row(tl, now_ns, "process", p.tgid, p.comm, p.rss_kb, kb, -1);
		keep_proc_point(tl, &p);
	}
	while (tl->next_ns <= now_ns)
		tl->next_ns += tl->interval_ns ? tl->interval_ns : 1;
}

void timeline_finish(struct timeline *tl, const struct tree_state *t)
{
	peak_point(tl, t);
	if (tl->csv && fflush(tl->csv))
		tl->write_error = true;
}

void timeline_free(struct timeline *tl)
{
	free(tl->pts);
	free(tl->pp);
	tl->pts = NULL;
	tl->pp = NULL;
}
