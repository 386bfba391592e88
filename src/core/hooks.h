/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hook layer: for each logical hook, an ordered list of attach points
 * (candidates), and the choice of the first one this kernel really accepts —
 * decided by probing (BTF, kallsyms, tracefs, a trial load and attach), never
 * by version numbers.
 */
#ifndef HOOKS_H
#define HOOKS_H

#include <stdbool.h>
#include <stdio.h>

struct bpf_object;

enum logical_hook {
	LH_RSS,		/* an mm's RSS counter changed */
	LH_FORK,
	LH_EXEC,
	LH_EXIT,
	LH_TEARDOWN,	/* an address space is torn down */
	LH_SEED,	/* the processes that exist at attach (-p, --cgroup-path, top, serve) */
	LH_CGROUP_ENTER,/* a process enters a cgroup (--cgroup-path: traced from then on) */
	LH_RENAME,	/* a process renames itself (always wanted, optional; top keeps it) */
	LH_FAULT,	/* page fault */
	LH_WP,		/* write-protect / copy-on-write fault */
	LH_RMAP,	/* a page leaves an address space's rmap */
	LH_RMAP_PMD,	/* a huge page does (6.8+ has its own function for it) */
	LH_VMA,		/* a VMA is removed */
	LH_SWAPIN,	/* a swap-in fault */
	LH_OOM,		/* the OOM killer marks a victim (always wanted, optional) */
	/* --footprint (bpf/footprint.bpf.c): pages entering / leaving the rmap */
	LH_FP_NEW,	/* a new anonymous page is mapped */
	LH_FP_ANON,	/* an existing anonymous page is mapped (swap-in, KSM, ...) */
	LH_FP_ANON_PMD,	/* ... by a PMD (6.8+ has its own function) */
	LH_FP_FILE,	/* a file page is mapped */
	LH_FP_FILE_PMD,
	LH_FP_REMOVE,	/* a page is unmapped */
	LH_FP_REMOVE_PMD,
	LH_COW,		/* --stacks: a copy-on-write copy (bpf/cow.bpf.c) */
	LH_RECLAIM,	/* --stacks: reclaim unmaps a page (bpf/held.bpf.c) */
	LH_RECLAIM_END,	/* ... and is done with it */
	LH_COUNT,
};

enum hook_kind { HK_TP_BTF, HK_RAW_TP, HK_TRACEPOINT, HK_FENTRY, HK_FEXIT, HK_KPROBE, HK_ITER, HK_DERIVED };

#define HOOK_REASON_LEN 96

struct hook_choice {
	int chosen;	/* index into the candidate table, -1: none */
	bool wanted;	/* false: an optional hook that was not asked for (--causes) */
	/* why each candidate before the chosen one was rejected */
	char reasons[8][HOOK_REASON_LEN];
	int rejected[8];
	int nrejected;
};

struct hooks {
	struct hook_choice h[LH_COUNT];
	bool rmap_has_vma;	/* page_remove_rmap(page, vma, ...) */
	bool anon_rmap_flags;	/* page_add_anon_rmap(..., rmap_t flags): 6.0+ */
	bool new_anon_has_compound; /* page_add_new_anon_rmap(..., bool compound): up to 5.19 */
};

/* Probes every candidate; causes: also choose the optional cause hooks
 * (footprint, stacks: those of --footprint, --stacks; cgroup_enter: the one
 * --cgroup-path follows newcomers with). Returns 0, or -1 with *missing set
 * to the name of a required hook that no candidate can serve. */
int hooks_choose(struct hooks *hk, bool causes, bool footprint, bool stacks, bool cgroup_enter,
		 const char **missing);

/* Whether every hook --footprint needs is attachable (the PMD ones aside). */
bool hooks_footprint_ready(const struct hooks *hk);

/* Gives up the --footprint hooks (their object failed to load), with why. */
void hooks_drop_footprint(struct hooks *hk, const char *why);

/* Whether the hook in use is a kernel function (fentry/kprobe). */
bool hook_is_function(const struct hooks *hk, enum logical_hook h);

/* Gives up the optional hooks, --stacks' cow copy included (after they
 * failed to load). Returns true if
 * there were any to give up. */
bool hooks_drop_causes(struct hooks *hk);

/* Sets autoload (and attach targets) of every candidate program in obj. */
void hooks_configure(const struct hooks *hk, struct bpf_object *obj);

/* "tp_btf/rss_stat", or NULL if the hook is not in use. */
const char *hook_in_use(const struct hooks *hk, enum logical_hook h, char *buf, size_t len);

/* The logical hook's name as the output shows it ("fault", "rmap removal"). */
const char *hook_name(enum logical_hook h);
/* Its key in JSON ("fault", "rmap_removal"). */
const char *hook_key(enum logical_hook h);
/* Whether tracing goes on without it (its counters are then n/a). */
bool hook_optional(enum logical_hook h);

/* `rsstrace --hooks`: each logical hook, the attach point in use, and why the
 * better candidates were rejected. */
void hooks_print(const struct hooks *hk, FILE *out, bool json);

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

struct btf;
/* The kernel's BTF (VMLINUX_BTF_PATH), parsed once; NULL if absent. */
const struct btf *vmlinux_btf(void);

struct bpf_object_open_opts;
/* How every BPF object of rsstrace is opened (NULL: libbpf's defaults). */
const struct bpf_object_open_opts *bpf_open_opts(void);
/* Frees it (after loading: nothing needs it then). */
void vmlinux_btf_release(void);

/* Where tracefs is (mounted at /sys/kernel/tracing if it was not), or NULL. */
const char *tracefs_dir(void);
/* Whether tracefs has the classic tracepoint "group/name" and we can see it. */
bool tracefs_has_event(const char *event);

/* Whether the kernel lets us load fetch-atomics (5.12+). */
bool probe_fetch_atomics(void);

#endif
