/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks: which charged pages are still resident (include/rsstrace.h,
 * struct held_record). A charge goes with the address of the fault that made
 * it: the fault tracepoint (bpf/held.bpf.c) leaves it in its task's slot,
 * and the rss_stat that the fault causes, on the same task with the same user
 * instruction pointer, takes it. Pages made resident without a fault
 * (MAP_POPULATE, mlock, a get_user_pages() in a syscall) find another
 * instruction pointer there: their address is unknown (0), and user space
 * keeps such charges held to the end.
 */
#ifndef HELD_BPF_H
#define HELD_BPF_H

#include "rss_math.h"
#include "lib/account.bpf.h"
#include "lib/core_fixes.bpf.h"
#include "lib/stack_sample.bpf.h"

/* Set by the loader with --stacks where the fault and syscall tracepoints
 * exist; in bpf/stacks.bpf.c. */
extern const volatile bool held_on;

/* A task's last fault: which task, at which user instruction, where; and
 * the reclaim walk it is in, if any: the address space and the next page. */
struct fault_stash {
	__u32 tid;
	__u32 unmap_tid;
	__u64 ip;
	__u64 addr;
	__u64 unmap_mm;
	__u64 unmap_next;
};

/*
 * One slot per thread id's low bits, not per CPU: a fault that sleeps
 * between its tracepoint and its charge (a huge page's compaction, a file
 * page's read) may resume on another CPU, and its own CPU's slot is another
 * task's by then (a 6.12 guest's THP faults lost 4 MiB of 40 so). Only the
 * task writes its slot; two live threads whose ids agree in the low 16 bits
 * fault at once only rarely, and the tid check makes such a charge unknown,
 * never misplaced. 40 B x 64K = 2.5 MiB, with --stacks only (the loader
 * sizes it to 1 otherwise).
 */
#define FAULT_SLOTS 65536
#define HELD_PAGE 4096ULL

struct fault_stash_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FAULT_SLOTS);
	__type(key, __u32);
	__type(value, struct fault_stash);
};

extern struct fault_stash_map fault_stash SEC(".maps");

/* The current task's user instruction pointer, 0 if unknown. */
static __always_inline __u64 current_user_ip(void)
{
	struct pt_regs *r = current_user_regs();

	return r && user_mode_regs(r) ? user_ip(r) : 0;
}

static __always_inline struct fault_stash *fault_slot(__u32 tid)
{
	__u32 slot = tid & (FAULT_SLOTS - 1);

	return bpf_map_lookup_elem(&fault_stash, &slot);
}

/* The address of the fault the current task is in, 0 if none is known. */
static __always_inline __u64 current_fault_address(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fault_stash *f = fault_slot(tid);
	__u64 ip;

	if (!f || f->tid != tid)
		return 0;
	ip = current_user_ip();
	return ip && ip == f->ip ? f->addr : 0;
}

static __always_inline void send_held(struct held_record *rec)
{
	rec->type = REC_HELD;
	rec->tree_seq = tree.held_peak_seq;
	if (bpf_ringbuf_output(&stack_samples, rec, sizeof(*rec), ring_wakeup_flag(&stack_samples)))
		__sync_fetch_and_add(&loss.held_lost, 1);
}

/*
 * A change of st's resident counters (any but swap) in the current task while
 * it is in try_to_unmap_one() on that address space (bpf/held.bpf.c armed
 * its slot) is reclaim taking the walk's next page: try_to_unmap_one()
 * decrements the counter of each page it unmaps (swap-out, a clean file
 * page dropped, MADV_FREE's lazy free; a migration entry decrements none),
 * one PTE at a time, in address order from the address the walk began at.
 * The change's own delta cannot say so: on 6.2+ the counter is read summed,
 * with what the mm's threads faulted meanwhile on other CPUs.
 */
static __always_inline void held_reclaimed(struct mm_struct *mm, struct mm_state *st, int member)
{
	struct fault_stash *f;
	__u32 tid;

	/* first: with held_on false the verifier drops the rest, but not a
	 * helper call made before the test (with charge_stack()'s and
	 * cgroup_add()'s zeroed records, 47 guest instructions of ~530 per
	 * event: docs/performance.md) */
	if (!held_on || member == RSS_SWAP)
		return;
	tid = (__u32)bpf_get_current_pid_tgid();
	f = fault_slot(tid);
	if (!f || f->unmap_tid != tid || f->unmap_mm != (__u64)mm)
		return;
	send_held(&(struct held_record){
		.kind = HELD_FREE,
		.start_ns = st->start_ns,
		.tgid = st->tgid,
		.seq = st->peak_seq,
		.addr = f->unmap_next,
		.len = HELD_PAGE,
	});
	f->unmap_next += HELD_PAGE;
}

/* pages of member m charged to stack hash in st's address space, made
 * resident by the fault at addr (current_fault_address(), read before the
 * stack is: its walk may fault). */
static __always_inline void send_held_charge(struct mm_state *st, __u64 hash, __s64 pages, int m,
					     __u64 addr)
{
	struct held_record rec = {
		.kind = HELD_CHARGE,
		.start_ns = st->start_ns,
		.tgid = st->tgid,
		.seq = st->peak_seq,
		.addr = addr,
		.len = pages,
		.hash = hash,
		.to = m,
	};

	if (held_on)
		send_held(&rec);
}

/*
 * The tree's peak for held pages: a change that takes the tree's RSS above
 * its highest so far starts a new one (after the charge that made it was
 * sent, as note_peak() does for an address space). With --stacks only: a
 * shared counter every CPU writes while the tree grows. Two CPUs may both
 * count one rise: then a stack's value is saved at the later one, as close.
 */
static __always_inline void note_held_tree_peak(int member, __s64 delta)
{
	__s64 v[RSS_NR_MEMBERS], rss;

	if (!held_on || member == RSS_SWAP || delta <= 0)
		return;
	v[RSS_FILE] = tree.cur[RSS_FILE];
	v[RSS_ANON] = tree.cur[RSS_ANON];
	v[RSS_SHMEM] = tree.cur[RSS_SHMEM];
	rss = rss_pages(v);
	if (rss <= tree.held_high)
		return;
	tree.held_high = rss;
	__sync_fetch_and_add(&tree.held_peak_seq, 1);
}

#endif
