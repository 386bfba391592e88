// SPDX-License-Identifier: GPL-2.0
/* Unit tests: sizes, durations and numbers given by people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/units.h"

static void size_valid(void **state)
{
	uint64_t b;

	assert_int_equal(parse_size("512M", &b), 0);
	assert_int_equal(b, 512ULL << 20);
	assert_int_equal(parse_size("2G", &b), 0);
	assert_int_equal(b, 2ULL << 30);
	assert_int_equal(parse_size("1.5g", &b), 0);
	assert_int_equal(b, 3ULL << 29);
	assert_int_equal(parse_size("64K", &b), 0);
	assert_int_equal(b, 64ULL << 10);
	assert_int_equal(parse_size("1MiB", &b), 0);
	assert_int_equal(b, 1ULL << 20);
	assert_int_equal(parse_size("3MB", &b), 0);
	assert_int_equal(b, 3ULL << 20);
	assert_int_equal(parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(parse_size("1T", &b), 0);
	assert_int_equal(b, 1ULL << 40);
}

static void size_invalid(void **state)
{
	const char *bad[] = { "12Q", "", "-1", "-1G", "+5M", "M", " 5M", "5M ", "5MM", "1.5",
			      "0", "0M", "nan", "inf", "1e30", "5Mx", "0x10", NULL };
	uint64_t b = 77;

	for (int i = 0; bad[i]; i++) {
		if (parse_size(bad[i], &b) != -1)
			fail_msg("parse_size accepted '%s'", bad[i]);
	}
	assert_int_equal(b, 77); /* untouched on error */
}

static void seconds(void **state)
{
	double s;

	assert_int_equal(parse_seconds("10", &s), 0);
	assert_true(s == 10.0);
	assert_int_equal(parse_seconds("0.25", &s), 0);
	assert_true(s == 0.25);
	assert_int_equal(parse_seconds("0", &s), -1);
	assert_int_equal(parse_seconds("-1", &s), -1);
	assert_int_equal(parse_seconds("1s", &s), -1);
	assert_int_equal(parse_seconds("", &s), -1);
	assert_int_equal(parse_seconds("nan", &s), -1);
	assert_int_equal(parse_seconds("1e99", &s), -1);
}

static void uints(void **state)
{
	uint64_t v;

	assert_int_equal(parse_uint("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_uint("0", 1, 100, &v), -1);
	assert_int_equal(parse_uint("101", 1, 100, &v), -1);
	assert_int_equal(parse_uint("-1", 0, 100, &v), -1);
	assert_int_equal(parse_uint("1x", 0, 100, &v), -1);
	assert_int_equal(parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -1);
}

static void human_sizes(void **state)
{
	char buf[16];

	assert_string_equal(fmt_kb(0, buf, sizeof(buf)), "0K");
	assert_string_equal(fmt_kb(999, buf, sizeof(buf)), "999K");
	assert_string_equal(fmt_kb(1000, buf, sizeof(buf)), "0.98M");
	assert_string_equal(fmt_kb(1024, buf, sizeof(buf)), "1.00M");
	assert_string_equal(fmt_kb(1536, buf, sizeof(buf)), "1.50M");
	assert_string_equal(fmt_kb(20 * 1024 + 512, buf, sizeof(buf)), "20.5M");
	assert_string_equal(fmt_kb(812 * 1024, buf, sizeof(buf)), "812M");
	assert_string_equal(fmt_kb(1024 * 1024, buf, sizeof(buf)), "1.00G");
	assert_string_equal(fmt_kb(5ULL * 1024 * 1024 * 1024, buf, sizeof(buf)), "5.00T");
	/* never wider than 6 characters: the summary's columns rely on it */
	for (uint64_t kb = 1; kb < (1ULL << 42); kb = kb * 3 + 7)
		if (strlen(fmt_kb(kb, buf, sizeof(buf))) > 6)
			fail_msg("fmt_kb(%llu) = '%s' is wider than 6", (unsigned long long)kb, buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(size_valid), cmocka_unit_test(size_invalid),
		cmocka_unit_test(seconds),    cmocka_unit_test(uints),
		cmocka_unit_test(human_sizes),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
