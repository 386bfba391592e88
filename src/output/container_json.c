// SPDX-License-Identifier: GPL-2.0
#include "output/container_json.h"

void container_print_json(struct json_obj *j, const struct container_cgroup *c)
{
	if (c->runtime)
		json_str(j, "container_runtime", c->runtime);
	if (c->id[0])
		json_str(j, "container_id", c->id);
	if (c->pod_uid[0])
		json_str(j, "pod_uid", c->pod_uid);
	if (c->qos)
		json_str(j, "qos_class", c->qos);
}
