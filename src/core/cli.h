/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the command lines of rsstrace and its subcommands have in common:
 * getopt_long with '+' (options first), -h/--help, and usage errors said
 * one way: one line on stderr saying what is wrong, the usage line and a
 * hint, exit status EXIT_USAGE.
 */
#ifndef CORE_CLI_H
#define CORE_CLI_H

#include <getopt.h>

struct cli {
	const char *prog;  /* "rsstrace top": how its errors begin */
	const char *usage; /* the usage line(s), each ending in a newline */
	const char *help;  /* all of --help */
	const char *shorts; /* getopt's optstring, with "h" */
	const struct option *longs; /* with "help" as 'h' */
	/* Takes one option other than -h (arg: its value or NULL). Returns 0,
	 * -1 to stop with exit status 0 (--version), or cli_error()'s EXIT_USAGE
	 * (or cli_print()'s error). */
	int (*on_option)(const struct cli *c, int opt, const char *arg, void *opts);
	/* Takes what follows the options (n may be 0) and checks the whole;
	 * NULL: no operands are taken. Returns 0 or cli_error()'s EXIT_USAGE. */
	int (*on_operands)(const struct cli *c, char **operands, int n, void *opts);
};

/* Says a bad command line of c (printf-style). Returns EXIT_USAGE. */
int cli_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes text (--help, --version) to standard output. Returns -1 (done:
 * exit 0), or EXIT_OUTPUT_FAILED after saying why it could not. */
int cli_print(const struct cli *c, const char *text);

/* Parses argv (argv[0]: the command's name) into opts through c->on_option
 * and c->on_operands. Returns 0 to go on, -1 after --help or --version
 * (exit 0), EXIT_USAGE after a usage error, or cli_print()'s error. */
int cli_parse(const struct cli *c, int argc, char **argv, void *opts);

#endif
