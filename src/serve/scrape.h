/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One scrape of `rsstrace serve`: from the tracer's maps (every live address
 * space, every cgroup's totals and peak window) and what earlier scrapes
 * left (the per-cgroup table, the live view's previous frame), a metrics
 * snapshot, rendered. Callers serialise: serve.c holds a lock around both
 * the scrapes and the draining of the ring buffer.
 */
#ifndef SERVE_SCRAPE_H
#define SERVE_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/hooks.h"
#include "core/live_view.h"
#include "core/tracer.h"
#include "serve/cgroup_table.h"
#include "serve/footprint_pass.h"
#include "serve/metrics.h"

struct scrape_state {
	struct tracer *t;
	const struct hooks *hooks;
	uint32_t top_processes;	/* per-process series: the N largest by RSS, by peak */
	struct top_state *ts;	/* the live view, as `rsstrace top` builds it */
	struct top_frame f;
	struct mm_state *live;
	uint32_t live_cap;
	struct cgroup_window *win;
	uint32_t win_cap;
	struct cg_table cgs;
	uint64_t page_bytes;
	uint64_t ended_events, events_shown, scrapes;
	uint64_t last_close_ns;	/* when a peak window last closed */
	char cgroup_root[512];	/* where the cgroups' hierarchy is mounted (v1 memory, or v2) */
	/* --footprint-interval: the latest pass's figures, 0 passes: off */
	uint64_t fp_passes, fp_cost_ns, fp_done_ns, fp_unreadable;
	bool footprint_on;
};

/* Room for map_entries address spaces and cgroup_entries cgroups; the tracer
 * is started, with the hooks chosen. Returns 0 or -ENOMEM. */
int scrape_state_init(struct scrape_state *s, struct tracer *t, const struct hooks *hooks,
		      uint32_t map_entries, uint32_t cgroup_entries, uint32_t top_processes);
void scrape_state_free(struct scrape_state *s);

/* The tracer's record callback (ctx: the scrape_state): an address space
 * ended, what it counted stays in its cgroup's counters. */
void scrape_on_record(void *ctx, const void *data, size_t len);

/* --footprint-interval, under the lock: the live address spaces' owners and
 * cgroups for a pass (read from the same map as a scrape), then the pass's
 * sums into the per-cgroup table. Return 0 or -errno. */
int scrape_list_footprint(struct scrape_state *s, struct footprint_pass *p);
int scrape_publish_footprint(struct scrape_state *s, const struct footprint_pass *p);

/* One consistent response for the scraper `who` in format fmt, in a
 * malloc'ed *text of *len bytes. Closes the cgroups' peak window. Returns 0
 * or -errno. */
int scrape(struct scrape_state *s, enum metrics_format fmt, const char *who, char **text, size_t *len);

#endif
