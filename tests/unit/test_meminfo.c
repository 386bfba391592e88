// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the /proc/meminfo reader behind the header of `rsstrace top`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/meminfo.h"

static void the_four_fields(void **state)
{
	const char *text = "MemTotal:       16318412 kB\n"
			   "MemFree:          824172 kB\n"
			   "MemAvailable:    9174004 kB\n"
			   "SwapCached:        12345 kB\n"
			   "SwapTotal:       2097148 kB\n"
			   "SwapFree:        2000000 kB\n";
	struct meminfo m;

	parse_meminfo(text, &m);
	assert_int_equal(m.total, 16318412);
	assert_int_equal(m.avail, 9174004);
	assert_int_equal(m.swap_total, 2097148);
	assert_int_equal(m.swap_free, 2000000);
}

static void absent_or_malformed_fields_are_zero(void **state)
{
	struct meminfo m = { 1, 1, 1, 1 };

	/* an overflowing MemTotal, a MemAvailable without a number, no
	 * SwapTotal (only a longer key that starts with it), no SwapFree */
	parse_meminfo("MemTotal: 99999999999999999999999 kB\nMemAvailable: kB\nSwapTotalX: 5 kB\n", &m);
	assert_int_equal(m.total, 0);
	assert_int_equal(m.avail, 0);
	assert_int_equal(m.swap_total, 0);
	assert_int_equal(m.swap_free, 0);
	parse_meminfo("", &m);
	assert_int_equal(m.total, 0);
}

static void reads_this_machine(void **state)
{
	struct meminfo m;

	assert_int_equal(read_meminfo(&m), 0);
	assert_true(m.total > 0);
	assert_true(m.avail >= 0 && m.avail <= m.total);
	assert_true(m.swap_free >= 0 && m.swap_free <= m.swap_total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_four_fields),
		cmocka_unit_test(absent_or_malformed_fields_are_zero),
		cmocka_unit_test(reads_this_machine),
	};

	return cmocka_run_group_tests_name("meminfo", tests, NULL, NULL);
}
