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
 *  - the cgroup v2 hierarchy walked to name cgroup ids is 0755 directories;
 *    /etc/passwd (user names) is world-readable;
 *  - stopping closes fds: detaching links and freeing maps needs no
 *    capability.
 * So the set is empty. CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH would only be
 * needed to read other users' /proc/PID/status or smaps_rollup, which the
 * scrape path does not do.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

int serve_drop_privileges(const struct serve_user *u)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (capget_all(data)) {
		elog("serve: cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	if (data[0].effective & (1U << CAP_SETPCAP)) {
		/* nothing can come back through an execve either: no capability in
		 * the bounding set, and uid 0 (if kept) no longer means all of them */
		for (int c = 0; c <= last_cap(); c++)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
		if (!u->set && prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0)) {
			elog("serve: cannot set the securebits: %s", strerror(errno));
			return -1;
		}
	}
	if (u->set && (setgroups(0, NULL) || setresgid(u->gid, u->gid, u->gid) || setresuid(u->uid, u->uid, u->uid))) {
		elog("serve: cannot switch to uid %u gid %u: %s", (unsigned)u->uid, (unsigned)u->gid, strerror(errno));
		return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		elog("serve: cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	if (capget_all(data) || data[0].effective || data[1].effective || data[0].permitted || data[1].permitted) {
		elog("serve: capabilities are still held after dropping them");
		return -1;
	}
	return 0;
}
