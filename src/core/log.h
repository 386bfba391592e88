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

#define elog(fmt, ...) fprintf(stderr, "rsstrace: " fmt "\n", ##__VA_ARGS__)
#define wlog(fmt, ...) fprintf(stderr, "rsstrace: warning: " fmt "\n", ##__VA_ARGS__)
#define vlog(fmt, ...)                                                      \
	do {                                                                \
		if (log_verbose)                                            \
			fprintf(stderr, "rsstrace: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif
