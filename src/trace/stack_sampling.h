/* SPDX-License-Identifier: GPL-2.0 */
/* --stack-sample: the random gaps between charged pages (see struct
 * stack_sample_countdown in include/rsstrace.h). */
#ifndef STACK_SAMPLING_H
#define STACK_SAMPLING_H

#include <stdint.h>

#include "rsstrace.h"

/* Fills gaps with STACK_SAMPLE_GAPS evenly spaced quantiles of the geometric
 * distribution of the pages up to the next sample when each page is one with
 * probability 1 / mean_pages (mean_pages >= 1), adjusted so that their mean
 * is mean_pages exactly: the weight a sample is charged with. */
void stack_sample_gaps(uint32_t mean_pages, uint32_t gaps[STACK_SAMPLE_GAPS]);

#endif
