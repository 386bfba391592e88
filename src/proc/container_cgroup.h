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

#define CONTAINER_ID_LEN 64 /* hex digits of a container id (every runtime here) */
#define POD_UID_LEN 36	    /* a UUID: 8-4-4-4-12 */

struct container_cgroup {
	const char *runtime;		    /* "containerd", "cri-o", "docker", "podman"; NULL if unsaid */
	char id[CONTAINER_ID_LEN + 1];	    /* "" if no container */
	char pod_uid[POD_UID_LEN + 1];	    /* "" if no pod; with dashes, as the API shows it */
	const char *qos;		    /* "Guaranteed", "Burstable", "BestEffort"; NULL if no pod */
};

/* Fills out from path ("" fields and NULLs for what it does not say).
 * Returns true if the path names a container or a pod. */
bool container_cgroup_parse(const char *path, struct container_cgroup *out);

#endif
