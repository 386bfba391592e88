// SPDX-License-Identifier: GPL-2.0
#include "output/pprof_writer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/array.h"
#include "core/intern.h"
#include "profile.pb-c.h"

struct sample_rec {
	Perftools__Profiles__Sample msg;
	Perftools__Profiles__Label label, *labelp;
};

struct location_rec {
	Perftools__Profiles__Location msg;
	Perftools__Profiles__Line line, *linep;
};

struct mapping_rec {
	Perftools__Profiles__Mapping msg;
	bool offsets; /* its addresses are file offsets */
	bool placed;  /* has a location: its range is set */
};

struct pprof {
	struct intern strings, functions, locations, mappings;
	char **strs;
	size_t nstrs, strs_cap;
	Perftools__Profiles__ValueType *types;
	size_t ntypes, types_cap;
	int64_t *comments;
	size_t ncomments, comments_cap;
	int64_t default_type;
	int64_t time_ns, duration_ns;
	Perftools__Profiles__Function *funcs;
	size_t nfuncs, funcs_cap;
	struct location_rec *locs;
	size_t nlocs, locs_cap;
	struct mapping_rec *maps;
	size_t nmaps, maps_cap;
	struct sample_rec *samples;
	size_t nsamples, samples_cap;
	bool oom; /* something was not added: the profile would be wrong */
};

/* The id of key in t, whose rows are the array *arr (n of them, of elem
 * bytes): a new key (*added) gets room for its row, for the caller to fill.
 * Returns 0, and marks the profile unwritable, if memory ran out. */
static uint64_t intern_row(struct pprof *p, struct intern *t, const void *key, size_t len, void **arr,
			   size_t *cap, size_t n, size_t elem, bool *added)
{
	uint64_t id = intern(t, key, len, added);

	if (!id || (*added && !array_grow(arr, cap, n, elem))) {
		p->oom = true;
		return 0;
	}
	return id;
}

/* The string table index of s ("" is index 0, as the format requires). */
static int64_t str_index(struct pprof *p, const char *s)
{
	bool added;
	uint64_t id = intern_row(p, &p->strings, s, strlen(s), (void **)&p->strs, &p->strs_cap, p->nstrs,
				 sizeof(*p->strs), &added);

	if (!id)
		return 0;
	if (added) {
		p->strs[p->nstrs] = strdup(s);
		if (!p->strs[p->nstrs])
			p->oom = true;
		p->nstrs++;
	}
	return (int64_t)id - 1;
}

struct pprof *pprof_new(void)
{
	struct pprof *p = calloc(1, sizeof(*p));

	if (p && (str_index(p, ""), p->oom)) {
		pprof_free(p);
		return NULL;
	}
	return p;
}

void pprof_free(struct pprof *p)
{
	if (!p)
		return;
	intern_free(&p->strings);
	intern_free(&p->functions);
	intern_free(&p->locations);
	intern_free(&p->mappings);
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	for (size_t i = 0; i < p->nsamples; i++) {
		free(p->samples[i].msg.location_id);
		free(p->samples[i].msg.value);
	}
	free(p->strs);
	free(p->types);
	free(p->comments);
	free(p->funcs);
	free(p->locs);
	free(p->maps);
	free(p->samples);
	free(p);
}

int pprof_sample_type(struct pprof *p, const char *type, const char *unit, int def)
{
	Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;

	if (!array_grow((void **)&p->types, &p->types_cap, p->ntypes, sizeof(*p->types)))
		return -ENOMEM;
	vt.type = str_index(p, type);
	vt.unit = str_index(p, unit);
	p->types[p->ntypes++] = vt;
	if (def)
		p->default_type = vt.type;
	return p->oom ? -ENOMEM : 0;
}

void pprof_time(struct pprof *p, int64_t time_ns, int64_t duration_ns)
{
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
}

int pprof_comment(struct pprof *p, const char *text)
{
	if (!array_grow((void **)&p->comments, &p->comments_cap, p->ncomments, sizeof(*p->comments)))
		return -ENOMEM;
	p->comments[p->ncomments++] = str_index(p, text);
	return p->oom ? -ENOMEM : 0;
}

uint64_t pprof_mapping(struct pprof *p, const char *path, const char *build_id, int offsets)
{
	struct mapping_rec m = { .msg = PERFTOOLS__PROFILES__MAPPING__INIT, .offsets = offsets };
	int64_t key[3] = { str_index(p, path), build_id ? str_index(p, build_id) : 0, !!offsets };
	bool added;
	uint64_t id = intern_row(p, &p->mappings, key, sizeof(key), (void **)&p->maps, &p->maps_cap, p->nmaps,
				 sizeof(*p->maps), &added);

	if (!id || !added)
		return id;
	m.msg.id = id;
	m.msg.filename = key[0];
	m.msg.build_id = key[1];
	m.msg.has_functions = true; /* every location is named: viewers keep our names */
	p->maps[p->nmaps++] = m;
	return id;
}

static uint64_t function_id(struct pprof *p, const char *name, const char *file)
{
	Perftools__Profiles__Function f = PERFTOOLS__PROFILES__FUNCTION__INIT;
	int64_t key[2] = { str_index(p, name), file ? str_index(p, file) : 0 };
	bool added;
	uint64_t id = intern_row(p, &p->functions, key, sizeof(key), (void **)&p->funcs, &p->funcs_cap,
				 p->nfuncs, sizeof(*p->funcs), &added);

	if (id && added) {
		f.id = id;
		f.name = key[0];
		f.filename = key[1];
		p->funcs[p->nfuncs++] = f;
	}
	return id;
}

/* The mapping's range [start, limit) grows to hold address; where addresses
 * are file offsets, the start's offset is the start. */
static void map_address(struct mapping_rec *m, uint64_t address)
{
	if (!m->placed || address < m->msg.memory_start)
		m->msg.memory_start = address;
	if (!m->placed || address >= m->msg.memory_limit)
		m->msg.memory_limit = address + 1;
	m->placed = true;
	if (m->offsets)
		m->msg.file_offset = m->msg.memory_start;
}

uint64_t pprof_location(struct pprof *p, uint64_t mapping, uint64_t address, const char *function,
			const char *file, int64_t line)
{
	struct location_rec r = { .msg = PERFTOOLS__PROFILES__LOCATION__INIT,
				  .line = PERFTOOLS__PROFILES__LINE__INIT };
	uint64_t key[4] = { mapping, address, function_id(p, function, file), (uint64_t)line };
	bool added;
	uint64_t id = key[2] ? intern_row(p, &p->locations, key, sizeof(key), (void **)&p->locs, &p->locs_cap,
					  p->nlocs, sizeof(*p->locs), &added) : 0;

	if (!id || !added)
		return id;
	r.msg.id = id;
	r.msg.mapping_id = mapping;
	r.msg.address = address;
	r.line.function_id = key[2];
	r.line.line = line;
	p->locs[p->nlocs++] = r;
	if (mapping) {
		struct mapping_rec *m = &p->maps[mapping - 1];

		map_address(m, address);
		m->msg.has_filenames |= file != NULL;
		m->msg.has_line_numbers |= line > 0;
	}
	return id;
}

int pprof_sample(struct pprof *p, const uint64_t *locations, size_t n, const int64_t *values,
		 const char *label_key, const char *label_str)
{
	struct sample_rec r = { .msg = PERFTOOLS__PROFILES__SAMPLE__INIT,
				.label = PERFTOOLS__PROFILES__LABEL__INIT };

	if (!array_grow((void **)&p->samples, &p->samples_cap, p->nsamples, sizeof(*p->samples)))
		return -ENOMEM;
	r.msg.location_id = malloc((n ? n : 1) * sizeof(*locations));
	r.msg.value = malloc((p->ntypes ? p->ntypes : 1) * sizeof(*values));
	if (!r.msg.location_id || !r.msg.value) {
		free(r.msg.location_id);
		free(r.msg.value);
		return -ENOMEM;
	}
	memcpy(r.msg.location_id, locations, n * sizeof(*locations));
	memcpy(r.msg.value, values, p->ntypes * sizeof(*values));
	r.msg.n_location_id = n;
	r.msg.n_value = p->ntypes;
	if (label_key) {
		r.label.key = str_index(p, label_key);
		r.label.str = str_index(p, label_str);
		r.msg.n_label = 1;
	}
	p->samples[p->nsamples++] = r;
	return p->oom ? -ENOMEM : 0;
}

/* Pointer arrays into the tables (the message refers to its parts by
 * pointer): made at write time, when the tables no longer move. */
struct parts {
	Perftools__Profiles__ValueType **types;
	Perftools__Profiles__Sample **samples;
	Perftools__Profiles__Mapping **maps;
	Perftools__Profiles__Location **locs;
	Perftools__Profiles__Function **funcs;
};

static void parts_free(struct parts *pt)
{
	free(pt->types);
	free(pt->samples);
	free(pt->maps);
	free(pt->locs);
	free(pt->funcs);
}

static int parts_make(struct pprof *p, struct parts *pt, Perftools__Profiles__Profile *msg)
{
	pt->types = calloc(p->ntypes + 1, sizeof(*pt->types));
	pt->samples = calloc(p->nsamples + 1, sizeof(*pt->samples));
	pt->maps = calloc(p->nmaps + 1, sizeof(*pt->maps));
	pt->locs = calloc(p->nlocs + 1, sizeof(*pt->locs));
	pt->funcs = calloc(p->nfuncs + 1, sizeof(*pt->funcs));
	if (!pt->types || !pt->samples || !pt->maps || !pt->locs || !pt->funcs)
		return -ENOMEM;
	for (size_t i = 0; i < p->ntypes; i++)
		pt->types[i] = &p->types[i];
	for (size_t i = 0; i < p->nsamples; i++) {
		p->samples[i].labelp = &p->samples[i].label;
		p->samples[i].msg.label = &p->samples[i].labelp;
		pt->samples[i] = &p->samples[i].msg;
	}
	for (size_t i = 0; i < p->nmaps; i++)
		pt->maps[i] = &p->maps[i].msg;
	for (size_t i = 0; i < p->nlocs; i++) {
		p->locs[i].linep = &p->locs[i].line;
		p->locs[i].msg.line = &p->locs[i].linep;
		p->locs[i].msg.n_line = 1;
		pt->locs[i] = &p->locs[i].msg;
	}
	for (size_t i = 0; i < p->nfuncs; i++)
		pt->funcs[i] = &p->funcs[i];
	msg->n_sample_type = p->ntypes;
	msg->sample_type = pt->types;
	msg->n_sample = p->nsamples;
	msg->sample = pt->samples;
	msg->n_mapping = p->nmaps;
	msg->mapping = pt->maps;
	msg->n_location = p->nlocs;
	msg->location = pt->locs;
	msg->n_function = p->nfuncs;
	msg->function = pt->funcs;
	msg->n_string_table = p->nstrs;
	msg->string_table = p->strs;
	msg->n_comment = p->ncomments;
	msg->comment = p->comments;
	msg->default_sample_type = p->default_type;
	msg->time_nanos = p->time_ns;
	msg->duration_nanos = p->duration_ns;
	return 0;
}

/* len bytes as a gzip stream (the format's on-disk form) to out. */
static int write_gzip(const uint8_t *buf, size_t len, FILE *out)
{
	z_stream z = { 0 };
	uint8_t *gz;
	size_t cap;
	int err = 0;

	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len);
	gz = malloc(cap);
	if (!gz) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)buf;
	z.avail_in = len;
	z.next_out = gz;
	z.avail_out = cap;
	/* deflateBound's size holds the whole stream: one call finishes it */
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		err = -ENOMEM;
	else if (fwrite(gz, 1, z.total_out, out) != z.total_out || fflush(out) || ferror(out))
		err = -EIO;
	deflateEnd(&z);
	free(gz);
	return err;
}

int pprof_write(struct pprof *p, FILE *out)
{
	Perftools__Profiles__Profile msg = PERFTOOLS__PROFILES__PROFILE__INIT;
	struct parts pt = { 0 };
	uint8_t *buf = NULL;
	size_t len;
	int err = p->oom ? -ENOMEM : parts_make(p, &pt, &msg);

	if (!err) {
		len = perftools__profiles__profile__get_packed_size(&msg);
		buf = malloc(len ? len : 1);
		err = buf ? 0 : -ENOMEM;
	}
	if (!err && perftools__profiles__profile__pack(&msg, buf) != len)
		err = -EIO;
	if (!err)
		err = write_gzip(buf, len, out);
	free(buf);
	parts_free(&pt);
	return err;
}
