// SPDX-License-Identifier: GPL-2.0
/* Reference programs for the benchmark: the cheapest ways to see every RSS
 * change (empty programs), a counter of rss_stat events, and a program of
 * fixed work (fixed_btf). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 events;

SEC("tp_btf/rss_stat")
int BPF_PROG(empty_btf)
{
	return 0;
}

SEC("tracepoint/kmem/rss_stat")
int empty_tp(void *ctx)
{
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(count_btf)
{
	__sync_fetch_and_add(&events, 1);
	return 0;
}

__u64 fixed_sink;

/*
 * FIXED_WORK register adds and one store, whatever the machine: a path of
 * known length, about the lean path's, for bench/percpu.py. Whatever its
 * cost per run does as the possible CPUs grow is the environment's (work
 * that interrupts a run and is counted in it), not a program's instructions.
 */
#define FIXED_WORK 150

SEC("tp_btf/rss_stat")
int BPF_PROG(fixed_btf)
{
	__u64 x = 0;

#pragma unroll
	for (int i = 0; i < FIXED_WORK; i++)
		asm volatile("%0 += 1" : "+r"(x));
	fixed_sink = x;
	return 0;
}
