// SPDX-License-Identifier: GPL-2.0
#include "core/log.h"

bool log_verbose;

int log_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!log_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}
