/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Atomic operations that return a value (fetch-add, exchange, compare-and-
 * exchange) came with 5.12 ("bpf: Add BPF_FETCH field / instructions",
 * 5ca419f2864a). The loader probes for them by loading a tiny program and sets
 * have_fetch_atomics; without them (5.10) we fall back to a plain atomic add
 * and re-read, which is exact for one writer and approximate only when two
 * CPUs change the same counter in the same instant. The verifier never sees
 * the branch that the frozen flag rules out.
 */
#ifndef ATOMICS_BPF_H
#define ATOMICS_BPF_H

const volatile bool have_fetch_atomics = true;

/* *p += d; returns the new value. */
static __always_inline __s64 add_return(__s64 *p, __s64 d)
{
	if (have_fetch_atomics)
		return __sync_fetch_and_add(p, d) + d;
	__sync_fetch_and_add(p, d); /* result unused: a plain BPF_XADD */
	return *(volatile __s64 *)p;
}

/* *p = v; returns the old value. */
static __always_inline __s64 exchange(__s64 *p, __s64 v)
{
	__s64 old;

	if (have_fetch_atomics)
		return __sync_lock_test_and_set(p, v);
	old = *(volatile __s64 *)p;
	*(volatile __s64 *)p = v;
	return old;
}

/* if (*p == old) *p = new; returns true if it stored. */
static __always_inline bool compare_exchange(__s64 *p, __s64 old, __s64 new)
{
	if (have_fetch_atomics)
		return __sync_val_compare_and_swap(p, old, new) == old;
	if (*(volatile __s64 *)p != old)
		return false;
	*(volatile __s64 *)p = new;
	return true;
}

#endif
