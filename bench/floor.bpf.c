// SPDX-License-Identifier: GPL-2.0
/* Reference programs for the benchmark: the cheapest ways to see every RSS
 * change (empty programs), and a counter of rss_stat events. */
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
