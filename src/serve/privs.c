// SPDX-License-Identifier: GPL-2.0
/*
 * Why serve needs no capability after attaching (measured on 6.18 with the
 * scrape tests of tests/test_serve_hardening.py, as root with CapEff 0 and
 * as `nobody` with CapEff 0):
 *  - every BPF map is read through the fds the loader got: lookups, batch
 *    lookups and get_next_key on an open map fd check nothing more (the
 *    access was checked when the fd was made); the ring buffer and the .bss
 *    (the peak window number) are memory-mapped already;
 *  - /proc/PID/cgroup (a process's cgroup, live_view.c) is mode 0444 with no
 *    ptrace check, unlike /proc/PID/status or smaps, which serve does not read
 *    after seeding (the BPF iterator reads the counters);
 *  - the hierarchy walked to name cgroup ids (v1 memory, or v2) is 0755
 *    directories;
 *    /etc/passwd (user names) is world-readable;
 *  - stopping closes fds: detaching links and freeing maps needs no
 *    capability.
 * So the set is empty — on kernels since 6.5. Before, with
 * kernel.unprivileged_bpf_disabled set (Debian's default), the bpf() syscall
 * refused every command, map reads on an open fd included, to a caller
 * without CAP_BPF (the check moved to map creation and program load in 6.5,
 * "bpf: Move unprivileged checks into map_create() and bpf_prog_load()");
 * measured in the 5.10 and 6.1 guests: every scrape failed with EPERM. So a
 * child with no capability tries a read first, and CAP_BPF (and nothing
 * else) is kept where it fails. CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH would only be
 * needed to read other users' /proc/PID/status or smaps_rollup, which the
 * scrape path does not do.
 *
 * --footprint-interval reads every process's smaps_rollup (in the main
 * thread, never for a scrape): opening it is a PTRACE_MODE_READ check, which
 * without CAP_SYS_PTRACE fails for another user's process and also for one of
 * the same uid whose permitted capabilities are not a subset of the caller's
 * (cap_ptrace_access_check): with an empty set, every daemon started as root.
 * That capability allows ptrace(2) of any process: it is kept only in a
 * reader process of its own (rollup_reader.h), never in serve's threads.
 *
 * Raw syscalls (capset, prctl) rather than libcap: dropping everything needs
 * no set arithmetic, and the build gains no library.
 */
#define _GNU_SOURCE
#include "serve/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

int serve_user_lookup(const char *name, struct serve_user *out)
{
	const struct passwd *pw = getpwnam(name);
	char *end;

	if (!pw) {
		unsigned long id;

		errno = 0;
		id = strtoul(name, &end, 10);
		if (!errno && *name && !*end && id < UINT32_MAX)
			pw = getpwuid((uid_t)id);
	}
	if (!pw) {
		elog("serve: --user %s: no such user", name);
		return -1;
	}
	*out = (struct serve_user){ .set = true, .uid = pw->pw_uid, .gid = pw->pw_gid };
	return 0;
}

static int capget_all(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	memset(data, 0, 2 * sizeof(*data));
	return (int)syscall(SYS_capget, &hdr, data);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = 40;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 40;
		fclose(f);
	}
	return n;
}

/* Whether this kernel lets a caller with no capability read the map behind
 * map_fd (see the top of this file): a child drops everything and tries. */
static bool map_reads_need_cap_bpf(int map_fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { 0 };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char key[256];

		if (syscall(SYS_capset, &hdr, none))
			_exit(2);
		_exit(bpf_map_get_next_key(map_fd, NULL, key) && errno == EPERM ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return true; /* unknown: keep it rather than break every scrape */
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

int serve_drop_privileges(const struct serve_user *u, int map_fd, bool keep_ptrace)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	bool keep_bpf = map_fd >= 0 && map_reads_need_cap_bpf(map_fd);
	__u32 keep[2] = { 0 };

	if (keep_bpf) {
		keep[CAP_TO_INDEX(CAP_BPF)] = CAP_TO_MASK(CAP_BPF);
		vlog("serve: keeping CAP_BPF: this kernel refuses BPF map reads without it");
	}
	if (keep_ptrace) {
		keep[CAP_TO_INDEX(CAP_SYS_PTRACE)] |= CAP_TO_MASK(CAP_SYS_PTRACE);
		vlog("serve: keeping CAP_SYS_PTRACE: --footprint-interval reads every process's smaps_rollup");
	}
	if (capget_all(data)) {
		elog("serve: cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	if (keep_ptrace && !(data[CAP_TO_INDEX(CAP_SYS_PTRACE)].permitted & CAP_TO_MASK(CAP_SYS_PTRACE))) {
		elog("serve: --footprint-interval needs CAP_SYS_PTRACE (to read every process's smaps_rollup), "
		     "which this process does not have");
		return -1;
	}
	if (data[0].effective & (1U << CAP_SETPCAP)) {
		/* nothing can come back through an execve either: no capability in
		 * the bounding set, and uid 0 (if kept) no longer means all of them */
		for (int c = 0; c <= last_cap(); c++)
			if (!(keep[CAP_TO_INDEX(c)] & CAP_TO_MASK(c)))
				prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
		if (!u->set && prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0)) {
			elog("serve: cannot set the securebits: %s", strerror(errno));
			return -1;
		}
	}
	/* keep the permitted set across the uid change (what is kept, if any) */
	if (u->set && (keep[0] || keep[1]) && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
		elog("serve: cannot keep capabilities across the user switch: %s", strerror(errno));
		return -1;
	}
	if (u->set && (setgroups(0, NULL) || setresgid(u->gid, u->gid, u->gid) || setresuid(u->uid, u->uid, u->uid))) {
		elog("serve: cannot switch to uid %u gid %u: %s", (unsigned)u->uid, (unsigned)u->gid, strerror(errno));
		return -1;
	}
	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted = keep[i];
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		elog("serve: cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	if (capget_all(data) || data[0].effective != keep[0] || data[1].effective != keep[1] ||
	    data[0].permitted != keep[0] || data[1].permitted != keep[1] || data[0].inheritable ||
	    data[1].inheritable) {
		elog("serve: capabilities are still held after dropping them");
		return -1;
	}
	return 0;
}
