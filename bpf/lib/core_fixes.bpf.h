/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel layout differences, in one place (CO-RE flavours + field checks).
 * Each shim names the kernel change that made it necessary (title and short
 * hash where it was checked; the title alone otherwise).
 */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

/*
 * A map operation's error as a program sees it. The maps' operations returned
 * int until 6.4 ("bpf: return long from bpf_map_ops funcs"), and the JIT calls
 * them directly, so the error reached a program with the upper 32 bits of its
 * register zero: a 5.10 guest's insert into an existing key returned
 * 4294967279, not -EEXIST. Only the lower 32 bits are an answer everywhere.
 */
#define RSS_EEXIST 17
#define RSS_E2BIG 7

static __always_inline int map_op_error(long ret)
{
	return (int)ret;
}

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

/* bpf_get_current_task_btf() is 5.11+ (3ca1032ab7ab "bpf: Implement
 * get_current_task_btf and RET_PTR_TO_BTF_ID"); the untyped helper works
 * everywhere and every field read goes through BPF_CORE_READ anyway. */
static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* The same commit (f1a7941243c1) that made the counters per-CPU removed
 * SPLIT_RSS_COUNTING: the old layout means the per-task RSS caches too. */
static __always_inline bool rss_counters_are_atomic(void)
{
	return bpf_core_type_exists(struct mm_rss_stat___old);
}

/*
 * Each layout's reads live in a function of their own (not inlined): inlined,
 * the compiler hoists the relocated field offsets of both layouts above the
 * branch, and the relocation libbpf cannot resolve on this kernel (poisoned)
 * becomes reachable. Called only on the matching kernel, the other one is
 * dead code the verifier never walks.
 */
static __noinline __s64 atomic_counter(struct mm_struct *mm, int member)
{
	struct mm_struct___old *old = (void *)mm;
	__s64 v = 0;

	if (!mm)
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)old + bpf_core_field_offset(old->rss_stat) +
						     (member & 3) * sizeof(atomic_long_t));
	return v;
}

/*
 * Up to 6.1 (SPLIT_RSS_COUNTING), each task caches its RSS changes and folds
 * them into the mm every 64 faults, and at exit (exit_mm) and exec
 * (exec_mmap) — with rss_stat events. /proc reads only the mm's counters, so
 * what it showed just before an exit or exec lacks that last fold. To agree
 * with /proc, the row keeps the values from before the fold: this tells
 * whether the running task is folding its cache because the process is
 * ending (a group exit, its last thread, or an exec).
 *
 * `in_execve` came with TOMOYO ("Add in_execve flag into task_struct.", 2.6.28)
 * and is still there in 6.18 (vmlinux/x86/vmlinux.h), but TOMOYO is its only
 * user in the kernel: it is read behind a field-existence check, so a kernel
 * without it loses only this backstop (the execve() syscall tracepoints in
 * account.bpf.c remain).
 */
struct task_struct___in_execve {
	unsigned int in_execve : 1;
} __attribute__((preserve_access_index));

#define SIGNAL_GROUP_EXIT 0x00000004

static __noinline bool task_in_execve(struct task_struct *t)
{
	struct task_struct___in_execve *te = (void *)t;

	if (!t || !bpf_core_field_exists(te->in_execve))
		return false;
	return BPF_CORE_READ_BITFIELD_PROBED(te, in_execve);
}

/*
 * The owner's exit has passed the point of no return: its last thread is in
 * do_exit() and was counted out of signal->live (on every kernel before
 * exit_mm(), and after the per-task RSS cache fold of up to 6.1, which
 * carries faults made before the exit). The hot path reads only the flags
 * (directly where the program is typed, 5.11+).
 */
static __always_inline bool owner_has_exited(struct mm_struct *mm, __u32 owner_tgid, bool trusted)
{
	struct task_struct *t;

	if (trusted && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		if (!(bpf_get_current_task_btf()->flags & PF_EXITING))
			return false;
	} else if (!(BPF_CORE_READ(current_task(), flags) & PF_EXITING)) {
		return false;
	}
	t = current_task();
	return BPF_CORE_READ(t, mm) == mm && BPF_CORE_READ(t, tgid) == owner_tgid &&
	       BPF_CORE_READ(t, signal, live.counter) == 0;
}

static __always_inline bool owner_is_ending(struct mm_struct *mm, __u32 owner_tgid)
{
	struct task_struct *t = current_task();

	/* a vfork/posix_spawn child execing on its parent's mm is not the owner */
	if (BPF_CORE_READ(t, mm) != mm || BPF_CORE_READ(t, tgid) != owner_tgid)
		return false;
	/* do_exit() folds the cache right after setting PF_EXITING, before it
	 * counts this thread out of signal->live: the last thread sees 1 there
	 * (0 at the fold in exit_mm()) */
	if (BPF_CORE_READ(t, flags) & PF_EXITING)
		return BPF_CORE_READ(t, signal, live.counter) <= 1 ||
		       (BPF_CORE_READ(t, signal, flags) & SIGNAL_GROUP_EXIT);
	return task_in_execve(t);
}

#endif
