// SPDX-License-Identifier: GPL-2.0
/*
 * The state behind the exact counter reads of bpf/lib/mm_counters.bpf.h and
 * bpf/lib/shadow.bpf.h, and the iterator that measures the per-CPU offsets
 * once, before anything is attached (the loader runs it only where the
 * counters are per-CPU, 6.2+).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lib/kernel.bpf.h"
#include "lib/mm_counters.bpf.h"
#include "lib/shadow.bpf.h"

const volatile __u32 nr_cpus = 1;
__u64 cpu_off[MAX_CPUS];
__u32 cpu_off_ready;
__u64 approx_reads;
__u64 unsettled_sums;

struct ptr_scratch_map ptr_scratch SEC(".maps");

/* bpf/lib/shadow.bpf.h */
struct mm_shadows_map mm_shadows SEC(".maps");
struct cpu_shadow shadow_zero[RSS_MAX_CPUS];
const volatile __u32 shadow_from_cpus = 0;
__u64 shadows_made, shadows_full;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_probe SEC(".maps");

/* Fills cpu_off[]: CPU n's element of cpu_probe is at the array's per-CPU
 * base plus __per_cpu_offset[n]. */
static __always_inline void discover_cpu_offsets(void)
{
	struct bpf_array *arr = (void *)&cpu_probe;
	__u64 base = 0, addr = as_number(arr);
	__u32 zero = 0;

	if (bpf_probe_read_kernel(&base, sizeof(base), (void *)(addr + bpf_core_field_offset(arr->pptrs))) ||
	    !base)
		return;
	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		void *p;

		if (cpu >= nr_cpus)
			break;
		p = bpf_map_lookup_percpu_elem(&cpu_probe, &zero, cpu);
		if (p)
			cpu_off[cpu] = as_number(p) - base;
	}
	cpu_off_ready = 1;
}

/* Run once by the loader before anything is attached (per-CPU counters only). */
SEC("iter/task")
int init_cpu_offsets(struct bpf_iter__task *ctx)
{
	if (!cpu_off_ready)
		discover_cpu_offsets();
	return 0;
}
