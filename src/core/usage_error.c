// SPDX-License-Identifier: GPL-2.0
#include "core/usage_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/exit_status.h"

int report_usage_error(const char *prog, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%sTry '%s --help' for more information.\n", usage, prog);
	return EXIT_USAGE;
}
