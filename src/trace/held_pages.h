/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks: which charged pages each stack still held at its address
 * space's peak, net of what was given back before it. The kernel side
 * (bpf/held.bpf.c, struct held_record) sends every charge with the address
 * of its fault, and every range a process unmaps, drops or moves; this keeps
 * the charges alive per address space, by page, and each stack's held pages
 * with their value at the latest peak (and at the tree's), taken lazily as
 * bpf/lib/stacks.bpf.h takes its counts' (a change with a newer peak_seq
 * first saves what was held at that peak).
 *
 * A charge covers its fault's page: pages a huge page or a fault-around
 * brought in with it count as given back when that page is. A charge whose
 * address is unknown (no fault: MAP_POPULATE, mlock) stays held.
 */
#ifndef HELD_PAGES_H
#define HELD_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/u64_map.h"
#include "rsstrace.h"

/* The live charges kept, over all address spaces, at most (~80 bytes each):
 * 8 GiB resident charged page by page (--stack-sample 0), ~4 TiB sampled.
 * A charge past it is kept as one of unknown address (held to the end). */
#define HELD_PAGES_MAX (2u << 20)

/* Address spaces are told apart by (tgid, start_ns): one 64-bit key. */
static inline uint64_t address_space_key(uint32_t tgid, uint64_t start_ns)
{
	return start_ns * 0x9e3779b97f4a7c15ULL ^ tgid;
}

struct held_pages {
	struct u64_map mms;	 /* address space -> struct held_mm */
	uint64_t npages;	 /* live charges in all of them */
	uint64_t unknown_pages;	 /* charged without a known address */
	uint64_t given_back;	 /* pages of charges given back */
	uint64_t errors;	 /* records dropped: out of memory, or HELD_PAGES_MAX reached */
};

void held_pages_init(struct held_pages *h);
void held_pages_free(struct held_pages *h);

/* One REC_HELD record. */
void held_pages_record(struct held_pages *h, const struct held_record *r);

/* The pages of stack hash held at the peak of address space (tgid,
 * start_ns), whose last peak_seq is final_seq, into out[]; and at the
 * tree's latest peak while it lived (tree_state.held_peak_seq final_tree_seq)
 * into tree_out[]. False (both zeroed) if the stack has no charge there. */
bool held_pages_at_peak(const struct held_pages *h, uint32_t tgid, uint64_t start_ns, uint64_t hash,
			uint32_t final_seq, uint64_t final_tree_seq, uint64_t out[RSS_NR_MEMBERS],
			uint64_t tree_out[RSS_NR_MEMBERS]);

/* An address space is done with (its entries folded in): its tables go. */
void held_pages_forget(struct held_pages *h, uint32_t tgid, uint64_t start_ns);

#endif
