/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The optional parts of a trace run (--stacks, --sharing, --csv/--svg,
 * --footprint, --cgroup) behind one interface, so that the trace loop
 * (trace/trace.c) knows none of them by name: it calls each hook of every
 * enabled feature in table order (trace/features.c). Every hook is optional.
 *
 * Adding a feature: a file src/trace/feature_X.c defining a
 * `const struct trace_feature feature_X`, and one entry in trace/features.c.
 */
#ifndef TRACE_FEATURE_H
#define TRACE_FEATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hooks.h"
#include "core/json_writer.h"
#include "core/output_file.h"
#include "core/tracer.h"
#include "rsstrace.h"
#include "trace/options.h"

/* What every feature sees of the run. */
struct trace_run {
	const struct options *o;
	struct tracer *t;
	struct hooks *hooks;
	uint64_t t0_ns;	  /* CLOCK_MONOTONIC when tracing began */
	uint64_t page_kb; /* page size in kB */
	char title[300];  /* "rsstrace: RSS of make -j8" (the chart's title) */
	/* one read of the live address spaces per tick, shared by the features
	 * that need it (trace_run_live) */
	struct mm_state *live;
	uint32_t live_cap;
	int nlive;
	uint64_t live_tick, tick;
	int read_errors; /* reads of the live address spaces that failed */
	struct output_file *outputs[4]; /* the features' output files */
	int noutputs;
	const char *open_why; /* why trace_run_open_output refused a file */
	void *state[8];	 /* each feature's, by its index in the table */
};

/* The end of the run, for the summary sections. */
struct trace_end {
	struct tree_state tree;
	struct loss_counters loss;
	uint64_t rows; /* per-process lines in text sections, 0 = all */
};

struct trace_feature {
	const char *name;
	size_t state_size; /* zeroed state allocated for the run */
	/* Whether the options ask for it. */
	bool (*wanted)(const struct options *o);
	/* Before any check that needs root: open output files, so that a bad
	 * path fails first. Returns 0 or -errno with *what naming what failed. */
	int (*open)(void *self, struct trace_run *run, const char **what);
	/* Before the BPF programs load: what the feature needs of them. */
	void (*configure)(void *self, const struct options *o, struct tracer_config *cfg);
	/* The programs are loaded and attached; tracing starts. */
	int (*start)(void *self, struct trace_run *run, const char **what);
	/* A record from the kernel (before the report sees it). */
	void (*on_record)(void *self, const void *data, size_t len);
	/* Milliseconds until the feature is next due (at most max_ms). */
	int (*wait_ms)(void *self, uint64_t now_ns, int max_ms);
	/* Every turn of the loop. */
	void (*tick)(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns);
	/* Tracing stops, the traced processes still as they left it (before a
	 * SIGTERM is passed on to CMD). */
	void (*at_stop)(void *self, struct trace_run *run);
	/* Last readings of what is alive; output files written and closed
	 * (output_file_close). Returns 0 or -errno with *what naming the file
	 * that failed. */
	int (*finish)(void *self, struct trace_run *run, uint64_t now_ns, const char **what);
	/* Just before the programs are unloaded: read what is left in the maps. */
	void (*collect)(void *self, struct trace_run *run);
	/* The summary: a text section after the table, or JSON lines before the
	 * summary object, and fields of the summary object. */
	void (*print_text)(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e);
	void (*print_json)(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e);
	void (*summary_json)(void *self, struct json_obj *j);
	void (*free)(void *self);
};

/* The live address spaces, read at most once per tick. Returns how many
 * (0 if the read failed: counted in run->read_errors). Features may reorder
 * the entries. */
int trace_run_live(struct trace_run *run, struct mm_state **live);

/* Opens an output file of the feature (core/output_file.h), truncated
 * only when the run begins. Returns 0, or -errno with *what the path and
 * run->open_why the reason. */
int trace_run_open_output(struct trace_run *run, struct output_file *of, const char *path,
			  const char **what);

/* Another feature's state for this run, NULL if it is not enabled. */
void *trace_run_state(const struct trace_run *run, const struct trace_feature *f);

#endif
