/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a cgroup path says about the container and the Kubernetes pod in it:
 * container runtime, container id, pod UID and QoS class, for the layouts the
 * kubelet, containerd, CRI-O, Docker and Podman create with either cgroup
 * driver:
 *   systemd   /kubepods.slice/kubepods-burstable.slice/
 *               kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
 *             /system.slice/docker-<id>.scope, libpod-<id>.scope, crio-<id>.scope
 *   cgroupfs  /kubepods/burstable/pod<uid>/<id>, /kubepods/pod<uid>/<id>,
 *             /docker/<id>, /libpod_parent/libpod-<id>
 * A pure function of the path (no file is read), so it works wherever the
 * path comes from and whatever prefix (a nested cgroup namespace) it has.
 */
#ifndef CONTAINER_CGROUP_H
#define CONTAINER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

#define CONTAINER_ID_LEN 64 /* hex digits of a container id (every runtime here) */
#define POD_UID_LEN 36	    /* a UUID: 8-4-4-4-12 */
#define CONTAINER_SHORT_ID_LEN 12 /* the id as `docker ps` and `crictl ps` show it */
/* room for container_cgroup_describe()'s longest text */
#define CONTAINER_DESCRIBE_LEN 96

struct container_cgroup {
	const char *runtime;		    /* "containerd", "cri-o", "docker", "podman"; NULL if unsaid */
	char id[CONTAINER_ID_LEN + 1];	    /* "" if no container */
	char pod_uid[POD_UID_LEN + 1];	    /* "" if no pod; with dashes, as the API shows it */
	const char *qos;		    /* "Guaranteed", "Burstable", "BestEffort"; NULL if no pod */
};

/* Fills out from path ("" fields and NULLs for what it does not say).
 * Returns true if the path names a container or a pod. */
bool container_cgroup_parse(const char *path, struct container_cgroup *out);

/* What c says, in one short line for a table cell or a report line: the
 * runtime ("container" if the path does not say) and the short id, then the
 * pod: "containerd 0123456789ab pod 1b4e28ba-2fa1-11d2-883f-0016d3cca427
 * Burstable", "docker 0123456789ab", "pod <uid> BestEffort". Only hex digits,
 * a UUID and fixed words: nothing to escape. "" if c names nothing. */
char *container_cgroup_describe(const struct container_cgroup *c, char *buf, size_t len);

/* Whether text begins c's container id or its pod UID (with dashes, as
 * kubectl and crictl show it; the systemd driver's '_' form is accepted too).
 * An empty text matches nothing. */
bool container_cgroup_id_matches(const struct container_cgroup *c, const char *text);

#endif
