/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accounting state that several .bpf.c files of the rss_account object
 * share: the maps' types and extern declarations (bpf/account.bpf.c defines
 * them; libbpf's static linker, `bpftool gen object`, resolves the externs,
 * checking that each declaration matches the definition), and the small
 * helpers on them. Helpers only: no program and no map definition here.
 *
 * The map types are named so that the definition and every declaration (and
 * footprint.bpf.c's own `mms` and `mm_states`, which the loader points at
 * the tracer's maps) are one type.
 */
#ifndef ACCOUNT_BPF_H
#define ACCOUNT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "rsstrace.h"
#include "lib/member.bpf.h"

/* The traced address spaces: struct mm_struct * -> the slot of its state in
 * mm_states. */
struct mms_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u64);	    /* struct mm_struct * */
	__type(value, __u32);	    /* its slot in mm_states */
};

/*
 * Their accounting states. An array, as many slots as mms has entries: the
 * verifier inlines an array's lookup (a bounds check and an add), where the
 * hash's cost ~137 guest instructions per event (jhash, the bucket's walk;
 * docs/performance.md), so with the per-CPU cache below most events find
 * their state without a hash lookup. Slots are taken and given back by
 * account.bpf.c (begin_mm(), end_mm()).
 */
struct mm_states_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536); /* resized by the loader, as mms */
	__type(key, __u32);
	__type(value, struct mm_state);
};

/* The traced processes, keyed by tgid. */
struct traced_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u32);	    /* tgid */
	__type(value, struct traced_task);
};

/* Records to user space (struct mm_end_record, exit_record, ...). */
struct records_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* resized by the loader */
};

extern struct mms_map mms SEC(".maps");
extern struct mm_states_map mm_states SEC(".maps");
extern struct state_cache state_caches[RSS_MAX_CPUS];
extern struct traced_map traced SEC(".maps");
extern struct records_map records SEC(".maps");

extern struct tree_state tree; /* cur[] and the live counts; the peak is in tree_peaks */
extern struct loss_counters loss;

/*
 * Records are not urgent: user space polls every 50 ms anyway. Waking it for
 * each one costs an IPI per record (measured: several µs per ended
 * process); so wake it only when the ring buffer is filling up.
 */
static __always_inline __u64 ring_wakeup_flag(void *ring)
{
	return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(ring, BPF_RB_RING_SIZE) / 4 ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

/* The state in a slot, if it is mm's: a slot is given back (mm 0) and taken
 * by another address space while a CPU's cache may still name it. */
static __always_inline struct mm_state *state_in(__u32 *slot, __u64 mm)
{
	struct mm_state *st = bpf_map_lookup_elem(&mm_states, slot);

	return st && st->mm == mm ? st : NULL;
}

/* This CPU's entry of state_caches: CPU n's is entry n + 1 (CPU
 * RSS_MAX_CPUS - 1's entry 0), the number that the lean path's read of a
 * CPU list (whose entries are CPUs + 1) compares: the compiler then keeps
 * one value across the state's lookup, where it reloaded the CPU and added
 * 1 (bpf/lib/mm_counters.bpf.h, read_inline()). */
static __always_inline struct state_cache *cpu_state_cache(__u32 cpu)
{
	return &state_caches[(cpu + 1) & (RSS_MAX_CPUS - 1)];
}

/* The state of the address space key (a struct mm_struct *) from the mms
 * hash, noted in the CPU's cache entry last. Not inlined: inlined, its key's
 * store on the stack was hoisted onto the path of every event, a hit's too. */
static __noinline struct mm_state *state_looked_up(__u64 key, struct state_cache *last)
{
	__u32 *slot = bpf_map_lookup_elem(&mms, &key);
	struct mm_state *st;

	if (!slot)
		return NULL;
	st = state_in(slot, key);
	if (st) {
		last->mm = key;
		last->slot = *slot;
	}
	return st;
}

/* The accounting state of an address space (not NULL), NULL if it is not
 * traced, as found on cpu, the CPU this runs on. */
static __always_inline struct mm_state *state_on(struct mm_struct *mm, __u32 cpu)
{
	struct state_cache *last = cpu_state_cache(cpu);
	struct mm_state *st;

	if (last->mm == (__u64)mm) {
		st = state_in(&last->slot, (__u64)mm);
		if (st)
			return st;
	}
	return state_looked_up((__u64)mm, last);
}

/* The accounting state of an address space, NULL if it is not traced. */
static __always_inline struct mm_state *state_of(struct mm_struct *mm)
{
	return mm ? state_on(mm, bpf_get_smp_processor_id()) : NULL;
}

#endif
