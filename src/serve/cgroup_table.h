/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `rsstrace serve` remembers of each cgroup between scrapes: its path
 * (found from its id), the counters of its ended address spaces, and the peak
 * since each scraper's previous scrape. No BPF and no HTTP: unit-tested
 * without root.
 */
#ifndef CGROUP_TABLE_H
#define CGROUP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/metrics.h"

#define CG_MAX_SCRAPERS 16 /* scrapers with a peak window of their own */
#define CG_NO_SLOT (-1)	   /* a scraper without one (all are held) */
/* A scraper keeps its window until it has not scraped for this long; never
 * does another client take it (longer than any sane scrape interval). */
#define CG_SCRAPER_IDLE_NS (15 * 60 * 1000000000ULL)

struct cg_entry {
	uint64_t id;			/* cgroup v2 id = inode of its directory */
	char *path;			/* NULL until found */
	bool looked;			/* a walk did not find it: removed, not looked for again */
	int64_t level;			/* FILE+ANON+SHMEM when the last window closed (pages) */
	int64_t since[CG_MAX_SCRAPERS];	/* largest FILE+ANON+SHMEM since that scraper's previous scrape */
	uint64_t ended[MC_COUNT];	/* cause counters of its address spaces that ended */
	uint64_t live[MC_COUNT];	/* of its live ones, this scrape */
	uint64_t shown[MC_COUNT];	/* last values served */
	uint64_t processes;		/* live address spaces, this scrape */
	uint64_t footprint_kb;		/* sum of its processes' PSS at the latest footprint pass */
	bool has_footprint;		/* it had live processes at that pass */
};

struct cg_scraper {
	char key[192];	  /* "ADDRESS USER-AGENT"; "" = free slot */
	uint64_t last_ns; /* its previous scrape, 0 = none yet */
};

struct cg_table {
	struct cg_entry *cgs; /* sorted by id; pointers are valid until the next cg_get() */
	uint32_t n;
	size_t cap;
	struct cg_scraper scrapers[CG_MAX_SCRAPERS];
};

struct cg_entry *cg_find(struct cg_table *t, uint64_t id);
/* The entry for id, created if new; NULL if out of memory. */
struct cg_entry *cg_get(struct cg_table *t, uint64_t id);

/* The slot of the scraper with this key at time now_ns. A new scraper takes
 * a free slot, or one whose scraper has not scraped for CG_SCRAPER_IDLE_NS,
 * with no peaks remembered: its first window is the one since the previous
 * scrape by anyone. When every slot is held, CG_NO_SLOT: it gets the window
 * since the previous scrape by anyone, each time, and takes nothing from
 * the scrapers with a slot. */
int cg_scraper(struct cg_table *t, const char *key, uint64_t now_ns);

/*
 * A peak window closed (by scraper k's scrape): window_peak is the largest
 * total an event produced in it (0: no event), now the total now (pages).
 * The window's peak also counts the level at its start. Folds it into every
 * scraper's running peak and returns scraper k's: the largest since its own
 * previous scrape (k = CG_NO_SLOT: the peak of the window just closed).
 * Call once per cgroup per scrape.
 */
int64_t cg_close_window(struct cg_table *t, struct cg_entry *e, int k, int64_t window_peak, int64_t now);

/* Cause counter c: ended + live, never below what was served before (an
 * address space that ended after the map read but whose record is not read
 * yet would dip the sum for one scrape). */
uint64_t cg_counter(struct cg_entry *e, int c);

/* Finds the paths of the cgroups with none yet: one walk of the hierarchy
 * mounted at root, only if some id was not looked for yet. */
void cg_resolve_paths(struct cg_table *t, const char *root);

/* A cgroup with no live address space whose directory under root is gone
 * (or is another cgroup's now: ids are inode numbers) is forgotten: its
 * path dropped, so that it leaves the output at this scrape. Its map entry
 * stays, empty; cgroup ids are not reused. One stat() per empty cgroup. */
void cg_forget_if_removed(struct cg_entry *e, const char *root);

/* The path, or "(removed cgroup ID)" for one not found. */
const char *cg_label(struct cg_entry *e);

void cg_table_free(struct cg_table *t);

#endif
