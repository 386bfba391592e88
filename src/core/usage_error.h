/* SPDX-License-Identifier: GPL-2.0 */
/* A bad command line, said the same way by every subcommand. */
#ifndef USAGE_ERROR_H
#define USAGE_ERROR_H

/*
 * Prints, on stderr, one line saying what is wrong ("PROG: ..."), the usage
 * line(s) and "Try 'PROG --help' for more information.". usage ends with a
 * newline. Returns EXIT_USAGE, for the parser to return.
 */
int report_usage_error(const char *prog, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
