/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks: which code made memory resident.
 *
 * On an rss_stat increase of anon, file or shmem pages of an mm that the
 * current task runs on (a fault, a read into a mapping, MAP_POPULATE...), the
 * pages are charged to the task's user stack (and kernel stack with
 * --kernel-stacks). Changes made on behalf of an mm by someone else (fork's
 * copy, khugepaged, reclaim) have no user stack of that mm: not charged.
 *
 * Stacks are read twice only the first time they are seen: as raw
 * instruction pointers (cheap, a frame-pointer walk) to hash them, and, if new,
 * as (build id, file offset) pairs, which user space symbolizes after the
 * process is gone. With --stacks=dwarf (code without frame pointers) a stack
 * is told apart by its (ip, sp) in its address space instead: a frame-pointer
 * walk there reads whatever rbp holds, often a new value at every fault. A
 * new one also sends a stack sample (lib/stack_sample.bpf.h) for user space
 * to unwind. Two call paths that reach one instruction with one stack depth
 * are one stack then (the first one seen names both). Everything here is dead code unless the loader sets
 * stacks_on: plain tracing pays nothing for it.
 *
 * The charge is made from the rss_stat handler (bpf/account.bpf.c), so it is
 * an inline helper here (a global BPF function taking these pointers would
 * not verify on 5.10); the maps and switches it uses are bpf/stacks.bpf.c's.
 */
#ifndef STACKS_BPF_H
#define STACKS_BPF_H

#include "lib/account.bpf.h"
#include "lib/core_fixes.bpf.h"
#include "lib/stack_sample.bpf.h"
#include "lib/held.bpf.h"

/* Set by the loader (--stacks, --kernel-stacks, --stack-sample); defined in
 * bpf/stacks.bpf.c. */
extern const volatile bool stacks_on;
extern const volatile bool kernel_stacks_on;
extern const volatile __u32 stack_sample_pages;
extern const volatile __u32 stack_sample_gaps[STACK_SAMPLE_GAPS];

struct stack_counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* the loader sizes it with --stacks */
	__type(key, struct stack_key);
	__type(value, struct stack_count);
};

struct stack_frames_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* 1.8 kB each: only what is used */
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct stack_frames);
};

struct stack_scratch {
	__u64 ips[STACK_USER_DEPTH + STACK_KERNEL_DEPTH];
	struct stack_frames frames;
	struct stack_count count;
};

struct stack_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
};

/* Each CPU counts down its own pages: a page's chance to be a sample does not
 * depend on which CPU faulted it in (see struct stack_sample_countdown), and
 * no two CPUs share a countdown to race on. */
struct stack_countdown_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_sample_countdown);
};

extern struct stack_counts_map stack_counts SEC(".maps");
extern struct stack_countdown_map stack_countdown SEC(".maps");
extern struct stack_frames_map stack_frames SEC(".maps");
extern struct stack_scratch_map stack_scratch SEC(".maps");

/* FNV-1a over the instruction pointers, one 64-bit word at a time. */
static __always_inline __u64 hash_ips(const __u64 *ips, int n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < STACK_USER_DEPTH + STACK_KERNEL_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ ips[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* The stack's frames, stored once per distinct stack. Returns true if
 * this call stored them (the stack is new). */
static __always_inline bool remember_frames(void *ctx, struct stack_scratch *s, __u64 hash,
					    long user_bytes, long kernel_bytes)
{
	struct stack_frames *f = &s->frames;
	long n, err;

	if (bpf_map_lookup_elem(&stack_frames, &hash))
		return false;
	n = user_bytes > 0 ? bpf_get_stack(ctx, f->user, sizeof(f->user),
					   BPF_F_USER_STACK | BPF_F_USER_BUILD_ID) : 0;
	f->user_nr = n > 0 ? n / sizeof(f->user[0]) : 0;
	f->kernel_nr = kernel_bytes > 0 ? kernel_bytes / sizeof(__u64) : 0;
	if (f->kernel_nr > STACK_KERNEL_DEPTH)
		f->kernel_nr = STACK_KERNEL_DEPTH;
	for (int i = 0; i < STACK_KERNEL_DEPTH; i++)
		f->kernel[i] = i < f->kernel_nr ? s->ips[STACK_USER_DEPTH + i] : 0;
	err = map_op_error(bpf_map_update_elem(&stack_frames, &hash, f, BPF_NOEXIST));
	if (err && err != -RSS_EEXIST) /* EEXIST: another CPU stored it first */
		__sync_fetch_and_add(&loss.frames_full, 1);
	return !err;
}

/* --stacks=dwarf: what tells the stack apart (see the top): ip, sp and the
 * address space in s->ips[0..2]. Returns their bytes, or -1 (no user regs). */
static __always_inline long dwarf_stack_key(struct stack_scratch *s, struct mm_state *st,
					    struct pt_regs **regs)
{
	struct pt_regs *r = current_user_regs();

	*regs = r;
	if (!r || !user_mode_regs(r))
		return -1;
	s->ips[0] = user_ip(r);
	s->ips[1] = user_sp(r);
	s->ips[2] = st->start_ns ^ st->tgid;
	return 3 * sizeof(__u64);
}

/*
 * The current task's user (and, with kernel_stacks_on, kernel) stack, as the
 * key of its charges in st's address space; its frames are stored if the
 * stack is new (--stacks=dwarf: and its sample sent). Returns false if there
 * is no scratch space (nothing to charge).
 */
static __always_inline bool current_stack(void *ctx, struct mm_state *st, struct stack_key *key,
					  struct stack_scratch **scratch)
{
	struct pt_regs *regs = NULL;
	struct stack_scratch *s;
	long ub, kb = 0;
	__u32 zero = 0;

	key->start_ns = st->start_ns;
	key->tgid = st->tgid;
	s = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!s)
		return false;
	*scratch = s;
	if (dwarf_on)
		ub = dwarf_stack_key(s, st, &regs);
	else
		ub = bpf_get_stack(ctx, s->ips, STACK_USER_DEPTH * sizeof(__u64), BPF_F_USER_STACK);
	if (ub < 0) {
		__sync_fetch_and_add(&loss.stack_errors, 1);
		ub = 0; /* charged to the empty stack: the pages still count */
	}
	for (int i = 0; i < STACK_USER_DEPTH; i++) /* hash_ips reads a fixed layout */
		if (i >= ub / (long)sizeof(__u64))
			s->ips[i] = 0;
	if (kernel_stacks_on) {
		kb = bpf_get_stack(ctx, &s->ips[STACK_USER_DEPTH], STACK_KERNEL_DEPTH * sizeof(__u64), 0);
		if (kb < 0)
			kb = 0;
	}
	key->hash = hash_ips(s->ips, STACK_USER_DEPTH + kb / sizeof(__u64));
	if (remember_frames(ctx, s, key->hash, ub, kb) && dwarf_on && regs && ub > 0)
		send_stack_sample(regs, key->hash, st);
	return true;
}

/* The most samples one event takes; an event of more pages than this many
 * mean gaps (a huge page under a small --stack-sample) is charged whole:
 * exact is unbiased too, and the countdown goes on unchanged. */
#define STACK_SAMPLES_PER_EVENT 16

/*
 * --stack-sample: the pages to charge for an increase of delta pages: 0 when
 * no sample falls in them (the stack is then not even read: that is the
 * saving), else the number of samples in them times the mean gap (*samples
 * says how many). Without --stack-sample: delta, and *samples 0.
 */
static __always_inline __s64 sampled_pages(__s64 delta, __u32 *samples)
{
	struct stack_sample_countdown *cd;
	__u32 zero = 0, n = 0;
	__s64 left;

	*samples = 0;
	if (!stack_sample_pages || delta >= (__s64)stack_sample_pages * STACK_SAMPLES_PER_EVENT)
		return delta;
	cd = bpf_map_lookup_elem(&stack_countdown, &zero);
	if (!cd)
		return delta;
	if (!cd->armed) {
		cd->left = stack_sample_gaps[bpf_get_prandom_u32() % STACK_SAMPLE_GAPS];
		cd->armed = 1;
	}
	left = cd->left - delta;
	for (int i = 0; i < STACK_SAMPLES_PER_EVENT; i++) {
		if (left > 0)
			break;
		left += stack_sample_gaps[bpf_get_prandom_u32() % STACK_SAMPLE_GAPS];
		n++;
	}
	cd->left = left;
	*samples = n;
	return (__s64)n * stack_sample_pages;
}

/* A growth of member by delta pages in the current task's own mm, st. */
static __always_inline void charge_growth(void *ctx, struct mm_state *st, int member, __s64 delta)
{
	struct stack_key key = {};
	struct stack_scratch *s;
	struct stack_count *c;
	__u32 samples;
	__u64 addr;
	int m;

	m = member_idx(member);
	delta = sampled_pages(delta, &samples);
	if (!delta)
		return;
	addr = held_on ? current_fault_address() : 0;
	if (!current_stack(ctx, st, &key, &s))
		return;
	send_held_charge(st, key.hash, delta, m, addr);
	c = bpf_map_lookup_elem(&stack_counts, &key);
	if (!c) {
		c = &s->count;
		__builtin_memset(c, 0, sizeof(*c));
		c->seq = st->peak_seq;
		c->grown[m] = delta;
		c->samples = samples;
		if (bpf_map_update_elem(&stack_counts, &key, c, BPF_NOEXIST)) {
			c = bpf_map_lookup_elem(&stack_counts, &key);
			if (!c) { /* not a race with another CPU: the map is full */
				__sync_fetch_and_add(&loss.stacks_full, 1);
				return;
			}
			__sync_fetch_and_add(&c->grown[m], delta);
			if (samples)
				__sync_fetch_and_add(&c->samples, samples);
		}
	} else {
		if (c->seq != st->peak_seq) {
			/* a peak came since this entry last grew: its value then */
			for (int i = 0; i < RSS_NR_MEMBERS; i++)
				c->at_peak[i] = c->grown[i];
			c->seq = st->peak_seq;
		}
		__sync_fetch_and_add(&c->grown[m], delta);
		if (samples)
			__sync_fetch_and_add(&c->samples, samples);
	}
}

static __always_inline void charge_stack(void *ctx, struct mm_struct *mm, struct mm_state *st,
					 int member, __s64 delta)
{
	/* first, and alone: with stacks_on false the verifier drops the rest
	 * (charge_growth's zeroed key too, which, made before the test, was not) */
	if (!stacks_on)
		return;
	if (delta <= 0 || member == RSS_SWAP)
		return;
	if (BPF_CORE_READ(current_task(), mm) != mm)
		return; /* not this mm's own task: no user stack to charge */
	charge_growth(ctx, st, member, delta);
}

#endif
