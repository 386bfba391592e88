// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: parsers of /proc/PID/cgroup, /proc/cgroups and memory.stat text. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/cgroup_mem.h"
#include "proc/cgroup_target.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_mem cg = { 0 };
	char *s = fuzz_cstr(data, size), path[CG_PATH_LEN];
	uint64_t v;
	bool v1;

	if (!s)
		return 0;
	parse_proc_cgroup(s, path, sizeof(path), &v1);
	cgroup_stat_field(s, "file", &v);
	memory_hierarchy_id(s);
	cgroup_mem_parse_stat(&cg, s);
	cg.v1 = true;
	cgroup_mem_parse_stat(&cg, s);
	free(s);
	return 0;
}
