// SPDX-License-Identifier: GPL-2.0
#include "core/hooks.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/json_writer.h"
#include "core/text_escape.h"

/* What decides a candidate, besides the probe of its attach point. */
enum select_rule {
	RULE_PROBE,	      /* the probe alone (a derived hook: always usable) */
	RULE_PTE_IS_FOLIO,    /* a huge-page hook, needed only where the PTE hook chosen is a
			       * folio function (6.8+): the older page functions take a
			       * `compound` argument and cover huge pages themselves */
	RULE_PASSES_TASK,     /* the tracepoint must pass the task, not a pid (mark_victim
			       * does since 6.8, and in Debian's 5.10 and 6.1 builds: their
			       * --hooks chose it) */
	RULE_FAULT_IS_TP,     /* derived from page_fault_user's error code: that tracepoint
			       * must be the fault hook in use */
};

struct candidate {
	enum logical_hook hook;
	enum hook_kind kind;
	const char *target;  /* tracepoint, "category/tracepoint", or function */
	const char *prog;    /* program in bpf/ (rss_account or footprint); NULL: derived */
	const char *serves;  /* kernels it is known to serve: chosen there by `rsstrace --hooks`
			      * in the test tiers (host 6.18; 5.10, 6.1, 6.12 guests) */
	enum select_rule rule;
};

/*
 * Every attach point rsstrace knows, best first per logical hook. The first
 * one that this kernel accepts is used. Function names change across kernels:
 * page_remove_rmap became folio_remove_rmap_ptes/_pmd in 6.8; remove_vma_list
 * was inlined (5.10) and is gone since 6.1, its work done per VMA by remove_vma.
 * On the 6.18 host fentry fails to load (EPERM) and there are no kprobes, so
 * the function rows serve only the guests there.
 */
static const struct candidate table[] = {
	/* logical hook   kind           target                          program                   serves                rule */
	{ LH_RSS,           HK_TP_BTF,     "rss_stat",                     "rss_stat_btf",           "5.10 6.1 6.12 6.18", RULE_PROBE },
	{ LH_RSS,           HK_RAW_TP,     "rss_stat",                     "rss_stat_raw",           "",                   RULE_PROBE },
	{ LH_FORK,          HK_TP_BTF,     "sched_process_fork",           "fork_btf",               "5.10 6.1 6.12 6.18", RULE_PROBE },
	{ LH_FORK,          HK_RAW_TP,     "sched_process_fork",           "fork_raw",               "",                   RULE_PROBE },
	{ LH_EXEC,          HK_TP_BTF,     "sched_process_exec",           "exec_btf",               "5.10 6.1 6.12 6.18", RULE_PROBE },
	{ LH_EXEC,          HK_RAW_TP,     "sched_process_exec",           "exec_raw",               "",                   RULE_PROBE },
	{ LH_EXIT,          HK_TP_BTF,     "sched_process_exit",           "exit_btf",               "5.10 6.1 6.12 6.18", RULE_PROBE },
	{ LH_EXIT,          HK_RAW_TP,     "sched_process_exit",           "exit_raw",               "",                   RULE_PROBE },
	{ LH_TEARDOWN,      HK_TP_BTF,     "exit_mmap",                    "exit_mmap_btf",          "6.1 6.12 6.18",      RULE_PROBE },
	{ LH_TEARDOWN,      HK_DERIVED,    "rss_stat with mm_users == 0",  NULL,                     "5.10",               RULE_PROBE },
	/* run at attach, then at stop (each mm's counters read again); no fallback: the
	 * task iterator (5.8+) is the only way to find the address spaces that exist */
	{ LH_SEED,          HK_ITER,       "task",                         "seed_task",              "5.10 6.1 6.12 6.18", RULE_PROBE },
	/* --cgroup-path's newcomers; without it, the processes in the cgroup at attach only */
	{ LH_CGROUP_ENTER,  HK_TP_BTF,     "cgroup_attach_task",           "cgroup_attach_btf",      "6.12 6.18",          RULE_PROBE },
	/* a new name (prctl, /proc/PID/comm) for the row of an address space whose
	 * end another task may see (bpf/account.bpf.c, on_rename) */
	{ LH_RENAME,        HK_TP_BTF,     "task_rename",                  "rename_btf",             "5.10 6.1 6.12 6.18", RULE_PROBE },
	{ LH_RENAME,        HK_RAW_TP,     "task_rename",                  "rename_raw",             "",                   RULE_PROBE },
	{ LH_FAULT,         HK_FENTRY,     "handle_mm_fault",              "fault_fentry",           "5.10 6.1 6.12",      RULE_PROBE },
	{ LH_FAULT,         HK_KPROBE,     "handle_mm_fault",              "fault_kprobe",           "",                   RULE_PROBE },
	{ LH_FAULT,         HK_TP_BTF,     "page_fault_user",              "fault_tp_btf",           "6.18",               RULE_PROBE },
	{ LH_FAULT,         HK_TRACEPOINT, "exceptions/page_fault_user",   "fault_tp",               "",                   RULE_PROBE },
	{ LH_WP,            HK_FENTRY,     "do_wp_page",                   "wp_fentry",              "5.10 6.1 6.12",      RULE_PROBE },
	{ LH_WP,            HK_KPROBE,     "do_wp_page",                   "wp_kprobe",              "",                   RULE_PROBE },
	{ LH_WP,            HK_DERIVED,    "page_fault_user error_code",   NULL,                     "6.18",               RULE_FAULT_IS_TP },
	{ LH_RMAP,          HK_FENTRY,     "folio_remove_rmap_ptes",       "rmap_folio_fentry",      "6.12",               RULE_PROBE },
	{ LH_RMAP,          HK_FENTRY,     "page_remove_rmap",             "rmap_page_fentry",       "5.10 6.1",           RULE_PROBE },
	{ LH_RMAP,          HK_KPROBE,     "folio_remove_rmap_ptes",       "rmap_folio_kprobe",      "",                   RULE_PROBE },
	{ LH_RMAP,          HK_KPROBE,     "page_remove_rmap",             "rmap_page_kprobe",       "",                   RULE_PROBE },
	{ LH_RMAP_PMD,      HK_FENTRY,     "folio_remove_rmap_pmd",        "rmap_pmd_fentry",        "6.12",               RULE_PTE_IS_FOLIO },
	{ LH_RMAP_PMD,      HK_KPROBE,     "folio_remove_rmap_pmd",        "rmap_pmd_kprobe",        "",                   RULE_PTE_IS_FOLIO },
	{ LH_VMA,           HK_FENTRY,     "remove_vma",                   "vma_fentry",             "6.12",               RULE_PROBE },
	{ LH_VMA,           HK_KPROBE,     "remove_vma",                   "vma_kprobe",             "",                   RULE_PROBE },
	{ LH_VMA,           HK_TRACEPOINT, "syscalls/sys_enter_munmap",    "munmap_tp",              "5.10 6.1 6.18",      RULE_PROBE },
	{ LH_SWAPIN,        HK_FENTRY,     "do_swap_page",                 "swapin_fentry",          "5.10 6.1 6.12",      RULE_PROBE },
	{ LH_SWAPIN,        HK_KPROBE,     "do_swap_page",                 "swapin_kprobe",          "",                   RULE_PROBE },
	/* --footprint: the rmap functions, folio ones (6.8+) first */
	{ LH_FP_NEW,        HK_FENTRY,     "folio_add_new_anon_rmap",      "fp_new_folio_fentry",    "6.12",               RULE_PROBE },
	{ LH_FP_NEW,        HK_FENTRY,     "page_add_new_anon_rmap",       "fp_new_page_fentry",     "5.10 6.1",           RULE_PROBE },
	{ LH_FP_NEW,        HK_KPROBE,     "folio_add_new_anon_rmap",      "fp_new_folio_kprobe",    "",                   RULE_PROBE },
	{ LH_FP_NEW,        HK_KPROBE,     "page_add_new_anon_rmap",       "fp_new_page_kprobe",     "",                   RULE_PROBE },
	{ LH_FP_ANON,       HK_FENTRY,     "folio_add_anon_rmap_ptes",     "fp_anon_ptes_fentry",    "6.12",               RULE_PROBE },
	{ LH_FP_ANON,       HK_FENTRY,     "do_page_add_anon_rmap",        "fp_do_anon_page_fentry", "5.10",               RULE_PROBE },
	{ LH_FP_ANON,       HK_FENTRY,     "page_add_anon_rmap",           "fp_anon_page_fentry",    "6.1",                RULE_PROBE },
	{ LH_FP_ANON,       HK_KPROBE,     "folio_add_anon_rmap_ptes",     "fp_anon_ptes_kprobe",    "",                   RULE_PROBE },
	{ LH_FP_ANON,       HK_KPROBE,     "do_page_add_anon_rmap",        "fp_do_anon_page_kprobe", "",                   RULE_PROBE },
	{ LH_FP_ANON,       HK_KPROBE,     "page_add_anon_rmap",           "fp_anon_page_kprobe",    "",                   RULE_PROBE },
	{ LH_FP_ANON_PMD,   HK_FENTRY,     "folio_add_anon_rmap_pmd",      "fp_anon_pmd_fentry",     "6.12",               RULE_PTE_IS_FOLIO },
	{ LH_FP_ANON_PMD,   HK_KPROBE,     "folio_add_anon_rmap_pmd",      "fp_anon_pmd_kprobe",     "",                   RULE_PTE_IS_FOLIO },
	{ LH_FP_FILE,       HK_FENTRY,     "folio_add_file_rmap_ptes",     "fp_file_ptes_fentry",    "6.12",               RULE_PROBE },
	{ LH_FP_FILE,       HK_FENTRY,     "page_add_file_rmap",           "fp_file_page_fentry",    "5.10 6.1",           RULE_PROBE },
	{ LH_FP_FILE,       HK_KPROBE,     "folio_add_file_rmap_ptes",     "fp_file_ptes_kprobe",    "",                   RULE_PROBE },
	{ LH_FP_FILE,       HK_KPROBE,     "page_add_file_rmap",           "fp_file_page_kprobe",    "",                   RULE_PROBE },
	{ LH_FP_FILE_PMD,   HK_FENTRY,     "folio_add_file_rmap_pmd",      "fp_file_pmd_fentry",     "6.12",               RULE_PTE_IS_FOLIO },
	{ LH_FP_FILE_PMD,   HK_KPROBE,     "folio_add_file_rmap_pmd",      "fp_file_pmd_kprobe",     "",                   RULE_PTE_IS_FOLIO },
	{ LH_FP_REMOVE,     HK_FENTRY,     "folio_remove_rmap_ptes",       "fp_remove_ptes_fentry",  "6.12",               RULE_PROBE },
	{ LH_FP_REMOVE,     HK_FENTRY,     "page_remove_rmap",             "fp_remove_page_fentry",  "5.10 6.1",           RULE_PROBE },
	{ LH_FP_REMOVE,     HK_KPROBE,     "folio_remove_rmap_ptes",       "fp_remove_ptes_kprobe",  "",                   RULE_PROBE },
	{ LH_FP_REMOVE,     HK_KPROBE,     "page_remove_rmap",             "fp_remove_page_kprobe",  "",                   RULE_PROBE },
	{ LH_FP_REMOVE_PMD, HK_FENTRY,     "folio_remove_rmap_pmd",        "fp_remove_pmd_fentry",   "6.12",               RULE_PTE_IS_FOLIO },
	{ LH_FP_REMOVE_PMD, HK_KPROBE,     "folio_remove_rmap_pmd",        "fp_remove_pmd_kprobe",   "",                   RULE_PTE_IS_FOLIO },
	/* --stacks: copy-on-write copies (bpf/cow.bpf.c says what each one counts) */
	{ LH_COW,           HK_FENTRY,     "wp_page_copy",                 "cow_copy_fentry",        "5.10",               RULE_PROBE },
	{ LH_COW,           HK_KPROBE,     "wp_page_copy",                 "cow_copy_kprobe",        "",                   RULE_PROBE },
	{ LH_COW,           HK_FENTRY,     "do_wp_page",                   "cow_wp_fentry",          "6.12",               RULE_PROBE },
	{ LH_COW,           HK_KPROBE,     "do_wp_page",                   "cow_wp_kprobe",          "",                   RULE_PROBE },
	{ LH_COW,           HK_TP_BTF,     "page_fault_user",              "cow_fault_btf",          "6.18",               RULE_PROBE },
	{ LH_COW,           HK_TRACEPOINT, "exceptions/page_fault_user",   "cow_fault_tp",           "",                   RULE_PROBE },
	/* --stacks: pages that reclaim takes (swap-out, dropped file pages, MADV_PAGEOUT,
	 * MADV_FREE's lazy free) stop being held; the same function on 5.10-6.12. No
	 * kprobe rows: the entry and exit must pair, and fexit is what pairs them. */
	{ LH_RECLAIM,       HK_FENTRY,     "try_to_unmap_one",             "held_unmap_start",       "5.10 6.1 6.12",      RULE_PROBE },
	{ LH_RECLAIM_END,   HK_FEXIT,      "try_to_unmap_one",             "held_unmap_end",         "5.10 6.1 6.12",      RULE_PROBE },
	{ LH_OOM,           HK_TP_BTF,     "mark_victim",                  "oom_btf",                "5.10 6.1 6.12 6.18", RULE_PASSES_TASK },
	{ LH_OOM,           HK_FENTRY,     "mark_oom_victim",              "oom_fentry",             "",                   RULE_PROBE },
	{ LH_OOM,           HK_KPROBE,     "mark_oom_victim",              "oom_kprobe",             "",                   RULE_PROBE },
	{ LH_OOM,           HK_TRACEPOINT, "oom/mark_victim",              "oom_tp",                 "",                   RULE_PROBE },
};
#define NCAND (int)(sizeof(table) / sizeof(table[0]))

/* Which hooks are used when (--causes, --footprint) and which must exist. */
enum hook_group {
	HG_REQUIRED,  /* no tracing without it */
	HG_BACKSTOP,  /* teardown: derived from rss_stat where no tracepoint exists */
	HG_CGROUP,    /* --cgroup-path */
	HG_CAUSES,    /* --causes */
	HG_ALWAYS,    /* always wanted, optional */
	HG_FOOTPRINT, /* --footprint (bpf/footprint.bpf.c) */
	HG_STACKS,    /* --stacks (bpf/cow.bpf.c) */
};

static const struct logical_hook_info {
	const char *name; /* as the output shows it */
	const char *key;  /* in JSON */
	enum hook_group group;
	enum logical_hook pte_hook; /* a huge-page hook's PTE hook (RULE_PTE_IS_FOLIO) */
	const char *without; /* what --hooks says when no candidate serves it (NULL: the default) */
} info[LH_COUNT] = {
	[LH_RSS] = { "rss change", "rss_change", HG_REQUIRED },
	[LH_FORK] = { "fork", "fork", HG_REQUIRED },
	[LH_EXEC] = { "exec", "exec", HG_REQUIRED },
	[LH_EXIT] = { "exit", "exit", HG_REQUIRED },
	[LH_TEARDOWN] = { "teardown", "teardown", HG_BACKSTOP },
	[LH_SEED] = { "seed", "seed", HG_REQUIRED },
	[LH_CGROUP_ENTER] = { "cgroup enter", "cgroup_enter", HG_CGROUP, .without =
			      "UNAVAILABLE (--cgroup-path traces the processes there at attach only)" },
	[LH_RENAME] = { "rename", "rename", HG_ALWAYS, .without =
			"UNAVAILABLE (a row keeps the name its process had at exec or at its own end)" },
	[LH_FAULT] = { "fault", "fault", HG_CAUSES },
	[LH_WP] = { "cow/wp fault", "wp_fault", HG_CAUSES },
	[LH_RMAP] = { "rmap removal", "rmap_removal", HG_CAUSES },
	[LH_RMAP_PMD] = { "rmap (huge)", "rmap_removal_pmd", HG_CAUSES, LH_RMAP },
	[LH_VMA] = { "vma removal", "vma_removal", HG_CAUSES },
	[LH_SWAPIN] = { "swap-in", "swap_in", HG_CAUSES },
	[LH_OOM] = { "oom kill", "oom_kill", HG_ALWAYS },
	[LH_FP_NEW] = { "fp new anon", "footprint_new_anon", HG_FOOTPRINT },
	[LH_FP_ANON] = { "fp anon", "footprint_anon", HG_FOOTPRINT },
	[LH_FP_ANON_PMD] = { "fp anon pmd", "footprint_anon_pmd", HG_FOOTPRINT, LH_FP_ANON },
	[LH_FP_FILE] = { "fp file", "footprint_file", HG_FOOTPRINT },
	[LH_FP_FILE_PMD] = { "fp file pmd", "footprint_file_pmd", HG_FOOTPRINT, LH_FP_FILE },
	[LH_FP_REMOVE] = { "fp remove", "footprint_remove", HG_FOOTPRINT },
	[LH_FP_REMOVE_PMD] = { "fp remove pmd", "footprint_remove_pmd", HG_FOOTPRINT, LH_FP_REMOVE },
	[LH_COW] = { "cow copy", "cow_copy", HG_STACKS },
	[LH_RECLAIM] = { "reclaim", "reclaim", HG_STACKS, .without =
		"pages reclaim takes (swap-out, MADV_PAGEOUT) stay held in --stacks" },
	[LH_RECLAIM_END] = { "reclaim end", "reclaim_end", HG_STACKS, .without =
		"pages reclaim takes (swap-out, MADV_PAGEOUT) stay held in --stacks" },
};

static const char *const kinds[] = {
	[HK_TP_BTF] = "tp_btf", [HK_RAW_TP] = "raw_tp", [HK_TRACEPOINT] = "tracepoint",
	[HK_FENTRY] = "fentry", [HK_FEXIT] = "fexit", [HK_KPROBE] = "kprobe", [HK_ITER] = "iter", [HK_DERIVED] = "derived",
};

const char *hook_name(enum logical_hook h)
{
	return info[h].name;
}

const char *hook_key(enum logical_hook h)
{
	return info[h].key;
}

bool hook_optional(enum logical_hook h)
{
	return info[h].group != HG_REQUIRED && info[h].group != HG_BACKSTOP;
}

/* ---- probes: what this kernel really offers ---------------------------------------------- */

struct probe_ctx {
	struct btf *vmlinux;
	bool tracefs_tried;
	const char *tracefs; /* mount point, or NULL */
	bool kallsyms_read;
	char *kallsyms;	     /* "\n name\n" list of text symbols */
};

static int trial_load(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);

	return fd < 0 ? -errno : fd;
}

/* Load a do-nothing program for this attach point and attach it for real. */
static int trial_attach(enum bpf_attach_type attach, int btf_id, char *why, size_t len)
{
	int fd = trial_load(BPF_PROG_TYPE_TRACING, attach, btf_id), link;

	if (fd < 0) {
		snprintf(why, len, "trial load failed: %s", strerror(-fd));
		return -1;
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0) {
		snprintf(why, len, "trial attach failed: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(link);
	close(fd);
	return 0;
}

static const char *tracefs(struct probe_ctx *p)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	if (p->tracefs_tried)
		return p->tracefs;
	p->tracefs_tried = true;
	for (int i = 0; i < 2; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (!faccessat(AT_FDCWD, path, F_OK, AT_EACCESS))
			return p->tracefs = dirs[i];
	}
	/* not mounted: mount it where the kernel provides the mount point */
	if (!mount("tracefs", dirs[0], "tracefs", 0, NULL))
		return p->tracefs = dirs[0];
	return NULL;
}

static bool in_kallsyms(struct probe_ctx *p, const char *sym)
{
	char needle[160];

	if (!p->kallsyms_read) {
		FILE *f = fopen("/proc/kallsyms", "re");
		size_t cap = 1 << 20, len = 1;
		char line[512], name[256], type;
		unsigned long long addr;

		p->kallsyms_read = true;
		p->kallsyms = malloc(cap);
		if (!f || !p->kallsyms) {
			if (f)
				fclose(f);
			return false;
		}
		p->kallsyms[0] = '\n';
		while (fgets(line, sizeof(line), f)) {
			size_t n;

			if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
			    (type != 't' && type != 'T') || strchr(line, '['))
				continue; /* text symbols of the kernel image only */
			n = strlen(name);
			if (len + n + 2 > cap) {
				char *bigger = realloc(p->kallsyms, cap *= 2);

				if (!bigger)
					break;
				p->kallsyms = bigger;
			}
			memcpy(p->kallsyms + len, name, n);
			len += n;
			p->kallsyms[len++] = '\n';
		}
		p->kallsyms[len] = 0;
		fclose(f);
	}
	if (!p->kallsyms)
		return false;
	snprintf(needle, sizeof(needle), "\n%s\n", sym);
	return strstr(p->kallsyms, needle) != NULL;
}

/* An iterator target is the BTF function bpf_iter_<target> (the kernel's
 * DEFINE_BPF_ITER_FUNC); a do-nothing program for it must load. */
static bool probe_iter(struct probe_ctx *p, const char *target, char *why, size_t len)
{
	char name[160];
	int id, fd;

	snprintf(name, sizeof(name), "bpf_iter_%s", target);
	id = p->vmlinux ? btf__find_by_name_kind(p->vmlinux, name, BTF_KIND_FUNC) : -1;
	if (id <= 0) {
		snprintf(why, len, "no such iterator in this kernel (5.8+)");
		return false;
	}
	fd = trial_load(BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, id);
	if (fd < 0) {
		snprintf(why, len, "trial load failed: %s", strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

/* Returns true if candidate c can be used; else writes why not. */
static bool probe(struct probe_ctx *p, const struct candidate *c, char *why, size_t len)
{
	char name[160];
	int id;

	switch (c->kind) {
	case HK_TP_BTF:
	case HK_RAW_TP:
		snprintf(name, sizeof(name), "btf_trace_%s", c->target);
		id = p->vmlinux ? btf__find_by_name_kind(p->vmlinux, name, BTF_KIND_TYPEDEF) : -1;
		if (id <= 0) {
			snprintf(why, len, "no such tracepoint in this kernel");
			return false;
		}
		if (c->kind == HK_TP_BTF)
			return trial_attach(BPF_TRACE_RAW_TP, id, why, len) == 0;
		return true;
	case HK_TRACEPOINT:
		if (!tracefs(p)) {
			snprintf(why, len, "tracefs not mounted and not mountable");
			return false;
		}
		if (!tracefs_has_event(c->target)) {
			snprintf(why, len, "no such tracepoint in this kernel");
			return false;
		}
		return true;
	case HK_FENTRY:
	case HK_FEXIT:
		id = p->vmlinux ? btf__find_by_name_kind(p->vmlinux, c->target, BTF_KIND_FUNC) : -1;
		if (id <= 0) {
			snprintf(why, len, "not in BTF (inlined, renamed or absent)");
			return false;
		}
		return trial_attach(c->kind == HK_FENTRY ? BPF_TRACE_FENTRY : BPF_TRACE_FEXIT, id, why,
				    len) == 0;
	case HK_KPROBE:
		if (access("/sys/bus/event_source/devices/kprobe/type", F_OK)) {
			snprintf(why, len, "no kprobe support in this kernel (CONFIG_KPROBES)");
			return false;
		}
		if (!in_kallsyms(p, c->target)) {
			snprintf(why, len, "not in kallsyms (inlined, renamed or absent)");
			return false;
		}
		return true;
	case HK_ITER:
		return probe_iter(p, c->target, why, len);
	case HK_DERIVED:
		return true; /* decided by the caller */
	}
	return false;
}

/* page_remove_rmap(page, vma, compound) since 5.18; (page, compound) before. */
static bool rmap_second_arg_is_vma(const struct btf *vmlinux)
{
	const struct btf_type *fn, *proto;
	const struct btf_param *params;
	int id;

	id = vmlinux ? btf__find_by_name_kind(vmlinux, "page_remove_rmap", BTF_KIND_FUNC) : -1;
	if (id <= 0)
		return false;
	fn = btf__type_by_id(vmlinux, id);
	proto = btf__type_by_id(vmlinux, fn->type);
	if (!proto || btf_vlen(proto) < 3)
		return false;
	params = btf_params(proto);
	return !strcmp(btf__name_by_offset(vmlinux, params[1].name_off), "vma");
}

/* How many parameters a kernel function has (BTF), -1 if unknown. */
static int func_params(const struct btf *vmlinux, const char *name)
{
	const struct btf_type *fn, *proto;
	int id = vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) : -1;

	if (id <= 0)
		return -1;
	fn = btf__type_by_id(vmlinux, id);
	proto = btf__type_by_id(vmlinux, fn->type);
	return proto ? btf_vlen(proto) : -1;
}

/* page_add_anon_rmap(page, vma, address, rmap_t flags) since 6.0; a bool before. */
static bool anon_rmap_takes_flags(const struct btf *vmlinux)
{
	const struct btf_type *fn, *proto, *last;
	int id;

	id = vmlinux ? btf__find_by_name_kind(vmlinux, "page_add_anon_rmap", BTF_KIND_FUNC) : -1;
	if (id <= 0)
		return false;
	fn = btf__type_by_id(vmlinux, id);
	proto = btf__type_by_id(vmlinux, fn->type);
	if (!proto || btf_vlen(proto) < 4)
		return false;
	last = btf__type_by_id(vmlinux, btf_params(proto)[3].type);
	return last && !strcmp(btf__name_by_offset(vmlinux, last->name_off), "rmap_t");
}

/* Whether the raw tracepoint's first argument (after the context) is a task. */
static bool tp_passes_task(const struct btf *vmlinux, const char *tp)
{
	const struct btf_type *t, *ptr;
	const struct btf_param *params;
	char name[96];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return false;
	t = btf__type_by_id(vmlinux, id);		/* typedef */
	t = btf__type_by_id(vmlinux, t->type);		/* pointer */
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL; /* func proto */
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		return false;
	params = btf_params(t);
	ptr = btf__type_by_id(vmlinux, params[1].type);
	if (!ptr || !btf_is_ptr(ptr))
		return false;
	t = btf__type_by_id(vmlinux, ptr->type);
	return t && btf_is_struct(t) && !strcmp(btf__name_by_offset(vmlinux, t->name_off), "task_struct");
}

/* The kernel's BTF, parsed once at start-up (several MB: parsing it again
 * and again was most of rsstrace's own peak memory), released once loaded. */
static struct btf *btf_cache;
static bool btf_tried;

const struct btf *vmlinux_btf(void)
{
	if (!btf_tried) {
		btf_tried = true;
		btf_cache = btf__load_vmlinux_btf();
	}
	return btf_cache;
}

/*
 * CO-RE relocations against the kernel's own BTF file, never the modules',
 * for a caller that may not list BTF objects. Otherwise libbpf (1.1, Debian
 * 12) looks for a type vmlinux lacks (the ___old/___new flavours of the other
 * kernel generation, e.g. struct mm_rss_stat___old on 6.2+) in every module's
 * BTF as well, and listing BTF objects (BPF_BTF_GET_NEXT_ID) needs
 * CAP_SYS_ADMIN: with CAP_BPF and CAP_PERFMON alone every load failed with
 * EPERM ("failed to iterate BTF objects"). rsstrace uses no module type. Not
 * for everyone: libbpf then parses vmlinux's BTF once more, which raised the
 * peak RSS of `rsstrace -- true` from 24 to 35 MB here.
 */
const struct bpf_object_open_opts *bpf_open_opts(void)
{
	static const struct bpf_object_open_opts vmlinux_only = {
		.sz = sizeof(vmlinux_only),
		.btf_custom_path = VMLINUX_BTF_PATH,
	};
	__u32 id;

	if (bpf_btf_get_next_id(0, &id) && errno == EPERM)
		return &vmlinux_only;
	return NULL;
}

void vmlinux_btf_release(void)
{
	btf__free(btf_cache);
	btf_cache = NULL;
	btf_tried = false;
}

/* Whether candidate i can serve its hook here (its rule, then its probe);
 * else writes why not. */
static bool usable(struct probe_ctx *p, const struct hooks *hk, int i, char *why, size_t len)
{
	const struct candidate *c = &table[i];
	int other;

	switch (c->rule) {
	case RULE_PROBE:
		break;
	case RULE_PTE_IS_FOLIO:
		other = hk->h[info[c->hook].pte_hook].chosen;
		if (other >= 0 && !strstr(table[other].target, "folio")) {
			snprintf(why, len, "not needed: %s covers huge pages", table[other].target);
			return false;
		}
		break;
	case RULE_PASSES_TASK:
		if (!tp_passes_task(p->vmlinux, c->target)) {
			snprintf(why, len, "passes only a pid on this kernel (before 6.8)");
			return false;
		}
		break;
	case RULE_FAULT_IS_TP:
		other = hk->h[LH_FAULT].chosen;
		if (other < 0 || !strstr(table[other].target, "page_fault_user")) {
			snprintf(why, len, "needs the page_fault_user fault hook");
			return false;
		}
		return true;
	}
	return probe(p, c, why, len);
}

static bool wanted(enum logical_hook h, bool causes, bool footprint, bool stacks, bool cgroup_enter)
{
	switch (info[h].group) {
	case HG_CAUSES:
		return causes;
	case HG_FOOTPRINT:
		return footprint;
	case HG_CGROUP:
		return cgroup_enter;
	case HG_STACKS:
		return stacks;
	default:
		return true;
	}
}

/* Gives up the candidate chosen for a hook, saying why. */
static void unchoose(struct hook_choice *ch, const char *why)
{
	if (ch->chosen >= 0 && ch->nrejected < 8) {
		ch->rejected[ch->nrejected] = ch->chosen;
		snprintf(ch->reasons[ch->nrejected++], HOOK_REASON_LEN, "%s", why);
	}
	ch->chosen = -1;
}

/* The reclaim hooks arm at entry and disarm at exit: one without the other
 * would free pages that stay (bpf/held.bpf.c). */
static void unpair_reclaim(struct hooks *hk)
{
	struct hook_choice *start = &hk->h[LH_RECLAIM], *end = &hk->h[LH_RECLAIM_END];
	struct hook_choice *alone = start->chosen >= 0 && end->chosen < 0 ? start :
				    end->chosen >= 0 && start->chosen < 0 ? end : NULL;

	if (alone)
		unchoose(alone, "its pair (reclaim, reclaim end) cannot be hooked");
}

int hooks_choose(struct hooks *hk, bool causes, bool footprint, bool stacks, bool cgroup_enter,
		 const char **missing)
{
	struct probe_ctx p = { .vmlinux = (struct btf *)vmlinux_btf() };
	int ret = 0;

	memset(hk, 0, sizeof(*hk));
	for (int h = 0; h < LH_COUNT; h++) {
		struct hook_choice *ch = &hk->h[h];

		ch->chosen = -1;
		ch->wanted = wanted(h, causes, footprint, stacks, cgroup_enter);
		if (!ch->wanted)
			continue;
		for (int i = 0; i < NCAND && ch->chosen < 0; i++) {
			char why[HOOK_REASON_LEN] = "";

			if (table[i].hook != (enum logical_hook)h)
				continue;
			if (usable(&p, hk, i, why, sizeof(why))) {
				ch->chosen = i;
			} else if (ch->nrejected < 8) {
				ch->rejected[ch->nrejected] = i;
				snprintf(ch->reasons[ch->nrejected++], HOOK_REASON_LEN, "%s", why);
			}
		}
		if (ch->chosen < 0 && info[h].group == HG_REQUIRED) {
			*missing = info[h].name;
			ret = -1;
		}
	}
	unpair_reclaim(hk);
	hk->rmap_has_vma = rmap_second_arg_is_vma(p.vmlinux);
	hk->anon_rmap_flags = anon_rmap_takes_flags(p.vmlinux);
	hk->new_anon_has_compound = func_params(p.vmlinux, "page_add_new_anon_rmap") >= 4;
	free(p.kallsyms);
	return ret;
}

bool hooks_footprint_ready(const struct hooks *hk)
{
	return hk->h[LH_FP_NEW].chosen >= 0 && hk->h[LH_FP_ANON].chosen >= 0 &&
	       hk->h[LH_FP_FILE].chosen >= 0 && hk->h[LH_FP_REMOVE].chosen >= 0;
}

void hooks_drop_footprint(struct hooks *hk, const char *why)
{
	for (int h = 0; h < LH_COUNT; h++) {
		struct hook_choice *ch = &hk->h[h];

		if (info[h].group == HG_FOOTPRINT)
			unchoose(ch, why);
	}
}

bool hook_is_function(const struct hooks *hk, enum logical_hook h)
{
	int i = hk->h[h].chosen;

	return i >= 0 && (table[i].kind == HK_FENTRY || table[i].kind == HK_FEXIT || table[i].kind == HK_KPROBE);
}

bool hooks_drop_causes(struct hooks *hk)
{
	bool any = false;

	for (int h = 0; h < LH_COUNT; h++) {
		struct hook_choice *ch = &hk->h[h];

		if (info[h].group != HG_CAUSES && info[h].group != HG_ALWAYS && info[h].group != HG_STACKS)
			continue;
		if (ch->chosen >= 0 && table[ch->chosen].prog) {
			unchoose(ch, "the BPF object failed to load with it");
			any = true;
		}
		ch->chosen = -1;
	}
	return any;
}

void hooks_configure(const struct hooks *hk, struct bpf_object *obj)
{
	for (int i = 0; i < NCAND; i++) {
		struct bpf_program *prog;

		if (!table[i].prog)
			continue;
		prog = bpf_object__find_program_by_name(obj, table[i].prog);
		if (prog)
			bpf_program__set_autoload(prog, hk->h[table[i].hook].chosen == i);
	}
}

static void candidate_name(int i, char *buf, size_t len)
{
	if (table[i].kind == HK_DERIVED)
		snprintf(buf, len, "derived: %s", table[i].target);
	else
		snprintf(buf, len, "%s/%s", kinds[table[i].kind], table[i].target);
}

const char *hook_in_use(const struct hooks *hk, enum logical_hook h, char *buf, size_t len)
{
	int i = hk->h[h].chosen;

	if (i < 0)
		return NULL;
	candidate_name(i, buf, len);
	return buf;
}

void hooks_print(const struct hooks *hk, FILE *out, bool json)
{
	struct utsname u;
	char buf[128], esc[TEXT_ESC_LEN(sizeof(u.release) > HOOK_REASON_LEN ? sizeof(u.release) : HOOK_REASON_LEN)];

	uname(&u);
	if (!json) /* text that is not ours (the release, the reasons the kernel gave): escaped */
		fprintf(out, "Kernel %s: logical hook -> attach point in use (rejected candidates)\n\n",
			text_escape(esc, sizeof(esc), u.release, sizeof(u.release)));
	for (int h = 0; h < LH_COUNT; h++) {
		const struct hook_choice *ch = &hk->h[h];
		const char *use = hook_in_use(hk, h, buf, sizeof(buf));
		struct json_obj j;

		if (json) {
			json_begin(&j, out);
			json_str(&j, "type", "hook");
			json_str(&j, "kernel", u.release);
			json_str(&j, "hook", info[h].key);
			if (use)
				json_str(&j, "in_use", use);
			else
				json_null(&j, "in_use");
			json_bool(&j, "optional", hook_optional(h));
			for (int k = 0; k < ch->nrejected; k++) {
				char key[32], name[128];

				candidate_name(ch->rejected[k], name, sizeof(name));
				snprintf(key, sizeof(key), "rejected_%d", k + 1);
				json_str(&j, key, name);
				snprintf(key, sizeof(key), "reason_%d", k + 1);
				json_str(&j, key, ch->reasons[k]);
			}
			json_end(&j);
			continue;
		}
		fprintf(out, "%-13s -> %s\n", info[h].name,
			use ? use : info[h].without ? info[h].without :
			hook_optional(h) ? "UNAVAILABLE (its counters are reported as n/a)" : "none");
		for (int k = 0; k < ch->nrejected; k++) {
			char name[128];

			candidate_name(ch->rejected[k], name, sizeof(name));
			fprintf(out, "%16s rejected %s: %s\n", "", name,
				text_escape(esc, sizeof(esc), ch->reasons[k], HOOK_REASON_LEN));
		}
	}
	if (!json)
		fprintf(out, "\nseed reads the processes that exist at attach (-p, --cgroup-path, top,\n"
			     "serve) and every counter again at stop; cgroup enter traces processes\n"
			     "moved into --cgroup-path's cgroup later. Optional hooks: fault to swap-in\n"
			     "are used with --causes, the fp ones with --footprint, cow copy and\n"
			     "reclaim with --stacks, cgroup enter with --cgroup-path, rename and oom\n"
			     "kill always.\n");
}

const char *tracefs_dir(void)
{
	static struct probe_ctx p;

	return tracefs(&p);
}

/*
 * Checked with the effective credentials (AT_EACCESS): tracefs is mode 0700,
 * and access() drops the capabilities of a caller that is not root, so a
 * user given CAP_DAC_READ_SEARCH to read it was told there was no tracefs.
 */
bool tracefs_has_event(const char *event)
{
	char path[256];

	if (!tracefs_dir())
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs_dir(), event);
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}

bool probe_fetch_atomics(void)
{
	/* r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = 1;
	 * r1 = atomic_fetch_add((u64 *)(r10 - 8), r1); r0 = 0; exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 0 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1, .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8, .imm = BPF_ADD | BPF_FETCH },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 6, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
