// SPDX-License-Identifier: GPL-2.0
/* --stack-sample: the gap table the BPF side draws from. */
#include <math.h>

#include "trace/stack_sampling.h"

void stack_sample_gaps(uint32_t mean_pages, uint32_t gaps[STACK_SAMPLE_GAPS])
{
	double p = 1.0 / mean_pages, sum = 0;
	uint64_t total = 0, want = (uint64_t)mean_pages * STACK_SAMPLE_GAPS;

	for (int i = 0; i < STACK_SAMPLE_GAPS; i++) {
		/* the (i + 0.5) / N quantile of pages-to-next-sample: ceil(ln(1 - u) / ln(1 - p)) */
		double u = (i + 0.5) / STACK_SAMPLE_GAPS;
		double g = p >= 1 ? 1 : ceil(log1p(-u) / log1p(-p));

		gaps[i] = g < 1 ? 1 : (uint32_t)g;
		sum += gaps[i];
	}
	/* N quantiles of a skewed distribution miss its mean by a few percent
	 * (the tail beyond the last one): scale them onto it, and give the
	 * rounding's remainder to the largest gap, so that a sample's weight
	 * (mean_pages) is the mean gap and the estimate stays unbiased */
	for (int i = 0; i < STACK_SAMPLE_GAPS; i++) {
		uint32_t g = (uint32_t)llround(gaps[i] * (double)want / sum);

		gaps[i] = g ? g : 1;
		total += gaps[i];
	}
	gaps[STACK_SAMPLE_GAPS - 1] = (uint32_t)((int64_t)gaps[STACK_SAMPLE_GAPS - 1] + (int64_t)want - (int64_t)total);
}
