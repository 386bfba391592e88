/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A task's memory cgroup, on every cgroup layout: v2 (the memory controller
 * on the unified hierarchy), v1, and hybrid (v1 memory hierarchy, v2 mounted
 * without it). Helpers only.
 */
#ifndef MEMCG_BPF_H
#define MEMCG_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* The cgroup of the task's memory controller state (where its pages are
 * charged), or NULL on a kernel without CONFIG_MEMCG. */
static __always_inline struct cgroup *task_memcg(struct task_struct *t)
{
	struct cgroup_subsys_state *css = NULL;

	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		css = BPF_CORE_READ(t, cgroups, subsys[bpf_core_enum_value(enum cgroup_subsys_id,
									   memory_cgrp_id)]);
	return css ? BPF_CORE_READ(css, cgroup) : NULL;
}

/*
 * The cgroup a task is shown under (top, serve): its v1 memory cgroup where
 * the memory controller is bound to a v1 hierarchy — there the v2 cgroup is
 * "/" for every task, since nothing moves tasks on a v2 tree without
 * controllers (seen on the 6.18 development host: one "/" for all) —, else
 * its own v2 cgroup, as /proc/PID/cgroup's "0::" line names it (the memory
 * controller's cgroup may be an ancestor where memory is not enabled in
 * every subtree_control on the way down).
 */
static __always_inline struct cgroup *task_shown_cgroup(struct task_struct *t)
{
	struct cgroup *dfl = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	struct cgroup *mem = task_memcg(t);

	if (mem && BPF_CORE_READ(mem, root) != BPF_CORE_READ(dfl, root))
		return mem;
	return dfl;
}

#endif
