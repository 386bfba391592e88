// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the /proc/PID/maps reader behind --stacks=dwarf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc/proc_maps.h"

static void file_mappings_kept_in_order(void **state)
{
	const char *text =
		"55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 131 /usr/bin/x y\n"
		"55d0c0a02000-55d0c0a09000 r-xp 00002000 fe:01 131 /usr/bin/x y\n"
		"55d0c1f1c000-55d0c1f3d000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f1e4a000000-7f1e4a021000 rw-p 00000000 00:00 0 \n"
		"7f1e4a200000-7f1e4a226000 r-xp 00026000 fe:01 2621 /lib/libc.so.6 (deleted)\n"
		"7ffd8f9d2000-7ffd8f9d4000 r-xp 00000000 00:00 0                          [vdso]";
	struct proc_maps m = { 0 };

	assert_int_equal(parse_proc_maps(text, &m), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].path, "/usr/bin/x y");
	assert_true(m.v[1].start == 0x55d0c0a02000ULL && m.v[1].end == 0x55d0c0a09000ULL);
	assert_true(m.v[1].pgoff == 0x2000);
	assert_string_equal(m.v[2].path, "/lib/libc.so.6 (deleted)");
	assert_true(m.v[2].pgoff == 0x26000);
	proc_maps_free(&m);
}

static void lookups_by_address(void **state)
{
	struct proc_maps m = { 0 };

	assert_int_equal(parse_proc_maps("1000-2000 r-xp 0 0:0 1 /a\n3000-5000 r-xp 1000 0:0 2 /b\n", &m), 0);
	assert_null(proc_maps_find(&m, 0xfff));
	assert_string_equal(proc_maps_find(&m, 0x1000)->path, "/a");
	assert_string_equal(proc_maps_find(&m, 0x1fff)->path, "/a");
	assert_null(proc_maps_find(&m, 0x2000));
	assert_string_equal(proc_maps_find(&m, 0x4abc)->path, "/b");
	assert_null(proc_maps_find(&m, 0x5000));
	proc_maps_free(&m);
}

static void malformed_lines_skipped(void **state)
{
	struct proc_maps m = { 0 };

	/* no range, an empty range, a slash only in the flags' place, garbage */
	assert_int_equal(parse_proc_maps("zz-1000 r-xp 0 0:0 1 /a\n2000-2000 r-xp 0 0:0 1 /b\n"
					 "3000-4000 /xp 0 0:0 1 x\n\n/only/a/path\n"
					 "5000-6000 r-xp 0 0:0 1 /ok\n", &m), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0].path, "/ok");
	assert_int_equal(parse_proc_maps("", &m), 0);
	assert_int_equal(m.n, 0);
	proc_maps_free(&m);
}

static void reads_this_process(void **state)
{
	struct proc_maps m = { 0 };
	char *text = NULL, exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const struct proc_map *found;

	assert_true(n > 0);
	exe[n] = 0;
	assert_int_equal(read_proc_maps_text(getpid(), &m, &text), 0);
	assert_non_null(text);
	found = proc_maps_find(&m, (uint64_t)(uintptr_t)&reads_this_process);
	assert_non_null(found);
	assert_string_equal(found->path, exe);
	proc_maps_free(&m);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_mappings_kept_in_order),
		cmocka_unit_test(lookups_by_address),
		cmocka_unit_test(malformed_lines_skipped),
		cmocka_unit_test(reads_this_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
