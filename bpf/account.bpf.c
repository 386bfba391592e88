// SPDX-License-Identifier: GPL-2.0
/*
 * Per-address-space RSS accounting.
 *
 * Everything is keyed by the mm (address space), never by the running pid:
 * fork copies pages into a child's mm while the parent runs, a vfork child
 * faults on its parent's mm, teardown and reclaim change an mm while another
 * task (or none) is current. An mm enters the `mms` map when a traced process
 * gets it (fork, exec, or -p attach) and leaves it when its teardown begins,
 * with a record to user space carrying the values it had just before.
 *
 * This file defines the maps and globals the others share (declared in
 * bpf/lib/account.bpf.h); the Makefile links it with causes.bpf.c, oom.bpf.c,
 * stacks.bpf.c and mm_counters.bpf.c into one object per flavour.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rsstrace.h"
#include "rss_math.h"
#include "lib/account.bpf.h"
#include "lib/atomics.bpf.h"
#include "lib/memcg.bpf.h"
#include "lib/mm_counters.bpf.h"
#include "lib/shadow.bpf.h"
#include "lib/stacks.bpf.h"

/* One license for the linked object. */
char LICENSE[] SEC("license") = "GPL";

/* Trace new children of traced processes (off with --no-children). */
const volatile bool follow_children = true;
/* `rsstrace top`: every process; the seeding iterator marks them all traced. */
const volatile bool trace_all = false;
/* --cgroup-path: processes that enter this cgroup (or one below it) are
 * traced from then on. kernfs ids are unique within one hierarchy only, so
 * its hierarchy is compared too (0: v2; else the v1 memory hierarchy). */
const volatile __u64 watch_cgroup_id = 0;
const volatile int watch_hierarchy_id = 0;
/* rsstrace's own process: never traced as a descendant or a cgroup member
 * (`sudo rsstrace -p $$` is a child of the shell it attaches to). */
const volatile __u32 self_tgid = 0;
/* `rsstrace serve`: keep per-cgroup totals and scrape-window peaks too. Off
 * elsewhere, so the verifier drops that code and the tracer pays nothing. */
const volatile bool per_cgroup = false;
/* The rename hook is attached (on_rename): a row's name follows its
 * process's from the start, and is not read again at the end. */
const volatile bool names_followed = false;

struct mms_map mms SEC(".maps");
struct mm_states_map mm_states SEC(".maps");
struct state_cache state_caches[RSS_MAX_CPUS];
struct traced_map traced SEC(".maps");
struct records_map records SEC(".maps");

/* The slots of mm_states that ended address spaces gave back, taken again
 * first. Before 5.12 (no fetch-atomics to count slots out with) the loader
 * puts every slot here at the start. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 65536); /* resized by the loader, as mms */
	__type(value, __u32);
} free_slots SEC(".maps");

/* mm_states' slots (the loader's mms size), and how many were ever counted
 * out of it past the free ones (failed takes included: never wraps). */
const volatile __u32 nr_slots = 65536;
__u64 slots_counted_out;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tree_peak_rec);
} tree_peaks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* resized by the loader */
	__type(key, __u64);	   /* kernfs id of the task_shown_cgroup() */
	__type(value, struct cgroup_acct);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* resized by the loader */
	__type(key, __u64);	   /* kernfs id of the task_shown_cgroup() */
	__type(value, struct cgroup_peak_rec);
} cgroup_peaks SEC(".maps");

/* Up to 6.1: the address spaces whose exit has frozen /proc's view
 * (freeze_exit_view()), one entry from the exit's first fold to end_mm().
 * Only exits in progress at one moment: 4,096 is far more than a fork storm
 * keeps; if it is full, the view is frozen unclaimed, as before. Since 6.2
 * the loader makes it 1 entry: exits fold nothing there. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* the mm */
	__type(value, __u8);
} exit_view_claims SEC(".maps");

struct tree_state tree; /* cur[] and the live counts; the peak is in tree_peaks */
__u64 peak_epoch; /* the scrape window now open (bumped by user space) */
struct loss_counters loss;
__u32 iter_mode; /* enum iter_mode, set by the loader before running the iterator */

/* Counters are kept raw (up to 6.1 they can be transiently negative, while a
 * task's cached increments are not folded in yet) so that deltas add up; what
 * is shown is clamped at 0, as /proc does: rss_clamp() and rss_pages() from
 * include/rss_math.h, which user space uses too. */

/*
 * 6.2+ (members never below 0, so the sum of the tree's totals is its RSS):
 * FILE+ANON+SHMEM of the tree, and a bound under its highest record (the
 * largest value any CPU recorded, or less: racing stores may leave a
 * smaller one). A rise that leaves the sum at or under the bound is no new
 * peak, whatever the CPUs' records: one atomic add and a compare instead of
 * three loads, three clamps and a per-CPU lookup on every rise (~55 guest
 * instructions, docs/performance.md). Up to 6.1 a member can be below 0 for
 * a while (the tasks' RSS caches): every rise is read as before.
 */
#ifndef RSS_NO_FETCH_ATOMICS
static __s64 tree_rss_sum;
#endif
static __s64 tree_peak_floor;

/*
 * Apply a change of one member to the tree totals; if the total is above this
 * CPU's highest, record it with the member values it was computed from. The
 * record is per CPU, so nothing races with it; the tree peak is the largest
 * record (user space takes the max). keeps_sum: 6.2+ (tree_rss_sum is kept),
 * !rss_counters_are_atomic(), or a constant (account_as()).
 */
static __always_inline void tree_add(int member, __s64 delta, bool keeps_sum)
{
	/* the key in .rodata: on the stack, its store was hoisted onto the
	 * path of every event */
	static const __u32 zero = 0;
	struct tree_peak_rec *rec;
	__s64 v[RSS_NR_MEMBERS], rss;

	if (!delta)
		return;
	__sync_fetch_and_add(&tree.cur[member_idx(member)], delta);
#ifndef RSS_NO_FETCH_ATOMICS
	if (keeps_sum && member != RSS_SWAP &&
	    __sync_fetch_and_add(&tree_rss_sum, delta) + delta <= *(volatile __s64 *)&tree_peak_floor)
		return;
#endif
	if (member == RSS_SWAP || delta < 0)
		return;
	/* each total read once: the breakdown recorded is the one summed */
	v[RSS_FILE] = tree.cur[RSS_FILE];
	v[RSS_ANON] = tree.cur[RSS_ANON];
	v[RSS_SHMEM] = tree.cur[RSS_SHMEM];
	rss = rss_pages(v);
	rec = bpf_map_lookup_elem(&tree_peaks, &zero);
	if (!rec || rss <= rec->peak)
		return;
	rec->peak = rss;
	rec->part[RSS_FILE] = rss_clamp(v[RSS_FILE]);
	rec->part[RSS_ANON] = rss_clamp(v[RSS_ANON]);
	rec->part[RSS_SHMEM] = rss_clamp(v[RSS_SHMEM]);
	rec->part[RSS_SWAP] = rss_clamp(tree.cur[RSS_SWAP]);
	rec->ns = bpf_ktime_get_ns();
	rec->procs = tree.live_mms;
	tree_peak_floor = rss;
}

/* The value stored under key in map, created (zeroed) if missing. */
static __always_inline void *lookup_or_zero(void *map, __u64 *key, void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST); /* EEXIST: another CPU won */
	return bpf_map_lookup_elem(map, key);
}

/*
 * The same for a cgroup: its totals, and this CPU's record of its peak in the
 * open scrape window (per-CPU, as for the tree: nothing races with it). The
 * window's peak is the largest record of that epoch over the CPUs.
 */
static __always_inline void cgroup_add(struct mm_state *st, int member, __s64 delta)
{
	struct cgroup_acct *cg;
	struct cgroup_peak_rec *rec;
	__u64 epoch, cgid;
	__s64 rss;

	/* the id loaded past the test: as an argument it was loaded on every
	 * event with per_cgroup off */
	if (!per_cgroup || !delta)
		return;
	cgid = st->cgroup_id;
	/* the zeroed values made here, past the test: made at the declarations,
	 * they were stored on every event with per_cgroup off */
	cg = lookup_or_zero(&cgroups, &cgid, &(struct cgroup_acct){});
	if (!cg) {
		__sync_fetch_and_add(&loss.cgroups_full, 1);
		return;
	}
	__sync_fetch_and_add(&cg->cur[member_idx(member)], delta);
	if (member == RSS_SWAP || delta < 0)
		return;
	rss = rss_pages(cg->cur);
	rec = lookup_or_zero(&cgroup_peaks, &cgid, &(struct cgroup_peak_rec){});
	if (!rec) {
		__sync_fetch_and_add(&loss.cgroups_full, 1);
		return;
	}
	epoch = *(volatile __u64 *)&peak_epoch;
	if (rec->epoch != epoch) {
		rec->prev_epoch = rec->epoch;
		rec->prev_peak = rec->peak;
		rec->epoch = epoch;
		rec->peak = rss;
	} else if (rss > rec->peak) {
		rec->peak = rss;
	}
}

/*
 * A change of one member of st's counters: into the tree and, with cgroups,
 * its cgroup. The lean programs pass constants for keeps_sum and cgroups:
 * the verifier drops a test that it knows the outcome of, but not the load
 * of the CO-RE constant or of the .rodata flag (per_cgroup) tested: 1 and 2
 * x86 instructions on every event (bench/jit_listing.py).
 */
static __always_inline void account_as(struct mm_state *st, int member, __s64 delta, bool keeps_sum, bool cgroups)
{
	tree_add(member, delta, keeps_sum);
	if (cgroups)
		cgroup_add(st, member, delta);
}

/* A change of one member of st's counters: into the tree and its cgroup. */
static __always_inline void account(struct mm_state *st, int member, __s64 delta)
{
	account_as(st, member, delta, !rss_counters_are_atomic(), true);
}

static __always_inline void note_peak(struct mm_state *st)
{
	__u64 rss = rss_pages(st->cur);

	if (rss <= st->peak_rss)
		return;
	st->peak_rss = rss;
	st->peak_ns = bpf_ktime_get_ns();
	st->peak_seq++;
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		st->peak_part[m] = rss_clamp(st->cur[m]);
}

/* What a change of one member says about why RSS moved (before teardown). */
static __always_inline void note_cause(struct mm_state *st, int member, __s64 delta)
{
	if (member == RSS_SWAP) {
		if (delta > 0)
			__sync_fetch_and_add(&st->causes.swapout_pages, delta);
		else
			__sync_fetch_and_add(&st->causes.swap_released, -delta);
	} else if (delta < 0) {
		__sync_fetch_and_add(&st->causes.unmapped_pages, -delta);
	}
}

/* Account a new exact value of one member, as account_as(). Returns the change. */
static __always_inline __s64 apply_member_as(struct mm_state *st, int member, __s64 v, bool keeps_sum, bool cgroups)
{
	__s64 delta = v - exchange(&st->cur[member_idx(member)], v);

	if (delta) {
		account_as(st, member, delta, keeps_sum, cgroups);
		note_cause(st, member, delta);
	}
	return delta;
}

/* Account a new exact value of one member. Returns the change. */
static __always_inline __s64 apply_member(struct mm_state *st, int member, __s64 v)
{
	return apply_member_as(st, member, v, !rss_counters_are_atomic(), true);
}

/* Re-read one member exactly and account the change. */
static __always_inline void sync_member(struct mm_struct *mm, struct mm_state *st, int member)
{
	apply_member(st, member, mm_counter_tracked(mm, member, &st->cpus, false));
}

/* Every RESYNC_EVERY-th event of an mm joins the CPUs that hold its deltas
 * (see bpf/lib/mm_counters.bpf.h): at 128 possible CPUs, ~512 loads per
 * 4,096 events. */
#define RESYNC_EVERY 4096

/* An event that changed nothing we read: its add may have been made on a CPU
 * we do not read. Only file and shmem pages are added so
 * (collapse_pte_mapped_thp(), see bpf/lib/mm_counters.bpf.h); an anon or
 * swap event that finds its change taken in had it read by another CPU's
 * event, common when threads fault on many CPUs at once: reading every
 * possible CPU then cost 8 threads on 8 of 40 CPUs 1,338 guest instructions
 * per event, 1,038 without (bench/percpu.py) */
static __always_inline bool added_elsewhere(struct mm_state *st, int member, __s64 v)
{
	return (member == RSS_FILE || member == RSS_SHMEM) && v == st->cur[member_idx(member)];
}

/* Whether st's mm is read from shadows (bpf/lib/shadow.bpf.h): from the
 * shadow_from_cpus-th CPU it ran on. */
static __always_inline bool reads_shadows(struct mm_state *st)
{
	return shadow_from_cpus && *(volatile __u32 *)&st->cpus.nr >= shadow_from_cpus;
}

/* 6.2+: the member's value from the mm's shadows (bpf/lib/shadow.bpf.h), or
 * READ_NONE. Not inlined: see atomic_counter(). */
static __noinline __s64 shadow_value(struct mm_struct *mm, struct mm_state *st, int member, int force)
{
	__u64 key;

	if (!mm || !st)
		return READ_NONE;
	key = as_number(mm);
	return shadow_read(key + bpf_core_field_offset(mm->rss_stat) +
				   (member & 3) * bpf_core_type_size(struct percpu_counter),
			   key, st, member, force);
}

/* The exact value of one member after an event of it, from the mm's
 * shadows once it ran on shadow_from_cpus CPUs (tp_btf only: the kfunc). */
static __always_inline __s64 shadow_member(struct mm_struct *mm, struct mm_state *st, int member, bool resync)
{
	__s64 v;

	v = shadow_value(mm, st, member, resync);
	if (v == READ_NONE || resync || !added_elsewhere(st, member, v))
		return v;
	mm_cpus_resync(mm, &st->cpus, true);
	return shadow_value(mm, st, member, true);
}

/* The exact value of one member after an event of it. */
static __always_inline __s64 read_member(struct mm_struct *mm, struct mm_state *st, int member, bool trusted)
{
	bool resync = st->events % RESYNC_EVERY == 0;
	__s64 v;

	if (!rss_counters_are_atomic()) {
		cpu_join(&st->cpus, bpf_get_smp_processor_id());
		if (resync)
			mm_cpus_resync(mm, &st->cpus, trusted);
		if (trusted && reads_shadows(st)) {
			v = shadow_member(mm, st, member, resync);
			if (v != READ_NONE)
				return v;
		}
	}
	v = mm_counter_tracked(mm, member, &st->cpus, trusted);
	if (!resync && !rss_counters_are_atomic() && added_elsewhere(st, member, v)) {
		mm_cpus_resync(mm, &st->cpus, trusted);
		v = mm_counter_tracked(mm, member, &st->cpus, trusted);
	}
	return v;
}

static __always_inline void read_vm_marks(struct mm_struct *mm, struct mm_state *st)
{
	st->hiwater_rss = BPF_CORE_READ(mm, hiwater_rss);
	st->hiwater_vm = BPF_CORE_READ(mm, hiwater_vm);
	st->total_vm = BPF_CORE_READ(mm, total_vm);
}

/*
 * Exit or exec? During exit, exit_mm() has cleared current->mm and PF_EXITING
 * is set; during exec, exec_mmap() has installed the new mm before dropping the
 * old one. Anyone else dropping the last reference (a /proc reader) does so
 * after the owner exited.
 */
static __always_inline __u32 end_reason_now(struct mm_struct *mm, struct mm_state *st)
{
	struct task_struct *t = current_task();
	struct mm_struct *cur_mm = BPF_CORE_READ(t, mm);

	if (BPF_CORE_READ(t, flags) & PF_EXITING)
		return END_EXIT;
	if (cur_mm && cur_mm != mm && BPF_CORE_READ(t, tgid) == st->tgid)
		return END_EXEC;
	return END_EXIT;
}

static __always_inline void send_mm_end(struct mm_state *st)
{
	struct mm_end_record *rec;

	rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&loss.ringbuf_full, 1);
		return;
	}
	rec->type = REC_MM_END;
	rec->pad = 0;
	__builtin_memcpy(&rec->st, st, sizeof(*st));
	bpf_ringbuf_submit(rec, ring_wakeup_flag(&records));
}

/* The state of the address space t's process owns, NULL if it is not traced
 * or t only shares it (a vfork or CLONE_VM child of another process). */
static __always_inline struct mm_state *own_state(struct task_struct *t)
{
	struct mm_state *st = state_of(BPF_CORE_READ(t, mm));

	return st && st->tgid == BPF_CORE_READ(t, tgid) ? st : NULL;
}

/*
 * An mm read from shadows ends at its sums (bpf/lib/shadow.bpf.h): no event
 * of it is in flight any more, so each sum is exact, where the value the last
 * event stored can be another CPU's slightly older reading. The change goes
 * into the tree (which end_mm() then takes the row out of) and the peak.
 */
static __always_inline void take_shadow_sums(struct mm_state *st)
{
	__u32 exact = st->shadow.ready & ~st->shadow.dirty;

	for (int m = 0; m < RSS_NR_MEMBERS; m++) {
		__s64 v = st->shadow.sum[m];

		if (exact & (1U << m))
			account(st, m, v - exchange(&st->cur[m], v));
	}
	note_peak(st);
}

/* Give a state's slot back: a cache that names it no longer finds it. */
static __always_inline void give_back_slot(struct mm_state *st)
{
	__u32 slot = st->slot;

	st->mm = 0;
	bpf_map_push_elem(&free_slots, &slot, 0);
}

/* The mm's row is complete: report it, take it out of the tree, forget the pointer. */
static __always_inline void end_mm(struct mm_struct *mm, __u64 key, struct mm_state *st,
				   __u32 reason)
{
	struct task_struct *cur;
	__u32 *slot;

	st->end_ns = bpf_ktime_get_ns();
	st->end_reason = reason;
	if (st->shadow.state == SHADOW_ON)
		take_shadow_sums(st);
	st->causes.teardown_pages = rss_pages(st->cur);
	read_vm_marks(mm, st);
	/* Without the rename hook, the name may have changed since the mm began
	 * (prctl, /proc/PID/comm): during an exit or exec the owner itself is
	 * current. Not with it: a thread that is not the leader and execs has
	 * taken the leader's place by now (de_thread()) with its own name, not
	 * the process's (tests/test_rename.py). The task is asked for only
	 * then: a helper call made before the test is not dropped with it */
	if (!names_followed) {
		cur = current_task();
		if (BPF_CORE_READ(cur, tgid) == st->tgid)
			BPF_CORE_READ_STR_INTO(&st->comm, cur, group_leader, comm);
	}
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		account(st, m, -st->cur[m]);
	if (st->proc_view_frozen)
		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			st->cur[m] = st->proc_view[m];
	st->tree_seq = tree.held_peak_seq;
	send_mm_end(st);
	__sync_fetch_and_add(&tree.live_mms, -1);
	/* Two CPUs may end one mm at once (its exit, and reclaim elsewhere), and
	 * a new mm begin at its address: the entry removed is the one naming
	 * this state, and its slot is given back once. */
	slot = bpf_map_lookup_elem(&mms, &key);
	if (st->mm == key && slot && *slot == st->slot && !bpf_map_delete_elem(&mms, &key))
		give_back_slot(st);
	if (rss_counters_are_atomic())
		bpf_map_delete_elem(&exit_view_claims, &key);
	else if (st->shadow.state != SHADOW_OFF)
		bpf_map_delete_elem(&mm_shadows, &key);
}

/* A free slot of mm_states, or -1 if every one is in use. */
static __always_inline __s64 take_slot(void)
{
	__u32 slot;

	if (!bpf_map_pop_elem(&free_slots, &slot))
		return slot;
#ifndef RSS_NO_FETCH_ATOMICS
	__u64 next = __sync_fetch_and_add(&slots_counted_out, 1);

	if (next < nr_slots)
		return next;
#endif
	return -1;
}

/* Start accounting an address space a traced process now owns. */
static __always_inline void begin_mm(struct mm_struct *mm, struct task_struct *owner,
				     __u32 ppid, __u32 exec_seq, __u32 seeded, bool forked)
{
	__u64 key = (__u64)mm;
	struct mm_state *st, *old;
	__s64 taken;
	__u32 slot;

	/* A pointer still in the map belongs to an mm whose end we missed: report
	 * it (counted), never let the new process inherit its numbers. */
	old = state_of(mm);
	if (old) {
		__sync_fetch_and_add(&loss.stale_mms, 1);
		end_mm(mm, key, old, END_EXIT);
	}
	taken = take_slot();
	if (taken < 0) {
		__sync_fetch_and_add(&loss.mms_full, 1);
		return;
	}
	slot = (__u32)taken;
	st = bpf_map_lookup_elem(&mm_states, &slot);
	if (!st)
		return;
	__builtin_memset(st, 0, sizeof(*st));
	st->slot = slot;
	st->tgid = BPF_CORE_READ(owner, tgid);
	st->uid = BPF_CORE_READ(owner, cred, euid.val); /* the user ps and top show */
	if (per_cgroup)
		st->cgroup_id = BPF_CORE_READ(task_shown_cgroup(owner), kn, id);
	st->ppid = ppid;
	st->exec_seq = exec_seq;
	st->exit_code = -1;
	st->seeded = seeded;
	st->start_ns = bpf_ktime_get_ns();
	st->peak_ns = st->start_ns;
	BPF_CORE_READ_STR_INTO(&st->comm, owner, group_leader, comm);
	/* the counters first: a CPU that joins notes its deltas' addresses
	 * from them (note_delta_addresses()) */
	mm_note_counters(mm, st);
	mm_cpus_resync(mm, &st->cpus, false);
	for (int m = 0; m < RSS_NR_MEMBERS; m++) {
		st->cur[m] = mm_counter_tracked(mm, m, &st->cpus, false);
		st->peak_part[m] = rss_clamp(st->cur[m]);
	}
	st->peak_rss = rss_pages(st->cur);
	if (forked)
		st->causes.fork_pages = st->peak_rss + rss_clamp(st->cur[RSS_SWAP]);
	read_vm_marks(mm, st);
	/* the slot is mm's from here: found through mms, or a cache naming it */
	st->mm = key;
	if (bpf_map_update_elem(&mms, &key, &slot, BPF_NOEXIST)) {
		__sync_fetch_and_add(&loss.mms_full, 1);
		give_back_slot(st);
		return;
	}
	__sync_fetch_and_add(&tree.live_mms, 1);
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		account(st, m, st->cur[m]);
}

/* ---- exact sums of per-CPU counters: global functions, see lib/mm_counters.bpf.h */
#ifndef RSS_NO_FETCH_ATOMICS

#if HAVE_RDONLY_CAST
struct lock_wait {
	__u64 lock; /* the lock word's address */
	int free;
};

/* bpf_loop() callback: 1 (stop) once the lock word reads 0. */
static long lock_is_free(__u32 i, struct lock_wait *w)
{
	barrier();
	w->free = !read_s32_cast((void *)w->lock);
	return w->free;
}

/* A bpf_loop(), not a loop: the verifier walks a loop's every iteration,
 * and 4,096 of them made rss_stat_btf with --kernel-stacks pass its limit
 * of 1,000,000 instructions processed ("Argument list too long"; 1,024
 * passed); a callback is verified once. */
__noinline int wait_unlocked(__u64 lock)
{
	struct lock_wait w = { .lock = lock };

	bpf_loop(LOCK_SPINS, lock_is_free, &w, 0);
	return w.free;
}
#endif

__noinline int wait_unlocked_probed(__u64 lock)
{
	for (int spin = 0; spin < LOCK_SPINS_PROBED; spin++) {
		barrier();
		if (!read_s32((void *)lock))
			return true;
	}
	return false;
}

/* One try of READ_CONSISTENT, if no earlier one was consistent. */
#define TRY_CONSISTENT(read_count, read_lock, wait, lock_at, read_deltas, count_out, deltas_out)             \
	if (!consistent) {                                                                                   \
		__s32 lock;                                                                                  \
		wait(lock_at);                                                                               \
		barrier();                                                                                   \
		count_out = read_count;                                                                      \
		barrier();                                                                                   \
		lock = read_lock;                                                                            \
		barrier();                                                                                   \
		deltas_out = (read_deltas);                                                                  \
		barrier();                                                                                   \
		consistent = !lock && count_out == (read_count);                                             \
	}

/* Up to SUM_TRIES (3) tries of: wait (boundedly) for the lock to be free
 * (wait: wait_unlocked or wait_unlocked_probed, at the lock's address
 * lock_at), read `count` into count_out, the lock, read_deltas (an
 * expression over some CPUs' deltas) into deltas_out, `count` again. True if
 * a try was consistent (see SUM_TRIES); the outputs hold the last try's.
 * Written out, not a loop: as a loop with a call in it, the compiler closed
 * it by a fall-through into the first try, which 6.1's verifier rejects
 * ("back-edge from insn 2054 to 2055": only a jump may close a loop there),
 * and clang would not unroll it. */
#define READ_CONSISTENT(read_count, read_lock, wait, lock_at, read_deltas, count_out, deltas_out)            \
	({                                                                                                   \
		bool consistent = false;                                                                     \
		_Static_assert(SUM_TRIES == 3, "READ_CONSISTENT writes out 3 tries");                        \
		TRY_CONSISTENT(read_count, read_lock, wait, lock_at, read_deltas, count_out, deltas_out)     \
		TRY_CONSISTENT(read_count, read_lock, wait, lock_at, read_deltas, count_out, deltas_out)     \
		TRY_CONSISTENT(read_count, read_lock, wait, lock_at, read_deltas, count_out, deltas_out)     \
		consistent;                                                                                  \
	})

/* One consistent reading: `count` plus sum_deltas, or the last try's,
 * counted in unsettled_sums. Its `counters` pointer is read once, before the
 * tries: read in each try (p->counters), percpu_sum_all_cast() no longer
 * verified at 1,024 possible CPUs (1,000,001 instructions processed). */
#define SUM_CONSISTENT(read_count, read_lock, wait, lock_at, sum_deltas)                                     \
	({                                                                                                   \
		__s64 read_c = 0, read_d = 0;                                                                \
		if (!READ_CONSISTENT(read_count, read_lock, wait, lock_at, sum_deltas, read_c, read_d))      \
			__sync_fetch_and_add(&unsettled_sums, 1);                                            \
		read_c + read_d;                                                                             \
	})

/* The deltas of every possible CPU. */
static __always_inline __s64 all_deltas(__s32 *counters)
{
	__s64 sum = 0;

	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (cpu >= nr_cpus)
			break;
		sum += cpu_delta(counters, cpu, false);
	}
	return sum;
}

/*
 * The deltas of the CPUs in c's bitmap: an mm on more CPUs than its list
 * holds. Its possible CPUs that it never ran on (offline ones, those it was
 * never scheduled on) hold none of its deltas, and are skipped: a bit test
 * each instead of a read.
 */
static __always_inline __s64 seen_deltas(__s32 *counters, struct mm_cpus *c)
{
	__s64 sum = 0;

	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (cpu >= nr_cpus)
			break;
		if (cpu_seen(c, cpu))
			sum += cpu_delta(counters, cpu, false);
	}
	return sum;
}

/* The address of the lock word of the percpu_counter at fbc. */
#define LOCK_AT(fbc) ((fbc) + bpf_core_field_offset(struct percpu_counter, lock.raw_lock.val.counter))
#define SUM_READ(p, fbc, deltas)                                                                             \
	SUM_CONSISTENT(BPF_CORE_READ(p, count), BPF_CORE_READ(p, lock.raw_lock.val.counter), wait_unlocked_probed, \
		       LOCK_AT(fbc), deltas)
#define SUM_CAST(p, fbc, deltas)                                                                             \
	SUM_CONSISTENT(p->count, p->lock.raw_lock.val.counter, wait_unlocked, LOCK_AT(fbc), deltas)

__noinline __s64 percpu_sum_all(__u64 fbc)
{
	struct percpu_counter *p = (void *)fbc;
	__s32 *counters = BPF_CORE_READ(p, counters);

	return SUM_READ(p, fbc, all_deltas(counters));
}

__noinline __s64 percpu_sum_joined(__u64 fbc, struct mm_cpus *c)
{
	struct percpu_counter *p = (void *)fbc;
	__s32 *counters = BPF_CORE_READ(p, counters);

	if (!c)
		return 0;
	/* the CPUs joined to c: its list, or its bitmap past the list */
	return SUM_READ(p, fbc,
			*(volatile __u32 *)&c->nr > RSS_MM_CPUS ? seen_deltas(counters, c)
								: joined_deltas(counters, c, false));
}

#if HAVE_RDONLY_CAST
/* A walk over every possible CPU's delta (of those in cpus' bitmap, if
 * cpus), one bpf_loop() callback per CPU. */
struct deltas_walk {
	__s32 *counters;
	struct mm_cpus *cpus;
	__s64 sum;
};

static long add_cpu_delta(__u32 cpu, struct deltas_walk *w)
{
	if (w->cpus && !cpu_seen(w->cpus, cpu))
		return 0;
	w->sum += cpu_delta(w->counters, cpu, true);
	return 0;
}

/*
 * all_deltas() and seen_deltas() for tp_btf programs, which have bpf_loop():
 * the verifier walks a loop's every iteration, and the bitmap's test per CPU
 * doubled its paths at each one; at 128 possible CPUs (the test build's
 * RSSTRACE_TEST_POSSIBLE_CPUS) rss_stat_btf with --kernel-stacks passed its
 * limit (1,000,000 instructions processed, "Argument list too long"), as it
 * did at stop 32 (a13110b) already. A callback is verified once.
 */
static __always_inline __s64 walked_deltas(__s32 *counters, struct mm_cpus *cpus)
{
	struct deltas_walk w = { .counters = counters, .cpus = cpus };

	bpf_loop(nr_cpus, add_cpu_delta, &w, 0);
	return w.sum;
}

/* The percpu_counter at fbc, read with plain fault-safe loads. */
static __always_inline struct percpu_counter *cast_counter(__u64 fbc)
{
	return bpf_rdonly_cast((void *)fbc, bpf_core_type_id_kernel(struct percpu_counter));
}

__noinline __s64 percpu_sum_all_cast(__u64 fbc)
{
	struct percpu_counter *p = cast_counter(fbc);
	__s32 *counters = p->counters;

	return SUM_CAST(p, fbc, walked_deltas(counters, NULL));
}

__noinline __s64 percpu_sum_joined_cast(__u64 fbc, struct mm_cpus *c)
{
	struct percpu_counter *p = cast_counter(fbc);
	__s32 *counters = p->counters;

	if (!c)
		return 0;
	return SUM_CAST(p, fbc,
			*(volatile __u32 *)&c->nr > RSS_MM_CPUS ? walked_deltas(counters, c)
								: joined_deltas(counters, c, true));
}

/* ---- reads from shadows (bpf/lib/shadow.bpf.h) */

/* A retake of one member's shadows: the CPUs it walks, what it took. */
struct retake {
	struct cpu_shadow *shadows; /* the mm's, one per possible CPU */
	__s32 *counters;	/* the member's per-CPU deltas */
	struct mm_cpus *cpus;
	__s64 taken;
	__u32 member;
	__u32 listed;		/* i indexes cpus->cpu[]; else every possible CPU, cpus->seen[] tested */
};

/* The shadow word of one member on one CPU, NULL past the possible CPUs
 * (the array has nr_cpus of them: the loader sized mm_shadows' values). */
static __always_inline __u64 *shadow_word(struct cpu_shadow *shadows, __u32 cpu, __u64 m)
{
	if (cpu >= nr_cpus)
		return NULL;
	return &shadows[cpu].word[m & 3];
}

/* bpf_loop() callback: the i-th CPU of the retake (a callback is verified
 * once, where a loop over up to 1,024 possible CPUs is walked per
 * iteration). A word the owner wrote meanwhile holds a later delta than
 * ours: left as it is. */
static long retake_cpu(__u32 i, struct retake *r)
{
	__u32 cpu = i;
	__u64 *word;
	bool ok;

	if (r->listed) {
		__u16 cpu1 = *(volatile __u16 *)&r->cpus->cpu[i & (RSS_MM_CPUS - 1)];

		if (!cpu1) /* being joined by a CPU whose own event takes it */
			return 0;
		cpu = cpu1 - 1;
	} else if (!cpu_seen(r->cpus, i)) {
		return 0;
	}
	word = shadow_word(r->shadows, cpu, r->member);
	if (word)
		r->taken += shadow_take(word, r->counters, cpu, &ok);
	return 0;
}

enum retake_result { RETAKEN, RETAKE_BUSY, RETAKE_FAILED };

/* Retake every CPU st's mm ran on and `count`, for one member, from one
 * consistent reading (as SUM_CONSISTENT reads them); one CPU at a time.
 * RETAKEN: the member's sum is exact (up to events in flight). */
static __always_inline enum retake_result retake_all(__u64 fbc, struct percpu_counter *p, __s32 *counters,
						     struct cpu_shadow *shadows, struct mm_state *st, __u64 m)
{
	struct mm_shadow *s = &st->shadow;
	struct retake r = { .shadows = shadows, .counters = counters, .cpus = &st->cpus, .member = m };
	__u32 n = *(volatile __u32 *)&st->cpus.nr, bit = 1U << m;
	__s64 before = 0;
	long walked __attribute__((unused)); /* bpf_loop()'s count: r.taken is what matters */
	bool ok;

	if (__sync_val_compare_and_swap(&s->lock, 0, 1))
		return RETAKE_BUSY;
	__sync_fetch_and_and(&s->dirty, ~bit); /* a mark made from now on stays */
	r.listed = n <= RSS_MM_CPUS;
	/* the shadows' changes accumulate in r.taken over the tries */
	ok = READ_CONSISTENT(p->count, p->lock.raw_lock.val.counter, wait_unlocked, LOCK_AT(fbc),
			     bpf_loop(r.listed ? n : nr_cpus, retake_cpu, &r, 0), before, walked);
	if (ok) { /* only the lock's holder writes seen */
		r.taken += before - s->seen[m];
		s->seen[m] = before;
		__sync_fetch_and_or(&s->ready, bit);
	} else { /* marked before the sum can show what was taken without seen */
		__sync_fetch_and_or(&s->dirty, bit);
	}
	__sync_fetch_and_add(&s->sum[m], r.taken);
	__sync_lock_test_and_set(&s->lock, 0);
	return ok ? RETAKEN : RETAKE_FAILED;
}

/* This CPU's delta into its shadow; false if other writers kept coming. */
static __always_inline bool take_own(__u64 *word, __s32 *counters, __u32 cpu, __s64 *sum)
{
	for (int try = 0; try < 4; try++) {
		__s64 change;
		bool ok;

		change = shadow_take(word, counters, cpu, &ok);
		if (ok) {
			if (change)
				__sync_fetch_and_add(sum, change);
			return true;
		}
	}
	return false;
}

/* The mm's shadows, made by the first CPU to claim them; NULL while another
 * CPU makes them, or if the map is full. */
static __always_inline struct cpu_shadow *shadows_of(__u64 key, struct mm_shadow *s)
{
	__u32 state = *(volatile __u32 *)&s->state;

	if (state == SHADOW_ON)
		return bpf_map_lookup_elem(&mm_shadows, &key);
	if (state != SHADOW_OFF || __sync_val_compare_and_swap(&s->state, SHADOW_OFF, SHADOW_CLAIMED) != SHADOW_OFF)
		return NULL;
	/* one left by an mm at this address whose end we missed */
	bpf_map_delete_elem(&mm_shadows, &key);
	if (bpf_map_update_elem(&mm_shadows, &key, shadow_zero, BPF_NOEXIST)) {
		__sync_fetch_and_add(&shadows_full, 1);
		s->state = SHADOW_FULL;
		return NULL;
	}
	__sync_fetch_and_add(&shadows_made, 1);
	s->state = SHADOW_ON;
	return bpf_map_lookup_elem(&mm_shadows, &key);
}

/* The member's sum, if no retake has marked it since `clean` was read. */
static __always_inline __s64 clean_sum(struct mm_shadow *s, __u64 m)
{
	__s64 v = *(volatile __s64 *)&s->sum[m];

	barrier();
	return *(volatile __u32 *)&s->dirty & (1U << m) ? READ_NONE : v;
}

__noinline __s64 shadow_read(__u64 fbc, __u64 key, struct mm_state *st, int member, int force)
{
	struct percpu_counter *p = cast_counter(fbc);
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 m = member_idx(member), *own;
	struct cpu_shadow *shadows;
	enum retake_result res;
	__s32 *counters;
	__u32 bit = 1U << m;
	struct mm_shadow *s;
	bool clean;

	if (!st || !fbc)
		return READ_NONE;
	s = &st->shadow;
	shadows = shadows_of(key, s);
	if (!shadows)
		return READ_NONE;
	own = shadow_word(shadows, cpu, m);
	if (!own)
		return READ_NONE;
	counters = p->counters;
	clean = (*(volatile __u32 *)&s->ready & ~*(volatile __u32 *)&s->dirty & bit) && !force;
	if (clean && p->count == *(volatile __s64 *)&s->seen[m]) {
		/* no fold since the last retake: only this CPU's delta moved */
		if (!take_own(own, counters, cpu, &s->sum[m])) {
			__sync_fetch_and_or(&s->dirty, bit);
			return READ_NONE;
		}
		return clean_sum(s, m);
	}
	res = retake_all(fbc, p, counters, shadows, st, m);
	if (res == RETAKEN)
		return *(volatile __s64 *)&s->sum[m];
	/*
	 * Another CPU is retaking (or this retake was not consistent). A delta
	 * of 0 may be a fold of this event's add: taken now, with seen not yet
	 * moved, it would lower the sum by the folded pages; so leave it to the
	 * next retake. Any other delta is this CPU's own change, which that
	 * retake may have read before it happened: taken in.
	 */
	if (cpu_delta(counters, cpu, true) == 0 || !take_own(own, counters, cpu, &s->sum[m])) {
		__sync_fetch_and_or(&s->dirty, bit);
		return READ_NONE;
	}
	return res == RETAKE_BUSY && clean ? clean_sum(s, m) : READ_NONE;
}

/*
 * shadow_read()'s common step, for the lean path: the member clean, `count`
 * where the last retake left it, this CPU already joined (a CPU's first
 * event joins it, in on_rss_change(): a retake takes only joined CPUs); then
 * the event takes in its own delta alone. READ_NONE, having changed nothing
 * that shadow_read() would not change the same way (a take of a delta
 * already taken is 0), for every other case: shadow_read() does it.
 */
static __always_inline __s64 shadow_step(struct percpu_counter *p, struct mm_state *st, int member, __u32 cpu)
{
	__u64 m = member_idx(member), key = st->mm, *own;
	struct mm_shadow *s = &st->shadow;
	struct cpu_shadow *shadows;
	__u32 bit = 1U << m;
	__s32 *counters;

	if (*(volatile __u32 *)&s->state != SHADOW_ON || !cpu_seen(&st->cpus, cpu))
		return READ_NONE;
	if (!(*(volatile __u32 *)&s->ready & ~*(volatile __u32 *)&s->dirty & bit) ||
	    p->count != *(volatile __s64 *)&s->seen[m])
		return READ_NONE;
	/* counters unset: noted before the CPUs' offsets were known */
	counters = (__s32 *)st->cpus.counters_at[m];
	if (!counters)
		return READ_NONE;
	shadows = bpf_map_lookup_elem(&mm_shadows, &key);
	if (!shadows)
		return READ_NONE;
	own = shadow_word(shadows, cpu, m);
	if (!own || !take_own(own, counters, cpu, &s->sum[m]))
		return READ_NONE;
	return clean_sum(s, m);
}
#endif

/* The counters' per-CPU deltas of one CPU: non-zero if any is. */
#define ANY_DELTA(ctr, off, cast)                                                                            \
	(delta_at(ctr[0], off, cast) | delta_at(ctr[1], off, cast) | delta_at(ctr[2], off, cast) |          \
	 delta_at(ctr[3], off, cast))

#if HAVE_RDONLY_CAST
struct join_walk {
	__s32 *ctr[RSS_NR_MEMBERS];
	struct mm_cpus *cpus;
};

static long join_if_nonzero(__u32 cpu, struct join_walk *w)
{
	if (ANY_DELTA(w->ctr, cpu_off[cpu & (MAX_CPUS - 1)], false))
		cpu_join(w->cpus, cpu);
	return 0;
}

static long join_if_nonzero_cast(__u32 cpu, struct join_walk *w)
{
	if (ANY_DELTA(w->ctr, cpu_off[cpu & (MAX_CPUS - 1)], true))
		cpu_join(w->cpus, cpu);
	return 0;
}

__noinline int percpu_join_nonzero_cast(__u64 rss_stat, struct mm_cpus *c)
{
	__u64 size = bpf_core_type_size(struct percpu_counter);
	struct join_walk w = { .cpus = c };

	if (!rss_stat || !c)
		return 0;
	for (int i = 0; i < RSS_NR_MEMBERS; i++)
		w.ctr[i] = cast_counter(rss_stat + i * size)->counters;
	bpf_loop(nr_cpus, join_if_nonzero_cast, &w, 0);
	return 0;
}
#endif

__noinline int percpu_join_nonzero(__u64 rss_stat, struct mm_cpus *c)
{
	__u64 size = bpf_core_type_size(struct percpu_counter);
	__s32 *ctr[RSS_NR_MEMBERS];

	if (!rss_stat || !c)
		return 0;
	for (int i = 0; i < RSS_NR_MEMBERS; i++)
		ctr[i] = BPF_CORE_READ((struct percpu_counter *)(rss_stat + i * size), counters);
#if HAVE_RDONLY_CAST
	/* a callback, as walked_deltas(): this loop's per-CPU test made the
	 * verifier's paths grow with the possible CPUs (with --kernel-stacks,
	 * over its limit at 256) */
	struct join_walk w = { .ctr = { ctr[0], ctr[1], ctr[2], ctr[3] }, .cpus = c };

	bpf_loop(nr_cpus, join_if_nonzero, &w, 0);
#else /* no bpf_loop() before 5.17 */
	for (__u32 cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (cpu >= nr_cpus)
			break;
		if (ANY_DELTA(ctr, cpu_off[cpu & (MAX_CPUS - 1)], false))
			cpu_join(c, cpu);
	}
#endif
	return 0;
}
#endif

#if !HAVE_RDONLY_CAST || defined(RSS_NO_FETCH_ATOMICS)
/* No kfunc: the lean path is never loaded (no inline read). */
static __always_inline __s64 shadow_step(struct percpu_counter *p, struct mm_state *st, int member, __u32 cpu)
{
	return READ_NONE;
}
#endif

/* ---- the RSS counter changed ------------------------------------------------ */

/*
 * Up to 6.1: /proc's view of an mm whose owner is exiting, taken at the
 * exit's first fold of a thread's cached changes, before that fold is applied
 * (see owner_is_ending()). The threads of a group that exits fold on several
 * CPUs at once; a plain test of the flag let two of them freeze, the second
 * after the first one's fold (a 5.10 guest's row: 118 pages over /proc). So
 * each copies the values first and only the first to claim the mm keeps its
 * copy: every fold is applied after its program's claim, so the winner's copy
 * precedes them all.
 * An insert that fails on an existing key is the claim: 5.10's flavour has no
 * compare-and-swap (bpf/lib/atomics.bpf.h).
 */
static __always_inline void freeze_exit_view(__u64 key, struct mm_state *st)
{
	__s64 view[RSS_NR_MEMBERS];
	__u8 claimed = 1;

	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		view[m] = *(volatile __s64 *)&st->cur[m];
	if (map_op_error(bpf_map_update_elem(&exit_view_claims, &key, &claimed, BPF_NOEXIST)) == -RSS_EEXIST)
		return;
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		st->proc_view[m] = view[m];
	st->proc_view_frozen = 1;
}

/*
 * rss_stat fires after every change of an mm counter (since 6.2; up to 6.1
 * with SPLIT_RSS_COUNTING only when the per-task cache is synced, which is also
 * when /proc sees it). It carries no delta, so we re-read the counter.
 */
/* trusted: mm came from tp_btf, its fields can be loaded directly (cheaper). */
static __always_inline void on_rss_change(void *ctx, struct mm_struct *mm, int member, bool trusted)
{
	__u64 key = (__u64)mm;
	struct mm_state *st;
	bool exiting;
	__s64 delta;
	int users;

	st = state_of(mm);
	if (!st || member < 0 || member >= RSS_NR_MEMBERS)
		return;
	users = trusted ? mm->mm_users.counter : BPF_CORE_READ(mm, mm_users.counter);
	/* First change after the last user dropped it: teardown has begun (exit_mmap,
	 * from exit or exec). What we hold now is what /proc showed just before. */
	if (users == 0) {
		end_mm(mm, key, st, end_reason_now(mm, st));
		return;
	}
	/* threads of one mm fault on several CPUs at once: a plain ++ lost 2,009
	 * of 10^6 (test_concurrent_faults, CI host under load) */
	__sync_fetch_and_add(&st->events, 1);
	if (rss_counters_are_atomic() && !st->proc_view_frozen && owner_is_ending(mm, st->tgid))
		freeze_exit_view(key, st);
	/* stamped before the change reaches the tree's peak: a peak it makes
	 * lies in the exit's window */
	exiting = member != RSS_SWAP && owner_has_exited(mm, st->tgid, trusted);
	if (exiting && !st->exit_growth_ns)
		st->exit_growth_ns = bpf_ktime_get_ns();
	delta = apply_member(st, member, read_member(mm, st, member, trusted));
	if (exiting && delta > 0)
		st->exit_growth += delta;
	held_reclaimed(mm, st, member);
	charge_stack(ctx, mm, st, member, delta); /* before note_peak: see struct stack_count */
	if (member != RSS_SWAP)
		note_peak(st);
	note_held_tree_peak(member, delta);
}

/*
 * 6.2+ (members never below 0): whether st's FILE+ANON+SHMEM is above its
 * peak, without note_peak()'s clamps: 9 x86 instructions, where
 * note_peak()'s test took 20.
 */
static __always_inline bool above_peak(struct mm_state *st)
{
	return st->cur[RSS_FILE] + st->cur[RSS_ANON] + st->cur[RSS_SHMEM] > (__s64)st->peak_rss;
}

/* The lean path's change of one member to v, as on_rss_change() makes it
 * (6.2+: the tree's sum is kept); cgroups: a constant, per_cgroup. */
static __always_inline bool lean_apply(struct mm_state *st, const int member, __s64 v, const bool cgroups)
{
	if (added_elsewhere(st, member, v))
		return false;
	__sync_fetch_and_add(&st->events, 1);
	if (apply_member_as(st, member, v, true, cgroups) > 0 && above_peak(st))
		note_peak(st);
	return true;
}

/* What the lean path did with an event. */
enum lean_result {
	LEAN_TAKEN,	/* all that on_rss_change() would do, done */
	LEAN_LEFT,	/* nothing changed: on_rss_change() takes it */
	LEAN_SHADOWS,	/* nothing changed: read from shadows (lean_from_shadows()) */
};

/*
 * The lean path's work on one member, a constant: each member has its own
 * copy. As a variable, the member cost masks, a switch to find its counter,
 * tests at each step and a spilled register: with these copies, the read
 * of one CPU apart and above_peak(), a one-CPU fault went from 214 x86
 * instructions to 145 (docs/performance.md, "One copy per member"). A swap
 * event (rare) is left to on_rss_change().
 */
static __always_inline enum lean_result lean_member(struct mm_struct *mm, struct mm_state *st, const int member,
						    __u32 cpu, const bool cgroups)
{
	__s64 v;

	/* a build without the kfunc has no inline read (read_inline() is false
	 * there, and the loader never loads a lean program) */
	if (read_inline(mm, member, st, cpu, &v))
		return lean_apply(st, member, v, cgroups) ? LEAN_TAKEN : LEAN_LEFT;
	/* from the shadow_from_cpus-th CPU: its shadows (the lean programs are
	 * not loaded where they begin below 3, so an address space that the
	 * inline read takes is never read from shadows) */
	return reads_shadows(st) ? LEAN_SHADOWS : LEAN_LEFT;
}

/*
 * The common event on 6.2+, by itself: a traced address space, alive, its
 * task not exiting, not due for a resync, its events on one or two CPUs
 * (this one among them); and the event of an address space not traced:
 * LEAN_TAKEN. LEAN_SHADOWS, having changed nothing, for such an event of
 * an address space read from shadows (lean_from_shadows() takes it);
 * LEAN_LEFT, having changed nothing, for every other event: on_rss_change()
 * takes it. For an event it takes, it does what on_rss_change() does, in
 * its order. Written apart, and on_rss_change()
 * called as a subprogram, so that the compiler lays this path out alone:
 * inlined in on_rss_change(), such an event cost ~280 guest instructions
 * over the floor's 48, spent on spills and on the tests of paths it does not
 * take (docs/performance.md, "The lean path"). The inline read is this
 * path's only: in on_rss_change() too, its four paths (one per member) made
 * the program take 124 ms to verify here, against 51 before the lean path
 * and 74 with it.
 */
static __always_inline enum lean_result lean_rss_change(struct mm_struct *mm, int member, const bool cgroups)
{
	struct mm_state *st;
	__u32 cpu;

	/* the task first: nothing is held across the helper's call */
	if (bpf_get_current_task_btf()->flags & PF_EXITING)
		return LEAN_LEFT;
	cpu = bpf_get_smp_processor_id();
	st = state_on(mm, cpu);
	if (!st)
		return LEAN_TAKEN; /* not traced: all that on_rss_change() would do */
	if (!mm->mm_users.counter || st->events % RESYNC_EVERY == RESYNC_EVERY - 1)
		return LEAN_LEFT;
	/* anon first: the most common (without the hint, the compiler tested
	 * file and shmem first: 4 more x86 instructions per anon event) */
	if (__builtin_expect(member == RSS_ANON, 1))
		return lean_member(mm, st, RSS_ANON, cpu, cgroups);
	if (member == RSS_FILE)
		return lean_member(mm, st, RSS_FILE, cpu, cgroups);
	if (member == RSS_SHMEM)
		return lean_member(mm, st, RSS_SHMEM, cpu, cgroups);
	return LEAN_LEFT;
}

/*
 * The lean path for an address space read from shadows (from its
 * shadow_from_cpus-th CPU): shadow_step() and the change. Through
 * on_rss_change() and shadow_read(), such an event cost ~770 guest
 * instructions with 4 threads on 4 CPUs (docs/performance.md, "Reads from
 * shadows"), most of it the general path around the step. A subprogram
 * that finds the state again (a hit in the CPU's cache) and takes the
 * arguments from ctx, as rss_change_btf(): the one- and two-CPU reads then
 * keep their registers (with the state, the counter and the CPU kept live
 * for it, they cost 2 to 3 more x86 instructions; inlined, 2 to 5).
 */
static __noinline bool lean_from_shadows(unsigned long long *ctx)
{
	struct mm_struct *mm = (struct mm_struct *)ctx[0];
	int member = (int)ctx[1];
	__u32 cpu = bpf_get_smp_processor_id();
	struct mm_state *st = state_on(mm, cpu);
	__s64 v;

	if (!st)
		return false;
	v = shadow_step(member_counter(mm, member_idx(member)), st, member, cpu);
	/* both lean programs call it: per_cgroup is tested */
	return v != READ_NONE && lean_apply(st, member, v, true);
}

/* on_rss_change() as a subprogram (see lean_rss_change()). It takes the
 * arguments from ctx: passed, they were held in registers across the lean
 * path for its every exit, and it spilled its own. */
static __noinline void rss_change_btf(unsigned long long *ctx)
{
	on_rss_change(ctx, (struct mm_struct *)ctx[0], (int)ctx[1], true);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat_btf, struct mm_struct *mm, int member)
{
	rss_change_btf(ctx);
	return 0;
}

/*
 * rss_stat_btf with the lean path, loaded in its place by the loader on 6.2+
 * (per-CPU counters) with the default flavour, for a run without --stacks
 * or shadows from fewer than three CPUs, the features whose work the lean
 * path leaves out. A program of its own: a flag that the verifier knows
 * (.rodata) still cost its load and test on every event, 4 x86
 * instructions, the verifier dropping a test it never takes only where
 * nothing else jumps to its target. Two: rss_stat_lean without the
 * per-cgroup totals, rss_stat_leancg with them (rsstrace serve: per_cgroup).
 */
static __always_inline void lean_event(unsigned long long *ctx, const bool cgroups)
{
	enum lean_result r = lean_rss_change((struct mm_struct *)ctx[0], (int)ctx[1], cgroups);

	if (r == LEAN_SHADOWS && lean_from_shadows(ctx))
		return;
	if (r != LEAN_TAKEN)
		rss_change_btf(ctx);
}

SEC("?tp_btf/rss_stat")
int BPF_PROG(rss_stat_lean, struct mm_struct *mm, int member)
{
	lean_event(ctx, false);
	return 0;
}

SEC("?tp_btf/rss_stat")
int BPF_PROG(rss_stat_leancg, struct mm_struct *mm, int member)
{
	lean_event(ctx, true);
	return 0;
}

SEC("raw_tp/rss_stat")
int BPF_PROG(rss_stat_raw, struct mm_struct *mm, int member)
{
	on_rss_change(ctx, mm, member, false);
	return 0;
}

/* ---- process lifecycle ------------------------------------------------------ */

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct mm_struct *cmm = BPF_CORE_READ(child, mm);
	struct traced_task t = { .next_exec_seq = 1, .ppid = ptgid };

#ifdef RSS_TEST_BREAK_VERIFIER
	/* The test-only "broken" flavour (Makefile BPF_TEST_FLAVOURS): a scalar
	 * used as a pointer, so that the suite can check how a load failure is
	 * reported. Never in the production binary. */
	return *(volatile int *)(long)ptgid;
#endif
	if (!bpf_map_lookup_elem(&traced, &ptgid))
		return 0;
	if (ctgid == ptgid) /* a thread: same mm, same row */
		return 0;
	if (!follow_children)
		return 0;
	if (bpf_map_update_elem(&traced, &ctgid, &t, BPF_NOEXIST)) {
		__sync_fetch_and_add(&loss.tasks_full, 1);
		return 0;
	}
	__sync_fetch_and_add(&tree.live_tgids, 1);
	__sync_fetch_and_add(&tree.tgids_seen, 1);
	/* fork copied the parent's pages into the child's mm before the child had
	 * a pid (rss_stat with curr=0): take them from the counters now. A
	 * vfork/posix_spawn child shares its parent's mm until it execs. */
	if (cmm && cmm != BPF_CORE_READ(parent, mm))
		begin_mm(cmm, child, ptgid, 0, 0, true);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

/* Cgroup nesting --cgroup-path looks through (systemd's are ~5 deep). */
#define MAX_CGROUP_DEPTH 32

static __always_inline bool in_watched_cgroup(struct cgroup *cg)
{
	if (BPF_CORE_READ(cg, root, hierarchy_id) != watch_hierarchy_id)
		return false;
	for (int i = 0; i < MAX_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == watch_cgroup_id)
			return true;
		cg = BPF_CORE_READ(cg, self.parent, cgroup);
	}
	return false;
}

/*
 * A process was moved into a cgroup (cgroup.procs written, v1 or v2): under
 * --cgroup-path, one that enters the watched cgroup is traced from now on,
 * its state read now as at attach. This fires only on moves, so it costs
 * nothing per RSS change; a poll of cgroup.procs would miss a process that
 * entered and exited between two reads, and take its peak late.
 */
static __always_inline void on_cgroup_enter(struct cgroup *dst, struct task_struct *task)
{
	struct traced_task t = { .next_exec_seq = 1 };
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (!watch_cgroup_id || !mm || tgid == self_tgid || (BPF_CORE_READ(task, flags) & PF_KTHREAD) ||
	    !in_watched_cgroup(dst) || bpf_map_lookup_elem(&traced, &tgid))
		return;
	t.ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (bpf_map_update_elem(&traced, &tgid, &t, BPF_NOEXIST)) {
		__sync_fetch_and_add(&loss.tasks_full, 1);
		return;
	}
	__sync_fetch_and_add(&tree.live_tgids, 1);
	__sync_fetch_and_add(&tree.tgids_seen, 1);
	if (!state_of(mm)) /* not one a traced process shares (CLONE_VM) */
		begin_mm(mm, task, t.ppid, 0, 1, false);
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_btf, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	on_cgroup_enter(dst, task);
	return 0;
}

/* --stacks: the path the new image came from, so user space can find the
 * executable's build id after the process is gone. */
static __always_inline void send_exec_path(__u32 tgid, struct linux_binprm *bprm)
{
	struct exec_record *rec;

	rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&loss.ringbuf_full, 1);
		return;
	}
	rec->type = REC_EXEC;
	rec->tgid = tgid;
	if (bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename),
				      BPF_CORE_READ(bprm, filename)) < 0)
		rec->filename[0] = 0;
	bpf_ringbuf_submit(rec, ring_wakeup_flag(&records));
}

static __always_inline int on_exec(struct task_struct *p, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct traced_task *t = bpf_map_lookup_elem(&traced, &tgid);
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u32 seq;

	if (!t || !mm)
		return 0;
	seq = t->next_exec_seq++;
	begin_mm(mm, p, t->ppid, seq, 0, false);
	if (stacks_on)
		send_exec_path(tgid, bprm);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

/*
 * A process renamed itself (prctl(PR_SET_NAME), a write to /proc/PID/comm):
 * its row shows the new name. end_mm() reads the name again only when the
 * owner itself ends its address space; one whose last reference another task
 * drops (a reader of /proc/PID/smaps: --sharing's own reads) ends in that
 * task, and kept the name it had at exec (a hostile-names run's pprof lost a
 * prctl'd holder's name so, once in a 6.1 guest and once in a 6.12 one).
 * Fires before the kernel copies the name in; an exec's rename comes before
 * its address space is traced (begin_mm reads the name then).
 */
static __always_inline int on_rename(struct task_struct *task, const char *comm)
{
	char name[RSS_COMM_LEN];
	struct mm_state *st;

	if (task != BPF_CORE_READ(task, group_leader)) /* a thread's name is not its process's */
		return 0;
	st = own_state(task);
	if (st && bpf_probe_read_kernel_str(name, sizeof(name), comm) > 0)
		__builtin_memcpy(st->comm, name, sizeof(name));
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(rename_btf, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}

SEC("raw_tp/task_rename")
int BPF_PROG(rename_raw, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}

/*
 * The last thread of a traced process exits. Since 6.18 this fires before
 * exit_mm(), so the exit code lands in the mm's row before its teardown; on
 * older kernels it comes after, and user space joins it from the record.
 */
static __always_inline int on_exit(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct exit_record *rec;
	struct mm_state *st;
	__s32 code;

	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	if (BPF_CORE_READ(p, signal, live.counter) != 0) /* other threads remain */
		return 0;
	code = BPF_CORE_READ(p, exit_code);
	st = own_state(p);
	if (st)
		st->exit_code = code;
	rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
	if (rec) {
		rec->type = REC_EXIT;
		rec->tgid = tgid;
		rec->exit_code = code;
		rec->pad = 0;
		rec->ns = bpf_ktime_get_ns();
		bpf_ringbuf_submit(rec, ring_wakeup_flag(&records));
	} else {
		__sync_fetch_and_add(&loss.ringbuf_full, 1);
	}
	bpf_map_delete_elem(&traced, &tgid);
	__sync_fetch_and_add(&tree.live_tgids, -1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p)
{
	return on_exit(p);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p)
{
	return on_exit(p);
}

/*
 * Backstop (6.1+): exit_mmap's end. An mm whose teardown changed no counter
 * (nothing resident) is still in the map here; its values are unchanged.
 */
SEC("tp_btf/exit_mmap")
int BPF_PROG(exit_mmap_btf, struct mm_struct *mm)
{
	struct mm_state *st = state_of(mm);

	if (st)
		end_mm(mm, (__u64)mm, st, end_reason_now(mm, st));
	return 0;
}

/* ---- up to 6.1: /proc's view at the start of an execve() ---------------------- */

/*
 * A fault while execve() copies its arguments (before the kernel marks the
 * task as execing) can fold the task's cached RSS changes into the old mm,
 * after the last moment /proc could be read. So on those kernels the row's
 * end values are taken at the syscall's entry; undone if execve() fails.
 * The loader loads these only where the counters are atomic (<= 6.1).
 */
static __always_inline void exec_begins(void)
{
	struct mm_state *st = own_state(current_task());

	if (!st || st->proc_view_frozen)
		return;
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		st->proc_view[m] = st->cur[m];
	st->proc_view_frozen = 2; /* provisional: the exec may still fail */
}

static __always_inline void exec_returns(long ret)
{
	struct mm_state *st = state_of(BPF_CORE_READ(current_task(), mm));

	/* on success the old mm is gone; on failure the process goes on */
	if (st && ret < 0 && st->proc_view_frozen == 2)
		st->proc_view_frozen = 0;
}

struct syscall_enter_args {
	__u64 common;
	long nr;
};

struct syscall_exit_args {
	__u64 common;
	long nr;
	long ret;
};

SEC("tracepoint/syscalls/sys_enter_execve")
int execve_enter(struct syscall_enter_args *args)
{
	exec_begins();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int execveat_enter(struct syscall_enter_args *args)
{
	exec_begins();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execve_exit(struct syscall_exit_args *args)
{
	exec_returns(args->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int execveat_exit(struct syscall_exit_args *args)
{
	exec_returns(args->ret);
	return 0;
}

/*
 * A traced process changed its user (setuid(), setreuid(), setresuid()): a
 * server's worker dropping root after fork, as nginx's, PostgreSQL's and
 * sshd's do, was shown under root by rsstrace top, read when its address
 * space began. Read from the leader, as /proc/PID/status is: glibc makes
 * every thread call the syscall, and the leader's own call comes last or
 * reads the same. Loaded for top only (tracer.c).
 */
static __always_inline void user_changed(long ret)
{
	struct task_struct *t = current_task();
	struct mm_state *st;

	if (ret < 0)
		return;
	st = own_state(t);
	if (st)
		st->uid = BPF_CORE_READ(t, group_leader, cred, euid.val);
}

SEC("tracepoint/syscalls/sys_exit_setuid")
int setuid_exit(struct syscall_exit_args *args)
{
	user_changed(args->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_setreuid")
int setreuid_exit(struct syscall_exit_args *args)
{
	user_changed(args->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_setresuid")
int setresuid_exit(struct syscall_exit_args *args)
{
	user_changed(args->ret);
	return 0;
}

/* ---- state of processes that existed before tracing, and of live ones at the end ---- */

/* How far up the tree -p looks for a traced ancestor: deeper process trees
 * (a shell in a shell in ...) are rare; a bounded loop keeps 5.10's verifier
 * happy. */
#define MAX_ANCESTORS 64

/* -p without --no-children: is one of t's ancestors a traced process? The
 * iterator visits tasks in pid order, so a grandchild whose parent is not
 * marked yet is still found through the chain up to the named process. */
static __always_inline bool has_traced_ancestor(struct task_struct *t)
{
	struct task_struct *p = t;

	for (int i = 0; i < MAX_ANCESTORS; i++) {
		struct task_struct *up = BPF_CORE_READ(p, real_parent);
		__u32 tgid;

		if (!up || up == p)
			return false; /* above init: the idle task is its own parent */
		tgid = BPF_CORE_READ(up, tgid);
		if (bpf_map_lookup_elem(&traced, &tgid))
			return true;
		p = up;
	}
	return false;
}

SEC("iter/task")
int seed_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct mm_struct *mm;
	struct mm_state *st;
	struct traced_task *tt;
	__u32 tgid;

	if (!t || (BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return 0;
	mm = BPF_CORE_READ(t, mm);
	if (!mm)
		return 0;
	st = state_of(mm);
	if (iter_mode == ITER_REFRESH) {
		if (!st)
			return 0;
		mm_cpus_resync(mm, &st->cpus, false);
		for (int m = 0; m < RSS_NR_MEMBERS; m++)
			sync_member(mm, st, m);
		note_peak(st);
		read_vm_marks(mm, st);
		return 0;
	}
	tgid = BPF_CORE_READ(t, tgid);
	tt = bpf_map_lookup_elem(&traced, &tgid);
	if (!tt && (trace_all || (iter_mode == ITER_SEED_TREE && tgid != self_tgid && has_traced_ancestor(t)))) {
		struct traced_task nt = { .next_exec_seq = 1 };

		if (!bpf_map_update_elem(&traced, &tgid, &nt, BPF_NOEXIST)) {
			__sync_fetch_and_add(&tree.live_tgids, 1);
			__sync_fetch_and_add(&tree.tgids_seen, 1);
		} else {
			__sync_fetch_and_add(&loss.tasks_full, 1);
		}
		tt = bpf_map_lookup_elem(&traced, &tgid);
	}
	if (!tt || st)
		return 0;
	tt->ppid = BPF_CORE_READ(t, real_parent, tgid);
	begin_mm(mm, t, tt->ppid, 0, 1, false);
	return 0;
}
