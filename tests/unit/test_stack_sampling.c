// SPDX-License-Identifier: GPL-2.0
/* Unit tests: --stack-sample's gap table (src/trace/stack_sampling.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trace/stack_sampling.h"

/* The mean gap is the weight of a sample: it must be the mean exactly, or
 * every estimate is off by their ratio. */
static void mean_is_the_weight(void **state)
{
	uint32_t means[] = { 1, 2, 3, 16, 128, 1000, 262144 }, g[STACK_SAMPLE_GAPS];

	for (size_t m = 0; m < sizeof(means) / sizeof(means[0]); m++) {
		uint64_t sum = 0;

		stack_sample_gaps(means[m], g);
		for (int i = 0; i < STACK_SAMPLE_GAPS; i++) {
			assert_true(g[i] >= 1);
			if (i)
				assert_true(g[i] >= g[i - 1]);
			sum += g[i];
		}
		assert_int_equal(sum, (uint64_t)means[m] * STACK_SAMPLE_GAPS);
	}
}

/* Every page a sample: the exact count, one page per charge. */
static void mean_one_is_every_page(void **state)
{
	uint32_t g[STACK_SAMPLE_GAPS];

	stack_sample_gaps(1, g);
	for (int i = 0; i < STACK_SAMPLE_GAPS; i++)
		assert_int_equal(g[i], 1);
}

/* Geometric, not fixed gaps (a fixed gap would alias with a workload that
 * strides pages in step with it): the median is mean * ln 2, and a tenth
 * of the gaps are below mean * ln(10/9). */
static void gaps_are_geometric(void **state)
{
	uint32_t g[STACK_SAMPLE_GAPS], mean = 128;

	stack_sample_gaps(mean, g);
	assert_true(fabs(g[STACK_SAMPLE_GAPS / 2] - mean * log(2)) <= 2);
	assert_true(fabs(g[STACK_SAMPLE_GAPS / 10] - mean * log(10.0 / 9)) <= 2);
	assert_true(g[STACK_SAMPLE_GAPS - 1] > 4 * mean);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mean_is_the_weight),
		cmocka_unit_test(mean_one_is_every_page),
		cmocka_unit_test(gaps_are_geometric),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
