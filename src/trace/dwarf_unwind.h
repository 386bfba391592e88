/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks=dwarf, user space: unwinds the stack samples the BPF side sends
 * (struct stack_sample: user registers and the top of the user stack) with
 * the CFI of the mapped files, through elfutils' libdwfl, as perf's
 * unwind-libdw.c does: dwfl_attach_state() with our own thread callbacks
 * (registers from the sample, memory from the copied stack) and
 * dwfl_getthread_frames(). Each process's /proc/PID/maps, read as its
 * samples arrived (src/trace/stacks.c), is kept, so its samples are unwound
 * and named even if it is gone by then; one Dwfl per snapshot, kept until the address space ends, so ELF and CFI are read once
 * per process, not per sample.
 *
 * Frames come out as (build id, file offset), the form the kernel gives for
 * frame-pointer stacks, so naming, merging and printing are shared.
 */
#ifndef DWARF_UNWIND_H
#define DWARF_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "rsstrace.h"

struct unwinder;

struct unwind_stats {
	uint64_t samples;	/* samples unwound */
	uint64_t to_end;	/* of which the unwind reached the outermost frame */
	uint64_t no_maps;	/* the process was gone before its maps were read */
	uint64_t from_parent;	/* it was, and had not exec'd: its parent's maps */
	/* time spent unwinding: the first sample of each maps snapshot (ELF and
	 * CFI read then) and the others (cached) */
	uint64_t cold, cold_ns, cached, cached_ns;
};

/* One thread at a time: src/trace/unwind_worker.c runs it on its own. */
struct unwinder *unwinder_new(void);
void unwinder_free(struct unwinder *u);

/* Unwinds one sample (len bytes as received) into out->user[] / user_nr
 * (the kernel frames of out are left alone). maps_text: /proc/PID/maps as
 * read when the sample arrived (taken; NULL: unchanged or unreadable), kept
 * as the process's snapshot if its file mappings changed. Returns the
 * number of user frames, or -errno for a malformed sample. */
int unwinder_unwind(struct unwinder *u, const struct stack_sample *smp, size_t len, char *maps_text,
		    struct stack_frames *out);

/* The address space ended (all its samples were unwound): drop its state. */
void unwinder_end(struct unwinder *u, uint32_t tgid, uint64_t start_ns);

void unwinder_stats(const struct unwinder *u, struct unwind_stats *out);

#endif
