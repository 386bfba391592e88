/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --pprof FILE: the stacks --stacks charged, as a pprof profile
 * (output/pprof_writer.h): one sample per (command, stack) with the bytes
 * its pages made resident, the frames as locations in their files (mapped
 * by path and build id), named as the text output names them, with source
 * lines where the files' debug info has them.
 */
#ifndef STACKS_PPROF_H
#define STACKS_PPROF_H

#include <stdint.h>
#include <stdio.h>

struct stacks;

struct loss_counters;

/* After the final harvest; tracing lasted duration_ns, until now; loss: what
 * the BPF side could not record (said in the profile's comments). Returns 0,
 * -ENOMEM, or -EIO if out failed. */
int stacks_write_pprof(struct stacks *s, FILE *out, uint64_t page_kb, uint64_t duration_ns,
		       const struct loss_counters *loss);

#endif
