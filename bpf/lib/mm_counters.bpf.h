/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exact reads of an address space's RSS counters.
 *
 * Since 6.2 (f1a7941243c1 "mm: convert mm's rss stats into percpu_counter")
 * each counter is a percpu_counter: `count` plus a per-CPU delta of up to the
 * batch size on every CPU. `count` alone (what get_mm_counter() and a naive
 * BPF read return) was seen 56 kB off on this machine; /proc/PID/status (6.16+:
 * "mm: fix the inaccurate memory statistics issue for users") and the classic
 * kmem:rss_stat tracepoint show the exact sum. We sum the per-CPU deltas
 * ourselves: much cheaper than enabling the classic tracepoint, which takes
 * the counter's lock on every event.
 *
 * The per-CPU area of CPU n is at `counters + __per_cpu_offset[n]`. Neither
 * that array nor `this_cpu_off` can be resolved without CONFIG_KALLSYMS_ALL
 * (not set on this machine), so we measure the offsets: a BPF per-CPU array's
 * element for CPU n lives at its per-CPU base (`bpf_array.pptrs[0]`) plus
 * exactly that offset, and bpf_map_lookup_percpu_elem() (5.19+, 07343110b293
 * "bpf: add bpf_map_lookup_percpu_elem for percpu map") returns it. That
 * happens once, in bpf/mm_counters.bpf.c (init_cpu_offsets), which also
 * defines the state declared here.
 */
#ifndef MM_COUNTERS_BPF_H
#define MM_COUNTERS_BPF_H

#include "lib/core_fixes.bpf.h"

#define MAX_CPUS 1024

/* Possible CPUs (libbpf_num_possible_cpus()), set by the loader. */
extern const volatile __u32 nr_cpus;
/* __per_cpu_offset[], as measured; valid once cpu_off_ready is set. */
extern __u64 cpu_off[MAX_CPUS];
extern __u32 cpu_off_ready;
/* Counters read without the per-CPU sum (offsets unknown). */
extern __u64 approx_reads;

#ifdef RSS_RDONLY_CAST
/*
 * The default flavour (6.2+): bpf_rdonly_cast() (a kfunc, 6.2+: a35b9af4ec2c
 * "bpf: Add a kfunc for generic type cast") turns an address into a
 * read-only, untrusted typed pointer whose loads are plain fault-safe loads,
 * several times cheaper than a bpf_probe_read_kernel() call each (measured
 * here: ~50 ns per helper call, most of the cost of an event). It casts only
 * to structs: a per-CPU delta (an s32) is read as the first word of a
 * struct whose first member is one (percpu_counter.lock's atomic value).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define HAVE_RDONLY_CAST 1

static __always_inline __s32 read_s32_cast(void *addr)
{
	struct percpu_counter *p = bpf_rdonly_cast(addr, bpf_core_type_id_kernel(struct percpu_counter));

	return p->lock.raw_lock.val.counter;
}
#else
#define HAVE_RDONLY_CAST 0
#define read_s32_cast read_s32
#endif

static __always_inline __s32 read_s32(void *addr)
{
	__s32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), addr);
	return v;
}

/* cast: from a tp_btf program (kfuncs are for BPF_PROG_TYPE_TRACING only). */
static __always_inline __s64 percpu_deltas(__s32 *counters, bool cast)
{
	__s64 sum = 0;

	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		void *addr = (void *)counters + cpu_off[cpu & (MAX_CPUS - 1)];

		if (cpu >= nr_cpus)
			break;
		sum += cast && HAVE_RDONLY_CAST ? read_s32_cast(addr) : read_s32(addr);
	}
	return sum;
}

/*
 * percpu_counter_sum() without its lock. A concurrent fold (another CPU moving
 * its delta into `count`) changes `count`, so a sum bracketed by two equal
 * reads of `count` is consistent; retry a few times otherwise.
 */
static __always_inline __s64 percpu_counter_exact(struct percpu_counter *fbc)
{
	__s32 *counters = BPF_CORE_READ(fbc, counters);
	__s64 before, after = 0, sum = 0;

	if (!cpu_off_ready) {
		__sync_fetch_and_add(&approx_reads, 1);
		return BPF_CORE_READ(fbc, count);
	}
	for (int try = 0; try < 3; try++) {
		before = BPF_CORE_READ(fbc, count);
		sum = before + percpu_deltas(counters, false);
		after = BPF_CORE_READ(fbc, count);
		if (before == after)
			break;
	}
	return sum;
}

/* 6.2+: the member-th percpu_counter (see atomic_counter() for why not inlined). */
static __noinline __s64 percpu_counter_of(struct mm_struct *mm, int member)
{
	if (!mm)
		return 0;
	return percpu_counter_exact((void *)mm + bpf_core_field_offset(mm->rss_stat) +
				    (member & 3) * bpf_core_type_size(struct percpu_counter));
}

/*
 * The same from a tp_btf program, whose mm pointer the verifier trusts: the
 * fields are read with plain loads (a fault-safe load each) instead of helper
 * calls, which is most of the cost per event; only the per-CPU deltas, at
 * computed addresses, still need bpf_probe_read_kernel(). A variable index
 * into the counter array is not allowed there: one constant path per member.
 */
static __always_inline __s64 sum_direct(struct percpu_counter *fbc)
{
	__s64 before, after, sum = 0;

	if (!cpu_off_ready) {
		__sync_fetch_and_add(&approx_reads, 1);
		return fbc->count;
	}
	for (int try = 0; try < 3; try++) {
		before = fbc->count;
		sum = before + percpu_deltas(fbc->counters, true);
		after = fbc->count;
		if (before == after)
			break;
	}
	return sum;
}

static __noinline __s64 percpu_counter_btf(struct mm_struct *mm, int member)
{
	switch (member) {
	case 0: return sum_direct(&mm->rss_stat[0]);
	case 1: return sum_direct(&mm->rss_stat[1]);
	case 2: return sum_direct(&mm->rss_stat[2]);
	default: return sum_direct(&mm->rss_stat[3]);
	}
}

/* The counter /proc/PID/status shows for this member, in pages, raw: /proc
 * shows it clamped at 0 (it can be negative for a moment up to 6.1). */
static __always_inline __s64 mm_counter_exact(struct mm_struct *mm, int member)
{
	if (rss_counters_are_atomic()) /* up to 6.1: one atomic_long_t, exact */
		return atomic_counter(mm, member);
	return percpu_counter_of(mm, member);
}

/* mm_counter_exact() for a trusted mm (tp_btf). */
static __always_inline __s64 mm_counter_exact_btf(struct mm_struct *mm, int member)
{
	if (rss_counters_are_atomic())
		return atomic_counter(mm, member);
	return percpu_counter_btf(mm, member);
}

#endif
