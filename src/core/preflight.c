// SPDX-License-Identifier: GPL-2.0
#include "core/preflight.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/log.h"
#include "core/exit_status.h"
#include "proc/proc_status.h"

/* Root, or CAP_BPF + CAP_PERFMON (5.8+), or CAP_SYS_ADMIN. */
static bool has_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	uint64_t eff;

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	eff = data[0].effective | ((uint64_t)data[1].effective << 32);
#define HAS(cap) (eff & (1ULL << (cap)))
	return HAS(CAP_SYS_ADMIN) || (HAS(39 /* CAP_BPF */) && HAS(38 /* CAP_PERFMON */));
#undef HAS
}

int preflight(void)
{
	if (!has_privileges()) {
		elog("needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs: run it with sudo");
		return EXIT_FAIL;
	}
	if (access(VMLINUX_BTF_PATH, R_OK)) {
		elog("this kernel has no BTF (" VMLINUX_BTF_PATH ": %s); rsstrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		     strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}


int preflight_pid_namespace(void)
{
	/* BPF keys processes by their PID in the initial namespace; in a
	 * container's, `-p 1` marked the host's init, `-- CMD` traced no address
	 * space and waited for an exit it never saw, and top showed the host's
	 * PIDs with the user and cgroup of whichever process had that PID here */
	if (!in_child_pid_namespace())
		return 0;
	elog("running in a PID namespace (a container), whose PIDs are not the kernel's: "
	     "run it in the host's (docker run --pid=host, or nsenter -t 1 -p)");
	return EXIT_FAIL;
}
