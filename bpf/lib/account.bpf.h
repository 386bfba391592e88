/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accounting state that several .bpf.c files of the rss_account object
 * share: the maps' types and extern declarations (bpf/account.bpf.c defines
 * them; libbpf's static linker, `bpftool gen object`, resolves the externs,
 * checking that each declaration matches the definition), and the small
 * helpers on them. Helpers only: no program and no map definition here.
 *
 * The map types are named so that the definition and every declaration (and
 * footprint.bpf.c's own `mms`, which the loader points at the tracer's map)
 * are one type.
 */
#ifndef ACCOUNT_BPF_H
#define ACCOUNT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "rsstrace.h"

/* The traced address spaces, keyed by struct mm_struct *. */
struct mms_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by the loader */
	__type(key, __u64);	    /* struct mm_struct * */
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

/* The accounting state of an address space, NULL if it is not traced. */
static __always_inline struct mm_state *state_of(struct mm_struct *mm)
{
	__u64 key = (__u64)mm;

	return mm ? bpf_map_lookup_elem(&mms, &key) : NULL;
}

/* A member index the verifier can see is in bounds (clang otherwise widens and
 * shifts the masked value in ways the verifier cannot follow). */
static __always_inline __u64 member_idx(int member)
{
	__u64 idx = (__u64)member & 3;

	asm volatile("%0 &= 3" : "+r"(idx));
	return idx;
}

#endif
