// SPDX-License-Identifier: GPL-2.0
/*
 * --footprint: every physical page the traced tree maps, counted once.
 *
 * First-toucher accounting, as in the RSS-controller patches: a page is
 * charged to the traced process that maps it while nobody maps it (its
 * mapcount goes 0 -> 1, seen on the rmap "add" functions before they raise
 * it), and uncharged when its last mapping goes (the rmap "remove" functions,
 * seen before they lower it, so the count read is the one before the drop).
 * Pages first mapped by an untraced process are not the tree's. The owner
 * keeps the charge after it exits while others still map the page.
 *
 * The per-page map is bounded (--footprint-pages); a page that does not fit
 * is counted in fp_loss.pages_full, never silently dropped. A separate object
 * from the rss_account one (bpf/account.bpf.c and the files linked with it):
 * nothing here is loaded unless --footprint is asked for, and then it shares
 * the `mms` and `mm_states` maps (the traced address spaces; same types,
 * bpf/lib/account.bpf.h).
 *
 * Hooks (chosen by src/core/hooks.c; absent ones are not loaded):
 *   6.8+:  folio_add_new_anon_rmap(folio, vma, addr, flags)
 *          folio_add_anon_rmap_ptes(folio, page, nr, vma, addr, flags) / _pmd(folio, page, vma, ...)
 *          folio_add_file_rmap_ptes(folio, page, nr, vma) / _pmd(folio, page, vma)
 *          folio_remove_rmap_ptes(folio, page, nr, vma) / _pmd(folio, page, vma)
 *   older: page_add_new_anon_rmap(page, vma, addr, compound)
 *          page_add_anon_rmap(page, vma, addr, compound | rmap_t flags (6.0+))
 *          page_add_file_rmap(page, [vma,] compound), page_remove_rmap(page, [vma,] compound)
 *          (the vma argument since 5.18)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rsstrace.h"
#include "footprint.h"
#include "lib/account.bpf.h"
#include "lib/kernel.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* page_add_file_rmap / page_remove_rmap take the vma (5.18+); set by the loader */
const volatile bool rmap_has_vma = false;
/* page_add_anon_rmap's last argument is rmap_t flags (6.0+), not a bool */
const volatile bool anon_rmap_flags = false;
/* page_add_new_anon_rmap(page, vma, addr, compound) up to 5.19; 6.0 dropped
 * `compound` (a compound page is then always mapped whole, by a PMD) */
const volatile bool new_anon_has_compound = false;

#define RMAP_COMPOUND_FLAG 0x2 /* RMAP_COMPOUND in include/linux/rmap.h (5.8 - 6.7) */
#define PMD_KEY_TAG 1ULL       /* struct pages are aligned: bit 0 marks a PMD mapping */

/* The traced address spaces and their states: rss_account's maps, shared by
 * the loader (bpf_map__reuse_fd), so the same types; the cache is this
 * object's own. */
struct mms_map mms SEC(".maps");
struct mm_states_map mm_states SEC(".maps");
struct state_cache state_caches[RSS_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory only for pages in use */
	__uint(max_entries, 1 << 20);	       /* --footprint-pages */
	__type(key, __u64);		       /* struct page *, or folio | PMD_KEY_TAG */
	__type(value, struct fp_page);
} fp_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* --max-procs */
	__type(key, __u32);	    /* tgid */
	__type(value, struct fp_owner);
} fp_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_peak);
} fp_peaks SEC(".maps");

/* as_number()'s (bpf/lib/kernel.bpf.h): fentry's typed pointers as numbers. */
struct ptr_scratch_map ptr_scratch SEC(".maps");

__s64 fp_cur[FP_NR_TYPES];
struct fp_loss fp_loss;

/* ---- the kernel's mapcounts ------------------------------------------------- */

/* Up to 6.1 the PMD mapcount of a compound page is in its first tail page. */
struct page___compound {
	atomic_t compound_mapcount;
} __attribute__((preserve_access_index));

/* 6.2+: in the folio. */
struct folio___entire {
	atomic_t _entire_mapcount;
} __attribute__((preserve_access_index));

struct folio___nr {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));

/* -1: not mapped by any page table; n: mapped n + 1 times. */
static __always_inline int pte_mapcount(__u64 p)
{
	return BPF_CORE_READ((struct page *)p, _mapcount.counter);
}

static __always_inline int pmd_mapcount(__u64 head)
{
	struct folio___entire *f = (void *)head;
	struct page___compound *tail = (void *)(head + bpf_core_type_size(struct page));

	if (bpf_core_field_exists(f->_entire_mapcount))
		return BPF_CORE_READ(f, _entire_mapcount.counter);
	if (bpf_core_field_exists(tail->compound_mapcount))
		return BPF_CORE_READ(tail, compound_mapcount.counter);
	return -1;
}

static __always_inline unsigned long page_flags(__u64 p)
{
	unsigned long flags = 0;

	bpf_probe_read_kernel(&flags, sizeof(flags), (void *)p); /* flags is the first word of struct page */
	return flags;
}

static __always_inline bool is_large(__u64 folio)
{
	return page_flags(folio) & (1UL << bpf_core_enum_value(enum pageflags, PG_head));
}

static __always_inline __u32 folio_pages(__u64 folio)
{
	struct folio___nr *f = (void *)folio;

	if (!is_large(folio))
		return 1;
	if (bpf_core_field_exists(f->_folio_nr_pages))
		return BPF_CORE_READ(f, _folio_nr_pages);
	return HPAGE_PMD_PAGES;
}

/* A file page is shmem (tmpfs, memfd, SysV shm) if it is swap-backed. */
static __always_inline __u32 file_type(__u64 head)
{
	return page_flags(head) & (1UL << bpf_core_enum_value(enum pageflags, PG_swapbacked)) ? FP_SHMEM : FP_FILE;
}

/* The head page (the folio) of the compound page p belongs to, or p. */
static __always_inline __u64 head_of(__u64 p)
{
	__u64 head = BPF_CORE_READ((struct page *)p, compound_head);

	return head & 1 ? head - 1 : p;
}

/* Whether a PMD maps the folio (then its pages have no PTE mapcount of their own). */
static __always_inline bool pmd_mapped(__u64 head)
{
	return is_large(head) && pmd_mapcount(head) >= 0;
}

static __always_inline __u64 nth_page(__u64 first, __u32 i)
{
	return first + (__u64)i * bpf_core_type_size(struct page);
}

/* ---- charging ----------------------------------------------------------------- */

static __always_inline void note_peak(void)
{
	__s64 a = fp_cur[FP_ANON], f = fp_cur[FP_FILE], s = fp_cur[FP_SHMEM];
	struct fp_peak *rec;
	__u32 zero = 0;

	rec = bpf_map_lookup_elem(&fp_peaks, &zero);
	if (!rec || a + f + s <= rec->peak)
		return;
	rec->peak = a + f + s;
	rec->part[FP_ANON] = a;
	rec->part[FP_FILE] = f;
	rec->part[FP_SHMEM] = s;
	rec->ns = bpf_ktime_get_ns();
}

static __always_inline struct fp_owner *owner_of(__u32 tgid, const struct mm_state *st)
{
	struct fp_owner *o = bpf_map_lookup_elem(&fp_owners, &tgid), fresh = {};

	if (o)
		return o;
	__builtin_memcpy(fresh.comm, st->comm, sizeof(fresh.comm));
	fresh.tgid = tgid;
	if (map_op_error(bpf_map_update_elem(&fp_owners, &tgid, &fresh, BPF_NOEXIST)) == -RSS_E2BIG)
		__sync_fetch_and_add(&fp_loss.owners_full, 1);
	return bpf_map_lookup_elem(&fp_owners, &tgid);
}

static __always_inline void owner_add(struct fp_owner *o, __u32 type, __s64 n)
{
	__s64 total;

	__sync_fetch_and_add(&o->cur[type], n);
	if (n < 0)
		return;
	total = o->cur[FP_ANON] + o->cur[FP_FILE] + o->cur[FP_SHMEM];
	if (total > o->peak) {
		o->peak = total;
		o->peak_ns = bpf_ktime_get_ns();
	}
}

/* key is unmapped and about to be mapped by st's process: charge it to it. */
static __always_inline void charge(__u64 key, __u32 nr, __u32 type, const struct mm_state *st)
{
	struct fp_page pg = { .owner = st->tgid, .type = type, .nr = nr };
	struct fp_owner *o;
	long err;

	err = map_op_error(bpf_map_update_elem(&fp_pages, &key, &pg, BPF_NOEXIST));
	if (err) {
		if (err != -RSS_EEXIST) /* full (or out of memory): counted, never silent */
			__sync_fetch_and_add(&fp_loss.pages_full, nr);
		return;
	}
	o = owner_of(st->tgid, st);
	if (o)
		owner_add(o, type, nr);
	__sync_fetch_and_add(&fp_cur[type & 3], nr);
	note_peak();
}

/* key's last mapping is going: uncharge whoever it was charged to. */
static __always_inline void uncharge(__u64 key)
{
	struct fp_page *pg = bpf_map_lookup_elem(&fp_pages, &key), copy;
	struct fp_owner *o;

	if (!pg)
		return; /* not the tree's (first mapped by another process, or before tracing) */
	copy = *pg;
	if (bpf_map_delete_elem(&fp_pages, &key))
		return; /* another CPU uncharged it first */
	o = bpf_map_lookup_elem(&fp_owners, &copy.owner);
	if (o)
		owner_add(o, copy.type & 3, -(__s64)copy.nr);
	__sync_fetch_and_add(&fp_cur[copy.type & 3], -(__s64)copy.nr);
}

/* nr pages from first are being mapped into mm (fresh ones: need_unmapped false). */
/*
 * nr pages from first, of the folio head, are being mapped by PTEs into mm
 * (fresh: new pages, mapped nowhere). A page is mapped nowhere if its own
 * mapcount is -1 and no PMD maps its huge page (splitting a PMD mapping into
 * PTEs moves a mapping, it does not add a page).
 */
static __always_inline void add_ptes(__u64 head, __u64 first, __u32 nr, struct mm_struct *mm, __u32 type,
				     bool fresh)
{
	const struct mm_state *st = state_of(mm);

	if (!st || (!fresh && pmd_mapped(head)))
		return;
	for (__u32 i = 0; i < HPAGE_PMD_PAGES; i++) {
		__u64 p;

		if (i >= nr)
			break;
		p = nth_page(first, i);
		if (fresh || pte_mapcount(p) == -1)
			charge(p, 1, type, st);
	}
}

static __always_inline void add_pmd(__u64 head, __u32 nr, struct mm_struct *mm, __u32 type, bool fresh)
{
	const struct mm_state *st = state_of(mm);

	if (st && (fresh || pmd_mapcount(head) == -1))
		charge(head | PMD_KEY_TAG, nr, type, st);
}

/* A page's last mapping: its own last PTE mapping, and no PMD maps its huge
 * page. (When the last PMD mapping of a huge page goes while some of its
 * pages are still mapped by PTEs, the huge page is uncharged whole: an
 * undercount in that rare case.) */
static __always_inline void remove_ptes(__u64 head, __u64 first, __u32 nr)
{
	if (pmd_mapped(head))
		return;
	for (__u32 i = 0; i < HPAGE_PMD_PAGES; i++) {
		__u64 p;

		if (i >= nr)
			break;
		p = nth_page(first, i);
		if (pte_mapcount(p) == 0) /* the last mapping, before its drop */
			uncharge(p);
	}
}

static __always_inline void remove_pmd(__u64 head)
{
	if (pmd_mapcount(head) == 0)
		uncharge(head | PMD_KEY_TAG);
}

/* ---- 6.8+: folio functions ------------------------------------------------------ */

/* A new anonymous folio: PMD-mapped if it is PMD-sized, else mapped by PTEs. */
static __always_inline void on_new_anon_folio(__u64 folio, void *vma)
{
	__u32 nr = folio_pages(folio);

	if (nr >= HPAGE_PMD_PAGES)
		add_pmd(folio, nr, vma_mm(vma), FP_ANON, true);
	else
		add_ptes(folio, folio, nr, vma_mm(vma), FP_ANON, true);
}

SEC("fentry/folio_add_new_anon_rmap")
int BPF_PROG(fp_new_folio_fentry, struct folio *folio, struct vm_area_struct *vma)
{
	on_new_anon_folio(as_number(folio), vma);
	return 0;
}

SEC("kprobe/folio_add_new_anon_rmap")
int BPF_KPROBE(fp_new_folio_kprobe, struct folio *folio, struct vm_area_struct *vma)
{
	on_new_anon_folio(as_number(folio), vma);
	return 0;
}

SEC("fentry/folio_add_anon_rmap_ptes")
int BPF_PROG(fp_anon_ptes_fentry, struct folio *folio, struct page *page, int nr, struct vm_area_struct *vma)
{
	add_ptes(as_number(folio), as_number(page), nr, vma_mm(vma), FP_ANON, false);
	return 0;
}

SEC("kprobe/folio_add_anon_rmap_ptes")
int BPF_KPROBE(fp_anon_ptes_kprobe, struct folio *folio, struct page *page, int nr, struct vm_area_struct *vma)
{
	add_ptes(as_number(folio), as_number(page), nr, vma_mm(vma), FP_ANON, false);
	return 0;
}

SEC("fentry/folio_add_anon_rmap_pmd")
int BPF_PROG(fp_anon_pmd_fentry, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	add_pmd(as_number(folio), folio_pages(as_number(folio)), vma_mm(vma), FP_ANON, false);
	return 0;
}

SEC("kprobe/folio_add_anon_rmap_pmd")
int BPF_KPROBE(fp_anon_pmd_kprobe, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	add_pmd(as_number(folio), folio_pages(as_number(folio)), vma_mm(vma), FP_ANON, false);
	return 0;
}

SEC("fentry/folio_add_file_rmap_ptes")
int BPF_PROG(fp_file_ptes_fentry, struct folio *folio, struct page *page, int nr, struct vm_area_struct *vma)
{
	add_ptes(as_number(folio), as_number(page), nr, vma_mm(vma), file_type(as_number(folio)), false);
	return 0;
}

SEC("kprobe/folio_add_file_rmap_ptes")
int BPF_KPROBE(fp_file_ptes_kprobe, struct folio *folio, struct page *page, int nr, struct vm_area_struct *vma)
{
	add_ptes(as_number(folio), as_number(page), nr, vma_mm(vma), file_type(as_number(folio)), false);
	return 0;
}

SEC("fentry/folio_add_file_rmap_pmd")
int BPF_PROG(fp_file_pmd_fentry, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	add_pmd(as_number(folio), folio_pages(as_number(folio)), vma_mm(vma), file_type(as_number(folio)), false);
	return 0;
}

SEC("kprobe/folio_add_file_rmap_pmd")
int BPF_KPROBE(fp_file_pmd_kprobe, struct folio *folio, struct page *page, struct vm_area_struct *vma)
{
	add_pmd(as_number(folio), folio_pages(as_number(folio)), vma_mm(vma), file_type(as_number(folio)), false);
	return 0;
}

SEC("fentry/folio_remove_rmap_ptes")
int BPF_PROG(fp_remove_ptes_fentry, struct folio *folio, struct page *page, int nr)
{
	remove_ptes(as_number(folio), as_number(page), nr);
	return 0;
}

SEC("kprobe/folio_remove_rmap_ptes")
int BPF_KPROBE(fp_remove_ptes_kprobe, struct folio *folio, struct page *page, int nr)
{
	remove_ptes(as_number(folio), as_number(page), nr);
	return 0;
}

SEC("fentry/folio_remove_rmap_pmd")
int BPF_PROG(fp_remove_pmd_fentry, struct folio *folio)
{
	remove_pmd(as_number(folio));
	return 0;
}

SEC("kprobe/folio_remove_rmap_pmd")
int BPF_KPROBE(fp_remove_pmd_kprobe, struct folio *folio)
{
	remove_pmd(as_number(folio));
	return 0;
}

/* ---- up to 6.7: page functions (compound: a PMD-mapped huge page) ---------------- */

static __always_inline void on_page_add(__u64 page, struct mm_struct *mm, __u32 type, bool compound,
					bool fresh)
{
	if (compound)
		add_pmd(page, HPAGE_PMD_PAGES, mm, type, fresh);
	else
		add_ptes(head_of(page), page, 1, mm, type, fresh);
}

static __always_inline bool anon_compound(__u64 last)
{
	return anon_rmap_flags ? last & RMAP_COMPOUND_FLAG : last & 1;
}

/* Written on the raw context (as rmap_page_fentry in causes.bpf.c): the
 * verifier refuses a read of an argument the function does not have. */
SEC("fentry/page_add_new_anon_rmap")
int fp_new_page_fentry(unsigned long long *ctx)
{
	__u64 page = as_number((void *)ctx[0]);
	bool compound;

	if (new_anon_has_compound)
		compound = ctx[3] & 1;
	else
		compound = is_large(page);
	on_page_add(page, vma_mm((void *)ctx[1]), FP_ANON, compound, true);
	return 0;
}

SEC("kprobe/page_add_new_anon_rmap")
int BPF_KPROBE(fp_new_page_kprobe, struct page *page, struct vm_area_struct *vma, __u64 addr, __u64 compound)
{
	__u64 p = as_number(page);

	on_page_add(p, vma_mm(vma), FP_ANON, new_anon_has_compound ? compound & 1 : is_large(p), true);
	return 0;
}

SEC("fentry/page_add_anon_rmap")
int fp_anon_page_fentry(unsigned long long *ctx)
{
	on_page_add(as_number((void *)ctx[0]), vma_mm((void *)ctx[1]), FP_ANON, anon_compound(ctx[3]), false);
	return 0;
}

/* 5.10: swap-in calls do_page_add_anon_rmap(page, vma, addr, flags) directly,
 * and page_add_anon_rmap calls it too: hook it where it exists. */
SEC("fentry/do_page_add_anon_rmap")
int fp_do_anon_page_fentry(unsigned long long *ctx)
{
	on_page_add(as_number((void *)ctx[0]), vma_mm((void *)ctx[1]), FP_ANON, ctx[3] & RMAP_COMPOUND_FLAG, false);
	return 0;
}

SEC("kprobe/do_page_add_anon_rmap")
int BPF_KPROBE(fp_do_anon_page_kprobe, struct page *page, struct vm_area_struct *vma, __u64 addr, __u64 flags)
{
	on_page_add(as_number(page), vma_mm(vma), FP_ANON, flags & RMAP_COMPOUND_FLAG, false);
	return 0;
}

SEC("kprobe/page_add_anon_rmap")
int BPF_KPROBE(fp_anon_page_kprobe, struct page *page, struct vm_area_struct *vma, __u64 addr, __u64 last)
{
	on_page_add(as_number(page), vma_mm(vma), FP_ANON, anon_compound(last), false);
	return 0;
}

/* page_add_file_rmap(page, [vma,] compound): before 5.18 the faulting task's mm. */
static __always_inline void on_page_add_file(__u64 page, __u64 second, __u64 third)
{
	struct mm_struct *mm = rmap_has_vma ? vma_mm((void *)second) : current_mm();
	bool compound = (rmap_has_vma ? third : second) & 1;

	on_page_add(page, mm, file_type(head_of(page)), compound, false);
}

SEC("fentry/page_add_file_rmap")
int fp_file_page_fentry(unsigned long long *ctx)
{
	__u64 third = 0;

	if (rmap_has_vma)
		third = ctx[2];
	on_page_add_file(as_number((void *)ctx[0]), ctx[1], third);
	return 0;
}

SEC("kprobe/page_add_file_rmap")
int BPF_KPROBE(fp_file_page_kprobe, struct page *page, __u64 second, __u64 third)
{
	on_page_add_file(as_number(page), second, third);
	return 0;
}

static __always_inline void on_page_remove(__u64 page, __u64 second, __u64 third)
{
	bool compound = (rmap_has_vma ? third : second) & 1;

	if (compound)
		remove_pmd(page);
	else
		remove_ptes(head_of(page), page, 1);
}

SEC("fentry/page_remove_rmap")
int fp_remove_page_fentry(unsigned long long *ctx)
{
	__u64 third = 0;

	if (rmap_has_vma)
		third = ctx[2];
	on_page_remove(as_number((void *)ctx[0]), ctx[1], third);
	return 0;
}

SEC("kprobe/page_remove_rmap")
int BPF_KPROBE(fp_remove_page_kprobe, struct page *page, __u64 second, __u64 third)
{
	on_page_remove(as_number(page), second, third);
	return 0;
}
