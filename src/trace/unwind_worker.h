/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks=dwarf: unwinding on a thread of its own. The first unwind in a
 * process reads ELF and CFI (milliseconds for libpython), and the loop that
 * reads the ring buffers must meanwhile stay quick enough to read the maps
 * of a process that lives for milliseconds: it only queues here what the
 * worker unwinds (dwarf_unwind.h), and the worker writes the frames into the
 * BPF frames map, where the summary reads them after unwind_worker_finish().
 */
#ifndef UNWIND_WORKER_H
#define UNWIND_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "rsstrace.h"
#include "trace/dwarf_unwind.h"

struct unwind_worker;

/* Starts the thread. Returns NULL with errno. */
struct unwind_worker *unwind_worker_start(int frames_fd);

/* Queues a sample (copied) and the maps text read with it (taken, may be
 * NULL). Returns 0 or -ENOMEM (the sample is then not unwound). */
int unwind_worker_sample(struct unwind_worker *w, const struct stack_sample *smp, size_t len,
			 char *maps_text);

/* Queues the end of an address space: after every sample queued before it. */
int unwind_worker_end(struct unwind_worker *w, uint32_t tgid, uint64_t start_ns);

/* Unwinds what is queued, stops the thread and gives its counts: samples
 * unwound, and those that gave no frame (*failed). */
void unwind_worker_finish(struct unwind_worker *w, struct unwind_stats *stats, uint64_t *failed);

/* Finishes if not yet done; frees. NULL is fine. */
void unwind_worker_free(struct unwind_worker *w);

#endif
