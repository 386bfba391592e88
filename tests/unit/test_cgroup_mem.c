// SPDX-License-Identifier: GPL-2.0
/* Unit tests: finding a process's memory cgroup and reading memory.stat (v1, v2). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proc/cgroup_mem.h"
#include "proc/cgroup_target.h"
#include "output/cgroup_report.h"

static void memory_line_of_v1_wins(void **state)
{
	const char *text = "12:pids:/user.slice\n"
			   "5:cpu,cpuacct:/x\n"
			   "4:memory:/rsstrace-oom-42\n"
			   "1:name=systemd:/user.slice\n"
			   "0::/unified/path\n";
	char path[64];
	bool v1 = false;

	assert_int_equal(parse_proc_cgroup(text, path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/rsstrace-oom-42");
	assert_true(v1);
}

static void v2_line_when_no_v1_memory(void **state)
{
	const char *text = "3:cpu:/a\n0::/system.slice/foo.service\n";
	char path[64];
	bool v1 = true;

	assert_int_equal(parse_proc_cgroup(text, path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/system.slice/foo.service");
	assert_false(v1);
}

static void memory_not_a_prefix_match(void **state)
{
	/* "memory_x" is not the memory controller; no v2 line: not found */
	const char *text = "4:memory_x:/a\n";
	char path[64];
	bool v1;

	assert_int_equal(parse_proc_cgroup(text, path, sizeof(path), &v1) < 0, 1);
}

static void too_long_is_refused_not_cut(void **state)
{
	const char *text = "4:memory:/abcdefgh\n0::/x\n";
	char path[10]; /* "/abcdefgh" and its NUL */
	bool v1;

	assert_int_equal(parse_proc_cgroup(text, path, sizeof(path) - 1, &v1), -ENAMETOOLONG);
	assert_int_equal(parse_proc_cgroup(text, path, sizeof(path), &v1), 0);
	assert_string_equal(path, "/abcdefgh");
}

static void v2_stat_keys(void **state)
{
	struct cgroup_mem cg = { .v1 = false };

	cgroup_mem_parse_stat(&cg, "anon 4096\nfile 8192\nkernel 12288\nkernel_stack 1\n"
				   "shmem 4096\nfile_mapped 2048\nanon_thp 0\n");
	assert_int_equal(cg.anon, 4096);
	assert_int_equal(cg.file, 8192);
	assert_int_equal(cg.kernel, 12288); /* not kernel_stack */
	assert_true(cg.has_kernel);
	assert_int_equal(cg.shmem, 4096);
	assert_int_equal(cg.file_mapped, 2048);
}

static void v1_stat_prefers_hierarchical_totals(void **state)
{
	struct cgroup_mem cg = { .v1 = true };

	cgroup_mem_parse_stat(&cg, "cache 100\nrss 200\nrss_huge 0\nshmem 5\nmapped_file 7\n"
				   "total_cache 1100\ntotal_rss 1200\ntotal_shmem 15\ntotal_mapped_file 17\n");
	assert_int_equal(cg.file, 1100);
	assert_int_equal(cg.anon, 1200);
	assert_int_equal(cg.shmem, 15);
	assert_int_equal(cg.file_mapped, 17);
}

/* Page cache nobody maps, CoW-shared anon, kernel memory: each difference
 * gets its sign and its reason; no difference, no reason. */
static void explains_each_difference(void **state)
{
	struct cg_sample s = { .taken = true };
	struct cg_diff d;

	s.mem.file = 40 << 20;		 /* 40 MiB of page cache */
	s.mem.anon = 128 << 20;		 /* one copy of the shared anon */
	s.mem.kernel = 1 << 20;
	s.mem.has_kernel = true;
	s.tree[RSS_FILE] = (8 << 20) / 4096; /* 8 MiB mapped */
	s.tree[RSS_ANON] = (256 << 20) / 4096; /* the same 128 MiB in two processes */
	cgroup_explain(&s, 4, &d);
	assert_int_equal(d.file_kb, 32 * 1024);
	assert_non_null(d.why_file);
	assert_non_null(strstr(d.why_file, "page cache"));
	assert_int_equal(d.anon_kb, 128 * 1024);
	assert_non_null(strstr(d.why_anon, "copy-on-write"));
	assert_int_equal(d.kernel_kb, 1024);
	assert_non_null(d.why_kernel);

	s.mem.file = 8 << 20;
	s.mem.anon = 256 << 20;
	s.mem.has_kernel = false;
	s.mem.file_mapped = 8 << 20;
	cgroup_explain(&s, 4, &d);
	assert_null(d.why_file);
	assert_null(d.why_mapped);
	assert_null(d.why_anon);
	assert_int_equal(d.kernel_kb, -1);
	assert_null(d.why_kernel);
}

/* The case: 200M of page cache in the cgroup, 10M of it mapped; the
 * traced processes' RssFile is 20M, half of it libraries charged to the
 * parent cgroup. Unmapped cache is 190M (not 200M - 20M = 180M), and the
 * 10M the RSS holds beyond the cgroup's mapped pages is said apart. */
static void cache_ignores_pages_charged_elsewhere(void **state)
{
	struct cg_sample s = { .taken = true };
	struct cg_diff d;

	s.mem.file = 200ULL << 20;
	s.mem.file_mapped = 10 << 20;
	s.tree[RSS_FILE] = (20 << 20) / 4096;
	cgroup_explain(&s, 4, &d);
	assert_int_equal(d.unmapped_kb, 190 * 1024);
	assert_non_null(strstr(d.why_file, "no process maps"));
	assert_int_equal(d.mapped_kb, 10 * 1024);
	assert_non_null(strstr(d.why_mapped, "another cgroup"));
	assert_int_equal(d.file_kb, 180 * 1024); /* the plain difference, still in the JSON */
}

/* /proc/cgroups: the memory controller's hierarchy, only where it is on
 * v1 and enabled (hierarchy 0 is v2 or none). */
static void memory_hierarchy_from_proc_cgroups(void **state)
{
	assert_int_equal(memory_hierarchy_id("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
					     "cpu\t1\t1\t1\nmemory\t4\t120\t1\npids\t8\t1\t1\n"), 4);
	assert_int_equal(memory_hierarchy_id("memory\t0\t120\t1\n"), -1);
	assert_int_equal(memory_hierarchy_id("memory\t4\t120\t0\n"), -1);
	assert_int_equal(memory_hierarchy_id("memoryx\t4\t1\t1\n"), -1);
	assert_int_equal(memory_hierarchy_id(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_line_of_v1_wins),
		cmocka_unit_test(v2_line_when_no_v1_memory),
		cmocka_unit_test(memory_not_a_prefix_match),
		cmocka_unit_test(too_long_is_refused_not_cut),
		cmocka_unit_test(v2_stat_keys),
		cmocka_unit_test(v1_stat_prefers_hierarchical_totals),
		cmocka_unit_test(explains_each_difference),
		cmocka_unit_test(cache_ignores_pages_charged_elsewhere),
		cmocka_unit_test(memory_hierarchy_from_proc_cgroups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
