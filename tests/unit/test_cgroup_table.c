// SPDX-License-Identifier: GPL-2.0
/* Unit tests: what `rsstrace serve` keeps per cgroup (src/serve/cgroup_table.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "serve/cgroup_table.h"

static void entries_sorted_and_found(void **state)
{
	struct cg_table t = { 0 };
	uint64_t ids[] = { 50, 3, 900, 1, 77 };

	for (size_t i = 0; i < 5; i++)
		assert_non_null(cg_get(&t, ids[i]));
	assert_non_null(cg_get(&t, 3)); /* existing: no duplicate */
	assert_int_equal(t.n, 5);
	for (uint32_t i = 1; i < t.n; i++)
		assert_true(t.cgs[i - 1].id < t.cgs[i].id);
	assert_int_equal(cg_find(&t, 900)->id, 900);
	assert_null(cg_find(&t, 2));
	for (int i = 0; i < 200; i++) /* past the first growth */
		cg_get(&t, 1000 + (uint64_t)i * 7);
	assert_int_equal(t.n, 205);
	assert_int_equal(cg_find(&t, 1000 + 199 * 7)->id, 1000 + 199 * 7);
	cg_table_free(&t);
}

/* Prometheus (A) and a curl (B): a spike between A's scrapes stays A's even
 * when B scrapes in between; the level counts even without events. */
static void each_scraper_sees_peaks_since_its_own_scrape(void **state)
{
	struct cg_table t = { 0 };
	struct cg_entry *e = cg_get(&t, 42);
	int a = cg_scraper(&t, "127.0.0.1 Prometheus/2.42.0", 3);

	assert_int_equal(cg_close_window(&t, e, a, 0, 10), 10); /* no event: the level */
	t.scrapers[a].last_ns = 1;
	/* a spike to 100, then B's first scrape at level 10 */
	int b = cg_scraper(&t, "127.0.0.1 curl/7.88.1", 2);

	assert_int_not_equal(a, b);
	assert_int_equal(cg_close_window(&t, e, b, 100, 10), 100);
	t.scrapers[b].last_ns = 2;
	/* A's next scrape: its window covered the spike, closed by B's scrape */
	assert_int_equal(cg_scraper(&t, "127.0.0.1 Prometheus/2.42.0", 3), a);
	assert_int_equal(cg_close_window(&t, e, a, 0, 10), 100);
	/* and then only the level again, for both */
	assert_int_equal(cg_close_window(&t, e, a, 0, 10), 10);
	assert_int_equal(cg_close_window(&t, e, b, 0, 10), 10);
	/* a level of 50 dropping to 20 without an event between: 50 */
	e->level = 50;
	assert_int_equal(cg_close_window(&t, e, a, 0, 20), 50);
	cg_table_free(&t);
}

/* The attack of issue 15 (item 11): between two scrapes of A, a spike, then
 * 16 clients with made-up User-Agents. A still sees the spike; they get the
 * windows since anyone's previous scrape, without a slot once all are held. */
static void other_clients_never_take_a_scrapers_window(void **state)
{
	struct cg_table t = { 0 };
	struct cg_entry *e = cg_get(&t, 1);
	uint64_t now = 1000;
	char key[32];
	int a = cg_scraper(&t, "127.0.0.1 Prometheus/2.42.0", now), k, held = 1;

	assert_int_equal(cg_close_window(&t, e, a, 0, 10), 10);
	t.scrapers[a].last_ns = now;
	for (int i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "127.0.0.1 agent-%d", i);
		k = cg_scraper(&t, key, ++now);
		assert_int_not_equal(k, a);
		/* the first window holds the spike (100), the others the level */
		assert_int_equal(cg_close_window(&t, e, k, i ? 0 : 100, 10), i ? 10 : 100);
		if (k != CG_NO_SLOT) {
			t.scrapers[k].last_ns = now;
			held++;
		}
	}
	assert_int_equal(held, CG_MAX_SCRAPERS);
	assert_int_equal(cg_scraper(&t, "127.0.0.1 Prometheus/2.42.0", ++now), a);
	assert_int_equal(cg_close_window(&t, e, a, 0, 10), 100);
	cg_table_free(&t);
}

/* A slot comes free only when its scraper stopped scraping. */
static void idle_scraper_slot_is_reused(void **state)
{
	struct cg_table t = { 0 };
	struct cg_entry *e = cg_get(&t, 1);
	char key[32];
	int k;

	for (int i = 0; i < CG_MAX_SCRAPERS; i++) {
		snprintf(key, sizeof(key), "10.0.0.%d x", i);
		k = cg_scraper(&t, key, 100);
		assert_int_equal(k, i);
		t.scrapers[k].last_ns = 100 + (uint64_t)i;
	}
	assert_int_equal(cg_scraper(&t, "10.0.0.99 y", 200), CG_NO_SLOT);
	/* long after: all but 5 scraped again */
	for (int i = 0; i < CG_MAX_SCRAPERS; i++)
		if (i != 5)
			t.scrapers[i].last_ns = CG_SCRAPER_IDLE_NS;
	e->since[5] = 999;
	k = cg_scraper(&t, "10.0.0.99 y", CG_SCRAPER_IDLE_NS + 200);
	assert_int_equal(k, 5);
	assert_int_equal(e->since[5], 0); /* starts with nothing remembered */
	assert_int_equal(t.scrapers[5].last_ns, 0);
	cg_table_free(&t);
}

static void counters_never_go_down(void **state)
{
	struct cg_entry e = { 0 };

	e.ended[MC_FAULTS] = 10;
	e.live[MC_FAULTS] = 5;
	assert_int_equal(cg_counter(&e, MC_FAULTS), 15);
	/* an address space ended but its record is not read yet: 5 vanish for a moment */
	e.live[MC_FAULTS] = 0;
	assert_int_equal(cg_counter(&e, MC_FAULTS), 15);
	e.ended[MC_FAULTS] = 16;
	assert_int_equal(cg_counter(&e, MC_FAULTS), 16);
}

/* Ids are the inode numbers of the cgroups' directories: any directory tree works. */
/* Makes root/name, a directory, and returns its inode number (a cgroup id). */
static uint64_t make_dir(const char *root, const char *name, char *path, size_t size)
{
	struct stat st;

	snprintf(path, size, "%s/%s", root, name);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void paths_from_inode_numbers(void **state)
{
	char root[] = "/tmp/cgroup_table_XXXXXX", sub[128], subsub[128];
	struct cg_table t = { 0 };
	struct stat st;
	uint64_t id_sub, id_subsub;

	assert_non_null(mkdtemp(root));
	id_sub = make_dir(root, "a", sub, sizeof(sub));
	id_subsub = make_dir(root, "a/b c", subsub, sizeof(subsub));
	assert_int_equal(stat(root, &st), 0);
	cg_get(&t, st.st_ino);
	cg_get(&t, id_subsub);
	cg_get(&t, 1ULL << 62); /* no such directory: removed */
	cg_resolve_paths(&t, root);
	assert_string_equal(cg_label(cg_find(&t, st.st_ino)), "/");
	assert_string_equal(cg_label(cg_find(&t, id_subsub)), "/a/b c");
	assert_string_equal(cg_label(cg_find(&t, 1ULL << 62)), "(removed cgroup 4611686018427387904)");
	/* one walk per new id: a later one finds the new one only */
	cg_get(&t, id_sub);
	cg_resolve_paths(&t, root);
	assert_string_equal(cg_label(cg_find(&t, id_sub)), "/a");
	rmdir(subsub);
	rmdir(sub);
	rmdir(root);
	cg_table_free(&t);
}

static void removed_empty_cgroups_are_forgotten(void **state)
{
	char root[] = "/tmp/cgroup_table_XXXXXX", kept[128], gone[128];
	struct cg_table t = { 0 };
	struct cg_entry *empty, *removed;
	uint64_t id_kept, id_gone;

	assert_non_null(mkdtemp(root));
	id_kept = make_dir(root, "kept", kept, sizeof(kept));
	id_gone = make_dir(root, "gone", gone, sizeof(gone));
	cg_get(&t, id_kept);
	cg_get(&t, id_gone);
	cg_resolve_paths(&t, root);
	assert_int_equal(rmdir(gone), 0);
	removed = cg_find(&t, id_gone);
	empty = cg_find(&t, id_kept);
	cg_forget_if_removed(empty, root);
	assert_string_equal(empty->path, "/kept"); /* still there, just empty */
	removed->processes = 1;
	cg_forget_if_removed(removed, root);
	assert_string_equal(removed->path, "/gone"); /* its processes still count */
	removed->processes = 0;
	cg_forget_if_removed(removed, root);
	assert_null(removed->path);
	/* a directory of that name made again is another cgroup (another inode) */
	assert_int_equal(rmdir(kept), 0);
	if (make_dir(root, "kept", kept, sizeof(kept)) != empty->id) { /* a file system may hand the same inode number out again */
		cg_forget_if_removed(empty, root);
		assert_null(empty->path);
	}
	rmdir(kept);
	rmdir(root);
	cg_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_sorted_and_found),
		cmocka_unit_test(each_scraper_sees_peaks_since_its_own_scrape),
		cmocka_unit_test(other_clients_never_take_a_scrapers_window),
		cmocka_unit_test(idle_scraper_slot_is_reused),
		cmocka_unit_test(counters_never_go_down),
		cmocka_unit_test(paths_from_inode_numbers),
		cmocka_unit_test(removed_empty_cgroups_are_forgotten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
