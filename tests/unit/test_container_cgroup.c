// SPDX-License-Identifier: GPL-2.0
/* Unit tests: cgroup path -> container runtime, id, pod UID and QoS class
 * (src/proc/container_cgroup.c), for both cgroup drivers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proc/container_cgroup.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UID_SYSTEMD "1b4e28ba_2fa1_11d2_883f_0016d3cca427"

static void expect(const char *path, const char *runtime, const char *id, const char *uid, const char *qos)
{
	struct container_cgroup c;
	bool found = container_cgroup_parse(path, &c);

	assert_int_equal(found, id[0] || uid[0]);
	if (runtime)
		assert_string_equal(c.runtime, runtime);
	else
		assert_null(c.runtime);
	assert_string_equal(c.id, id);
	assert_string_equal(c.pod_uid, uid);
	if (qos)
		assert_string_equal(c.qos, qos);
	else
		assert_null(c.qos);
}

static void systemd_driver_pods(void **state)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_SYSTEMD
	       ".slice/cri-containerd-" ID ".scope",
	       "containerd", ID, UID, "Burstable");
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_SYSTEMD
	       ".slice/crio-" ID ".scope",
	       "cri-o", ID, UID, "BestEffort");
	expect("/kubepods.slice/kubepods-pod" UID_SYSTEMD ".slice/docker-" ID ".scope", "docker", ID, UID,
	       "Guaranteed");
	/* the pod's own cgroup: a pod, no container */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_SYSTEMD ".slice", NULL, "",
	       UID, "Burstable");
}

static void cgroupfs_driver_pods(void **state)
{
	expect("/kubepods/burstable/pod" UID "/" ID, NULL, ID, UID, "Burstable");
	expect("/kubepods/besteffort/pod" UID "/" ID, NULL, ID, UID, "BestEffort");
	expect("/kubepods/pod" UID "/" ID, NULL, ID, UID, "Guaranteed");
	expect("/kubepods/burstable/pod" UID "/crio-" ID, "cri-o", ID, UID, "Burstable");
	/* a static pod's UID is a 32-digit hash */
	expect("/kubepods/pod0123456789abcdef0123456789abcdef/" ID, NULL, ID, "0123456789abcdef0123456789abcdef",
	       "Guaranteed");
}

static void plain_containers(void **state)
{
	expect("/system.slice/docker-" ID ".scope", "docker", ID, "", NULL);
	expect("/machine.slice/libpod-" ID ".scope", "podman", ID, "", NULL);
	expect("/system.slice/crio-" ID ".scope", "cri-o", ID, "", NULL);
	expect("/docker/" ID, "docker", ID, "", NULL);
	expect("/libpod_parent/libpod-" ID, "podman", ID, "", NULL);
	/* a sub-cgroup of a container is still that container */
	expect("/system.slice/docker-" ID ".scope/init.scope", "docker", ID, "", NULL);
}

static void prefixes_and_nesting(void **state)
{
	/* under another hierarchy level (a cgroup namespace, a test parent) */
	expect("/rsstrace-test/kubepods/burstable/pod" UID "/" ID, NULL, ID, UID, "Burstable");
	expect("/kind-node.scope/kubepods.slice/kubepods-pod" UID_SYSTEMD ".slice/cri-containerd-" ID ".scope",
	       "containerd", ID, UID, "Guaranteed");
	/* containerd inside a docker container (kind): the deepest wins */
	expect("/system.slice/docker-" ID ".scope/kubepods/pod" UID "/"
	       "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
	       NULL, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", UID, "Guaranteed");
}

static void not_containers(void **state)
{
	expect("/", NULL, "", "", NULL);
	expect("", NULL, "", "", NULL);
	expect("/system.slice/ssh.service", NULL, "", "", NULL);
	expect("/user.slice/user-1000.slice/session-2.scope", NULL, "", "", NULL);
	/* conmon is CRI-O's monitor, not the container */
	expect("/system.slice/crio-conmon-" ID ".scope", NULL, "", "", NULL);
	/* ids of the wrong length or alphabet, uids of the wrong shape */
	expect("/docker/0123456789ab", NULL, "", "", NULL);
	expect("/docker/" ID "0", NULL, "", "", NULL);
	expect("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope", NULL,
	       "", "", NULL);
	expect("/kubepods/burstable/pod1b4e28ba-2fa1-11d2-883f-0016d3cca42", NULL, "", "", NULL);
	expect("/kubepods/burstable/podxb4e28ba-2fa1-11d2-883f-0016d3cca427", NULL, "", "", NULL);
	expect("/kubepods.slice/kubepods-burstable.slice", NULL, "", "", NULL);
	/* a pod directory outside kubepods, a bare id outside a pod or docker */
	expect("/pod" UID "/" ID, NULL, "", "", NULL);
	expect("/" ID, NULL, "", "", NULL);
}

static const char *described(const char *path)
{
	static char buf[CONTAINER_DESCRIBE_LEN];
	struct container_cgroup c;

	container_cgroup_parse(path, &c);
	return container_cgroup_describe(&c, buf, sizeof(buf));
}

static void one_line_descriptions(void **state)
{
	assert_string_equal(described("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_SYSTEMD
				      ".slice/cri-containerd-" ID ".scope"),
			    "containerd 0123456789ab pod " UID " Burstable");
	/* cgroupfs does not say the runtime */
	assert_string_equal(described("/kubepods/pod" UID "/" ID), "container 0123456789ab pod " UID " Guaranteed");
	assert_string_equal(described("/system.slice/docker-" ID ".scope"), "docker 0123456789ab");
	assert_string_equal(described("/kubepods/besteffort/pod" UID), "pod " UID " BestEffort");
	assert_string_equal(described("/system.slice/ssh.service"), "");
	/* the longest (a static pod's UID is shorter) fits the documented room */
	assert_true(strlen(described("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_SYSTEMD
				     ".slice/cri-containerd-" ID ".scope")) < CONTAINER_DESCRIBE_LEN);
}

static void id_and_uid_prefixes_match(void **state)
{
	struct container_cgroup c;

	container_cgroup_parse("/kubepods/burstable/pod" UID "/crio-" ID, &c);
	assert_true(container_cgroup_id_matches(&c, "0123456789ab"));
	assert_true(container_cgroup_id_matches(&c, ID));
	assert_true(container_cgroup_id_matches(&c, "1b4e28ba-2fa1"));
	assert_true(container_cgroup_id_matches(&c, UID));
	assert_true(container_cgroup_id_matches(&c, UID_SYSTEMD)); /* as the systemd driver's path spells it */
	assert_false(container_cgroup_id_matches(&c, ""));
	assert_false(container_cgroup_id_matches(&c, "123456789ab")); /* not at the beginning */
	assert_false(container_cgroup_id_matches(&c, ID "0"));	  /* longer than the id */
	assert_false(container_cgroup_id_matches(&c, "1b4e28ba-2fa2"));
	container_cgroup_parse("/system.slice/ssh.service", &c);
	assert_false(container_cgroup_id_matches(&c, "0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(systemd_driver_pods),
		cmocka_unit_test(cgroupfs_driver_pods),
		cmocka_unit_test(plain_containers),
		cmocka_unit_test(prefixes_and_nesting),
		cmocka_unit_test(not_containers),
		cmocka_unit_test(one_line_descriptions),
		cmocka_unit_test(id_and_uid_prefixes_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
