// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: cgroup path -> container and pod (a cgroup name is
 * chosen by whoever creates the cgroup). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/container_cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_cgroup c;
	char line[CONTAINER_DESCRIBE_LEN];
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;

	if (container_cgroup_parse(s, &c)) {
		/* what it found is whole: an id of 64 digits, a UID, a QoS with a pod */
		if (c.id[0] && strlen(c.id) != CONTAINER_ID_LEN)
			abort();
		if (c.pod_uid[0] && (strlen(c.pod_uid) < 32 || !c.qos))
			abort();
		/* the one-line description always fits, and only says what was found */
		container_cgroup_describe(&c, line, sizeof(line));
		if (strlen(line) >= sizeof(line) - 1 || !line[0])
			abort();
	}
	if (s[0] && container_cgroup_id_matches(&c, s) && !c.id[0] && !c.pod_uid[0])
		abort();
	free(s);
	return 0;
}
