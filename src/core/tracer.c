// SPDX-License-Identifier: GPL-2.0
#include "core/tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/log.h"
#include "rss_account.skel.h"
#include "rss_math.h"

/*
 * The rss_account BPF object comes in flavours (Makefile BPF_FLAVOURS): the
 * same programs, maps and variables compiled for what different kernels
 * accept. The build checks that every flavour's skeleton equals the default
 * one's but for the embedded bytes, so one skeleton type, struct
 * rss_account_bpf (generated from the default flavour, whose bytes it
 * carries), drives them all; only the ELF bytes it opens differ, chosen here.
 * The other flavours' bytes are embedded by src/core/bpf_flavour.S.
 */
struct flavour {
	const char *start, *end; /* NULL: the skeleton's own bytes (default) */
};

#define EMBEDDED_FLAVOUR(f)                                                  \
	extern const char rss_account_bpf_##f[], rss_account_bpf_##f##_end[]; \
	static const struct flavour flavour_##f = { rss_account_bpf_##f, rss_account_bpf_##f##_end }

static const struct flavour flavour_default = { NULL, NULL };
EMBEDDED_FLAVOUR(compat);
EMBEDDED_FLAVOUR(nofetch);
#ifdef RSSTRACE_TEST_HOOKS
/* Test build only (make sanitize): fork_btf does not verify, so that the suite
 * can check how a load failure is reported. */
EMBEDDED_FLAVOUR(broken);
#endif

static int ringbuf_cb(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	t->on_record(t->ctx, data, len);
	return 0;
}

static bool in_vmlinux_btf(const char *name, int kind)
{
	const struct btf *vmlinux = vmlinux_btf();

	return vmlinux && btf__find_by_name_kind(vmlinux, name, kind) > 0;
}

/* up to 6.1: struct mm_rss_stat of atomics (see bpf/lib/core_fixes.bpf.h) */
static bool counters_are_percpu(void)
{
	return !in_vmlinux_btf("mm_rss_stat", BTF_KIND_STRUCT);
}

/*
 * Reads from shadows (bpf/lib/shadow.bpf.h) for an address space once it ran
 * on SHADOW_FROM_CPUS CPUs: below, the sum over its CPUs costs less than the
 * shadows' own lookup (bench/percpu.py, docs/performance.md). Their map holds
 * a shadow per possible CPU (64 bytes) for each such address space, allocated
 * as used: 16 MiB of them at most (2,048 address spaces at 128 possible
 * CPUs); one that does not fit is read by the sum.
 */
#define SHADOW_FROM_CPUS 4
#define SHADOW_MAP_BYTES (16u << 20)

static void set_shadows(struct rss_account_bpf *s, bool used, int ncpus)
{
	uint32_t size = (uint32_t)ncpus * sizeof(struct cpu_shadow);
	uint32_t entries = SHADOW_MAP_BYTES / size;

	s->rodata->shadow_from_cpus = used ? SHADOW_FROM_CPUS : 0;
#ifdef RSSTRACE_TEST_HOOKS
	/* tests: shadows from this many CPUs on (1: every address space) */
	if (used && getenv("RSSTRACE_TEST_SHADOW_FROM_CPUS"))
		s->rodata->shadow_from_cpus = (uint32_t)atoi(getenv("RSSTRACE_TEST_SHADOW_FROM_CPUS"));
#endif
	if (!s->rodata->shadow_from_cpus) {
		/* one preallocated entry: before 6.1 (34dd3bad1a6f "bpf: Relax
		 * the requirement to use preallocated hash maps in tracing
		 * progs") a program that names a map allocated as used does not
		 * load, even where the code that uses it is dead */
		entries = 1;
		bpf_map__set_map_flags(s->maps.mm_shadows, 0);
	}
	bpf_map__set_value_size(s->maps.mm_shadows, size);
	bpf_map__set_max_entries(s->maps.mm_shadows, entries < 4096 ? entries : 4096);
}

/* Which flavour this kernel takes: decided by probing, never by version. */
static const struct flavour *choose_flavour(void)
{
#ifdef RSSTRACE_TEST_HOOKS
	if (getenv("RSSTRACE_TEST_BREAK_VERIFIER"))
		return &flavour_broken;
#endif
	if (!probe_fetch_atomics()) {
		vlog("this kernel has no fetch-atomics (5.12+): using the build without them; "
		     "the tree totals can drift when two CPUs change one counter at once");
		return &flavour_nofetch;
	}
	if (counters_are_percpu() && in_vmlinux_btf("bpf_rdonly_cast", BTF_KIND_FUNC))
		return &flavour_default;
	vlog("using the build without the bpf_rdonly_cast kfunc");
	return &flavour_compat;
}

/* rss_account_bpf__open(), on the chosen flavour's bytes. */
static struct rss_account_bpf *open_flavour(const struct flavour *f)
{
	struct rss_account_bpf *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	err = rss_account_bpf__create_skeleton(s);
	if (!err && f->start) {
		s->skeleton->data = (void *)f->start;
		s->skeleton->data_sz = (size_t)(f->end - f->start);
	}
	if (!err)
		err = bpf_object__open_skeleton(s->skeleton, bpf_open_opts());
	if (err) {
		rss_account_bpf__destroy(s);
		errno = -err;
		return NULL;
	}
	return s;
}

/* The tracepoints that say where charged pages stop being resident
 * (bpf/held.bpf.c), one name per program. */
static const char *const held_events[] = {
	"exceptions/page_fault_user", "syscalls/sys_enter_munmap",
	"syscalls/sys_enter_madvise", "syscalls/sys_enter_mmap", "syscalls/sys_enter_brk",
	"syscalls/sys_enter_mremap", "syscalls/sys_exit_mremap",
};

/* --stacks: which charges are still resident at the peak, where every one
 * of those tracepoints exists (else the output says it was not measured);
 * charges and ranges share the stack sample ring, sized for bursts. */
static void set_held_programs(struct rss_account_bpf *s, bool stacks)
{
	struct bpf_program *progs[] = {
		s->progs.held_fault_user, s->progs.held_munmap,
		s->progs.held_madvise, s->progs.held_mmap, s->progs.held_brk,
		s->progs.held_mremap_enter, s->progs.held_mremap_exit,
	};
	bool on = stacks;

	for (size_t i = 0; on && i < sizeof(held_events) / sizeof(held_events[0]); i++)
		on = tracefs_has_event(held_events[i]);
	if (stacks && !on)
		vlog("--stacks: no fault or memory syscall tracepoints: what is held at the peak is not measured");
	s->rodata->held_on = on;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], on);
	if (on)
		bpf_map__set_max_entries(s->maps.stack_samples, 16 << 20);
	else
		bpf_map__set_max_entries(s->maps.fault_stash, 1);
}

/* Before 5.12 the programs cannot count slots out of mm_states (no
 * fetch-atomics): every slot starts in the free queue (bpf/account.bpf.c's
 * take_slot()). 65,536 pushes. */
static int free_every_slot(struct rss_account_bpf *s, uint32_t slots)
{
	int fd = bpf_map__fd(s->maps.free_slots);

	for (uint32_t slot = 0; slot < slots; slot++)
		if (bpf_map_update_elem(fd, NULL, &slot, BPF_ANY))
			return -errno;
	return 0;
}

static int open_and_load(struct tracer *t, const struct tracer_config *cfg, const char **what)
{
	const struct flavour *flavour = choose_flavour();
	struct rss_account_bpf *s;
	struct hooks *hk = cfg->hooks;
	bool percpu, exec_view, lean;
	int ncpus, err;

	*what = "open the BPF object";
	s = open_flavour(flavour);
	if (!s)
		return -errno ? -errno : -EINVAL;
	t->skel = s;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		*what = "count the possible CPUs";
		return ncpus ? ncpus : -EINVAL;
	}
	if (ncpus > RSS_MAX_CPUS) {
		_Static_assert(RSS_MAX_CPUS == 1024, "the message below names it");
		*what = "trace on more than 1024 possible CPUs (the exact counter reads cover that many)";
		return -E2BIG;
	}
#ifdef RSSTRACE_TEST_HOOKS
	/* tests: the BPF side as a machine with this many possible CPUs loads it
	 * (the CPUs that do not exist read as offset 0: a fault, read as 0) */
	if (getenv("RSSTRACE_TEST_POSSIBLE_CPUS"))
		ncpus = atoi(getenv("RSSTRACE_TEST_POSSIBLE_CPUS"));
#endif
	s->rodata->nr_cpus = (uint32_t)ncpus;
	s->rodata->follow_children = cfg->follow_children;
	s->rodata->trace_all = cfg->trace_all;
	s->rodata->per_cgroup = cfg->cgroup_entries > 0;
	s->rodata->names_followed = hk->h[LH_RENAME].chosen >= 0;
	s->rodata->watch_cgroup_id = cfg->watch_cgroup_id;
	s->rodata->watch_hierarchy_id = cfg->watch_hierarchy_id;
	s->rodata->self_tgid = (uint32_t)getpid();
	s->rodata->rmap_has_vma = hk->rmap_has_vma;
	s->rodata->wp_from_fault_tp = hk->h[LH_WP].chosen >= 0 && hk->h[LH_FAULT].chosen >= 0 &&
				      !hook_is_function(hk, LH_WP);
	bpf_map__set_max_entries(s->maps.mms, cfg->map_entries);
	bpf_map__set_max_entries(s->maps.mm_states, cfg->map_entries);
	bpf_map__set_max_entries(s->maps.free_slots, cfg->map_entries);
	s->rodata->nr_slots = cfg->map_entries;
	bpf_map__set_max_entries(s->maps.traced, cfg->map_entries);
	bpf_map__set_max_entries(s->maps.records, cfg->ringbuf_bytes);
	s->rodata->stacks_on = cfg->stacks;
	s->rodata->kernel_stacks_on = cfg->stacks && cfg->kernel_stacks;
	if (cfg->stacks) {
		bpf_map__set_max_entries(s->maps.stack_counts, cfg->stack_entries);
		bpf_map__set_max_entries(s->maps.cow_counts, cfg->stack_entries);
		/* distinct stacks are far fewer than (mm, stack) pairs */
		bpf_map__set_max_entries(s->maps.stack_frames, cfg->stack_entries / 4 + 1024);
	}
	if (cfg->stacks && cfg->stack_sample_pages) {
		s->rodata->stack_sample_pages = cfg->stack_sample_pages;
		memcpy((void *)s->rodata->stack_sample_gaps, cfg->stack_sample_gaps,
		       sizeof(s->rodata->stack_sample_gaps));
	}
	s->rodata->dwarf_on = cfg->stacks && cfg->stacks_dwarf;
	set_held_programs(s, cfg->stacks);
	if (s->rodata->dwarf_on) {
		s->rodata->stack_copy_pages = cfg->stack_copy_bytes / 4096;
		/* samples are sent once per new stack and read at once, but
		 * a burst of new processes sends thousands: 4 MiB lost 283 of
		 * 4.9k in pyenv's python3 wrapper (bash forking ~80 processes) */
		bpf_map__set_max_entries(s->maps.stack_samples, 16 << 20);
	}
	/* unused without per_cgroup: one entry each, not the default thousands */
	bpf_map__set_max_entries(s->maps.cgroups, cfg->cgroup_entries ? cfg->cgroup_entries : 1);
	bpf_map__set_max_entries(s->maps.cgroup_peaks, cfg->cgroup_entries ? cfg->cgroup_entries : 1);
	hooks_configure(hk, s->obj);
	/* chosen only when --cgroup-path asked for it; the trace then has an id */
	bpf_program__set_autoload(s->progs.cgroup_attach_btf,
				  cfg->watch_cgroup_id && hk->h[LH_CGROUP_ENTER].chosen >= 0);
	/* the iterators run on demand, not at attach */
	bpf_program__set_autoattach(s->progs.seed_task, false);
	bpf_program__set_autoattach(s->progs.init_cpu_offsets, false);
	percpu = counters_are_percpu();
	bpf_program__set_autoload(s->progs.init_cpu_offsets, percpu);
	/* bpf/account.bpf.c exit_view_claims: not used where exits fold nothing */
	if (percpu)
		bpf_map__set_max_entries(s->maps.exit_view_claims, 1);
	/* the shadows' code is in the default flavour only (its kfunc) */
	set_shadows(s, percpu && flavour == &flavour_default, ncpus);
	/* bpf/account.bpf.c rss_stat_lean (rss_stat_leancg with the per-cgroup
	 * totals: serve): in rss_stat_btf's place, without the features it
	 * leaves out (held_on is only ever set with --stacks:
	 * set_held_programs()); not with shadows from fewer than 3 CPUs (a test
	 * switch): it reads an address space on 1 or 2 CPUs inline, never from
	 * its shadows */
	lean = percpu && flavour == &flavour_default && !cfg->stacks &&
	       !(s->rodata->shadow_from_cpus && s->rodata->shadow_from_cpus < 3) &&
	       bpf_program__autoload(s->progs.rss_stat_btf);
	bpf_program__set_autoload(s->progs.rss_stat_lean, lean && !s->rodata->per_cgroup);
	bpf_program__set_autoload(s->progs.rss_stat_leancg, lean && s->rodata->per_cgroup);
	if (lean)
		bpf_program__set_autoload(s->progs.rss_stat_btf, false);
	/* up to 6.1: /proc's view at execve() entry (bpf/account.bpf.c) */
	exec_view = !percpu && tracefs_has_event("syscalls/sys_enter_execve");
	bpf_program__set_autoload(s->progs.execve_enter, exec_view);
	bpf_program__set_autoload(s->progs.execveat_enter, exec_view);
	bpf_program__set_autoload(s->progs.execve_exit, exec_view);
	bpf_program__set_autoload(s->progs.execveat_exit, exec_view);
	/* top's USER: a worker that drops root after fork (nginx, PostgreSQL,
	 * sshd) is shown under its new user. Only for top: each classic
	 * tracepoint costs its detach at the end (~40 ms) */
	bpf_program__set_autoload(s->progs.setuid_exit, cfg->users && tracefs_has_event("syscalls/sys_exit_setuid"));
	bpf_program__set_autoload(s->progs.setreuid_exit,
				  cfg->users && tracefs_has_event("syscalls/sys_exit_setreuid"));
	bpf_program__set_autoload(s->progs.setresuid_exit,
				  cfg->users && tracefs_has_event("syscalls/sys_exit_setresuid"));
	if (!percpu)
		vlog("per-task RSS caches (<= 6.1): rows agree with /proc, lag included%s",
		     exec_view ? "" : "; no execve tracepoints, so an exec's row may include a late fold");

	*what = "load the BPF programs";
	err = rss_account_bpf__load(s);
	t->load_refused = err != 0;
	if (!err && flavour == &flavour_nofetch) {
		*what = "fill the free slots of the address spaces' states";
		err = free_every_slot(s, cfg->map_entries);
	}
	return err;
}

int tracer_start(struct tracer *t, const struct tracer_config *cfg, record_fn fn, void *ctx,
		 const char **what)
{
	struct rss_account_bpf *s;
	int err;

	memset(t, 0, sizeof(*t));
	t->on_record = fn;
	t->ctx = ctx;
	err = open_and_load(t, cfg, what);
	if (err && hooks_drop_causes(cfg->hooks)) {
		/* an optional hook may have broken the load: try without them, and
		 * say so only if that was it */
		int first = err;

		rss_account_bpf__destroy(t->skel);
		t->skel = NULL;
		err = open_and_load(t, cfg, what);
		if (!err)
			wlog("the optional hooks (--causes, --stacks' cow copy, oom kill) could not be loaded (%s); tracing without them",
			     strerror(-first));
	}
	vmlinux_btf_release();
	if (err)
		return err;
	s = t->skel;

	if (bpf_program__autoload(s->progs.init_cpu_offsets)) {
		*what = "measure the per-CPU offsets";
		err = tracer_run_iter(t, s->progs.init_cpu_offsets, ITER_SEED);
		if (err)
			return err;
		if (!s->bss->cpu_off_ready)
			wlog("per-CPU counter offsets unknown: counts are approximate (within the kernel's per-CPU batch)");
	}
	*what = "attach the BPF programs";
	err = rss_account_bpf__attach(s);
	if (err)
		return err;

	*what = "set up the ring buffer";
	t->rb = ring_buffer__new(bpf_map__fd(s->maps.records), ringbuf_cb, t, NULL);
	if (!t->rb)
		return -errno ? -errno : -EINVAL;
	if (s->rodata->dwarf_on || s->rodata->held_on) {
		*what = "set up the stack sample ring buffer";
		err = ring_buffer__add(t->rb, bpf_map__fd(s->maps.stack_samples), ringbuf_cb, t);
		if (err)
			return err;
	}
	return 0;
}

int tracer_start_all(struct tracer *t, struct tracer_config *cfg, record_fn fn, void *ctx, const char **what)
{
	int err;

	cfg->trace_all = true;
	cfg->follow_children = true;
	err = tracer_start(t, cfg, fn, ctx, what);
	if (err)
		return err;
	/* every existing process at once: one pass of the task iterator */
	*what = "read the existing processes";
	return tracer_seed(t);
}

int tracer_add_tgid(struct tracer *t, int tgid, int ppid)
{
	struct traced_task tt = { .next_exec_seq = 0, .ppid = (uint32_t)ppid };
	uint32_t key = (uint32_t)tgid;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.traced), &key, &tt, BPF_NOEXIST))
		return -errno;
	__sync_fetch_and_add(&t->skel->bss->tree.live_tgids, 1);
	__sync_fetch_and_add(&t->skel->bss->tree.tgids_seen, 1);
	return 0;
}

bool tracer_drop_tgid(struct tracer *t, int tgid)
{
	uint32_t key = (uint32_t)tgid;

	bool was = !bpf_map_delete_elem(bpf_map__fd(t->skel->maps.traced), &key);

	/* if the kernel saw it exit first, it took it out of live_tgids; it
	 * was never traced all the same, so it leaves tgids_seen either way */
	if (was)
		__sync_fetch_and_add(&t->skel->bss->tree.live_tgids, -1);
	__sync_fetch_and_add(&t->skel->bss->tree.tgids_seen, -1);
	return was;
}

int tracer_run_iter(struct tracer *t, struct bpf_program *prog, enum iter_mode mode)
{
	struct bpf_link *link;
	char buf[64];
	int fd, n, err = 0;

	t->skel->bss->iter_mode = mode;
	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
	} else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			err = -errno;
		close(fd);
	}
	bpf_link__destroy(link);
	return err;
}

/* The state in a slot, if it is still key's: the mm may have ended, and its
 * slot been taken by another, since mms was read. */
static bool read_state(int states_fd, uint64_t key, uint32_t slot, struct mm_state *out)
{
	return !bpf_map_lookup_elem(states_fd, &slot, out) && out->mm == key;
}

int tracer_foreach_live(struct tracer *t, void (*fn)(void *ctx, const struct mm_state *st),
			void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.mms);
	int states_fd = bpf_map__fd(t->skel->maps.mm_states);
	uint64_t key, next;
	struct mm_state st;
	uint64_t *prev = NULL;
	uint32_t slot;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &slot) && read_state(states_fd, key, slot, &st))
			fn(ctx, &st);
	}
	return 0;
}

struct live_copy {
	struct mm_state *out;
	uint32_t n, max;
};

static void copy_live(void *ctx, const struct mm_state *st)
{
	struct live_copy *c = ctx;

	if (c->n < c->max)
		c->out[c->n++] = *st;
}

/* Keys and slots per batch of tracer_read_live() (its static buffers). */
#define LIVE_CHUNK (1U << 16)

int tracer_read_live(struct tracer *t, struct mm_state *out, uint32_t max)
{
	int fd = bpf_map__fd(t->skel->maps.mms);
	int states_fd = bpf_map__fd(t->skel->maps.mm_states);
	static uint64_t keys[LIVE_CHUNK];
	static uint32_t slots[LIVE_CHUNK];
	struct live_copy copy = { out, 0, max };
	uint64_t batch = 0;
	uint32_t n = 0;
	bool first = true;
	int err;

	/* the keys and slots one syscall per chunk (5.6+), then each state;
	 * element by element otherwise */
	while (n < max) {
		uint32_t count = max - n < LIVE_CHUNK ? max - n : LIVE_CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		/* the batch's errno, before the states' lookups can change it */
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, slots, &count, &opts) ? errno : 0;
		first = false;
		for (uint32_t i = 0; i < count; i++)
			n += read_state(states_fd, keys[i], slots[i], &out[n]);
		if (err) {
			if (err == ENOENT)
				return (int)n; /* done */
			if (err == EINVAL || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */)
				break;
			return -err;
		}
	}
	if (n >= max)
		return (int)n;
	tracer_foreach_live(t, copy_live, &copy);
	return (int)copy.n;
}

uint64_t tracer_count_tasks(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.traced);
	uint32_t key, next, *prev = NULL;
	uint64_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

int tracer_owners(struct tracer *t, uint32_t **tgids)
{
	uint32_t cap = bpf_map__max_entries(t->skel->maps.mms);
	struct mm_state *live = calloc(cap, sizeof(*live));
	int n;

	*tgids = NULL;
	if (!live)
		return -ENOMEM;
	n = tracer_read_live(t, live, cap);
	if (n >= 0) {
		*tgids = malloc((n ? n : 1) * sizeof(**tgids));
		if (!*tgids) {
			n = -ENOMEM;
		} else {
			for (int i = 0; i < n; i++)
				(*tgids)[i] = live[i].tgid;
			qsort(*tgids, n, sizeof(**tgids), tracer_cmp_tgid);
		}
	}
	free(live);
	return n;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
	/* The BPF side wakes us only when the buffer fills up (it saves an IPI
	 * per record): after the wait, always read what is there. */
	int n = ring_buffer__poll(t->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	return ring_buffer__consume(t->rb);
}

void tracer_tree(struct tracer *t, struct tree_state *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct tree_peak_rec *recs;
	uint32_t zero = 0;

	*out = t->skel->bss->tree;
	out->rss = rss_pages(out->cur);
	out->peak = 0;
	/* the tree peak: the largest of the per-CPU records */
	recs = ncpus > 0 ? calloc(ncpus, sizeof(*recs)) : NULL;
	if (!recs)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.tree_peaks), &zero, recs)) {
		for (int c = 0; c < ncpus; c++) {
			if (recs[c].peak <= out->peak)
				continue;
			out->peak = recs[c].peak;
			memcpy(out->peak_part, recs[c].part, sizeof(out->peak_part));
			out->peak_ns = recs[c].ns;
			out->peak_procs = recs[c].procs;
		}
	}
	free(recs);
}

void tracer_losses(struct tracer *t, struct loss_counters *out)
{
	*out = t->skel->bss->loss;
}

int tracer_poll_fd(struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

uint64_t tracer_map_capacity(struct tracer *t, enum tracer_map m)
{
	struct bpf_map *maps[] = { t->skel->maps.mms, t->skel->maps.traced, t->skel->maps.cgroups };

	return bpf_map__max_entries(maps[m]);
}

/* How many cgroup records the per-CPU map read needs: one value per possible CPU. */
static int cgroup_recs_per_key(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

int tracer_close_window(struct tracer *t, struct cgroup_window *out, uint32_t max)
{
	int acct_fd = bpf_map__fd(t->skel->maps.cgroups);
	int peak_fd = bpf_map__fd(t->skel->maps.cgroup_peaks);
	int ncpus = cgroup_recs_per_key();
	struct cgroup_peak_rec *recs = calloc(ncpus, sizeof(*recs));
	uint64_t old, key, next, *prev = NULL;
	uint32_t n = 0;

	if (!recs)
		return -ENOMEM;
	/* close the window first: events from now on belong to the next one */
	old = __atomic_fetch_add(&t->skel->bss->peak_epoch, 1, __ATOMIC_SEQ_CST);
	while (n < max && !bpf_map_get_next_key(acct_fd, prev, &next)) {
		struct cgroup_window *w = &out[n];
		struct cgroup_acct acct;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(acct_fd, &key, &acct))
			continue; /* never deleted: cannot happen, but do not use garbage */
		memset(w, 0, sizeof(*w));
		w->id = key;
		memcpy(w->cur, acct.cur, sizeof(w->cur));
		if (!bpf_map_lookup_elem(peak_fd, &key, recs)) {
			for (int c = 0; c < ncpus; c++) {
				int64_t p = recs[c].epoch == old ? recs[c].peak :
					    recs[c].prev_epoch == old ? recs[c].prev_peak : 0;

				if (p > w->window_peak)
					w->window_peak = p;
			}
		}
		n++;
	}
	free(recs);
	return (int)n;
}

void tracer_inexact_reads(struct tracer *t, uint64_t *approx, uint64_t *unsettled)
{
	*approx = t->skel->bss->approx_reads;
	*unsettled = t->skel->bss->unsettled_sums;
}

void tracer_shadows(struct tracer *t, uint64_t *made, uint64_t *full)
{
	*made = t->skel->bss->shadows_made;
	*full = t->skel->bss->shadows_full;
}

bool tracer_held_on(const struct tracer *t)
{
	return t->skel && t->skel->rodata->held_on;
}

int tracer_map_fd(struct tracer *t, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->skel->obj, name);

	return m ? bpf_map__fd(m) : -1;
}

void tracer_stop(struct tracer *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	rss_account_bpf__destroy(t->skel);
	t->skel = NULL;
}

int tracer_seed(struct tracer *t)
{
	return tracer_run_iter(t, t->skel->progs.seed_task, ITER_SEED);
}

int tracer_seed_tree(struct tracer *t)
{
	int err = tracer_run_iter(t, t->skel->progs.seed_task, ITER_SEED_TREE);

	/* A second pass finds the child that a not yet marked descendant forked
	 * during the first at a lower pid than the iterator had reached (pid
	 * numbers wrapped): everything marked since then is followed at fork. */
	return err ? err : tracer_run_iter(t, t->skel->progs.seed_task, ITER_SEED_TREE);
}

int tracer_refresh(struct tracer *t)
{
	return tracer_run_iter(t, t->skel->progs.seed_task, ITER_REFRESH);
}

void tracer_print_start_error(const struct tracer *t, int err, const char *what)
{
	if (t->load_refused)
		elog("the kernel refused to load the BPF programs (%s)%s", strerror(-err),
		     log_verbose ? ": see the verifier's log above" : "; run with -v to see the verifier's log");
	else
		elog("cannot %s: %s", what, strerror(-err));
}
