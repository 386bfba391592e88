// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "trace/options.h"

static int parse(struct options *o, ...)
{
	static char *argv[32];
	static char store[32][64];
	va_list ap;
	int argc = 0;
	const char *a;

	argv[argc++] = "rsstrace";
	va_start(ap, o);
	while ((a = va_arg(ap, const char *)) && argc < 31) {
		snprintf(store[argc], sizeof(store[argc]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	optind = 0; /* reset getopt between calls */
	return parse_options(argc, argv, o);
}

static void command_mode(void **state)
{
	struct options o;

	assert_int_equal(parse(&o, "--json", "-o", "f", "--", "ls", "-l", NULL), 0);
	assert_true(o.json);
	assert_string_equal(o.output, "f");
	assert_string_equal(o.cmd[0], "ls");
	assert_string_equal(o.cmd[1], "-l"); /* CMD's options stay CMD's */
	assert_null(o.cmd[2]);
	assert_true(o.follow_children);
	/* without "--", too */
	assert_int_equal(parse(&o, "ls", "-l", NULL), 0);
	assert_string_equal(o.cmd[1], "-l");
}

static void pid_mode(void **state)
{
	struct options o;

	assert_int_equal(parse(&o, "-p", "12,34", "-p", "56", "--no-children", "-d", "1.5", "-i",
			       "0.5", "--max-rss", "2G", NULL),
			 0);
	assert_int_equal(o.npids, 3);
	assert_int_equal(o.pids[0], 12);
	assert_int_equal(o.pids[2], 56);
	assert_false(o.follow_children);
	assert_true(o.duration == 1.5 && o.interval == 0.5);
	assert_int_equal(o.max_rss, 2ULL << 30);
	assert_null(o.cmd);
}

static void bad_values_are_usage_errors(void **state)
{
	struct options o;

	/* (each prints its one-line error: the wording is tested end to end) */
	assert_int_equal(parse(&o, "-p", "abc", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-p", "0", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-p", "1,,2", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-p", "99999999999", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-d", "-1", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--max-rss", "12Q", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-i", "0.001", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--ringbuf-size", "5000", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--max-procs", "0", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "-p", "1", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--nope", NULL), EXIT_USAGE);
}

static void stack_modes(void **state)
{
	struct options o;

	assert_int_equal(parse(&o, "--stacks", "--", "x", NULL), 0);
	assert_true(o.stacks && !o.stacks_dwarf);
	assert_true(o.stack_copy == 16384);
	assert_int_equal(parse(&o, "--stacks=fp", "--", "x", NULL), 0);
	assert_true(o.stacks && !o.stacks_dwarf);
	assert_int_equal(parse(&o, "--stacks=dwarf", "--stack-copy", "8K", "--", "x", NULL), 0);
	assert_true(o.stacks && o.stacks_dwarf && o.stack_copy == 8192);
	assert_int_equal(parse(&o, "--stacks=lbr", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stacks=", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stacks", "--stack-copy", "8K", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-copy", "6K", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-copy", "0", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-copy", "32K", "--", "x", NULL), EXIT_USAGE);
}

static void stack_sampling(void **state)
{
	struct options o;

	assert_int_equal(parse(&o, "--stacks", "--", "x", NULL), 0);
	assert_true(o.stack_sample == 512 << 10); /* sampled, unless asked */
	assert_int_equal(parse(&o, "--stack-sample", "512K", "--", "x", NULL), 0);
	assert_true(o.stacks && o.stack_sample == 512 << 10);
	assert_int_equal(parse(&o, "--stacks=dwarf", "--stack-sample", "4K", "--", "x", NULL), 0);
	assert_true(o.stacks_dwarf && o.stack_sample == 4096);
	assert_int_equal(parse(&o, "--stack-sample", "0", "--", "x", NULL), 0);
	assert_true(o.stacks && o.stack_sample == 0);
	assert_int_equal(parse(&o, "--stack-sample", "1G", "--", "x", NULL), 0);
	assert_int_equal(parse(&o, "--stack-sample", "5000", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-sample", "2G", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-sample", "-4K", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-sample", "", "--", "x", NULL), EXIT_USAGE);
	assert_int_equal(parse(&o, "--stack-sample", "00", "--", "x", NULL), EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(command_mode),
		cmocka_unit_test(pid_mode),
		cmocka_unit_test(bad_values_are_usage_errors),
		cmocka_unit_test(stack_modes),
		cmocka_unit_test(stack_sampling),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
