/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks=dwarf: what user space needs to unwind a stack without frame
 * pointers. Code built without them (every Debian package) keeps its return
 * addresses at offsets only its CFI (.eh_frame) knows, so the kernel's
 * frame-pointer walk stops after a frame or two. Instead, the first charge of
 * a new stack sends the task's user registers and the top of its user stack
 * (struct stack_sample); src/trace/dwarf_unwind.c unwinds it with libdw.
 *
 * Tracepoints may not sleep, so the stack is read with bpf_probe_read_user:
 * a page that is not resident ends the copy there (the unwind then stops at
 * the frame whose return address lies past it). Whole pages are copied from
 * sp's page upwards, at constant offsets: 5.10's verifier accepts those
 * without range tracking of a variable destination.
 */
#ifndef STACK_SAMPLE_BPF_H
#define STACK_SAMPLE_BPF_H

#include <bpf/bpf_core_read.h>
#include "rsstrace.h"

#define STACK_PAGE 4096

/* Set by the loader (--stacks=dwarf, --stack-copy); in bpf/stacks.bpf.c. */
extern const volatile bool dwarf_on;
extern const volatile __u32 stack_copy_pages;

struct stack_samples_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* the loader sizes it with --stacks=dwarf */
};

struct stack_sample_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_sample);
};

extern struct stack_samples_map stack_samples SEC(".maps");
extern struct stack_sample_scratch_map stack_sample_scratch SEC(".maps");

#if defined(__TARGET_ARCH_x86)
/*
 * The current task's user registers, saved at kernel entry on top of its
 * kernel stack. bpf_task_pt_regs() (5.15+, "bpf: Add bpf_task_pt_regs()
 * helper", dd6e10fbd9fb) knows the layout, including the 16 bytes of padding
 * above pt_regs that FRED kernels (6.9+, CONFIG_X86_FRED) add; before it,
 * task->stack + THREAD_SIZE - sizeof(pt_regs) is x86_64's task_pt_regs()
 * (THREAD_SIZE 16 KiB without KASAN, as Debian builds 5.10). Callers check
 * that cs is a user segment, so a wrong guess is counted, never used.
 */
static __always_inline struct pt_regs *current_user_regs(void)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return (struct pt_regs *)((long)BPF_CORE_READ(current_task(), stack) + 16384) - 1;
}

static __always_inline bool user_mode_regs(struct pt_regs *r)
{
	return (BPF_CORE_READ(r, cs) & 3) == 3;
}

static __always_inline __u64 user_ip(struct pt_regs *r)
{
	return BPF_CORE_READ(r, ip);
}

static __always_inline __u64 user_sp(struct pt_regs *r)
{
	return BPF_CORE_READ(r, sp);
}

/* The registers in DWARF order (see struct stack_sample). */
static __always_inline void read_dwarf_regs(struct pt_regs *r, __u64 *out)
{
	out[0] = BPF_CORE_READ(r, ax);
	out[1] = BPF_CORE_READ(r, dx);
	out[2] = BPF_CORE_READ(r, cx);
	out[3] = BPF_CORE_READ(r, bx);
	out[4] = BPF_CORE_READ(r, si);
	out[5] = BPF_CORE_READ(r, di);
	out[6] = BPF_CORE_READ(r, bp);
	out[7] = BPF_CORE_READ(r, sp);
	out[8] = BPF_CORE_READ(r, r8);
	out[9] = BPF_CORE_READ(r, r9);
	out[10] = BPF_CORE_READ(r, r10);
	out[11] = BPF_CORE_READ(r, r11);
	out[12] = BPF_CORE_READ(r, r12);
	out[13] = BPF_CORE_READ(r, r13);
	out[14] = BPF_CORE_READ(r, r14);
	out[15] = BPF_CORE_READ(r, r15);
	out[16] = BPF_CORE_READ(r, ip);
}
#else
/* x86_64 only for now (the loader refuses --stacks=dwarf elsewhere): the
 * register order of struct stack_sample is x86_64's DWARF numbering. */
static __always_inline struct pt_regs *current_user_regs(void)
{
	return NULL;
}

static __always_inline bool user_mode_regs(struct pt_regs *r)
{
	return false;
}

static __always_inline __u64 user_ip(struct pt_regs *r)
{
	return 0;
}

static __always_inline __u64 user_sp(struct pt_regs *r)
{
	return 0;
}

static __always_inline void read_dwarf_regs(struct pt_regs *r, __u64 *out)
{
}
#endif

/* Sends the sample of a stack seen for the first time. */
static __always_inline void send_stack_sample(struct pt_regs *r, __u64 hash, const struct mm_state *st)
{
	struct stack_sample *smp;
	__u32 zero = 0, pages = 0;
	__u64 len;

	smp = bpf_map_lookup_elem(&stack_sample_scratch, &zero);
	if (!smp)
		return;
	smp->type = REC_STACK_SAMPLE;
	smp->tgid = st->tgid;
	smp->tid = (__u32)bpf_get_current_pid_tgid();
	smp->hash = hash;
	smp->start_ns = st->start_ns;
	smp->ppid = st->ppid;
	smp->exec_seq = st->exec_seq;
	read_dwarf_regs(r, smp->regs);
	smp->stack_addr = smp->regs[7] & ~(__u64)(STACK_PAGE - 1);
#pragma unroll
	for (int i = 0; i < STACK_COPY_MAX / STACK_PAGE; i++) {
		if (i >= stack_copy_pages)
			break;
		if (bpf_probe_read_user(&smp->stack[i * STACK_PAGE], STACK_PAGE,
					(void *)(smp->stack_addr + i * STACK_PAGE)))
			break;
		pages++;
	}
	smp->stack_len = pages * STACK_PAGE;
	len = offsetof(struct stack_sample, stack) + (__u64)pages * STACK_PAGE;
	if (len > sizeof(*smp))
		len = sizeof(*smp);
	/* wakes the reader: it reads the process's maps while it still lives */
	if (bpf_ringbuf_output(&stack_samples, smp, len, 0))
		__sync_fetch_and_add(&loss.samples_lost, 1);
}

#endif
