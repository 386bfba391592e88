// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the command lines of `rsstrace top` and `rsstrace serve`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/exit_status.h"
#include "serve/cli.h"
#include "top/cli.h"

/* argv for the subcommand (argv[0] is its name), from a NULL-terminated list. */
static char **args(const char *cmd, va_list ap)
{
	static char *argv[32];
	static char store[32][64];
	const char *a;
	int argc = 0;

	snprintf(store[argc], sizeof(store[argc]), "%s", cmd);
	argv[argc] = store[argc];
	argc++;
	while ((a = va_arg(ap, const char *)) && argc < 31) {
		snprintf(store[argc], sizeof(store[argc]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	argv[argc] = NULL;
	return argv;
}

static int argc_of(char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

static int top(struct top_opts *o, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, o);
	argv = args("top", ap);
	va_end(ap);
	return top_parse_options(argc_of(argv), argv, o);
}

static int serve(struct serve_opts *o, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, o);
	argv = args("serve", ap);
	va_end(ap);
	return serve_parse_options(argc_of(argv), argv, o);
}

static void top_defaults_and_values(void **state)
{
	struct top_opts o;

	assert_int_equal(top(&o, NULL), 0);
	assert_true(o.delay == 1 && o.faults && !o.batch && !o.json && !o.verbose);
	assert_int_equal(o.count, 0);
	assert_int_equal(o.map_entries, 65536);
	assert_int_equal(top(&o, "-b", "-n", "3", "-d", "0.25", "--json", "--no-faults", "--max-procs", "100",
			     "-v", NULL), 0);
	assert_true(o.batch && o.json && !o.faults && o.verbose && o.delay == 0.25);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.map_entries, 100);
	/* long forms, and a second parse starts afresh */
	assert_int_equal(top(&o, "--batch", "--iterations=2", "--delay=0.05", NULL), 0);
	assert_true(o.batch && !o.json && o.delay == 0.05);
	assert_int_equal(o.count, 2);
}

static void top_usage_errors(void **state)
{
	struct top_opts o;

	assert_int_equal(top(&o, "-d", "0.01", NULL), EXIT_USAGE); /* below 0.05 s */
	assert_int_equal(top(&o, "-d", "x", NULL), EXIT_USAGE);
	assert_int_equal(top(&o, "-b", "-n", "0", NULL), EXIT_USAGE);
	assert_int_equal(top(&o, "--max-procs", "16777217", NULL), EXIT_USAGE);
	assert_int_equal(top(&o, "--json", NULL), EXIT_USAGE); /* needs -b */
	assert_int_equal(top(&o, "--bogus", NULL), EXIT_USAGE);
	assert_int_equal(top(&o, "-d", NULL), EXIT_USAGE);
	assert_int_equal(top(&o, "extra", NULL), EXIT_USAGE);
}

static void serve_defaults_and_values(void **state)
{
	struct serve_opts o;

	assert_int_equal(serve(&o, NULL), 0);
	assert_string_equal(o.listen, "127.0.0.1:9464");
	assert_true(o.addr.loopback && o.causes && !o.allow_remote && !o.verbose);
	assert_int_equal(o.top_processes, 5);
	assert_int_equal(o.map_entries, 65536);
	assert_int_equal(o.cgroup_entries, 4096);
	assert_int_equal(serve(&o, "-l", "[::1]:9000", "-n", "0", "--no-causes", "--max-procs", "10",
			       "--max-cgroups", "20", "-v", NULL), 0);
	assert_true(o.addr.loopback && !o.causes && o.verbose);
	assert_int_equal(o.top_processes, 0);
	assert_int_equal(o.map_entries, 10);
	assert_int_equal(o.cgroup_entries, 20);
	assert_int_equal(serve(&o, "--listen", "0.0.0.0:9464", "--allow-remote", NULL), 0);
	assert_false(o.addr.loopback);
}

static void serve_usage_errors(void **state)
{
	struct serve_opts o;

	assert_int_equal(serve(&o, "-l", "0.0.0.0:9464", NULL), EXIT_USAGE); /* not loopback */
	assert_int_equal(serve(&o, "-l", "localhost:9464", NULL), EXIT_USAGE);
	assert_int_equal(serve(&o, "-n", "-1", NULL), EXIT_USAGE);
	assert_int_equal(serve(&o, "-n", "1001", NULL), EXIT_USAGE);
	assert_int_equal(serve(&o, "--max-cgroups", "0", NULL), EXIT_USAGE);
	assert_int_equal(serve(&o, "--bogus", NULL), EXIT_USAGE);
	assert_int_equal(serve(&o, "extra", NULL), EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(top_defaults_and_values),
		cmocka_unit_test(top_usage_errors),
		cmocka_unit_test(serve_defaults_and_values),
		cmocka_unit_test(serve_usage_errors),
	};

	return cmocka_run_group_tests_name("subcommand_options", tests, NULL, NULL);
}
