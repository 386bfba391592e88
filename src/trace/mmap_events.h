/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks=dwarf: the code mappings of every process, as the kernel reports
 * them when they are made (perf's PERF_RECORD_MMAP2, on a dummy event per
 * CPU), so that a process gone before the loader could read its
 * /proc/PID/maps is still unwound: a short-lived child of a shell lives a
 * few milliseconds, less than the loader's wait on a loaded machine (the
 * CI host suite saw such a process unwound to its innermost frame only).
 *
 * Kept per exec'd image (a PERF_RECORD_COMM with the exec flag starts one),
 * the 4,096 most recently used images at most.
 */
#ifndef TRACE_MMAP_EVENTS_H
#define TRACE_MMAP_EVENTS_H

#include <stdint.h>

struct mmap_events;

/* Opens the per-CPU events (needs CAP_PERFMON or CAP_SYS_ADMIN). NULL with
 * errno set if the kernel refused. */
struct mmap_events *mmap_events_open(void);

/* Reads every record the kernel has written so far. */
void mmap_events_drain(struct mmap_events *me);

/* The maps of the image of process tgid that the address space begun at
 * start_ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns) belongs to, in
 * /proc/PID/maps form: its code mappings, each file's with the address of
 * the file's first segment (where libdwfl takes the load bias from).
 * Malloc'ed, or NULL if no such image was seen. */
char *mmap_events_maps_text(struct mmap_events *me, uint32_t tgid, uint64_t start_ns);

/* Whether tgid exec'd a newer image after start_ns: its /proc/PID/maps are
 * then not those of the address space begun at start_ns. */
int mmap_events_newer_image(struct mmap_events *me, uint32_t tgid, uint64_t start_ns);

/* Records the kernel dropped (its buffers full) or not kept (table limits). */
uint64_t mmap_events_lost(const struct mmap_events *me);

void mmap_events_free(struct mmap_events *me);

#endif
