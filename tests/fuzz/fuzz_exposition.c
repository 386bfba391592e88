// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: `rsstrace serve`'s listen addresses (typed by people) and
 * label values (cgroup paths and command names: any bytes). Invariants: no
 * crash, no UB; an address that parses has a family and a port; every
 * rendered response is printable ASCII lines with balanced label quotes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/listen_addr.h"
#include "serve/metrics.h"
#include "fuzz.h"

static void check_render(const char *s, size_t size)
{
	struct metrics_cgroup cg = { .path = s };
	struct metrics_process p = { .pid = 1, .cgroup = s };
	struct metrics_snapshot snap = { .version = s, .cgroups = &cg, .ncgroups = 1, .procs = &p, .nprocs = 1 };
	char *text;
	size_t len;

	memcpy(p.comm, s, size < RSS_COMM_LEN ? size : RSS_COMM_LEN);
	if (metrics_render(&snap, MF_OPENMETRICS, &text, &len))
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c != '\n' && (c < 0x20 || c >= 0x7f))
			abort();
	}
	/* every sample line has an even number of unescaped quotes */
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		int quotes = 0;

		if (!nl)
			abort();
		for (char *q = line; q < nl; q++) {
			if (*q == '\\')
				q++;
			else if (*q == '"')
				quotes++;
		}
		if (line[0] != '#' && quotes % 2)
			abort();
		line = nl + 1;
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct listen_addr a;

	if (!s)
		return 0;
	if (!parse_listen_addr(s, &a)) {
		in_port_t port = a.ss.ss_family == AF_INET ? ((struct sockaddr_in *)&a.ss)->sin_port :
			       a.ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a.ss)->sin6_port : 0;

		if (!port)
			abort();
	}
	check_render(s, size);
	free(s);
	return 0;
}
