// SPDX-License-Identifier: GPL-2.0
#include "core/log.h"

#include "core/text_escape.h"

bool log_verbose;

int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!log_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void log_line(const char *prefix, const char *fmt, ...)
{
	char msg[1024], shown[TEXT_ESC_LEN(sizeof(msg))];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s\n", prefix, text_escape(shown, sizeof(shown), msg, sizeof(msg)));
}
