// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the pprof profile writer, read back through zlib and
 * protobuf-c's own decoder of the same schema (proto/profile.proto). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "output/pprof_writer.h"
#include "profile.pb-c.h"

/* p written to memory, gunzipped and decoded (free with
 * perftools__profiles__profile__free_unpacked). */
static Perftools__Profiles__Profile *round_trip(struct pprof *p)
{
	Perftools__Profiles__Profile *msg;
	static uint8_t raw[1 << 20];
	char *gz = NULL;
	size_t gzlen = 0;
	FILE *out = open_memstream(&gz, &gzlen);
	z_stream z = { 0 };

	assert_non_null(out);
	assert_int_equal(pprof_write(p, out), 0);
	assert_int_equal(fclose(out), 0);
	/* 15 + 16: gzip only (a zlib stream would not do) */
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)gz;
	z.avail_in = gzlen;
	z.next_out = raw;
	z.avail_out = sizeof(raw);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	msg = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	free(gz);
	assert_non_null(msg);
	return msg;
}

static const char *str(const Perftools__Profiles__Profile *m, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < m->n_string_table);
	return m->string_table[i];
}

static void empty_profile_has_its_types_and_the_empty_string_first(void **state)
{
	struct pprof *p = pprof_new();
	Perftools__Profiles__Profile *m;

	assert_int_equal(pprof_sample_type(p, "faulted", "bytes", 0), 0);
	assert_int_equal(pprof_sample_type(p, "held", "bytes", 1), 0);
	assert_int_equal(pprof_comment(p, "what it is"), 0);
	pprof_time(p, 1764775000123456789LL, 2500000000LL);
	m = round_trip(p);
	assert_int_equal(m->time_nanos, 1764775000123456789LL);
	assert_int_equal(m->duration_nanos, 2500000000LL);
	assert_string_equal(str(m, 0), "");
	assert_int_equal(m->n_sample, 0);
	assert_int_equal(m->n_sample_type, 2);
	assert_string_equal(str(m, m->sample_type[0]->type), "faulted");
	assert_string_equal(str(m, m->sample_type[1]->unit), "bytes");
	assert_string_equal(str(m, m->default_sample_type), "held");
	assert_int_equal(m->n_comment, 1);
	assert_string_equal(str(m, m->comment[0]), "what it is");
	perftools__profiles__profile__free_unpacked(m, NULL);
	pprof_free(p);
}

static void locations_functions_and_mappings_are_stored_once(void **state)
{
	struct pprof *p = pprof_new();
	Perftools__Profiles__Profile *m;
	uint64_t map, kernel, leaf, caller, again, locs[2];
	int64_t v1[1] = { 4096 }, v2[1] = { 8192 };

	assert_int_equal(pprof_sample_type(p, "faulted", "bytes", 1), 0);
	map = pprof_mapping(p, "/usr/bin/x", "abcd", 1);
	kernel = pprof_mapping(p, "[kernel]", NULL, 0);
	assert_int_equal(pprof_mapping(p, "/usr/bin/x", "abcd", 1), map);
	leaf = pprof_location(p, map, 0x3000, "site", "x.c", 12);
	caller = pprof_location(p, map, 0x1800, "main", "x.c", 30);
	again = pprof_location(p, map, 0x3000, "site", "x.c", 12);
	assert_int_equal(again, leaf);
	assert_int_not_equal(caller, leaf);
	assert_true(pprof_location(p, kernel, 0xffffffff81000000ULL, "fault", NULL, 0) > 0);
	locs[0] = leaf;
	locs[1] = caller;
	assert_int_equal(pprof_sample(p, locs, 2, v1, "comm", "x"), 0);
	assert_int_equal(pprof_sample(p, locs, 1, v2, NULL, NULL), 0);
	m = round_trip(p);
	assert_int_equal(m->n_location, 3);
	assert_int_equal(m->n_function, 3);
	assert_int_equal(m->n_mapping, 2);
	/* addresses are file offsets: the range holds them, its start's offset is its start */
	assert_int_equal(m->mapping[0]->id, map);
	assert_int_equal(m->mapping[0]->memory_start, 0x1800);
	assert_int_equal(m->mapping[0]->memory_limit, 0x3001);
	assert_int_equal(m->mapping[0]->file_offset, 0x1800);
	assert_string_equal(str(m, m->mapping[0]->filename), "/usr/bin/x");
	assert_string_equal(str(m, m->mapping[0]->build_id), "abcd");
	assert_true(m->mapping[0]->has_functions && m->mapping[0]->has_filenames && m->mapping[0]->has_line_numbers);
	assert_int_equal(m->mapping[1]->file_offset, 0);
	assert_false(m->mapping[1]->has_line_numbers);
	assert_int_equal(m->location[0]->id, leaf);
	assert_int_equal(m->location[0]->address, 0x3000);
	assert_int_equal(m->location[0]->n_line, 1);
	assert_int_equal(m->location[0]->line[0]->line, 12);
	assert_string_equal(str(m, m->function[m->location[0]->line[0]->function_id - 1]->name), "site");
	assert_string_equal(str(m, m->function[m->location[0]->line[0]->function_id - 1]->filename), "x.c");
	assert_int_equal(m->n_sample, 2);
	assert_int_equal(m->sample[0]->n_location_id, 2);
	assert_int_equal(m->sample[0]->location_id[0], leaf);
	assert_int_equal(m->sample[0]->value[0], 4096);
	assert_int_equal(m->sample[0]->n_label, 1);
	assert_string_equal(str(m, m->sample[0]->label[0]->key), "comm");
	assert_string_equal(str(m, m->sample[0]->label[0]->str), "x");
	assert_int_equal(m->sample[1]->n_label, 0);
	assert_int_equal(m->sample[1]->value[0], 8192);
	perftools__profiles__profile__free_unpacked(m, NULL);
	pprof_free(p);
}

static void write_error_is_returned(void **state)
{
	struct pprof *p = pprof_new();
	FILE *full = fopen("/dev/full", "w");

	if (!full)
		skip();
	assert_int_equal(pprof_sample_type(p, "faulted", "bytes", 1), 0);
	assert_int_equal(pprof_write(p, full), -EIO);
	fclose(full);
	pprof_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_profile_has_its_types_and_the_empty_string_first),
		cmocka_unit_test(locations_functions_and_mappings_are_stored_once),
		cmocka_unit_test(write_error_is_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
