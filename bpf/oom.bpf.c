// SPDX-License-Identifier: GPL-2.0
/*
 * OOM kills: when the kernel marks a victim, send user space the victim's
 * breakdown at that moment, from our own accounting of its address space
 * (the `mms` row) and from the kernel's counters, with its memory cgroup.
 * Read now, not when its row ends: the OOM reaper unmaps the victim's memory
 * while it still has users, so by its teardown the numbers are gone.
 *
 *   tp_btf/mark_victim (6.8+: the tracepoint passes the task)
 *   fentry|kprobe mark_oom_victim(struct task_struct *) (every kernel)
 *   tracepoint/oom/mark_victim (pid only before 6.8; its RSS fields after)
 *
 * Linked into the rss_account object (it reads the `mms` rows and the tree's
 * totals; bpf/lib/account.bpf.h). The loader chooses one program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rsstrace.h"
#include "rss_math.h"
#include "lib/account.bpf.h"
#include "lib/memcg.bpf.h"
#include "lib/mm_counters.bpf.h"

/* The victim's memory cgroup (cgroup v1's memory hierarchy, or v2). */
static __always_inline struct kernfs_node *memcg_kn(struct task_struct *t)
{
	struct cgroup *cg = task_memcg(t);

	return cg ? BPF_CORE_READ(cg, kn) : BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
}

static __always_inline void fill_victim(struct oom_kill_record *rec, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	struct kernfs_node *kn = memcg_kn(t);
	struct mm_state *st = state_of(mm);

	BPF_CORE_READ_STR_INTO(&rec->comm, t, group_leader, comm);
	if (kn) {
		rec->cgroup_id = BPF_CORE_READ(kn, id);
		bpf_probe_read_kernel_str(rec->cgroup, sizeof(rec->cgroup), BPF_CORE_READ(kn, name));
	}
	rec->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	rec->uid = BPF_CORE_READ(t, cred, uid.val);
	if (st) {
		rec->has_acct = 1;
		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			rec->acct[m] = st->cur[m];
		rec->acct_peak = st->peak_rss;
	}
	if (mm) {
		/* what the tracepoint itself reports (get_mm_counter), read exactly */
		rec->has_kernel = 1;
		rec->kernel_total_vm = BPF_CORE_READ(mm, total_vm);
		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			rec->kernel[m] = rss_clamp(mm_counter_exact(mm, m));
	}
}

static __always_inline struct oom_kill_record *oom_record(__u32 tgid)
{
	struct oom_kill_record *rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);

	if (!rec) {
		__sync_fetch_and_add(&loss.ringbuf_full, 1);
		return NULL;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->type = REC_OOM_KILL;
	rec->tgid = tgid;
	rec->ns = bpf_ktime_get_ns();
	rec->oom_score_adj = -1001;
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		rec->tree[m] = tree.cur[m];
	return rec;
}

/* Only victims in the traced tree (every process under `top`). */
static __always_inline void on_oom_victim(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct oom_kill_record *rec;

	if (!bpf_map_lookup_elem(&traced, &tgid) && !state_of(BPF_CORE_READ(t, mm)))
		return;
	rec = oom_record(tgid);
	if (!rec)
		return;
	fill_victim(rec, t);
	/* rare and urgent: wake user space now */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(oom_btf, struct task_struct *task)
{
	on_oom_victim(task);
	return 0;
}

SEC("fentry/mark_oom_victim")
int BPF_PROG(oom_fentry, struct task_struct *task)
{
	on_oom_victim(task);
	return 0;
}

SEC("kprobe/mark_oom_victim")
int BPF_KPROBE(oom_kprobe, struct task_struct *task)
{
	on_oom_victim(task);
	return 0;
}

/*
 * The classic tracepoint gives a pid (and, since 6.8, the victim's counters).
 * Its task is known only if it is the one running (an allocation in the
 * victim itself hit the limit); otherwise user space adds our accounting
 * from the live row when the record arrives.
 */
SEC("tracepoint/oom/mark_victim")
int oom_tp(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *cur = current_task();
	__u32 tgid = ctx->pid;
	struct oom_kill_record *rec;

	if (BPF_CORE_READ(cur, tgid) == tgid) {
		on_oom_victim(cur);
		return 0;
	}
	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	rec = oom_record(tgid);
	if (!rec)
		return 0;
	if (bpf_core_field_exists(ctx->anon_rss)) {
		rec->has_kernel = 1;
		rec->kernel_total_vm = BPF_CORE_READ(ctx, total_vm);
		rec->kernel[RSS_ANON] = BPF_CORE_READ(ctx, anon_rss);
		rec->kernel[RSS_FILE] = BPF_CORE_READ(ctx, file_rss);
		rec->kernel[RSS_SHMEM] = BPF_CORE_READ(ctx, shmem_rss);
		rec->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		rec->uid = BPF_CORE_READ(ctx, uid);
	}
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
	return 0;
}
