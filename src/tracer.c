// SPDX-License-Identifier: GPL-2.0
#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rss_account.skel.h"

static int ringbuf_cb(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	t->on_record(t->ctx, data, len);
	return 0;
}

/* The kernel has tracepoint `name` if BTF knows its btf_trace_ typedef. */
static bool kernel_has_tracepoint(const struct btf *vmlinux, const char *name)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return vmlinux && btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}

int tracer_start(struct tracer *t, const struct tracer_config *cfg, record_fn fn, void *ctx,
		 const char **what)
{
	struct rss_account_bpf *s;
	struct btf *vmlinux;
	int err, ncpus;

	memset(t, 0, sizeof(*t));
	t->on_record = fn;
	t->ctx = ctx;

	*what = "open the BPF object";
	s = rss_account_bpf__open();
	if (!s)
		return -errno ? -errno : -EINVAL;
	t->skel = s;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		*what = "count the possible CPUs";
		return ncpus ? ncpus : -EINVAL;
	}
	s->rodata->nr_cpus = (uint32_t)ncpus;
	s->rodata->follow_children = cfg->follow_children;
	s->rodata->break_verifier = getenv("RSSTRACE_TEST_BREAK_VERIFIER") != NULL;
	bpf_map__set_max_entries(s->maps.mms, cfg->map_entries);
	bpf_map__set_max_entries(s->maps.traced, cfg->map_entries);
	bpf_map__set_max_entries(s->maps.records, cfg->ringbuf_bytes);

	/* exit_mmap (6.1+) is only a backstop: without it, teardown is still seen
	 * by the first counter change after the last user left. */
	vmlinux = btf__load_vmlinux_btf();
	t->have_exit_mmap = kernel_has_tracepoint(vmlinux, "exit_mmap");
	btf__free(vmlinux);
	bpf_program__set_autoattach(s->progs.seed_task, false); /* run on demand */
	if (!t->have_exit_mmap) {
		bpf_program__set_autoload(s->progs.exit_mmap_btf, false);
		vlog("hook: mmap:exit_mmap not in this kernel; teardown seen from rss_stat only");
	}

	*what = "load the BPF programs";
	err = rss_account_bpf__load(s);
	if (err)
		return err;
	*what = "measure the per-CPU offsets";
	err = tracer_run_iter(t, ITER_INIT);
	if (err)
		return err;
	if (!s->bss->cpu_off_ready)
		wlog("per-CPU counter offsets unknown: counts are approximate (within the kernel's per-CPU batch)");
	*what = "attach the BPF programs";
	err = rss_account_bpf__attach(s);
	if (err)
		return err;
	vlog("hook: rss change      -> tp_btf/rss_stat (exact per-CPU sum over %d CPUs)", ncpus);
	vlog("hook: fork/exec/exit  -> tp_btf/sched_process_fork, _exec, _exit");
	vlog("hook: seed at attach  -> iter/task");

	*what = "set up the ring buffer";
	t->rb = ring_buffer__new(bpf_map__fd(s->maps.records), ringbuf_cb, t, NULL);
	if (!t->rb)
		return -errno ? -errno : -EINVAL;
	return 0;
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

	if (bpf_map_delete_elem(bpf_map__fd(t->skel->maps.traced), &key))
		return false;
	__sync_fetch_and_add(&t->skel->bss->tree.live_tgids, -1);
	__sync_fetch_and_add(&t->skel->bss->tree.tgids_seen, -1);
	return true;
}

int tracer_run_iter(struct tracer *t, enum iter_mode mode)
{
	struct bpf_link *link;
	char buf[64];
	int fd, n, err = 0;

	t->skel->bss->iter_mode = mode;
	link = bpf_program__attach_iter(t->skel->progs.seed_task, NULL);
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

int tracer_foreach_live(struct tracer *t, void (*fn)(void *ctx, const struct mm_state *st),
			void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.mms);
	uint64_t key, next;
	struct mm_state st;
	uint64_t *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &st))
			fn(ctx, &st);
	}
	return 0;
}

struct find_tgid {
	int tgid;
	bool found;
};

static void match_tgid(void *ctx, const struct mm_state *st)
{
	struct find_tgid *f = ctx;

	if ((int)st->tgid == f->tgid)
		f->found = true;
}

bool tracer_has_mm_of(struct tracer *t, int tgid)
{
	struct find_tgid f = { .tgid = tgid };

	tracer_foreach_live(t, match_tgid, &f);
	return f.found;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

void tracer_tree(struct tracer *t, struct tree_state *out)
{
	*out = t->skel->bss->tree;
}

void tracer_losses(struct tracer *t, struct loss_counters *out)
{
	*out = t->skel->bss->loss;
}

uint64_t tracer_approx_reads(struct tracer *t)
{
	return t->skel->bss->approx_reads;
}

void tracer_stop(struct tracer *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	rss_account_bpf__destroy(t->skel);
	t->skel = NULL;
}
