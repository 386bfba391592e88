// SPDX-License-Identifier: GPL-2.0
/* Unit tests: parsing /proc text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc/proc_status.h"

static void stat_with_hostile_comm(void **state)
{
	int ppid;
	unsigned long flags;

	/* a comm may contain spaces and parentheses: fields count from the last ')' */
	assert_int_equal(parse_proc_stat("123 (a) b (c)) S 77 1 1 0 -1 2097216 0 0", &ppid, &flags), 0);
	assert_int_equal(ppid, 77);
	assert_int_equal(flags, 2097216);
	assert_int_equal(parse_proc_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0", &ppid, &flags), 0);
	assert_true(flags & 0x00200000); /* PF_KTHREAD */
	assert_int_equal(parse_proc_stat("garbage", &ppid, &flags), -1);
	assert_int_equal(parse_proc_stat("1 (x) S", &ppid, &flags), -1);
}

static void status_fields(void **state)
{
	const char *text = "Name:\tcat\nTgid:\t4242\nVmHWMx:\t1 kB\nVmHWM:\t   12345 kB\nVmRSS:\t  100 kB\n";
	long long v;

	assert_int_equal(parse_status_field(text, "Tgid", &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(parse_status_field(text, "VmHWM", &v), 0); /* not VmHWMx */
	assert_int_equal(v, 12345);
	assert_int_equal(parse_status_field(text, "VmSize", &v), -1);
	assert_int_equal(parse_status_field(text, "Name", &v), -1); /* not a number */
	assert_int_equal(parse_status_field("", "Tgid", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_with_hostile_comm),
		cmocka_unit_test(status_fields),
	};

	return cmocka_run_group_tests_name("proc_status", tests, NULL, NULL);
}
