// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "serve/cgroup_table.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/array.h"

struct cg_entry *cg_find(struct cg_table *t, uint64_t id)
{
	uint32_t lo = 0, hi = t->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (t->cgs[mid].id == id)
			return &t->cgs[mid];
		if (t->cgs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct cg_entry *cg_get(struct cg_table *t, uint64_t id)
{
	struct cg_entry *e = cg_find(t, id);
	uint32_t at = 0;

	if (e)
		return e;
	if (!array_grow((void **)&t->cgs, &t->cap, t->n, sizeof(*t->cgs)))
		return NULL;
	while (at < t->n && t->cgs[at].id < id)
		at++;
	memmove(&t->cgs[at + 1], &t->cgs[at], (t->n - at) * sizeof(*t->cgs));
	t->n++;
	memset(&t->cgs[at], 0, sizeof(t->cgs[at]));
	t->cgs[at].id = id;
	return &t->cgs[at];
}

int cg_scraper(struct cg_table *t, const char *key, uint64_t now_ns)
{
	int k = CG_NO_SLOT;

	/*
	 * A slot is never taken from a scraper that keeps scraping: evicting the
	 * least recent one let 16 clients with made-up User-Agents, between two
	 * Prometheus scrapes, make Prometheus new again and lose its spike.
	 */
	for (int i = 0; i < CG_MAX_SCRAPERS; i++) {
		const struct cg_scraper *sc = &t->scrapers[i];
		bool idle = !sc->key[0] || (sc->last_ns && now_ns > sc->last_ns + CG_SCRAPER_IDLE_NS);

		if (sc->key[0] && !strcmp(sc->key, key))
			return i;
		if (idle && k == CG_NO_SLOT)
			k = i;
	}
	if (k == CG_NO_SLOT)
		return k;
	snprintf(t->scrapers[k].key, sizeof(t->scrapers[k].key), "%s", key);
	t->scrapers[k].last_ns = 0;
	for (uint32_t i = 0; i < t->n; i++)
		t->cgs[i].since[k] = 0;
	return k;
}

int64_t cg_close_window(struct cg_table *t, struct cg_entry *e, int k, int64_t window_peak, int64_t now)
{
	/* it held the level at the start all along, even without an event */
	int64_t peak = window_peak > now ? window_peak : now, mine;

	if (e->level > peak)
		peak = e->level;
	e->level = now;
	for (int j = 0; j < CG_MAX_SCRAPERS; j++)
		if (t->scrapers[j].key[0] && e->since[j] < peak)
			e->since[j] = peak;
	if (k == CG_NO_SLOT)
		return peak;
	mine = e->since[k];
	e->since[k] = now; /* k's next window starts at this level */
	return mine;
}

uint64_t cg_counter(struct cg_entry *e, int c)
{
	uint64_t v = e->ended[c] + e->live[c];

	if (v < e->shown[c])
		v = e->shown[c];
	e->shown[c] = v;
	return v;
}

/* nftw() has no context argument; callers serialise (serve holds its lock). */
static struct cg_table *walking;
static size_t walking_root_len;

/* A cgroup's id is the inode number of its directory in cgroupfs. */
static int on_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct cg_entry *e;

	if (type != FTW_D)
		return 0;
	e = cg_find(walking, (uint64_t)st->st_ino);
	if (e && !e->path)
		e->path = strdup(path[walking_root_len] ? path + walking_root_len : "/");
	return 0;
}

void cg_resolve_paths(struct cg_table *t, const char *root)
{
	bool unknown = false;

	for (uint32_t i = 0; i < t->n && !unknown; i++)
		unknown = !t->cgs[i].path && !t->cgs[i].looked;
	if (!unknown)
		return;
	walking = t;
	walking_root_len = strlen(root);
	nftw(root, on_dir, 16, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
	for (uint32_t i = 0; i < t->n; i++)
		t->cgs[i].looked = true;
}

void cg_forget_if_removed(struct cg_entry *e, const char *root)
{
	char dir[PATH_MAX];
	struct stat st;

	if (e->processes || !e->path)
		return;
	if (e->path[0] == '/' && snprintf(dir, sizeof(dir), "%s%s", root, e->path) < (int)sizeof(dir) &&
	    !stat(dir, &st) && (uint64_t)st.st_ino == e->id)
		return;
	free(e->path);
	e->path = NULL;
	e->looked = true;
}

const char *cg_label(struct cg_entry *e)
{
	if (!e->path && asprintf(&e->path, "(removed cgroup %llu)", (unsigned long long)e->id) < 0)
		e->path = NULL;
	return e->path ? e->path : "";
}

void cg_table_free(struct cg_table *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->cgs[i].path);
	free(t->cgs);
	memset(t, 0, sizeof(*t));
}
