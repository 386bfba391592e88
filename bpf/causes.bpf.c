// SPDX-License-Identifier: GPL-2.0
/*
 * Why RSS moves: optional hooks (--causes) on the kernel functions the design
 * names, with a thin program per attach flavour and one handler body per
 * logical event. Which program is loaded, and on which symbol, is decided by
 * the loader (src/core/hooks.c) by probing this kernel; the rest are not loaded.
 *
 *   fault        fentry|kprobe handle_mm_fault, else tp_btf|tracepoint page_fault_user
 *   cow/wp       fentry|kprobe do_wp_page, else page_fault_user's error_code
 *   rmap removal fentry|kprobe folio_remove_rmap_ptes (6.8+) | page_remove_rmap
 *   vma removal  fentry|kprobe remove_vma, else syscalls:sys_enter_munmap (requests)
 *   swap-in      fentry|kprobe do_swap_page
 *
 * Linked into the rss_account object: the counters live in the `mms` rows
 * (bpf/lib/account.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rsstrace.h"
#include "lib/account.bpf.h"
#include "lib/kernel.bpf.h"

/* page_remove_rmap() gained a vma argument in 5.18 (its 2nd); before, the
 * unmapping task's mm stands in. Set by the loader from the function's BTF. */
const volatile bool rmap_has_vma = false;
/* The fault fallback also derives write-protect faults from error_code. */
const volatile bool wp_from_fault_tp = false;

static __always_inline struct mm_causes *causes_of(struct mm_struct *mm)
{
	struct mm_state *st = state_of(mm);

	return st ? &st->causes : NULL;
}

enum cause { C_FAULT, C_WP, C_RMAP, C_SWAPIN };

static __always_inline void count(struct mm_struct *mm, enum cause what, __u64 n)
{
	struct mm_causes *c = causes_of(mm);

	if (!c)
		return;
	switch (what) {
	case C_FAULT: __sync_fetch_and_add(&c->faults, n); break;
	case C_WP: __sync_fetch_and_add(&c->wp_faults, n); break;
	case C_RMAP: __sync_fetch_and_add(&c->rmap_pages, n); break;
	case C_SWAPIN: __sync_fetch_and_add(&c->swapin_faults, n); break;
	}
}

static __always_inline void on_vma_removed(struct vm_area_struct *vma)
{
	struct mm_causes *c = causes_of(vma_mm(vma));

	if (!c)
		return;
	__sync_fetch_and_add(&c->vmas_removed, 1);
	__sync_fetch_and_add(&c->unmapped_bytes,
			     BPF_CORE_READ(vma, vm_end) - BPF_CORE_READ(vma, vm_start));
}

/* A user-mode fault seen by the exceptions tracepoint: current's mm. */
static __always_inline void on_user_fault(unsigned long error_code)
{
	struct mm_struct *mm = current_mm();

	count(mm, C_FAULT, 1);
	/* a write to a present page: copy-on-write or write-notify */
	if (wp_from_fault_tp && is_write_to_present(error_code))
		count(mm, C_WP, 1);
}

SEC("fentry/handle_mm_fault")
int BPF_PROG(fault_fentry, struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_FAULT, 1);
	return 0;
}

SEC("kprobe/handle_mm_fault")
int BPF_KPROBE(fault_kprobe, struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_FAULT, 1);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_tp_btf, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	on_user_fault(error_code);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_user")
int fault_tp(struct page_fault_user_args *args)
{
	on_user_fault(args->error_code);
	return 0;
}

SEC("fentry/do_wp_page")
int BPF_PROG(wp_fentry, struct vm_fault *vmf)
{
	count(vmf_mm(vmf), C_WP, 1);
	return 0;
}

SEC("kprobe/do_wp_page")
int BPF_KPROBE(wp_kprobe, struct vm_fault *vmf)
{
	count(vmf_mm(vmf), C_WP, 1);
	return 0;
}

/* folio_remove_rmap_ptes(folio, page, nr_pages, vma): 6.8+ */
SEC("fentry/folio_remove_rmap_ptes")
int BPF_PROG(rmap_folio_fentry, struct folio *folio, struct page *page, int nr_pages,
	     struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_RMAP, nr_pages);
	return 0;
}

SEC("kprobe/folio_remove_rmap_ptes")
int BPF_KPROBE(rmap_folio_kprobe, struct folio *folio, struct page *page, int nr_pages,
	       struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_RMAP, nr_pages);
	return 0;
}

/* folio_remove_rmap_pmd(folio, page, vma): 6.8+, huge pages */
SEC("fentry/folio_remove_rmap_pmd")
int BPF_PROG(rmap_pmd_fentry, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_RMAP, HPAGE_PMD_PAGES);
	return 0;
}

SEC("kprobe/folio_remove_rmap_pmd")
int BPF_KPROBE(rmap_pmd_kprobe, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	count(vma_mm(vma), C_RMAP, HPAGE_PMD_PAGES);
	return 0;
}

/* page_remove_rmap(page, [vma,] compound): up to 6.7. compound means a
 * PMD-mapped huge page. Before 5.18 there is no vma: the unmapping task's mm
 * stands in. */
static __always_inline void on_page_remove_rmap(__u64 second, __u64 third)
{
	struct mm_struct *mm;
	bool compound;

	if (rmap_has_vma) {
		mm = vma_mm((void *)second);
		compound = third & 1;
	} else {
		mm = current_mm();
		compound = second & 1;
	}
	count(mm, C_RMAP, compound ? HPAGE_PMD_PAGES : 1);
}

/* Written without BPF_PROG: the verifier refuses a read of a third argument
 * the function does not have (5.10), even one that is never used. */
SEC("fentry/page_remove_rmap")
int rmap_page_fentry(unsigned long long *ctx)
{
	__u64 third = 0;

	if (rmap_has_vma)
		third = ctx[2];
	on_page_remove_rmap(ctx[1], third);
	return 0;
}

SEC("kprobe/page_remove_rmap")
int BPF_KPROBE(rmap_page_kprobe, struct page *page, __u64 second, __u64 third)
{
	on_page_remove_rmap(second, third);
	return 0;
}

SEC("fentry/remove_vma")
int BPF_PROG(vma_fentry, struct vm_area_struct *vma)
{
	on_vma_removed(vma);
	return 0;
}

SEC("kprobe/remove_vma")
int BPF_KPROBE(vma_kprobe, struct vm_area_struct *vma)
{
	on_vma_removed(vma);
	return 0;
}

struct sys_enter_munmap_args {
	__u64 common;
	long nr;
	unsigned long addr;
	unsigned long len;
};

/* Fallback: munmap() requests, not VMAs (the loader says so). */
SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_tp(struct sys_enter_munmap_args *args)
{
	struct mm_causes *c = causes_of(current_mm());

	if (c)
		__sync_fetch_and_add(&c->unmapped_bytes, args->len);
	return 0;
}

SEC("fentry/do_swap_page")
int BPF_PROG(swapin_fentry, struct vm_fault *vmf)
{
	count(vmf_mm(vmf), C_SWAPIN, 1);
	return 0;
}

SEC("kprobe/do_swap_page")
int BPF_KPROBE(swapin_kprobe, struct vm_fault *vmf)
{
	count(vmf_mm(vmf), C_SWAPIN, 1);
	return 0;
}
