/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Atomic operations that return a value (here: the exchange of a member's
 * value, which keeps the tree totals' deltas exact under concurrency) came
 * with 5.12 (5ca419f2864a "bpf: Add BPF_FETCH field / instructions"), and
 * older kernels reject any program that contains one, even on a branch that is
 * never taken. So one flavour of the object (Makefile BPF_FLAVOURS: nofetch) is
 * built with RSS_NO_FETCH_ATOMICS for those kernels; the loader probes which
 * one the kernel takes (src/core/tracer.c). Without fetch-atomics, two CPUs
 * changing the same counter in the same instant can make the tree totals drift
 * by that change (documented in docs/how-it-works.md); each process's own
 * values stay exact.
 */
#ifndef ATOMICS_BPF_H
#define ATOMICS_BPF_H

#ifndef RSS_NO_FETCH_ATOMICS

/* *p = v; returns the old value. */
static __always_inline __s64 exchange(__s64 *p, __s64 v)
{
	return __sync_lock_test_and_set(p, v);
}

#else

static __always_inline __s64 exchange(__s64 *p, __s64 v)
{
	__s64 old = *(volatile __s64 *)p;

	*(volatile __s64 *)p = v;
	return old;
}

#endif
#endif
