/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks=dwarf, user space: unwinds the stack samples the BPF side sends
 * (struct stack_sample: user registers and the top of the user stack) with
 * the CFI of the mapped files, through elfutils' libdwfl, as perf's
 * unwind-libdw.c does: dwfl_attach_state() with our own thread callbacks
 * (registers from the sample, memory from the copied stack) and
 * dwfl_getthread_frames(). One Dwfl per address space, built from its
 * /proc/PID/maps and kept until it ends, so ELF and CFI are read once per
 * process, not per sample; the maps are kept too, so samples are unwound
 * and named even if the process is gone by then.
 *
 * Frames come out as (build id, file offset), the form the kernel gives for
 * frame-pointer stacks, so naming, merging and printing are shared.
 */
#ifndef DWARF_UNWIND_H
#define DWARF_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "rsstrace.h"

struct symbolizer;
struct unwinder;

struct unwind_stats {
	uint64_t samples;	/* samples unwound */
	uint64_t to_end;	/* of which the unwind reached the outermost frame */
	uint64_t no_maps;	/* the process was gone before its maps were read */
};

struct unwinder *unwinder_new(struct symbolizer *sym);
void unwinder_free(struct unwinder *u);

/* Unwinds one sample (len bytes as received) into out->user[] / user_nr
 * (the kernel frames of out are left alone). Returns the number of user
 * frames, or -errno for a malformed sample. */
int unwinder_unwind(struct unwinder *u, const struct stack_sample *smp, size_t len,
		    struct stack_frames *out);

/* The address space ended: its state is dropped at the next
 * unwinder_drop_ended(), once samples still queued behind the end are read. */
void unwinder_on_end(struct unwinder *u, uint32_t tgid, uint64_t start_ns);
void unwinder_drop_ended(struct unwinder *u);

void unwinder_stats(const struct unwinder *u, struct unwind_stats *out);

#endif
