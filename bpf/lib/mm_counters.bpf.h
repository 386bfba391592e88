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
#include "lib/kernel.bpf.h"
#include "lib/member.bpf.h"
#include "rsstrace.h"

#define MAX_CPUS RSS_MAX_CPUS

/* Possible CPUs (libbpf_num_possible_cpus()), set by the loader. */
extern const volatile __u32 nr_cpus;
/* __per_cpu_offset[], as measured; valid once cpu_off_ready is set. */
extern __u64 cpu_off[MAX_CPUS];
extern __u32 cpu_off_ready;
/* Counters read without the per-CPU sum (offsets unknown). */
extern __u64 approx_reads;
/* Sums taken although no try of them was consistent (see SUM_TRIES): each
 * may count one fold twice. */
extern __u64 unsettled_sums;

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

/* The s32 at addr as a struct whose first member is one, for loads. */
static __always_inline struct percpu_counter *s32_cast(void *addr)
{
	return bpf_rdonly_cast(addr, bpf_core_type_id_kernel(struct percpu_counter));
}

static __always_inline __s32 cast_s32(struct percpu_counter *p)
{
	return p->lock.raw_lock.val.counter;
}

static __always_inline __s32 read_s32_cast(void *addr)
{
	return cast_s32(s32_cast(addr));
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

/*
 * Which CPUs' per-CPU counters can hold an address space's deltas. A CPU's
 * delta changes only by adds made on that CPU, and every add is followed by
 * an rss_stat event on the same CPU: the callers change the counters under a
 * page-table lock, which keeps the task on its CPU until the tracepoint has
 * fired. So the CPUs on which an mm's events ran (plus those whose delta was
 * non-zero when we first read it) are the only ones whose deltas are not 0,
 * and the exact sum needs only them: the others, possible but offline or
 * never used by this mm, contribute nothing. Reading every possible CPU cost
 * 23 guest instructions per CPU and event (issue 18: 3,310 instructions per
 * run at 128 possible CPUs against 418 at 2, 2 online in both).
 *
 * An mm's CPUs are kept as a list (two loads and an add each to sum), and as
 * a bitmap. The bitmap decides, by an atomic OR, which one CPU lists a CPU
 * that two of them add at once (its own event and a resync), so that none is
 * listed twice; an mm that ran on more than RSS_MM_CPUS CPUs is read on the
 * CPUs of its bitmap (a bit test per possible CPU, a read per CPU it ran
 * on), not on every possible CPU.
 *
 * Where the assumption does not hold (collapse_pte_mapped_thp() subtracts
 * after dropping the page-table lock, so its task may migrate before the
 * event), the event sees no change on the CPUs it reads; such an event (of
 * the file or shmem counter: that function's), and every RESYNC_EVERY-th
 * one, reads every possible CPU and joins those with a non-zero delta.
 *
 * This sum still costs a read per CPU the mm ran on, on every event: an mm
 * that ran on shadow_from_cpus CPUs is read from shadows of its counters
 * instead (lib/shadow.bpf.h), and by this sum only where a shadow step
 * cannot be done.
 */
#define CPU_WORDS (MAX_CPUS / 64)

/* Whether cpu is in c's bitmap (an event of the mm ran there). */
static __always_inline bool cpu_seen(struct mm_cpus *c, __u32 cpu)
{
	return *(volatile __u64 *)&c->seen[(cpu >> 6) & (CPU_WORDS - 1)] & (1ULL << (cpu & 63));
}

/* The addresses of the deltas of the CPU at per-CPU offset off, as c's list
 * entry idx (0 or 1): 0 for a member whose counters are not known. An
 * address space's counters_at is set before any CPU joins it (begin_mm()),
 * and never changes: an entry's addresses are all known or all 0. */
static __always_inline void note_delta_addresses(struct mm_cpus *c, __u32 idx, __u64 off)
{
	for (int m = 0; m < RSS_NR_MEMBERS; m++) {
		__u64 at = c->counters_at[m];

		*(volatile __u64 *)&c->delta_addr[idx & 1][m] = at ? at + off : 0;
	}
}

/* cpu's counters may now hold deltas of the mm whose CPUs are c. */
static __always_inline void cpu_join(struct mm_cpus *c, __u32 cpu)
{
	__u64 *word = &c->seen[(cpu >> 6) & (CPU_WORDS - 1)];
	__u64 bit = 1ULL << (cpu & 63);
	__u32 idx;

	if (*(volatile __u64 *)word & bit)
		return;
#ifndef RSS_NO_FETCH_ATOMICS
	if (__sync_fetch_and_or(word, bit) & bit)
		return; /* another CPU joined it first */
	idx = __sync_fetch_and_add(&c->nr, 1);
#else
	/* 5.10's flavour: the counters are atomic there, never per-CPU */
	*word |= bit;
	idx = c->nr++;
#endif
	/* the addresses before the entry (volatile: kept in this order; x86
	 * makes stores visible in order): a reader that sees the entry has them */
	if (idx < 2)
		note_delta_addresses(c, idx, cpu_off[cpu & (MAX_CPUS - 1)]);
	if (idx < RSS_MM_CPUS)
		*(volatile __u16 *)&c->cpu[idx] = cpu + 1;
}

/* The delta at a per-CPU offset. */
static __always_inline __s32 delta_at(__s32 *counters, __u64 off, bool cast)
{
	void *addr = (void *)counters + off;

	return cast && HAVE_RDONLY_CAST ? read_s32_cast(addr) : read_s32(addr);
}

static __always_inline __s32 cpu_delta(__s32 *counters, __u32 cpu, bool cast)
{
	return delta_at(counters, cpu_off[cpu & (MAX_CPUS - 1)], cast);
}

/* The deltas of the CPUs joined to c. */
static __always_inline __s64 joined_deltas(__s32 *counters, struct mm_cpus *c, bool cast)
{
	__u32 n = *(volatile __u32 *)&c->nr;
	__s64 sum = 0;

	for (__u32 i = 0; i < RSS_MM_CPUS; i++) {
		__u16 cpu1;

		if (i >= n)
			break;
		cpu1 = *(volatile __u16 *)&c->cpu[i];
		if (cpu1) /* else being joined by a CPU whose event will read it */
			sum += cpu_delta(counters, cpu1 - 1, cast);
	}
	return sum;
}

/*
 * percpu_counter_sum() without its lock. A fold (percpu_counter_add_batch()
 * moving a CPU's delta into `count`) stores `count`, then the CPU's delta,
 * under fbc->lock: a sum that read `count` after the first store and the
 * delta before the second counted the pages twice (seen once in a CI run of
 * tests/test_concurrent_faults.py: a peak 104 kB over the kernel's). So a
 * reading counts only if the lock was free after `count` was read (then
 * every fold that `count` shows has also cleared its delta: stores become
 * visible in order, loads are not reordered, on x86) and `count` was the
 * same after the deltas (no fold began in between). The lock is also taken
 * by exact readers (/proc, the classic tracepoint): retry a few times.
 */
#define SUM_TRIES 3
#define barrier() asm volatile("" ::: "memory")

/*
 * Exact readers hold the lock as long as a fold does, and often: with the
 * classic tracepoint on (the tests' ground truth), the other CPU takes it for
 * every event, and three tries back to back all saw it held often enough for
 * a fold to slip through (a CI host run: peak 744 kB for the kernel's 628).
 * So each try of the retrying read (after sum_joined_once(), which does not
 * wait) first waits, boundedly, for the lock to be free: up to LOCK_SPINS
 * loads of it (wait_unlocked(): a bpf_loop(), whose callback is verified
 * once), or LOCK_SPINS_PROBED reads where each is a helper call (raw_tp).
 * Sums that no try could settle are counted (unsettled_sums, the JSON
 * summary's): tests/test_concurrent_faults.py's storm under the classic
 * tracepoint (10^6 changes, 2 threads on 2 CPUs) had 1,656, 0, 0, 95, 0,
 * 2,292 and 757 of them in seven runs waiting 16 loads per try; 0, 16, 9, 0,
 * 0, 0 in six waiting 1,024; 0, 0, 6, 0, 0, 0 waiting 4,096. What is left
 * is a holder stalled that long (a debug count of the failed tries: every
 * one had waited in vain, none found the lock taken again or `count`
 * moved), which no bounded wait outlasts; eight tries of 1,024 left 0, 0, 1,
 * 0, 2, 3 and did not verify at 1,024 possible CPUs.
 */
#define LOCK_SPINS 4096
#define LOCK_SPINS_PROBED 16

/*
 * The sums are global functions, defined in bpf/account.bpf.c (the object
 * that already links the bpf_rdonly_cast kfunc: Debian's libbpf 1.1 fails to
 * link one referenced from two objects): the verifier checks a global
 * function once, where it checks a static one at every call, walking each
 * iteration of its loops. Inline at each call, the walks over every possible
 * CPU passed its limits at 1,024 possible CPUs ("BPF program is too large"),
 * and the retries (SUM_TRIES x LOCK_SPINS around the joined CPUs' loop),
 * inlined in each member's read, made rss_stat_btf take 3,976 ms to verify
 * in a 6.12 guest and 230 ms on this machine's 6.18, at every start; with
 * only the first try inline (sum_joined_once()), 479 ms and 47 ms (strace -T
 * of BPF_PROG_LOAD). 5.10 takes no pointer argument in a
 * global function, and has no per-CPU counters: stubs there.
 */
#ifndef RSS_NO_FETCH_ATOMICS
/* The exact value of the percpu_counter at fbc: every possible CPU read
 * (_all), or the CPUs joined to c (_joined: its list, or its bitmap past the
 * list); _cast: through bpf_rdonly_cast (tp_btf and iterator programs only). */
__noinline __s64 percpu_sum_all(__u64 fbc);
__noinline __s64 percpu_sum_all_cast(__u64 fbc);
__noinline __s64 percpu_sum_joined(__u64 fbc, struct mm_cpus *c);
__noinline __s64 percpu_sum_joined_cast(__u64 fbc, struct mm_cpus *c);
/* Every possible CPU on which one of the counters of an mm, whose rss_stat[]
 * is at that address, holds a delta joins c. (The caller resolves the field:
 * a global function is checked on every kernel, and mm->rss_stat is not an
 * array of percpu_counter before 6.2, where the relocation fails.) */
__noinline int percpu_join_nonzero(__u64 rss_stat, struct mm_cpus *c);
/* The same with plain fault-safe loads (tp_btf and iterator programs). */
__noinline int percpu_join_nonzero_cast(__u64 rss_stat, struct mm_cpus *c);
/* Waits for the spinlock word at lock (an address) to read 0: true if it
 * did; _probed: with bpf_probe_read_kernel() (raw_tp programs). */
__noinline int wait_unlocked(__u64 lock);
__noinline int wait_unlocked_probed(__u64 lock);
#else
/* Never called: kernels without fetch-atomics (before 5.12) have no per-CPU counters. */
static __always_inline __s64 percpu_sum_all(__u64 fbc) { return 0; }
static __always_inline __s64 percpu_sum_all_cast(__u64 fbc) { return 0; }
static __always_inline __s64 percpu_sum_joined(__u64 fbc, struct mm_cpus *c) { return 0; }
static __always_inline __s64 percpu_sum_joined_cast(__u64 fbc, struct mm_cpus *c) { return 0; }
static __always_inline int percpu_join_nonzero(__u64 rss_stat, struct mm_cpus *c) { return 0; }
static __always_inline int percpu_join_nonzero_cast(__u64 rss_stat, struct mm_cpus *c) { return 0; }
#endif

/*
 * One try of the consistent reading (see SUM_TRIES) over the CPUs in cpus,
 * inline: a call of the global function costs more per event (a 6.12
 * guest's rss_stat program, bench/percpu.py --cpus 2 --clocks icount: 603
 * guest instructions per run with every read through it, 506 with this try
 * first, 524 with the whole retry loop inline). Only a try that saw the lock
 * held or `count` move falls back to the retrying, lock-waiting global
 * function. True if *sum is exact.
 */
static __always_inline bool sum_joined_once(struct percpu_counter *fbc, struct mm_cpus *cpus, bool cast,
					    __s64 *sum)
{
	__s32 *counters = cast ? fbc->counters : BPF_CORE_READ(fbc, counters);
	__s64 before, after;
	__s32 lock;

	before = cast ? fbc->count : BPF_CORE_READ(fbc, count);
	barrier();
	lock = cast ? fbc->lock.raw_lock.val.counter : BPF_CORE_READ(fbc, lock.raw_lock.val.counter);
	barrier();
	*sum = before + joined_deltas(counters, cpus, cast);
	barrier();
	after = cast ? fbc->count : BPF_CORE_READ(fbc, count);
	return !lock && before == after;
}

/* The exact value of fbc from the deltas of the CPUs in cpus (its list, or
 * past the list its bitmap: in the global function), or of every possible
 * CPU (cpus NULL); cast: from a tp_btf program (fbc trusted, fields loaded
 * directly, kfuncs allowed). */
static __always_inline __s64 sum_exact(struct percpu_counter *fbc, struct mm_cpus *cpus, bool cast)
{
	__s64 sum;

	cast = cast && HAVE_RDONLY_CAST;
	if (!cpu_off_ready) {
		__sync_fetch_and_add(&approx_reads, 1);
		return cast ? fbc->count : BPF_CORE_READ(fbc, count);
	}
	if (!cpus)
		return cast ? percpu_sum_all_cast(as_number(fbc)) : percpu_sum_all(as_number(fbc));
	if (*(volatile __u32 *)&cpus->nr <= RSS_MM_CPUS && sum_joined_once(fbc, cpus, cast, &sum))
		return sum;
	return cast ? percpu_sum_joined_cast(as_number(fbc), cpus) : percpu_sum_joined(as_number(fbc), cpus);
}

/* 6.2+: the member-th percpu_counter (see atomic_counter() for why not inlined). */
static __noinline __s64 percpu_counter_of(struct mm_struct *mm, int member, struct mm_cpus *cpus)
{
	if (!mm)
		return 0;
	return sum_exact((void *)mm + bpf_core_field_offset(mm->rss_stat) +
				 (member & 3) * bpf_core_type_size(struct percpu_counter),
			 cpus, false);
}

/*
 * mm's percpu_counter of member m, from a tp_btf program: its fields are
 * then plain loads, where a pointer made by bpf_rdonly_cast() is loaded with
 * a range check first (~9 x86 instructions a load; the trusted pointer has
 * none on 6.18's JIT). A variable index is not allowed on a trusted pointer:
 * one constant path per member.
 */
static __always_inline struct percpu_counter *member_counter(struct mm_struct *mm, __u64 m)
{
	switch (m) {
	case 0: return &mm->rss_stat[0];
	case 1: return &mm->rss_stat[1];
	case 2: return &mm->rss_stat[2];
	default: return &mm->rss_stat[3];
	}
}

/* The `count` and the lock word of mm's member m, each one load at a
 * relocated offset (read_inline()): through member_counter()'s pointer the
 * pointer's own relocation and add were 2 more x86 instructions per event. */
static __always_inline __s64 member_count(struct mm_struct *mm, __u64 m)
{
	switch (m) {
	case 0: return *(volatile __s64 *)&mm->rss_stat[0].count;
	case 1: return *(volatile __s64 *)&mm->rss_stat[1].count;
	case 2: return *(volatile __s64 *)&mm->rss_stat[2].count;
	default: return *(volatile __s64 *)&mm->rss_stat[3].count;
	}
}

static __always_inline __s32 member_lock(struct mm_struct *mm, __u64 m)
{
	switch (m) {
	case 0: return *(volatile __s32 *)&mm->rss_stat[0].lock.raw_lock.val.counter;
	case 1: return *(volatile __s32 *)&mm->rss_stat[1].lock.raw_lock.val.counter;
	case 2: return *(volatile __s32 *)&mm->rss_stat[2].lock.raw_lock.val.counter;
	default: return *(volatile __s32 *)&mm->rss_stat[3].lock.raw_lock.val.counter;
	}
}

/* The same from a tp_btf program, whose mm pointer the verifier trusts: the
 * fields are read with plain loads instead of helper calls, which is most of
 * the cost per event. */
static __noinline __s64 percpu_counter_btf(struct mm_struct *mm, int member, struct mm_cpus *cpus)
{
	return sum_exact(member_counter(mm, member & 3), cpus, true);
}

/* The counter /proc/PID/status shows for this member, in pages, raw: /proc
 * shows it clamped at 0 (it can be negative for a moment up to 6.1). Reads
 * every possible CPU: for one-off reads of an mm that is not tracked. */
static __always_inline __s64 mm_counter_exact(struct mm_struct *mm, int member)
{
	if (rss_counters_are_atomic()) /* up to 6.1: one atomic_long_t, exact */
		return atomic_counter(mm, member);
	return percpu_counter_of(mm, member, NULL);
}

/* The same for a tracked mm: reads the CPUs it ran on (cpus); trusted: mm
 * came from tp_btf. */
static __always_inline __s64 mm_counter_tracked(struct mm_struct *mm, int member, struct mm_cpus *cpus,
						bool trusted)
{
	if (rss_counters_are_atomic())
		return atomic_counter(mm, member);
	return trusted ? percpu_counter_btf(mm, member, cpus) : percpu_counter_of(mm, member, cpus);
}

/* 6.2+: note where st's mm keeps its per-CPU deltas (struct
 * mm_cpus.counters_at), before any CPU joins it, once the CPUs' offsets are
 * known (the loader measures them before it attaches anything): cpu_join()
 * makes its first two entries' delta addresses from them, for
 * read_inline(), and the shadows' step in the lean program reads them. */
static __noinline void percpu_note_counters(struct mm_struct *mm, struct mm_state *st)
{
	__u64 size = bpf_core_type_size(struct percpu_counter), at;

	if (!mm || !st || !cpu_off_ready)
		return;
	at = as_number(mm) + bpf_core_field_offset(mm->rss_stat);
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		st->cpus.counters_at[m] = (__u64)BPF_CORE_READ((struct percpu_counter *)(at + m * size), counters);
}

static __always_inline void mm_note_counters(struct mm_struct *mm, struct mm_state *st)
{
	if (!rss_counters_are_atomic())
		percpu_note_counters(mm, st);
}

/* A read that leaves this event to the sum (also shadow_read()'s). */
#define READ_NONE ((__s64)(1ULL << 63))

/*
 * The exact value of one member after an event on cpu, inline, where the
 * address space's events ran on one or two CPUs, cpu among them: `count`
 * plus their deltas, each at the address its list entry noted
 * (mm_cpus.delta_addr; no subprogram, no walk of the list; ~125 guest
 * instructions per event by the sum, docs/performance.md). tp_btf only (mm
 * trusted, and the kfunc). False: left to the sum (more CPUs, cpu not among
 * them, an entry being joined, a fold in flight).
 *
 * An address of 0 (the counters not known: the per-CPU offsets were never
 * measured, and the loader said that counts are approximate) is read as 0
 * by the fault-safe load, with no test here: `count` alone, which is what
 * the sum reads then (sum_exact()).
 *
 * On one CPU the sum's lock check is not needed: a fold moves a CPU's delta
 * into `count` on that CPU, so one that races with this read is made on
 * another CPU, whose delta this read does not take (not in the list, it
 * held none before its add); the pages it moves are in `count` or not yet,
 * and that CPU's own event, which joins it to the list, reads them.
 *
 * On two, a reading that saw the lock held or `count` move is left to the
 * sum, which retries.
 */
static __always_inline bool read_inline(struct mm_struct *mm, const int member, struct mm_state *st, __u32 cpu,
					__s64 *v)
{
#if HAVE_RDONLY_CAST
	/* a list entry of 0 is being joined: left to the sum, which joins it */
	__u32 nr = *(volatile __u32 *)&st->cpus.nr, first = *(volatile __u16 *)&st->cpus.cpu[0], second;
	struct percpu_counter *d0, *d1;
	__s64 before;
	__s32 lock;

	if (__builtin_expect(nr == 1, 1)) {
		if (first != cpu + 1)
			return false;
		*v = member_count(mm, member) +
		     read_s32_cast((void *)*(volatile __u64 *)&st->cpus.delta_addr[0][member]);
		return true;
	}
	if (nr != 2)
		return false;
	second = *(volatile __u16 *)&st->cpus.cpu[1];
	if (first == cpu + 1 ? !second : second != cpu + 1 || !first)
		return false;
	/* the casts first: each is a call to the compiler, which kept the
	 * values read before it on the stack */
	d0 = s32_cast((void *)*(volatile __u64 *)&st->cpus.delta_addr[0][member]);
	d1 = s32_cast((void *)*(volatile __u64 *)&st->cpus.delta_addr[1][member]);
	before = member_count(mm, member);
	barrier();
	lock = member_lock(mm, member);
	barrier();
	/* the deltas added as 32 bits, one sign extension (2 x86 instructions):
	 * each is below the batch, far from 2^30 */
	*v = before + (__s32)((__u32)cast_s32(d0) + (__u32)cast_s32(d1));
	barrier();
	return !lock && member_count(mm, member) == before;
#else
	return false;
#endif
}

/* 6.2+ (see atomic_counter() for why not inlined). */
static __noinline void percpu_resync(struct mm_struct *mm, struct mm_cpus *cpus)
{
	if (mm && cpu_off_ready)
		percpu_join_nonzero(as_number(mm) + bpf_core_field_offset(mm->rss_stat), cpus);
}

/* The same from a tp_btf program: its loads without a helper call each. With
 * a bpf_probe_read_kernel() per delta, the walk (4 per possible CPU, every
 * RESYNC_EVERY-th event) cost 13-14 guest instructions per event at 128
 * possible CPUs, amortized (bench/percpu.py: 186 against 173 at 2, where
 * a program of fixed work stayed at 201-203). */
static __noinline void percpu_resync_btf(struct mm_struct *mm, struct mm_cpus *cpus)
{
	if (mm && cpu_off_ready)
		percpu_join_nonzero_cast(as_number(mm) + bpf_core_field_offset(mm->rss_stat), cpus);
}

/* Join to cpus every possible CPU that holds one of mm's deltas; trusted:
 * from tp_btf. */
static __always_inline void mm_cpus_resync(struct mm_struct *mm, struct mm_cpus *cpus, bool trusted)
{
	if (rss_counters_are_atomic())
		return;
	if (trusted && HAVE_RDONLY_CAST)
		percpu_resync_btf(mm, cpus);
	else
		percpu_resync(mm, cpus);
}

#endif
