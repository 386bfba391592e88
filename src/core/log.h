/* SPDX-License-Identifier: GPL-2.0 */
/* Logging: errors always, verbose output with -v. Errors are one line on stderr. */
#ifndef LOG_H
#define LOG_H

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

extern bool log_verbose; /* -v */

/* libbpf's messages (libbpf_set_print): warnings and the verifier's log
 * with -v only; its debug level never. */
int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list args);

/* One line on stderr: the prefix, then the message with control bytes and
 * invalid UTF-8 escaped (core/text_escape.h): messages echo command lines,
 * paths and names that someone else may have chosen. */
void log_line(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define elog(fmt, ...) log_line("rsstrace: ", fmt, ##__VA_ARGS__)
#define wlog(fmt, ...) log_line("rsstrace: warning: ", fmt, ##__VA_ARGS__)
#define vlog(fmt, ...)                                        \
	do {                                                  \
		if (log_verbose)                              \
			log_line("rsstrace: ", fmt, ##__VA_ARGS__); \
	} while (0)

#endif
