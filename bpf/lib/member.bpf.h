/* SPDX-License-Identifier: GPL-2.0 */
/* An rss_stat member (enum rss_member, include/rsstrace.h) as an index. */
#ifndef MEMBER_BPF_H
#define MEMBER_BPF_H

#include "vmlinux.h"

/*
 * A member index the verifier can see is in bounds (clang otherwise widens
 * and shifts the masked value in ways the verifier cannot follow). A member
 * the compiler knows (the lean path's, bpf/account.bpf.c) stays a constant:
 * through the asm, each of its uses as an index cost a mask and a shift at
 * run time.
 */
static __always_inline __u64 member_idx(int member)
{
	__u64 idx = (__u64)member & 3;

	if (__builtin_constant_p(member))
		return idx;
	asm volatile("%0 &= 3" : "+r"(idx));
	return idx;
}

#endif
