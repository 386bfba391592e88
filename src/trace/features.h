/* SPDX-License-Identifier: GPL-2.0 */
/* The optional trace features (trace/feature.h), and the few calls one makes
 * on another. */
#ifndef TRACE_FEATURES_H
#define TRACE_FEATURES_H

#include "trace/feature.h"

/* Every feature, in the order of their hooks and of their summary sections. */
extern const struct trace_feature *const trace_features[];
extern const int trace_nfeatures;

/* The run's lifecycle: each calls that hook of every enabled feature, in
 * table order. open allocates the enabled features' states; a failing open
 * or start returns -errno with *what naming what failed. */
int trace_features_open(struct trace_run *run, const char **what);
void trace_features_configure(struct trace_run *run, struct tracer_config *cfg);
int trace_features_start(struct trace_run *run, const char **what);
void trace_features_on_record(struct trace_run *run, const void *data, size_t len);
int trace_features_wait_ms(struct trace_run *run, uint64_t now_ns, int max_ms);
void trace_features_tick(struct trace_run *run, const struct tree_state *tree, uint64_t now_ns);
void trace_features_at_stop(struct trace_run *run);
/* The run begins: the features' output files are truncated now. */
void trace_features_commit(struct trace_run *run);
/* Failed writes are reported here, one line each. Returns 0 or the first
 * -errno. */
int trace_features_finish(struct trace_run *run, uint64_t now_ns);
void trace_features_collect(struct trace_run *run);
void trace_features_print(struct trace_run *run, FILE *out, bool json, const struct trace_end *e);
void trace_features_summary_json(struct trace_run *run, struct json_obj *j);
void trace_features_free(struct trace_run *run);

struct sharing;
struct live_sharing;

/* --footprint without rmap hooks: --sharing's readings stand in. */
void feature_sharing_activate(struct trace_run *run);
/* The readings, NULL unless they are taken. */
const struct sharing *feature_sharing_readings(const struct trace_run *run);
/* The latest reading for the -i live line (zeros if none). */
void feature_sharing_live(const struct trace_run *run, struct live_sharing *out);

/* --cgroup: pages tgid touched first and still mapped (--footprint on the
 * rmap hooks), -1 if not measured. */
int64_t feature_footprint_owner_pages(const struct trace_run *run, uint32_t tgid);

#endif
