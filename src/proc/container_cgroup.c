// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroup path -> container and pod (container_cgroup.h). Names as the
 * kubelet (pkg/kubelet/cm/cgroup_manager_linux.go: "kubepods", QoS
 * "burstable"/"besteffort", "pod" + UID; the systemd driver escapes '-' in
 * the UID as '_' and nests each level as "<parent>-<name>.slice") and the
 * runtimes ("cri-containerd-", "crio-", "docker-", "libpod-" + id + ".scope"
 * with systemd) make them. Read component by component, the deepest match
 * winning, so a prefix (a cgroup namespace, a nested runtime) does not hide
 * what is inside.
 */
#include "proc/container_cgroup.h"

#include <stdio.h>
#include <string.h>

struct component {
	const char *s;
	size_t len;
};

static bool has_prefix(struct component c, const char *p)
{
	size_t n = strlen(p);

	return c.len >= n && !memcmp(c.s, p, n);
}

static bool has_suffix(struct component c, const char *p)
{
	size_t n = strlen(p);

	return c.len >= n && !memcmp(c.s + c.len - n, p, n);
}

static bool equals(struct component c, const char *p)
{
	return c.len == strlen(p) && !memcmp(c.s, p, c.len);
}

static struct component drop(struct component c, size_t head, size_t tail)
{
	return (struct component){ c.s + head, c.len - head - tail };
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static bool all_hex(struct component c)
{
	for (size_t i = 0; i < c.len; i++)
		if (!is_hex(c.s[i]))
			return false;
	return true;
}

static bool is_container_id(struct component c)
{
	return c.len == CONTAINER_ID_LEN && all_hex(c);
}

/* A pod UID as the kubelet names its cgroup: a UUID (dashes, or '_' with the
 * systemd driver), or 32 hex digits (a static pod's UID is a hash). Copied
 * to out, with dashes, only if it is one. */
static bool pod_uid(struct component c, char out[POD_UID_LEN + 1])
{
	char uid[POD_UID_LEN + 1];

	if (c.len == 32 && all_hex(c)) {
		memcpy(out, c.s, c.len);
		out[c.len] = 0;
		return true;
	}
	if (c.len != POD_UID_LEN)
		return false;
	for (size_t i = 0; i < c.len; i++) {
		bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
		char ch = c.s[i];

		if (dash_place ? ch != '-' && ch != '_' : !is_hex(ch))
			return false;
		uid[i] = dash_place ? '-' : ch;
	}
	uid[c.len] = 0;
	memcpy(out, uid, sizeof(uid));
	return true;
}

static const char *qos_of(struct component c)
{
	if (equals(c, "burstable"))
		return "Burstable";
	if (equals(c, "besteffort"))
		return "BestEffort";
	return NULL;
}

static void set_container(struct container_cgroup *out, const char *runtime, struct component id)
{
	out->runtime = runtime;
	memcpy(out->id, id.s, id.len);
	out->id[id.len] = 0;
}

/* "<runtime prefix><id>[.scope]": containerd, CRI-O, Docker and Podman with
 * either driver (their conmon scopes, "crio-conmon-<id>", are not containers). */
static bool runtime_scope(struct component c, struct container_cgroup *out)
{
	static const struct {
		const char *prefix, *runtime;
	} runtimes[] = {
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
		{ "docker-", "docker" },
		{ "libpod-", "podman" },
	};

	if (has_suffix(c, ".scope"))
		c = drop(c, 0, strlen(".scope"));
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		struct component id;

		if (!has_prefix(c, runtimes[i].prefix))
			continue;
		id = drop(c, strlen(runtimes[i].prefix), 0);
		if (is_container_id(id)) {
			set_container(out, runtimes[i].runtime, id);
			return true;
		}
	}
	return false;
}

/* systemd driver: "kubepods-pod<uid>.slice" (Guaranteed),
 * "kubepods-burstable-pod<uid>.slice", "kubepods-besteffort-pod<uid>.slice". */
static bool systemd_pod(struct component c, struct container_cgroup *out)
{
	const char *qos = "Guaranteed";

	if (!has_prefix(c, "kubepods-") || !has_suffix(c, ".slice"))
		return false;
	c = drop(c, strlen("kubepods-"), strlen(".slice"));
	if (has_prefix(c, "burstable-")) {
		qos = "Burstable";
		c = drop(c, strlen("burstable-"), 0);
	} else if (has_prefix(c, "besteffort-")) {
		qos = "BestEffort";
		c = drop(c, strlen("besteffort-"), 0);
	}
	if (!has_prefix(c, "pod") || !pod_uid(drop(c, 3, 0), out->pod_uid))
		return false;
	out->qos = qos;
	return true;
}

/* What the previous components make of a bare "<id>" or "pod<uid>" (cgroupfs). */
enum cgroupfs_parent { FS_OTHER, FS_KUBEPODS, FS_QOS, FS_POD, FS_DOCKER };

bool container_cgroup_parse(const char *path, struct container_cgroup *out)
{
	enum cgroupfs_parent parent = FS_OTHER;
	const char *qos = NULL;

	*out = (struct container_cgroup){ 0 };
	for (const char *p = path; *p;) {
		struct component c = { p, strcspn(p, "/") };
		enum cgroupfs_parent next = FS_OTHER;

		p += c.len + (p[c.len] == '/');
		if (!c.len)
			continue;
		if (equals(c, "kubepods")) {
			next = FS_KUBEPODS;
			qos = "Guaranteed";
		} else if (parent == FS_KUBEPODS && qos_of(c)) {
			next = FS_QOS;
			qos = qos_of(c);
		} else if ((parent == FS_KUBEPODS || parent == FS_QOS) && has_prefix(c, "pod") &&
			   pod_uid(drop(c, 3, 0), out->pod_uid)) {
			next = FS_POD;
			out->qos = qos;
		} else if (equals(c, "docker")) {
			next = FS_DOCKER;
		} else if ((parent == FS_POD || parent == FS_DOCKER) && is_container_id(c)) {
			set_container(out, parent == FS_DOCKER ? "docker" : NULL, c);
		} else if (!systemd_pod(c, out)) {
			runtime_scope(c, out);
		}
		parent = next;
	}
	return out->id[0] || out->pod_uid[0];
}

char *container_cgroup_describe(const struct container_cgroup *c, char *buf, size_t len)
{
	int n = 0;

	buf[0] = 0;
	if (c->id[0])
		n = snprintf(buf, len, "%s %.*s", c->runtime ? c->runtime : "container", CONTAINER_SHORT_ID_LEN,
			     c->id);
	if (c->pod_uid[0] && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%spod %s %s", n ? " " : "", c->pod_uid, c->qos);
	return buf;
}

/* text begins id, reading '_' in text as '-' (a pod UID as the systemd
 * driver spells it in the path). */
static bool begins(const char *id, const char *text)
{
	size_t i;

	for (i = 0; text[i]; i++)
		if (id[i] != (text[i] == '_' ? '-' : text[i]))
			return false;
	return i > 0;
}

bool container_cgroup_id_matches(const struct container_cgroup *c, const char *text)
{
	return (c->id[0] && begins(c->id, text)) || (c->pod_uid[0] && begins(c->pod_uid, text));
}
