// SPDX-License-Identifier: GPL-2.0
#include "serve/scrape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/cgroup_mem.h"
#include "rss_math.h"

int scrape_state_init(struct scrape_state *s, struct tracer *t, const struct hooks *hooks,
		      uint32_t map_entries, uint32_t cgroup_entries, uint32_t top_processes)
{
	*s = (struct scrape_state){ .t = t, .hooks = hooks, .top_processes = top_processes,
				    .page_bytes = (uint64_t)sysconf(_SC_PAGESIZE),
				    .live_cap = map_entries, .win_cap = cgroup_entries };
	if (cgroup_shown_mount_point(s->cgroup_root, sizeof(s->cgroup_root)))
		snprintf(s->cgroup_root, sizeof(s->cgroup_root), "/sys/fs/cgroup");
	s->ts = top_state_new(s->page_bytes / 1024, hooks->h[LH_FAULT].chosen >= 0);
	s->live = calloc(s->live_cap, sizeof(*s->live));
	s->win = calloc(s->win_cap, sizeof(*s->win));
	if (!s->ts || !s->live || !s->win)
		return -ENOMEM;
	s->last_close_ns = tracer_now_ns();
	return 0;
}

void scrape_state_free(struct scrape_state *s)
{
	top_frame_free(&s->f);
	top_state_free(s->ts);
	free(s->live);
	free(s->win);
	cg_table_free(&s->cgs);
}

static void add_causes(uint64_t *dst, const struct mm_causes *c)
{
	dst[MC_FORK_BYTES] += c->fork_pages;
	dst[MC_UNMAPPED_BYTES] += c->unmapped_pages;
	dst[MC_SWAPOUT_BYTES] += c->swapout_pages;
	dst[MC_FAULTS] += c->faults;
	dst[MC_COW_FAULTS] += c->wp_faults;
	dst[MC_SWAPIN_FAULTS] += c->swapin_faults;
}

void scrape_on_record(void *ctx, const void *data, size_t len)
{
	struct scrape_state *s = ctx;
	const struct mm_state *st;
	struct cg_entry *e;

	if (len < sizeof(struct mm_end_record) || *(const uint32_t *)data != REC_MM_END)
		return;
	st = &((const struct mm_end_record *)data)->st;
	s->ended_events += st->events;
	e = cg_get(&s->cgs, st->cgroup_id);
	if (e)
		add_causes(e->ended, &st->causes);
}

int scrape_list_footprint(struct scrape_state *s, struct footprint_pass *p)
{
	int n = tracer_read_live(s->t, s->live, s->live_cap);

	return n < 0 ? n : fp_pass_list(p, s->live, (size_t)n);
}

int scrape_publish_footprint(struct scrape_state *s, const struct footprint_pass *p)
{
	for (uint32_t i = 0; i < s->cgs.n; i++)
		s->cgs.cgs[i].has_footprint = false; /* no process at this pass: no sample */
	for (size_t i = 0; i < p->nsums; i++) {
		struct cg_entry *e = cg_get(&s->cgs, p->sums[i].cgroup_id);

		if (!e)
			return -ENOMEM;
		e->footprint_kb = p->sums[i].pss_kb;
		e->has_footprint = true;
	}
	s->fp_passes = p->passes;
	s->fp_cost_ns = p->cost_ns;
	s->fp_done_ns = p->done_ns;
	s->fp_unreadable = p->unreadable;
	return 0;
}

/* Largest first; ties by pid, so that the series chosen do not flap. */
static int desc_then_pid(uint64_t va, uint64_t vb, const struct top_row *a, const struct top_row *b)
{
	if (va != vb)
		return va < vb ? 1 : -1;
	return (a->st.tgid > b->st.tgid) - (a->st.tgid < b->st.tgid);
}

static int cmp_rss(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return desc_then_pid(x->rss_kb, y->rss_kb, x, y);
}

static int cmp_hwm(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return desc_then_pid(x->hwm_kb, y->hwm_kb, x, y);
}

static const char *cg_path(struct scrape_state *s, uint64_t id)
{
	struct cg_entry *e = cg_find(&s->cgs, id);

	return e ? cg_label(e) : "";
}

/* The top N by RSS, then the top N by peak that are not among them. */
static uint32_t pick_processes(struct scrape_state *s, struct metrics_process *out)
{
	struct top_frame *f = &s->f;
	uint32_t n = 0, live = 0, want = s->top_processes;

	for (uint32_t i = 0; i < f->nrows; i++) /* top_build appends the ended ones: drop them */
		if (!f->rows[i].exited)
			f->rows[live++] = f->rows[i];
	for (int pass = 0; pass < 2; pass++) {
		uint32_t taken = 0;

		qsort(f->rows, live, sizeof(*f->rows), pass ? cmp_hwm : cmp_rss);
		for (uint32_t i = 0; i < live && taken < want; i++) {
			const struct top_row *r = &f->rows[i];
			bool dup = false;

			for (uint32_t k = 0; k < n && !dup; k++)
				dup = out[k].pid == r->st.tgid;
			taken++;
			if (dup)
				continue;
			out[n] = (struct metrics_process){ .pid = r->st.tgid, .rss_bytes = r->rss_kb * 1024,
							   .peak_bytes = r->hwm_kb * 1024,
							   .cgroup = cg_path(s, r->st.cgroup_id) };
			memcpy(out[n++].comm, r->st.comm, RSS_COMM_LEN);
		}
	}
	return n;
}

static uint32_t list_hooks(struct scrape_state *s, struct metrics_hook *out, char (*buf)[128])
{
	uint32_t n = 0;

	for (int h = 0; h < LH_COUNT; h++) {
		const char *use = hook_in_use(s->hooks, h, buf[n], sizeof(buf[n]));

		if (use)
			out[n++] = (struct metrics_hook){ .hook = hook_key(h), .attach = use };
	}
	return n;
}

/*
 * Per cgroup: totals and the peak since this scraper's previous scrape. The
 * peak of the window BPF just closed is the largest of: what events produced
 * in it, the level at its start (it held that much when it began), and the
 * level now; each scraper's peak is the largest of the windows since its
 * previous scrape.
 */
static uint32_t fill_cgroups(struct scrape_state *s, int nwin, int nlive, int k, struct metrics_cgroup *out)
{
	struct cg_table *t = &s->cgs;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->n; i++) {
		t->cgs[i].processes = 0;
		memset(t->cgs[i].live, 0, sizeof(t->cgs[i].live));
	}
	for (int i = 0; i < nwin; i++)
		cg_get(t, s->win[i].id);
	for (int i = 0; i < nlive; i++) {
		struct cg_entry *e = cg_get(t, s->live[i].cgroup_id);

		if (e) {
			e->processes++;
			add_causes(e->live, &s->live[i].causes);
		}
	}
	cg_resolve_paths(t, s->cgroup_root);
	for (int i = 0; i < nwin; i++) { /* no more cg_get(): entries stay put */
		const struct cgroup_window *w = &s->win[i];
		struct cg_entry *e = cg_find(t, w->id);
		struct metrics_cgroup *m = &out[n];
		__s64 cur[RSS_NR_MEMBERS]; /* the type rss_math.h takes */
		int64_t peak;

		if (!e)
			continue; /* out of memory when it was added */
		for (int c = 0; c < RSS_NR_MEMBERS; c++)
			cur[c] = w->cur[c];
		peak = cg_close_window(t, e, k, w->window_peak, rss_pages(cur));
		/* a removed cgroup keeps its (empty) map entry: leave it out */
		cg_forget_if_removed(e, s->cgroup_root);
		if (!e->path && !e->processes)
			continue;
		memset(m, 0, sizeof(*m));
		m->path = cg_label(e);
		for (int c = 0; c < RSS_NR_MEMBERS; c++)
			m->bytes[c] = (uint64_t)rss_clamp(cur[c]) * s->page_bytes;
		m->peak_bytes = (uint64_t)peak * s->page_bytes;
		m->processes = e->processes;
		m->has_footprint = e->has_footprint;
		m->footprint_bytes = e->footprint_kb * 1024;
		for (int c = 0; c < MC_COUNT; c++)
			m->causes[c] = cg_counter(e, c) * (c <= MC_SWAPOUT_BYTES ? s->page_bytes : 1);
		n++;
	}
	return n;
}

int scrape(struct scrape_state *s, enum metrics_format fmt, const char *who, char **text, size_t *len)
{
	struct metrics_snapshot snap = { .version = RSSTRACE_VERSION };
	struct metrics_hook hooks[LH_COUNT];
	char hook_buf[LH_COUNT][128];
	struct metrics_cgroup *cgs = NULL;
	struct metrics_process *procs = NULL;
	struct loss_counters l;
	struct tree_state tree;
	uint64_t now, prev, events = s->ended_events;
	int nwin, nlive, err, k;

	tracer_poll(s->t, 0); /* records first: an ended mm is then in `ended`, not lost */
	nwin = tracer_close_window(s->t, s->win, s->win_cap);
	if (nwin < 0)
		return nwin;
	nlive = tracer_read_live(s->t, s->live, s->live_cap);
	if (nlive < 0)
		return nlive;
	now = tracer_now_ns();
	if (top_build(s->ts, s->live, (uint32_t)nlive, now, &s->f))
		return -ENOMEM;
	cgs = calloc(nwin ? nwin : 1, sizeof(*cgs));
	procs = calloc(s->top_processes * 2 + 1, sizeof(*procs));
	if (!cgs || !procs) {
		err = -ENOMEM;
		goto out;
	}
	k = cg_scraper(&s->cgs, who, now);
	snap.ncgroups = fill_cgroups(s, nwin, nlive, k, cgs);
	snap.cgroups = cgs;
	snap.nprocs = pick_processes(s, procs);
	snap.procs = procs;
	snap.nhooks = list_hooks(s, hooks, hook_buf);
	snap.hooks = hooks;
	snap.cause_available[MC_FORK_BYTES] = snap.cause_available[MC_UNMAPPED_BYTES] =
		snap.cause_available[MC_SWAPOUT_BYTES] = true;
	snap.cause_available[MC_FAULTS] = s->hooks->h[LH_FAULT].chosen >= 0;
	snap.cause_available[MC_COW_FAULTS] = s->hooks->h[LH_WP].chosen >= 0;
	snap.cause_available[MC_SWAPIN_FAULTS] = s->hooks->h[LH_SWAPIN].chosen >= 0;
	/* the peak covers the time since this scraper's previous scrape (a new
	 * scraper, or one without a slot: since anyone's) */
	prev = k != CG_NO_SLOT && s->cgs.scrapers[k].last_ns ? s->cgs.scrapers[k].last_ns : s->last_close_ns;
	snap.window_seconds = (now - prev) / 1e9;
	if (k != CG_NO_SLOT)
		s->cgs.scrapers[k].last_ns = now;
	s->last_close_ns = now;
	for (int i = 0; i < nlive; i++)
		events += s->live[i].events;
	s->events_shown = events > s->events_shown ? events : s->events_shown;
	snap.events = s->events_shown;
	snap.address_spaces = (uint64_t)nlive;
	tracer_losses(s->t, &l);
	snap.lost[ML_RINGBUF] = l.ringbuf_full;
	snap.lost[ML_MMS] = l.mms_full;
	snap.lost[ML_TASKS] = l.tasks_full;
	snap.lost[ML_CGROUPS] = l.cgroups_full;
	tracer_inexact_reads(s->t, &snap.inexact[MI_APPROXIMATE], &snap.inexact[MI_UNSETTLED]);
	tracer_tree(s->t, &tree);
	snap.map_entries[MM_MMS] = (uint64_t)nlive;
	snap.map_entries[MM_TRACED] = tree.live_tgids > 0 ? (uint64_t)tree.live_tgids : 0;
	snap.map_entries[MM_CGROUPS] = (uint64_t)nwin;
	snap.map_capacity[MM_MMS] = tracer_map_capacity(s->t, TMAP_MMS);
	snap.map_capacity[MM_TRACED] = tracer_map_capacity(s->t, TMAP_TRACED);
	snap.map_capacity[MM_CGROUPS] = tracer_map_capacity(s->t, TMAP_CGROUPS);
	snap.scrapes = ++s->scrapes;
	snap.footprint_on = s->footprint_on;
	snap.footprint_pass_seconds = s->fp_cost_ns / 1e9;
	snap.footprint_age_seconds = s->fp_done_ns && now > s->fp_done_ns ? (now - s->fp_done_ns) / 1e9 : 0;
	snap.footprint_unreadable = s->fp_unreadable;
	err = metrics_render(&snap, fmt, text, len);
out:
	free(cgs);
	free(procs);
	return err;
}
