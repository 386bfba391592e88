/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the BPF programs (bpf/) and the loader (src/).
 * Plain fixed-size integers only: no pointers into the kernel, no kernel types.
 */
#ifndef RSSTRACE_H
#define RSSTRACE_H

#ifndef __VMLINUX_H__ /* user space; BPF gets these types from vmlinux.h */
#include <linux/types.h>
#endif

#define RSS_COMM_LEN 16

/* The kernel's own counter order (enum mm_counter_type in include/linux/mm_types_task.h,
 * the same from 2.6 to 6.18), so a member index from rss_stat needs no translation. */
enum rss_member {
	RSS_FILE = 0,
	RSS_ANON = 1,
	RSS_SWAP = 2,
	RSS_SHMEM = 3,
	RSS_NR_MEMBERS = 4,
};

/* PID_MAX_LIMIT on 64-bit: no kernel has a larger PID, nor more processes. */
#define RSS_PID_MAX (1U << 22)

/* Possible CPUs the exact per-CPU counter reads cover (the loader refuses more). */
#define RSS_MAX_CPUS 1024

/* CPUs listed per address space; one that ran on more is read on the CPUs of its bitmap. */
#define RSS_MM_CPUS 32

/*
 * 6.2+: the CPUs whose per-CPU counters may hold an address space's deltas,
 * the only ones its exact reads sum (bpf/lib/mm_counters.bpf.h).
 */
struct mm_cpus {
	__u64 seen[RSS_MAX_CPUS / 64];	/* a bit per CPU joined */
	__u16 cpu[RSS_MM_CPUS];		/* the first ones, each + 1 (0: being written) */
	__u32 nr;			/* CPUs joined; over RSS_MM_CPUS, reads take those in seen[] */
	__u32 pad;
	/* 6.2+: where each member's per-CPU deltas are (its percpu_counter's
	 * `counters`, fixed from mm_init() to the mm's free), as numbers; 0
	 * where the CPUs' offsets were not yet known when the address space
	 * began (bpf/lib/mm_counters.bpf.h, percpu_note_counters()) */
	__u64 counters_at[RSS_NR_MEMBERS];
	/* 6.2+: the address of each member's delta on cpu[0] and cpu[1]
	 * (counters_at plus the CPU's per-CPU offset; 0 where counters_at is),
	 * each stored before its entry: the inline read of an address space on
	 * one or two CPUs loads it, where adding the two cost it 2 x86
	 * instructions per CPU, and finding the offset in the offsets' array 5
	 * more (bpf/lib/mm_counters.bpf.h, read_inline()) */
	__u64 delta_addr[2][RSS_NR_MEMBERS];
};

/*
 * 6.2+: an address space that runs on many CPUs is read from shadows of its
 * counters (bpf/lib/shadow.bpf.h), per member: `seen`, the `count` last taken
 * in, and `sum`, seen plus every CPU's shadow of its delta (struct
 * cpu_shadow): the exact value once no event is in flight.
 */
struct mm_shadow {
	__s64 seen[RSS_NR_MEMBERS];
	__s64 sum[RSS_NR_MEMBERS];
	__u32 state;	/* SHADOW_OFF, _CLAIMED (being made), _ON (in mm_shadows), _FULL (did not fit) */
	__u32 ready;	/* bit per member: taken in consistently once (sum is exact) */
	__u32 dirty;	/* bit per member: a shadow may lag its CPU; the next event retakes all */
	__u32 lock;	/* a retake of every CPU in progress (one at a time) */
};

/* The address space whose state a CPU found last, and that state's slot:
 * the events of one address space come in runs on a CPU (a fault storm, a
 * teardown). One per possible CPU in a global array of the BPF objects
 * (bpf/lib/account.bpf.h, state_of()), a cache line each (a CPU writes its
 * own, and only on a miss): indexed by the CPU's number + 1, which the
 * event's read needs anyway, where a per-CPU array's lookup cost 14 x86
 * instructions and a key on the stack. */
struct state_cache {
	__u32 slot;	/* first: the state's lookup takes its address, the entry's */
	__u64 mm;
} __attribute__((aligned(64)));

/* One CPU's shadows of an address space's per-CPU deltas, a word per member:
 * the delta (low 32 bits) and the number of times the word was written (high
 * 32: a compare-and-swap on the word never takes a value written before).
 * A cache line per CPU: each CPU writes its own on every event, and two CPUs'
 * words on one line would move it between them each time. */
struct cpu_shadow {
	__u64 word[RSS_NR_MEMBERS];
	__u64 pad[8 - RSS_NR_MEMBERS];
};

/* Why an address space's row ended. */
enum end_reason {
	END_EXIT = 0,	/* the last user of the mm exited */
	END_EXEC = 1,	/* the process replaced its image with execve() */
	END_DETACH = 2, /* still alive when tracing stopped */
};

/* Per-tgid tracing flags (value of the `traced` map). */
#define TRACED_START_AT_EXEC 0x1 /* -- CMD: ignore the pre-exec copy of rsstrace */

struct traced_task {
	__u32 flags;
	__u32 next_exec_seq; /* exec_seq the next image of this tgid gets */
	__u32 ppid;
	__u32 pad;
};

/*
 * Why RSS moved, per address space. The first group comes from rss_stat itself
 * (always exact); the second from optional hooks (--causes), whose attach
 * points depend on the kernel (see src/core/hooks.c). A counter whose hook is not
 * live is reported as unavailable, never as 0.
 */
struct mm_causes {
	__u64 fork_pages;	/* resident + swapped pages inherited at fork */
	__u64 unmapped_pages;	/* decrements of anon/file/shmem before teardown */
	__u64 swapout_pages;	/* increments of swap entries (reclaim, MADV_PAGEOUT) */
	__u64 swap_released;	/* decrements of swap entries before teardown */
	__u64 teardown_pages;	/* resident when teardown began */
	__u64 faults;		/* page faults (hook) */
	__u64 wp_faults;	/* write-protect / copy-on-write faults (hook) */
	__u64 rmap_pages;	/* pages removed from the rmap (hook) */
	__u64 vmas_removed;	/* VMAs removed (hook) */
	__u64 unmapped_bytes;	/* bytes of removed VMAs, or of munmap() requests */
	__u64 swapin_faults;	/* swap-in faults (hook) */
};

/*
 * State of one traced address space (value of the `mms` map, key = mm pointer).
 * Counters are in pages, exact: each rss_stat event re-reads the kernel counter
 * of the member that changed (a per-CPU sum, not the batched approximation).
 */
struct mm_state {
	__u32 tgid;
	__u32 ppid;
	__u32 exec_seq;
	__s32 exit_code;	/* wait(2)-style status, -1 while unknown */
	__s64 cur[RSS_NR_MEMBERS];
	__u64 peak_rss;		/* max over events of FILE+ANON+SHMEM, pages */
	__s64 peak_part[RSS_NR_MEMBERS]; /* breakdown when peak_rss was reached */
	__u64 peak_ns;		/* CLOCK_MONOTONIC ns of peak_rss */
	__u64 start_ns;
	__u64 end_ns;
	__u64 hiwater_rss;	/* mm->hiwater_rss at the end, pages */
	__u64 hiwater_vm;	/* mm->hiwater_vm at the end, pages */
	__u64 total_vm;		/* mm->total_vm at the end, pages */
	__u64 events;		/* rss_stat events seen for this mm */
	__u32 end_reason;
	__u32 seeded;		/* 1: existed before tracing began (-p) */
	char comm[RSS_COMM_LEN];
	struct mm_causes causes;
	/* Up to 6.1 only: what /proc showed when the owner began to exit or exec,
	 * before the kernel folded its per-task RSS cache into the mm (see
	 * bpf/lib/core_fixes.bpf.h); reported as the end values. */
	__s64 proc_view[RSS_NR_MEMBERS];
	__u32 proc_view_frozen;
	__u32 uid;		/* the owner's effective uid (ps's and top's user), kept current by top */
	__u32 peak_seq;		/* times peak_rss rose (--stacks: what was at the peak) */
	/* FILE+ANON+SHMEM pages faulted in while the owner exited: after its
	 * last thread was counted out in do_exit() (the exit path's own faults:
	 * mm_release()'s robust-futex and child-tid accesses); and the time of
	 * the first change in that window (0: none). Code run by exit() in user
	 * space (atexit handlers, destructors) comes before and is not counted. */
	__u32 exit_growth;
	/* Where this state lives in the mm_states array, and the struct
	 * mm_struct * it accounts (0 while the slot is free): a slot remembered
	 * by a CPU's cache is valid while its mm is the one looked for
	 * (bpf/lib/account.bpf.h). */
	__u32 slot;
	__u64 mm;
	/* --stacks: tree_state.held_peak_seq when the mm ended */
	__u64 tree_seq;
	/* kernfs id of the owner's cgroup when the mm began (rsstrace serve):
	 * its v1 memory cgroup where memory is on v1, else its v2 cgroup */
	__u64 cgroup_id;
	__u64 exit_growth_ns;
	struct mm_cpus cpus;
	struct mm_shadow shadow;
};

/*
 * The tree's peak as one CPU saw it (a per-CPU map: each CPU the only writer
 * of its record, so the breakdown written is the one of the same reading and
 * adds up to the peak). The tree peak is the largest of them.
 */
struct tree_peak_rec {
	__s64 peak;			/* FILE+ANON+SHMEM of all live traced mms, pages */
	__s64 part[RSS_NR_MEMBERS];	/* the totals read for it (SWAP alongside) */
	__u64 ns;
	__s64 procs;			/* live traced address spaces then */
};

/* Tree-wide totals, updated by every event of a traced mm. */
struct tree_state {
	__s64 cur[RSS_NR_MEMBERS];
	__s64 rss;		/* FILE+ANON+SHMEM of all live traced mms, pages */
	__s64 peak;
	__s64 peak_part[RSS_NR_MEMBERS];
	__u64 peak_ns;
	__s64 peak_procs;
	__s64 live_mms;		/* traced address spaces alive now */
	__s64 live_tgids;	/* traced thread groups alive now */
	__s64 tgids_seen;	/* traced thread groups, ever */
	/* --stacks: times the tree's RSS rose above its highest (held records
	 * carry it: what each stack held at the tree's peak), and that highest */
	__u64 held_peak_seq;
	__s64 held_high;
};

/* Loss and health counters. Never silent: each is printed when non-zero. */
struct loss_counters {
	__u64 ringbuf_full;	/* an mm-end or exit record could not be sent */
	__u64 mms_full;		/* a new address space did not fit the mms map */
	__u64 tasks_full;	/* a new process did not fit the traced map */
	__u64 stale_mms;	/* an mm pointer was reused before we saw its end */
	__u64 stacks_full;	/* --stacks: a new (mm, stack) pair did not fit (either map) */
	__u64 frames_full;	/* --stacks: a new stack's frames did not fit */
	__u64 stack_errors;	/* --stacks: the user stack could not be read */
	__u64 cgroups_full;	/* a change whose cgroup did not fit the cgroups map */
	__u64 samples_lost;	/* --stacks=dwarf: a new stack's sample did not fit the ring */
	__u64 cow_unknown;	/* --stacks: a write fault whose mapping could not be looked up */
	__u64 held_lost;	/* --stacks: a charge or free range did not fit the ring (held figures low or high) */
};

/*
 * --stacks: RSS growth attributed to the user (and optionally kernel) stack of
 * the task that faulted it in. Counts are kept per address space and stack;
 * frames once per distinct stack, keyed by a hash of its instruction pointers.
 */
#define STACK_USER_DEPTH 48
#define STACK_KERNEL_DEPTH 32

struct stack_key {
	__u64 hash;	/* of the user and kernel instruction pointers */
	__u64 start_ns;	/* with tgid: which address space (mm_state.start_ns) */
	__u32 tgid;
	__u32 pad;
};

/*
 * grown: pages this stack faulted in so far. at_peak: what grown was at the
 * address space's latest peak, kept lazily: when an event finds seq behind the
 * mm's peak_seq, a peak happened since this entry last grew, so the entry's
 * value then was grown; it is copied before adding. Reader: if seq equals the
 * mm's final peak_seq, at_peak holds; otherwise grown does.
 */
struct stack_count {
	__u64 grown[RSS_NR_MEMBERS];
	__u64 at_peak[RSS_NR_MEMBERS];
	__u32 seq;
	__u32 samples;	/* --stack-sample: the samples in grown (0 when exact) */
};

/*
 * --stack-sample: a charge is a sample of pages, taken where a CPU's
 * countdown of pages reaches 0; the next gap is drawn from these quantiles of
 * a geometric distribution (the loader fills them), whose mean is the weight
 * of a sample. Each page is then a sample with probability 1 / mean, whatever
 * came before (memorylessness), so a stack's pages times its samples' weight
 * is an unbiased estimate, as in tcmalloc's and heapprofd's heap sampling.
 */
#define STACK_SAMPLE_GAPS 256

struct stack_sample_countdown {
	__s64 left;	/* pages to the next sample */
	__u64 armed;	/* left was drawn (0: draw it first) */
};

/* One frame of a user stack: the kernel's struct bpf_stack_build_id. */
struct stack_build_id_frame {
	__s32 status;		  /* 0 empty, 1 build id + file offset, 2 ip only */
	unsigned char build_id[20];
	__u64 offset;		  /* file offset (status 1) or instruction pointer (2) */
};

struct stack_frames {
	__u32 user_nr;
	__u32 kernel_nr;
	struct stack_build_id_frame user[STACK_USER_DEPTH]; /* innermost first */
	__u64 kernel[STACK_KERNEL_DEPTH];
};

/*
 * --stacks=dwarf: the first charge of a new stack sends its user registers
 * and the top of its user stack; user space unwinds it with the CFI of the
 * mapped files (src/trace/dwarf_unwind.c). regs are in the DWARF register
 * order of x86_64 (ax, dx, cx, bx, si, di, bp, sp, r8-r15, ip), which is what
 * libdw's dwfl_thread_state_registers() takes.
 */
#define STACK_SAMPLE_REGS 17
#define STACK_COPY_MAX 28672 /* a per-CPU map value must stay under 32 KiB */
struct stack_sample {
	__u32 type;	 /* REC_STACK_SAMPLE */
	__u32 tgid;
	__u32 tid;
	__u32 stack_len; /* bytes of stack[], copied from stack_addr upwards */
	__u64 stack_addr; /* sp rounded down to its page (whole pages are copied) */
	__u64 hash;	 /* the stack_key.hash it names */
	__u64 start_ns;	 /* which address space (mm_state.start_ns) */
	__u32 ppid;	 /* mm_state.ppid and exec_seq: a child that has not */
	__u32 exec_seq;	 /* exec'd maps what its parent did */
	__u64 regs[STACK_SAMPLE_REGS];
	unsigned char stack[STACK_COPY_MAX];
};

/*
 * --stacks: which charged pages are still resident ("held"), so that each
 * stack's share of a peak counts only what it had made resident and was not
 * given back by then. Each charge (each sample, with --stack-sample) is sent
 * with the address of the fault that made it; each range a traced process
 * gives back (munmap, madvise DONTNEED/REMOVE, a shrinking brk, mmap
 * MAP_FIXED over a mapping) or moves (mremap) is sent too, at the syscall.
 * User space (src/trace/held_pages.c) keeps the charges alive per address
 * space and takes each stack's value at the peak as bpf/lib/stacks.bpf.h
 * does for its counts: seq is the mm's peak_seq before the change.
 */
enum held_kind {
	HELD_CHARGE = 0, /* addr: the faulting address (0: unknown); len: pages */
	HELD_FREE = 1,	 /* [addr, addr + len) was given back */
	HELD_MOVE = 2,	 /* [addr, addr + len) now lies at to */
};

struct held_record {
	__u32 type;	/* REC_HELD */
	__u32 kind;	/* enum held_kind */
	__u64 start_ns;	/* with tgid: which address space (mm_state.start_ns) */
	__u32 tgid;
	__u32 seq;	/* the mm's peak_seq when it changed */
	__u64 addr;
	__u64 len;
	__u64 hash;	/* HELD_CHARGE: the stack (stack_key.hash) */
	__u64 to;	/* HELD_MOVE: the new start; HELD_CHARGE: the member */
	__u64 tree_seq;	/* tree_state.held_peak_seq when it changed */
};

/* --stacks: the path a traced process exec'd (to find its build id later). */
#define EXEC_PATH_LEN 256
struct exec_record {
	__u32 type; /* REC_EXEC */
	__u32 tgid;
	char filename[EXEC_PATH_LEN];
};

/*
 * Per-cgroup totals (rsstrace serve; value of the `cgroups` map, key = the
 * mm_state's cgroup_id): the sum of its address spaces' counters, updated by every event.
 */
struct cgroup_acct {
	__s64 cur[RSS_NR_MEMBERS];	/* pages */
};

/*
 * The largest FILE+ANON+SHMEM of a cgroup one CPU saw in a scrape window
 * (value of the per-CPU `cgroup_peaks` map). User space closes a window by
 * bumping `peak_epoch`; the first event of the next window on a CPU moves the
 * record to prev_*, so a window's peak can be read after it closed.
 */
struct cgroup_peak_rec {
	__u64 epoch;
	__s64 peak;		/* pages */
	__u64 prev_epoch;
	__s64 prev_peak;
};

enum record_type {
	REC_MM_END = 1,
	REC_EXIT = 2,
	REC_EXEC = 3,
	REC_OOM_KILL = 4,
	REC_STACK_SAMPLE = 5,
	REC_HELD = 6,
};

struct mm_end_record {
	__u32 type; /* REC_MM_END */
	__u32 pad;
	struct mm_state st;
};

struct exit_record {
	__u32 type; /* REC_EXIT */
	__u32 tgid;
	__s32 exit_code;
	__u32 pad;
	__u64 ns;
};

#define RSS_CGROUP_NAME_LEN 64

/*
 * The OOM killer chose a victim (oom:mark_victim, or mark_oom_victim()).
 * acct[] is rsstrace's own accounting of the victim's address space at that
 * moment (valid when has_acct); kernel_*[] are the kernel's own figures for
 * it, as the tracepoint reports them (valid when has_kernel). Pages.
 */
struct oom_kill_record {
	__u32 type; /* REC_OOM_KILL */
	__u32 tgid;
	__u64 ns;
	char comm[RSS_COMM_LEN];
	__u64 cgroup_id;		   /* kernfs id of its memory cgroup, 0 = unknown */
	char cgroup[RSS_CGROUP_NAME_LEN];  /* that cgroup's own name (its last path part) */
	__u32 has_acct;
	__u32 has_kernel;
	__s64 acct[RSS_NR_MEMBERS];
	__s64 acct_peak;		   /* the victim's traced peak RSS */
	__s64 tree[RSS_NR_MEMBERS];	   /* the traced tree's totals then */
	__u64 kernel_total_vm;
	__u64 kernel[RSS_NR_MEMBERS];
	__s32 oom_score_adj;		   /* -1001: unknown */
	__u32 uid;
};

/* What the task iterator does when user space runs it. */
enum iter_mode {
	ITER_SEED = 0,	  /* create entries for traced tgids that have none (-p attach) */
	ITER_REFRESH = 1, /* re-read counters and hiwater of every live traced mm */
	ITER_SEED_TREE = 2, /* ITER_SEED, descendants of traced processes traced first (-p) */
};

#endif
