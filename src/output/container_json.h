/* SPDX-License-Identifier: GPL-2.0 */
/* What a cgroup path says of a container and a pod (proc/container_cgroup.h)
 * as JSON fields, named as serve's labels are: one spelling for `top -b
 * --json`, `rsstrace --cgroup --json` and the exporter. */
#ifndef CONTAINER_JSON_H
#define CONTAINER_JSON_H

#include "core/json_writer.h"
#include "proc/container_cgroup.h"

/* "container_runtime", "container_id" (all 64 digits), "pod_uid",
 * "qos_class": each only when the path gives it, as serve leaves out a label
 * the path does not give. */
void container_print_json(struct json_obj *j, const struct container_cgroup *c);

#endif
