/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exact reads of an address space that runs on many CPUs, in O(1) per event
 * (6.2+: per-CPU counters; the default flavour: its kfunc and helpers).
 *
 * The sum of bpf/lib/mm_counters.bpf.h reads every CPU an mm ran on, on every
 * event: 40 threads on 40 CPUs cost 3,778 guest instructions per event
 * against 470 for one (bench/percpu.py --online 40), mostly retries, since
 * with that many CPUs adding, `count` often moves during a reading. Instead,
 * once an mm has run on shadow_from_cpus CPUs, it keeps per member
 * (struct mm_shadow, include/rsstrace.h):
 *
 *   seen       the `count` last taken in,
 *   shadow[c]  each CPU's delta last taken in (struct cpu_shadow, an array
 *              of one per possible CPU in the mm_shadows hash),
 *   sum        seen + the shadows.
 *
 * Every refresh of seen or a shadow replaces it and adds (new - old) to sum,
 * so sum telescopes: once no event is in flight it is `count` plus every
 * delta, exact, whatever the interleaving. A CPU's delta moves only by adds
 * on that CPU, each followed by its event there (mm_counters.bpf.h); `count`
 * moves only by folds (an add that reached the batch moves its CPU's delta
 * into `count`, under the counter's lock). So an event that finds `count`
 * where seen left it takes in its own CPU's delta alone: O(1). One that
 * finds it moved (a fold: once per batch adds per CPU, the batch being
 * max(32, 2 x online CPUs)) retakes every CPU the mm ran on and `count` from
 * one consistent reading, the way the sum reads them; that is O(CPUs) once
 * per batch events, under 1 read per event on average. Its changes reach sum
 * in one add at the end, so a fold's move (a shadow down, seen up) never
 * shows as a dip.
 *
 * Races, and why they stay exact: a retake is one CPU at a time (a lock
 * word). An event that finds it held takes its own delta and uses the sum
 * as it stands (short only of what that retake took and has yet to add);
 * one whose delta is 0, which may be its own add's fold, leaves it to the
 * next retake (taken now, with seen not yet moved, it would lower the sum
 * by the folded pages) and is read by the per-CPU sum instead. A retake and the owner's own refresh of one shadow both
 * compare-and-swap the word, whose upper half counts its writes, and read
 * the delta after the word: a write never replaces a value read after it
 * (the owner retries; a retake leaves a word the owner wrote meanwhile). A
 * shadow that may lag (the owner's retries ran out, a retake's reading was
 * not consistent) marks the member dirty: the next event retakes. Until an
 * mm's first consistent retake of a member, and wherever a step fails, the
 * event is read by the sum: that is always exact.
 */
#ifndef SHADOW_BPF_H
#define SHADOW_BPF_H

#include "lib/mm_counters.bpf.h"
#include "rsstrace.h"

/* struct mm_shadow.state */
enum { SHADOW_OFF, SHADOW_CLAIMED, SHADOW_ON, SHADOW_FULL };

/* Address spaces read from shadows: an array of struct cpu_shadow, one per
 * possible CPU (the loader sets the value's size and the entries; no type
 * is given, so that it can). Allocated as used: it holds only address
 * spaces on many CPUs. When full, an mm is read by the sum (counted in
 * shadows_full). Defined in bpf/mm_counters.bpf.c, with shadow_zero (as
 * many zeroed shadows as possible CPUs: a new entry's value). */
struct mm_shadows_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(__u64)); /* the mm */
	__uint(value_size, sizeof(struct cpu_shadow));
};

extern struct mm_shadows_map mm_shadows SEC(".maps");
extern struct cpu_shadow shadow_zero[RSS_MAX_CPUS];
/* An mm is read from shadows once it ran on this many CPUs (0: never); set
 * by the loader. */
extern const volatile __u32 shadow_from_cpus;
extern __u64 shadows_made, shadows_full; /* address spaces read from shadows; not fitting the map */

static __always_inline __s32 shadow_delta(__u64 word)
{
	return (__s32)(__u32)word;
}

/* The word after old that holds delta. */
static __always_inline __u64 shadow_next(__u64 old, __s32 delta)
{
	return ((old >> 32) + 1) << 32 | (__u32)delta;
}

/* Take cpu's delta into its shadow at word, once; returns the change, or
 * false in *ok if another writer came between (the word then holds a delta
 * read after ours began). */
static __always_inline __s64 shadow_take(__u64 *word, __s32 *counters, __u32 cpu, bool *ok)
{
	__u64 old = *(volatile __u64 *)word;
	__s32 delta;

	barrier(); /* the delta is read after the word it replaces */
	delta = cpu_delta(counters, cpu, true);
	*ok = true;
	if (delta == shadow_delta(old))
		return 0;
	if (__sync_val_compare_and_swap(word, old, shadow_next(old, delta)) != old) {
		*ok = false;
		return 0;
	}
	return (__s64)delta - shadow_delta(old);
}

#if HAVE_RDONLY_CAST && !defined(RSS_NO_FETCH_ATOMICS)
/* The member's value from st's shadows, taking this event in (bpf/account.bpf.c);
 * fbc: the member's percpu_counter; force: retake every CPU. READ_NONE:
 * read this event by the sum. */
__noinline __s64 shadow_read(__u64 fbc, __u64 key, struct mm_state *st, int member, int force);
#else
static __always_inline __s64 shadow_read(__u64 fbc, __u64 key, struct mm_state *st, int member, int force)
{
	return READ_NONE;
}
#endif

#endif
