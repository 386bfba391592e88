// SPDX-License-Identifier: GPL-2.0
/* Unit tests: which charges a stack still held at its address space's peak
 * (trace/held_pages.h), and the table under it (core/u64_map.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/u64_map.h"
#include "trace/held_pages.h"

static void map_survives_churn_with_deletes(void **state)
{
	struct u64_map m;
	bool created;

	u64_map_init(&m, sizeof(uint64_t));
	/* keys that crowd one region, deleted in a different order: every
	 * follower of a deleted slot must stay reachable */
	for (uint64_t k = 0; k < 5000; k++)
		*(uint64_t *)u64_map_put(&m, k * 4096, &created) = k;
	for (uint64_t k = 0; k < 5000; k += 3)
		u64_map_del(&m, k * 4096);
	u64_map_del(&m, 12345); /* absent: nothing happens */
	for (uint64_t k = 0; k < 5000; k++) {
		uint64_t *v = u64_map_get(&m, k * 4096);

		if (k % 3 == 0) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(*v, k);
		}
	}
	assert_int_equal(m.n, 5000 - 1667);
	assert_non_null(u64_map_put(&m, 4096, &created));
	assert_false(created);
	u64_map_free(&m);
}

#define MIB_PAGES 256
#define A 0x7f0000000000ULL
#define B 0x7f0010000000ULL

static void charge(struct held_pages *h, uint64_t hash, uint64_t addr, uint64_t pages, uint32_t seq)
{
	struct held_record r = { .type = REC_HELD, .kind = HELD_CHARGE, .start_ns = 7, .tgid = 42,
				 .seq = seq, .addr = addr, .len = pages, .hash = hash, .to = RSS_ANON,
				 .tree_seq = seq };

	held_pages_record(h, &r);
}

static void range(struct held_pages *h, uint32_t kind, uint64_t addr, uint64_t len, uint64_t to, uint32_t seq)
{
	struct held_record r = { .type = REC_HELD, .kind = kind, .start_ns = 7, .tgid = 42,
				 .seq = seq, .addr = addr, .len = len, .to = to, .tree_seq = seq };

	held_pages_record(h, &r);
}

/* (the helpers above stamp the tree's peak count as the address space's) */
static uint64_t anon_at_peak(struct held_pages *h, uint64_t hash, uint32_t final_seq)
{
	uint64_t v[RSS_NR_MEMBERS], tree[RSS_NR_MEMBERS];

	held_pages_at_peak(h, 42, 7, hash, final_seq, final_seq, v, tree);
	assert_memory_equal(v, tree, sizeof(v));
	return v[RSS_ANON];
}

/* The three sites: a freed before the peak, b and c held at it. */
static void pages_freed_before_the_peak_are_not_held_at_it(void **state)
{
	struct held_pages h;
	uint32_t seq = 0;

	held_pages_init(&h);
	for (uint64_t p = 0; p < 48 * MIB_PAGES; p++)
		charge(&h, 0xa, A + p * 4096, 1, seq++); /* each one a new peak */
	range(&h, HELD_FREE, A, 48ULL << 20, 0, seq);
	for (uint64_t p = 0; p < 16 * MIB_PAGES; p++)
		charge(&h, 0xb, B + p * 4096, 1, seq); /* below the old peak */
	for (uint64_t p = 0; p < 32 * MIB_PAGES; p++)
		charge(&h, 0xc, A + p * 4096, 1, seq++); /* a's addresses again */
	/* after the peak: c gives half back, which the peak does not see */
	range(&h, HELD_FREE, A, 16ULL << 20, 0, seq);
	assert_int_equal(anon_at_peak(&h, 0xa, seq), 0);
	assert_int_equal(anon_at_peak(&h, 0xb, seq), 16 * MIB_PAGES);
	assert_int_equal(anon_at_peak(&h, 0xc, seq), 32 * MIB_PAGES);
	/* had the peak come after the free, c would hold half */
	assert_int_equal(anon_at_peak(&h, 0xc, seq + 1), 16 * MIB_PAGES);
	assert_int_equal(h.given_back, (48 + 16) * MIB_PAGES);
	held_pages_free(&h);
}

static void a_moved_charge_is_freed_at_its_new_place(void **state)
{
	struct held_pages h;

	/* every change at seq 0, the peak (seq 1) after them all */
	held_pages_init(&h);
	charge(&h, 0xa, A, 512, 0);		 /* a huge page, one charge */
	charge(&h, 0xa, A + (4 << 20), 1, 0); /* past what moves */
	range(&h, HELD_MOVE, A, 4 << 20, B, 0);
	range(&h, HELD_FREE, A, 2 << 20, 0, 0); /* the old place: nothing there now */
	assert_int_equal(anon_at_peak(&h, 0xa, 1), 513);
	range(&h, HELD_FREE, B + 4096, 4096, 0, 0); /* a page of the huge page other than its fault's */
	assert_int_equal(anon_at_peak(&h, 0xa, 1), 513);
	range(&h, HELD_FREE, B, 4096, 0, 0);
	assert_int_equal(anon_at_peak(&h, 0xa, 1), 1);
	held_pages_free(&h);
}

static void a_page_charged_again_counts_once(void **state)
{
	struct held_pages h;
	uint64_t v[RSS_NR_MEMBERS], t[RSS_NR_MEMBERS];
	struct held_record file = { .type = REC_HELD, .kind = HELD_CHARGE, .start_ns = 7, .tgid = 42,
				    .addr = A, .len = 1, .hash = 0xf, .to = RSS_FILE };

	held_pages_init(&h);
	/* a private file page read, then written: the copy replaces it */
	held_pages_record(&h, &file);
	charge(&h, 0xc, A + 8, 1, 0);
	assert_true(held_pages_at_peak(&h, 42, 7, 0xf, 1, 1, v, t));
	assert_int_equal(v[RSS_FILE], 0);
	assert_int_equal(anon_at_peak(&h, 0xc, 1), 1);
	/* unknown address: held to the end */
	charge(&h, 0xd, 0, 3, 0);
	range(&h, HELD_FREE, 0, 1ULL << 47, 0, 0);
	assert_int_equal(anon_at_peak(&h, 0xd, 1), 3);
	assert_int_equal(anon_at_peak(&h, 0xc, 1), 0);
	assert_int_equal(h.unknown_pages, 3);
	/* another address space's stack is not this one's */
	assert_false(held_pages_at_peak(&h, 43, 7, 0xd, 1, 1, v, t));
	held_pages_forget(&h, 42, 7);
	assert_false(held_pages_at_peak(&h, 42, 7, 0xd, 1, 1, v, t));
	held_pages_free(&h);
}

static void the_table_is_bounded_and_says_what_it_dropped(void **state)
{
	struct held_pages h;

	held_pages_init(&h);
	for (uint64_t p = 0; p < HELD_PAGES_MAX + 10; p++)
		charge(&h, 0xa, A + p * 4096, 1, 0);
	assert_int_equal(h.npages, HELD_PAGES_MAX);
	assert_int_equal(h.errors, 10);
	assert_int_equal(h.unknown_pages, 10); /* held to the end */
	range(&h, HELD_FREE, A, (uint64_t)(HELD_PAGES_MAX + 10) * 4096, 0, 0);
	assert_int_equal(h.npages, 0);
	assert_int_equal(anon_at_peak(&h, 0xa, 1), 10);
	held_pages_free(&h);
}

/* The tree peaks (2) after the address space did (1): a free between them
 * counts at the tree's peak, not at the address space's. */
static void the_tree_peak_is_kept_apart_from_the_address_spaces(void **state)
{
	struct held_record c = { .type = REC_HELD, .kind = HELD_CHARGE, .start_ns = 7, .tgid = 42, .seq = 0,
				 .tree_seq = 0, .addr = A, .len = 10, .hash = 0xa, .to = RSS_ANON };
	struct held_record f = { .type = REC_HELD, .kind = HELD_FREE, .start_ns = 7, .tgid = 42, .seq = 1,
				 .tree_seq = 1, .addr = A, .len = 4096 };
	uint64_t v[RSS_NR_MEMBERS], t[RSS_NR_MEMBERS];
	struct held_pages h;

	(void)state;
	held_pages_init(&h);
	held_pages_record(&h, &c);  /* then the address space and the tree peak (1) */
	held_pages_record(&h, &f);  /* then the tree peaks again (2) */
	assert_true(held_pages_at_peak(&h, 42, 7, 0xa, 1, 2, v, t));
	assert_int_equal(v[RSS_ANON], 10); /* held at the address space's peak */
	assert_int_equal(t[RSS_ANON], 0);  /* freed before the tree's */
	assert_true(held_pages_at_peak(&h, 42, 7, 0xa, 1, 1, v, t));
	assert_int_equal(t[RSS_ANON], 10); /* had the tree's last peak been the first */
	held_pages_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_survives_churn_with_deletes),
		cmocka_unit_test(pages_freed_before_the_peak_are_not_held_at_it),
		cmocka_unit_test(a_moved_charge_is_freed_at_its_new_place),
		cmocka_unit_test(a_page_charged_again_counts_once),
		cmocka_unit_test(the_table_is_bounded_and_says_what_it_dropped),
		cmocka_unit_test(the_tree_peak_is_kept_apart_from_the_address_spaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
