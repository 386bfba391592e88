// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the command lines of `rsstrace top` and `rsstrace serve`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exit_status.h"
#include "serve/cli.h"
#include "top/cli.h"

/* argc, argv of a command line: ARGS("top", "-b") is 2, {"top", "-b", NULL}
 * (argv[0]: the subcommand's name, as main() hands it over). */
#define ARGS(...) (int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)), (char *[]){ __VA_ARGS__, NULL }
#define top(o, ...) top_parse_options(ARGS("top", ##__VA_ARGS__), o)
#define serve(o, ...) serve_parse_options(ARGS("serve", ##__VA_ARGS__), o)

static void top_defaults_and_values(void **state)
{
	struct top_opts o;

	assert_int_equal(top(&o), 0);
	assert_true(o.delay == 1 && o.faults && !o.batch && !o.json && !o.verbose);
	assert_int_equal(o.count, 0);
	assert_int_equal(o.map_entries, 65536);
	assert_int_equal(top(&o, "-b", "-n", "3", "-d", "0.25", "--json", "--no-faults", "--max-procs", "100",
			     "-v"), 0);
	assert_true(o.batch && o.json && !o.faults && o.verbose && o.delay == 0.25);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.map_entries, 100);
	/* long forms, and a second parse starts afresh */
	assert_int_equal(top(&o, "--batch", "--iterations=2", "--delay=0.05"), 0);
	assert_true(o.batch && !o.json && o.delay == 0.05);
	assert_int_equal(o.count, 2);
}

static void top_usage_errors(void **state)
{
	struct top_opts o;

	assert_int_equal(top(&o, "-d", "0.01"), EXIT_USAGE); /* below 0.05 s */
	assert_int_equal(top(&o, "-d", "x"), EXIT_USAGE);
	assert_int_equal(top(&o, "-b", "-n", "0"), EXIT_USAGE);
	assert_int_equal(top(&o, "--max-procs", "16777217"), EXIT_USAGE);
	assert_int_equal(top(&o, "--json"), EXIT_USAGE); /* needs -b */
	assert_int_equal(top(&o, "--bogus"), EXIT_USAGE);
	assert_int_equal(top(&o, "-d"), EXIT_USAGE);
	assert_int_equal(top(&o, "extra"), EXIT_USAGE);
	assert_int_equal(top(&o, "--help"), -1); /* printed: exit 0 */
}

static void serve_defaults_and_values(void **state)
{
	struct serve_opts o;

	assert_int_equal(serve(&o), 0);
	assert_string_equal(o.listen, "127.0.0.1:9464");
	assert_true(o.addr.loopback && o.causes && !o.allow_remote && !o.verbose);
	assert_int_equal(o.top_processes, 5);
	assert_int_equal(o.map_entries, 65536);
	assert_int_equal(o.cgroup_entries, 4096);
	assert_int_equal(serve(&o, "-l", "[::1]:9000", "-n", "0", "--no-causes", "--max-procs", "10",
			       "--max-cgroups", "20", "-v"), 0);
	assert_true(o.addr.loopback && !o.causes && o.verbose);
	assert_int_equal(o.top_processes, 0);
	assert_int_equal(o.map_entries, 10);
	assert_int_equal(o.cgroup_entries, 20);
	assert_int_equal(serve(&o, "--listen", "0.0.0.0:9464", "--allow-remote"), 0);
	assert_false(o.addr.loopback);
}

static void serve_usage_errors(void **state)
{
	struct serve_opts o;

	assert_int_equal(serve(&o, "-l", "0.0.0.0:9464"), EXIT_USAGE); /* not loopback */
	assert_int_equal(serve(&o, "-l", "localhost:9464"), EXIT_USAGE);
	assert_int_equal(serve(&o, "-n", "-1"), EXIT_USAGE);
	assert_int_equal(serve(&o, "-n", "1001"), EXIT_USAGE);
	assert_int_equal(serve(&o, "--max-cgroups", "0"), EXIT_USAGE);
	assert_int_equal(serve(&o, "--bogus"), EXIT_USAGE);
	assert_int_equal(serve(&o, "extra"), EXIT_USAGE);
	assert_int_equal(serve(&o, "-h"), -1);
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
