// SPDX-License-Identifier: GPL-2.0
/*
 * --stacks: which code broke copy-on-write. A write to an anonymous page
 * still shared since fork() gives the writer a private copy, and changes no
 * RSS counter (the copy replaces the shared page in the writer's page table),
 * so rss_stat never sees it and no faulted-in charge names it. These
 * programs charge each copy, one base page, to the writer's user stack in
 * its own map (cow_counts), keyed like stack_counts; the frames are shared.
 *
 * One page per copy: wp_page_copy() copies one base page (a PMD-mapped THP is
 * split first and a base page copied: "thp: change CoW semantics for
 * anon-THP", 3917c80280c9, 5.8); tests/test_stacks_cow.py checks the charged
 * bytes against the writer's Private_Dirty in smaps_rollup.
 *
 * The loader (src/core/hooks.c) chooses one program, best first:
 *   fentry|kprobe wp_page_copy  a copy is being made (not a reuse of a page
 *                               the writer already owns alone). 5.10; inlined
 *                               on 6.12 and 6.18
 *   fentry|kprobe do_wp_page    every write-protect fault of a present page
 *   tp_btf|tracepoint exceptions:page_fault_user with error_code
 *                               PROT|WRITE (6.18 here: no fentry, no kprobes)
 * The last two also see write faults that copy nothing; the mapping's flags
 * rule out those of shared mappings (write-notify of file pages, dirty
 * tracking) and of userfaultfd-wp ranges, and faults that end in a signal
 * (the mapping is not writable). What remains and is not a copy: the write of
 * the last sharer of a page (the kernel reuses the page), and writes after
 * soft-dirty clearing (clear_refs 4) or mprotect() of private memory. The
 * page_fault_user hooks miss copies made in kernel mode (a read(2) into
 * shared memory, get_user_pages) and count twice a page two threads fault on
 * at once; docs/man/rsstrace.8.md says so.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rsstrace.h"
#include "lib/kernel.bpf.h"
#include "lib/stacks.bpf.h"

/* include/linux/mm.h; VM_UFFD_WP since 5.7 ("userfaultfd: wp: add
 * VM_UFFD_WP", 1c2d7b5fd85f) */
#define VM_WRITE 0x2
#define VM_SHARED 0x8
#define VM_UFFD_WP 0x1000

struct cow_counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* the loader sizes it with --stacks */
	__type(key, struct stack_key);
	__type(value, __u64); /* pages copied */
};

struct cow_counts_map cow_counts SEC(".maps");

/* The key of the current task's stack in mm, which it writes to; false if
 * mm is not traced or not the task's own (a remote write: ptrace,
 * process_vm_writev). A new stack's frames are stored now. */
static __always_inline bool writer_stack(void *ctx, struct mm_struct *mm, struct stack_key *key)
{
	struct stack_scratch *s;
	struct mm_state *st;

	if (!stacks_on)
		return false;
	st = state_of(mm);
	if (!st || BPF_CORE_READ(current_task(), mm) != mm)
		return false;
	return current_stack(ctx, st, key, &s);
}

/* One page copied by the stack of key. */
static __always_inline void add_copy(struct stack_key *key)
{
	__u64 one = 1, *c;

	c = bpf_map_lookup_elem(&cow_counts, key);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return;
	}
	if (!bpf_map_update_elem(&cow_counts, key, &one, BPF_NOEXIST))
		return;
	c = bpf_map_lookup_elem(&cow_counts, key);
	if (c) /* another CPU added it first */
		__sync_fetch_and_add(c, 1);
	else
		__sync_fetch_and_add(&loss.stacks_full, 1);
}

static __always_inline void charge_cow(void *ctx, struct mm_struct *mm)
{
	struct stack_key key = {};

	if (writer_stack(ctx, mm, &key))
		add_copy(&key);
}

/* A write-protect fault that may copy: private, writable, not uffd-wp. */
static __always_inline bool may_copy(__u64 vm_flags)
{
	return (vm_flags & (VM_WRITE | VM_SHARED | VM_UFFD_WP)) == VM_WRITE;
}

SEC("fentry/wp_page_copy")
int BPF_PROG(cow_copy_fentry, struct vm_fault *vmf)
{
	charge_cow(ctx, vmf_mm(vmf));
	return 0;
}

SEC("kprobe/wp_page_copy")
int BPF_KPROBE(cow_copy_kprobe, struct vm_fault *vmf)
{
	charge_cow(ctx, vmf_mm(vmf));
	return 0;
}

static __always_inline void on_wp_fault(void *ctx, struct vm_fault *vmf)
{
	if (may_copy(BPF_CORE_READ(vmf, vma, vm_flags)))
		charge_cow(ctx, vmf_mm(vmf));
}

SEC("fentry/do_wp_page")
int BPF_PROG(cow_wp_fentry, struct vm_fault *vmf)
{
	on_wp_fault(ctx, vmf);
	return 0;
}

SEC("kprobe/do_wp_page")
int BPF_KPROBE(cow_wp_kprobe, struct vm_fault *vmf)
{
	on_wp_fault(ctx, vmf);
	return 0;
}

/*
 * The mapping the last write fault on this CPU was in, so that the next
 * faults there skip bpf_find_vma(): its irq_work made each lookup cost
 * ~39 us here (fork_cow 3 256, 98k copies: 5.8 s under --stacks with a
 * lookup per fault, 2.0 s without any, 0.95 s untraced). Valid while the
 * address space (start_ns) is the same and mm_lock_seq, bumped by every
 * mmap write lock and unlock (the only way to change a mapping's range or
 * flags), has not moved (6.4+ with per-VMA locks; else never cached).
 */
struct vma_cache {
	__u64 start_ns; /* mm_state.start_ns: which address space */
	__u64 start, end, flags;
	__u32 seq;
	__u32 pad;
};

struct vma_cache_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vma_cache);
};

struct vma_cache_map vma_cache SEC(".maps");

/* mm->mm_lock_seq (an int in 6.4-6.12, a seqcount_t since; both start
 * with the count), or false where there is none. */
static __always_inline bool mm_write_seq(struct mm_struct *mm, __u32 *seq)
{
	if (!bpf_core_field_exists(mm->mm_lock_seq))
		return false;
	if (bpf_core_read(seq, sizeof(*seq), &mm->mm_lock_seq))
		return false;
	return !(*seq & 1); /* odd: a writer holds the lock now */
}

static long read_vma(struct task_struct *task, struct vm_area_struct *vma, struct vma_cache *c)
{
	c->start = BPF_CORE_READ(vma, vm_start);
	c->end = BPF_CORE_READ(vma, vm_end);
	c->flags = BPF_CORE_READ(vma, vm_flags);
	return 0;
}

/* The flags of the mapping holding address, from the cache or looked up;
 * false if it could not be looked up. */
static __always_inline bool fault_vm_flags(struct mm_struct *mm, __u64 start_ns, unsigned long address,
					   __u64 *flags)
{
	struct vma_cache *c, found = {};
	bool cacheable;
	__u32 zero = 0, seq = 0;

	c = bpf_map_lookup_elem(&vma_cache, &zero);
	if (!c)
		return false;
	cacheable = mm_write_seq(mm, &seq);
	if (cacheable && c->start_ns == start_ns && c->seq == seq && address >= c->start && address < c->end) {
		*flags = c->flags;
		return true;
	}
	if (bpf_find_vma(bpf_get_current_task_btf(), address, read_vma, &found, 0))
		return false;
	if (address < found.start) { /* in no mapping (find_vma gives the next one) */
		*flags = 0;
		return true;
	}
	*flags = found.flags;
	found.start_ns = cacheable ? start_ns : 0;
	found.seq = seq;
	*c = found;
	return true;
}

/*
 * page_fault_user runs before the fault takes the mmap lock, with interrupts
 * off: the mapping is looked up with bpf_find_vma() (5.17+), which
 * trylocks that lock and leaves the unlock to a per-CPU irq_work, run once
 * interrupts are on again (unless the last lookup on this CPU still holds,
 * see vma_cache). The stack's frames come first: a new stack's build ids
 * need the same lock and irq_work (bpf_get_stack() falls back to bare
 * addresses, [unknown] in the output, when it is busy), so a lookup after
 * them fails (-EBUSY). Such a fault, and one that meets a writer of the lock,
 * is counted in loss.cow_unknown and not charged.
 */
static __always_inline void on_user_fault(void *ctx, unsigned long address, unsigned long error_code)
{
	struct mm_struct *mm = current_mm();
	struct stack_key key = {};
	__u64 flags = 0;

	if (!stacks_on || !is_write_to_present(error_code))
		return;
	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma))
		return;
	if (!writer_stack(ctx, mm, &key))
		return;
	if (!fault_vm_flags(mm, key.start_ns, address, &flags)) {
		__sync_fetch_and_add(&loss.cow_unknown, 1);
		return;
	}
	if (may_copy(flags))
		add_copy(&key);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(cow_fault_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	on_user_fault(ctx, address, error_code);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_user")
int cow_fault_tp(struct page_fault_user_args *args)
{
	on_user_fault(args, args->address, args->error_code);
	return 0;
}
