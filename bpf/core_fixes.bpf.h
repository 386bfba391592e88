/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel layout differences, in one place (CO-RE flavours + field checks).
 * Each shim names the kernel change that made it necessary.
 */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

/*
 * Up to 6.1 the RSS counters were `struct mm_rss_stat { atomic_long_t count[4]; }`.
 * 6.2 (f1a7941243c1 "mm: convert mm's rss stats into percpu_counter") made them
 * `struct percpu_counter rss_stat[NR_MM_COUNTERS]`. The flavour below describes
 * the old layout; the vmlinux.h of this tree describes the new one.
 */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

/* bpf_get_current_task_btf() is 5.11+; the untyped helper works everywhere and
 * every field read goes through BPF_CORE_READ anyway. */
static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline bool rss_counters_are_atomic(void)
{
	return bpf_core_type_exists(struct mm_rss_stat___old);
}

/* Not inlined: the compiler would hoist the offset of the old layout's field
 * out of the branch, and libbpf poisons that relocation on new kernels. */
static __noinline void *rss_counter_addr_old(struct mm_struct *mm, int member)
{
	struct mm_struct___old *old = (void *)mm;

	if (!mm)
		return NULL;
	return (void *)old + bpf_core_field_offset(old->rss_stat) +
	       (member & 3) * sizeof(atomic_long_t);
}

/* Address of the member-th counter, whatever the layout. */
static __always_inline void *rss_counter_addr(struct mm_struct *mm, int member)
{
	if (rss_counters_are_atomic())
		return rss_counter_addr_old(mm, member);
	return (void *)mm + bpf_core_field_offset(mm->rss_stat) +
	       (member & 3) * bpf_core_type_size(struct percpu_counter);
}

#endif
