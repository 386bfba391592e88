/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RSS arithmetic shared by the BPF programs and user space, so both sides
 * clamp and sum the same way.
 *
 * Counters are kept raw, because deltas must add up: up to 6.1 an mm counter
 * can be briefly negative (SPLIT_RSS_COUNTING: a task's cached increments not
 * yet folded in, mm/memory.c sync_mm_rss()). What is shown is clamped at 0 per
 * member, as /proc does (get_mm_counter() in include/linux/mm.h clamps each
 * counter; get_mm_rss() sums the clamped file + anon + shmem).
 */
#ifndef RSS_MATH_H
#define RSS_MATH_H

#include "rsstrace.h"

#ifdef __VMLINUX_H__ /* BPF */
#define RSS_MATH_INLINE static __always_inline
#else
#define RSS_MATH_INLINE static inline
#endif

/* One counter as /proc shows it: never below 0. */
RSS_MATH_INLINE __s64 rss_clamp(__s64 v)
{
	return v < 0 ? 0 : v;
}

/* VmRSS in pages from raw counters: file + anon + shmem, each clamped (swap is
 * not resident). */
RSS_MATH_INLINE __s64 rss_pages(const __s64 *v)
{
	return rss_clamp(v[RSS_FILE]) + rss_clamp(v[RSS_ANON]) + rss_clamp(v[RSS_SHMEM]);
}

#endif
