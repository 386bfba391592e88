// SPDX-License-Identifier: GPL-2.0
#include "trace/footprint_loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "footprint.skel.h"
#include "core/hooks.h"
#include "rss_account.skel.h"
#include "core/tracer.h"

int footprint_start(struct fp_state *fp, struct tracer *t, const struct hooks *hk, uint32_t max_pages,
		    uint32_t max_owners, const char **what)
{
	struct footprint_bpf *s;
	int err;

	*what = "open the footprint BPF object";
	s = footprint_bpf__open_opts(bpf_open_opts());
	if (!s)
		return -errno ? -errno : -EINVAL;
	fp->skel = s;
	s->rodata->rmap_has_vma = hk->rmap_has_vma;
	/* do_page_add_anon_rmap always takes flags; page_add_anon_rmap since 6.0 */
	s->rodata->anon_rmap_flags = hk->anon_rmap_flags;
	s->rodata->new_anon_has_compound = hk->new_anon_has_compound;
	bpf_map__set_max_entries(s->maps.fp_pages, max_pages);
	bpf_map__set_max_entries(s->maps.fp_owners, max_owners);
	*what = "share the traced address spaces with the footprint programs";
	bpf_map__set_max_entries(s->maps.mms, bpf_map__max_entries(t->skel->maps.mms));
	bpf_map__set_max_entries(s->maps.mm_states, bpf_map__max_entries(t->skel->maps.mm_states));
	err = bpf_map__reuse_fd(s->maps.mms, bpf_map__fd(t->skel->maps.mms));
	if (!err)
		err = bpf_map__reuse_fd(s->maps.mm_states, bpf_map__fd(t->skel->maps.mm_states));
	if (err)
		return err;
	hooks_configure(hk, s->obj);
	*what = "load the footprint BPF programs";
	err = footprint_bpf__load(s);
	if (err)
		return err;
	*what = "attach the footprint BPF programs";
	return footprint_bpf__attach(s);
}

static int cmp_owner(const void *pa, const void *pb)
{
	const struct fp_owner *a = pa, *b = pb;

	if (a->peak != b->peak)
		return a->peak < b->peak ? 1 : -1;
	return a->tgid < b->tgid ? -1 : a->tgid > b->tgid;
}

static int read_owners(struct fp_state *fp, struct fp_result *out)
{
	int fd = bpf_map__fd(fp->skel->maps.fp_owners);
	uint32_t cap = bpf_map__max_entries(fp->skel->maps.fp_owners), key, next, *prev = NULL;

	out->owners = calloc(cap ? cap : 1, sizeof(*out->owners));
	if (!out->owners)
		return -ENOMEM;
	while (out->nowners < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &out->owners[out->nowners]))
			out->nowners++;
	}
	if (out->nowners)
		qsort(out->owners, out->nowners, sizeof(*out->owners), cmp_owner);
	return 0;
}

int footprint_read(struct fp_state *fp, struct fp_result *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct fp_peak *recs;
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	if (!fp->skel)
		return -EINVAL;
	out->rmap = true;
	out->max_pages = bpf_map__max_entries(fp->skel->maps.fp_pages);
	memcpy(out->cur, (const void *)fp->skel->bss->fp_cur, sizeof(out->cur));
	out->loss = fp->skel->bss->fp_loss;
	recs = ncpus > 0 ? calloc(ncpus, sizeof(*recs)) : NULL;
	if (!recs)
		return -ENOMEM;
	/* the peak: the largest of the per-CPU records */
	if (!bpf_map_lookup_elem(bpf_map__fd(fp->skel->maps.fp_peaks), &zero, recs))
		for (int c = 0; c < ncpus; c++)
			if (recs[c].peak > out->peak.peak)
				out->peak = recs[c];
	free(recs);
	return read_owners(fp, out);
}

void footprint_result_free(struct fp_result *r)
{
	free(r->owners);
	r->owners = NULL;
	r->nowners = 0;
}

void footprint_stop(struct fp_state *fp)
{
	footprint_bpf__destroy(fp->skel);
	fp->skel = NULL;
}

uint64_t footprint_owner_pages(struct fp_state *fp, uint32_t tgid)
{
	struct fp_owner o;
	int64_t n;

	if (!fp->skel || bpf_map_lookup_elem(bpf_map__fd(fp->skel->maps.fp_owners), &tgid, &o))
		return 0;
	n = o.cur[FP_ANON] + o.cur[FP_FILE] + o.cur[FP_SHMEM];
	return n > 0 ? (uint64_t)n : 0;
}
