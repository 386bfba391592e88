/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small reads of kernel objects that both BPF objects (the rss_account
 * programs and footprint.bpf.c) need. Helpers only: the one map they use is
 * declared here and defined by each object (see ptr_scratch below).
 */
#ifndef KERNEL_BPF_H
#define KERNEL_BPF_H

#include "lib/core_fixes.bpf.h"

/* A PMD-mapped transparent huge page: HPAGE_PMD_NR base pages (x86-64). */
#define HPAGE_PMD_PAGES 512

static __always_inline struct mm_struct *vma_mm(const void *vma)
{
	return BPF_CORE_READ((struct vm_area_struct *)vma, vm_mm);
}

static __always_inline struct mm_struct *vmf_mm(struct vm_fault *vmf)
{
	return BPF_CORE_READ(vmf, vma, vm_mm);
}

/* The classic exceptions:page_fault_user record (x86). */
struct page_fault_user_args {
	__u64 common;
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
};

/* x86's page fault error code (arch/x86/include/asm/trap_pf.h) */
#define X86_PF_PROT 0x1	 /* the page was present */
#define X86_PF_WRITE 0x2
#define X86_PF_INSTR 0x10
#define X86_PF_PK 0x20	 /* protection keys said no: no copy, a signal */

/* A write to a present, write-protected page: copy-on-write, or a
 * write-notify / write-protect fault (see bpf/cow.bpf.c). */
static __always_inline bool is_write_to_present(unsigned long error_code)
{
	return (error_code & (X86_PF_PROT | X86_PF_WRITE | X86_PF_INSTR | X86_PF_PK)) ==
	       (X86_PF_PROT | X86_PF_WRITE);
}

static __always_inline struct mm_struct *current_mm(void)
{
	return BPF_CORE_READ(current_task(), mm);
}

/* Where as_number() turns a pointer into a plain number: per CPU, so two
 * CPUs never read each other's value. Each object defines one
 * (`struct ptr_scratch_map ptr_scratch SEC(".maps");`). */
struct ptr_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

extern struct ptr_scratch_map ptr_scratch SEC(".maps");

/*
 * The verifier forbids arithmetic on map pointers and on the typed (trusted)
 * pointers fentry hands over (page + i, folio | tag). Kernel memory is only
 * read here through BPF_CORE_READ/bpf_probe_read_kernel(), so plain numbers
 * are fine: a round trip through a map value makes one (allowed for root).
 */
static __always_inline __u64 as_number(const void *p)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&ptr_scratch, &zero);

	if (!slot)
		return 0;
	*(volatile __u64 *)slot = (__u64)p;
	return *(volatile __u64 *)slot;
}

#endif
