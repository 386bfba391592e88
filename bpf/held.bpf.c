// SPDX-License-Identifier: GPL-2.0
/*
 * --stacks: where charged pages stop being resident, so that a stack's
 * share of a peak is net of what was given back before it (lib/held.bpf.h,
 * struct held_record). The fault tracepoints leave each fault's address for
 * the charge its rss_stat makes; the syscalls that give memory back or move
 * it send their ranges, from traced address spaces only, at entry (before
 * the pages go: their decreases cannot make a peak). Reclaim (swap-out,
 * dropped file pages, MADV_PAGEOUT, MADV_FREE's lazy frees) is seen where
 * try_to_unmap_one() can be hooked (fentry: the 5.10-6.12 guests, not the
 * 6.18 host); elsewhere such pages stay held.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "rsstrace.h"
#include "lib/held.bpf.h"
#include "lib/kernel.bpf.h"

/* include/uapi/asm-generic/mman-common.h, mman.h */
#define MAP_FIXED 0x10
#define MADV_DONTNEED 4
#define MADV_REMOVE 9
#define MADV_DONTNEED_LOCKED 24
#define USER_TOP 0x800000000000ULL /* x86_64's TASK_SIZE with 4-level tables */

struct held_syscall_args {
	__u64 common;
	long nr;
	unsigned long args[6];
};

struct held_syscall_exit {
	__u64 common;
	long nr;
	long ret;
};

/* An mremap() in flight, from its entry to its exit, by thread. */
struct held_mremap {
	__u64 addr, old_len, new_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct held_mremap);
} held_mremaps SEC(".maps");

static __always_inline void stash_fault(unsigned long address)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fault_stash *f;

	if (!held_on || address >= USER_TOP)
		return;
	f = fault_slot(tid);
	if (!f)
		return;
	f->tid = tid;
	f->ip = current_user_ip();
	f->addr = address;
}

/*
 * User mode faults only. A fault in the kernel on a user page (read() into a
 * fresh buffer) would be worth its address, but page_fault_kernel also fires
 * for the nofault reads of BPF programs' stack walks, in the same task at the
 * same user instruction (bpf/cow.bpf.c's on a copy-on-write fault, between
 * the fault and its charge: a charge at address 0x4 was seen), and
 * pagefault_disabled, which tells those apart, reads non-zero in this
 * tracepoint's programs on 6.18 for every fault. Such charges stay held.
 */
SEC("tracepoint/exceptions/page_fault_user")
int held_fault_user(struct page_fault_user_args *args)
{
	stash_fault(args->address);
	return 0;
}

/*
 * Reclaim (LH_RECLAIM, src/core/hooks.c): try_to_unmap_one(folio, vma,
 * address, arg), on 5.10 (page, ...) to 6.12, unmaps one folio from one VMA,
 * and each page it takes out of a traced address space changes its counter:
 * held_reclaimed() (lib/held.bpf.h) frees the walk's next page for each.
 * Armed at entry, disarmed at exit, so that no other change counts.
 */
SEC("fentry/try_to_unmap_one")
int BPF_PROG(held_unmap_start, void *folio, struct vm_area_struct *vma, unsigned long address)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mm_struct *mm = BPF_CORE_READ(vma, vm_mm);
	struct fault_stash *f;

	if (!held_on || !state_of(mm))
		return 0;
	f = fault_slot(tid);
	if (!f)
		return 0;
	f->unmap_mm = (__u64)mm;
	f->unmap_next = address & ~(HELD_PAGE - 1);
	f->unmap_tid = tid;
	return 0;
}

SEC("fexit/try_to_unmap_one")
int BPF_PROG(held_unmap_end)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fault_stash *f;

	if (!held_on)
		return 0;
	f = fault_slot(tid);
	if (f && f->unmap_tid == tid)
		f->unmap_tid = 0;
	return 0;
}

static __always_inline __u64 page_up(__u64 a)
{
	return (a + HELD_PAGE - 1) & ~(HELD_PAGE - 1);
}

/* [addr, addr + len) of the current address space, if traced, changed. */
static __always_inline void send_range(int kind, __u64 addr, __u64 len, __u64 to)
{
	struct mm_state *st = state_of(current_mm());
	struct held_record rec = {};

	if (!st || !len)
		return;
	rec.kind = kind;
	rec.start_ns = st->start_ns;
	rec.tgid = st->tgid;
	rec.seq = st->peak_seq;
	rec.addr = addr;
	rec.len = page_up(len);
	rec.to = to;
	send_held(&rec);
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int held_munmap(struct held_syscall_args *a)
{
	send_range(HELD_FREE, a->args[0], a->args[1], 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_madvise")
int held_madvise(struct held_syscall_args *a)
{
	long advice = (long)a->args[2];

	if (advice == MADV_DONTNEED || advice == MADV_REMOVE || advice == MADV_DONTNEED_LOCKED)
		send_range(HELD_FREE, a->args[0], a->args[1], 0);
	return 0;
}

/* a MAP_FIXED mapping replaces whatever was mapped there */
SEC("tracepoint/syscalls/sys_enter_mmap")
int held_mmap(struct held_syscall_args *a)
{
	if (a->args[0] && (a->args[3] & MAP_FIXED))
		send_range(HELD_FREE, a->args[0], a->args[1], 0);
	return 0;
}

/* a heap that shrinks gives back what lies above its new end */
SEC("tracepoint/syscalls/sys_enter_brk")
int held_brk(struct held_syscall_args *a)
{
	__u64 end = page_up(a->args[0]), old;

	if (!held_on || !a->args[0])
		return 0;
	old = page_up(BPF_CORE_READ(current_mm(), brk));
	if (end < old)
		send_range(HELD_FREE, end, old - end, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int held_mremap_enter(struct held_syscall_args *a)
{
	struct held_mremap m = { a->args[0], page_up(a->args[1]), page_up(a->args[2]) };
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (held_on && state_of(current_mm()))
		bpf_map_update_elem(&held_mremaps, &tid, &m, BPF_ANY);
	return 0;
}

/* At the exit the new place is known: what was kept moved there (or
 * stayed), and the tail beyond a smaller size went. */
SEC("tracepoint/syscalls/sys_exit_mremap")
int held_mremap_exit(struct held_syscall_exit *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct held_mremap *m = bpf_map_lookup_elem(&held_mremaps, &tid);
	__u64 kept, to = (__u64)a->ret;

	if (!m)
		return 0;
	if (a->ret >= 0 || a->ret < -4095) {
		kept = m->new_len < m->old_len ? m->new_len : m->old_len;
		if (to != m->addr)
			send_range(HELD_MOVE, m->addr, kept, to);
		if (kept < m->old_len)
			send_range(HELD_FREE, m->addr + kept, m->old_len - kept, 0);
	}
	bpf_map_delete_elem(&held_mremaps, &tid);
	return 0;
}
