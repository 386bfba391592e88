// SPDX-License-Identifier: GPL-2.0
/* The table of optional trace features, and what they share of a run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#include "trace/features.h"

extern const struct trace_feature feature_stacks, feature_sharing, feature_timeline, feature_footprint,
	feature_cgroup;

/* The order is that of the summary's sections; --footprint comes after
 * --sharing, whose readings are its fallback. */
const struct trace_feature *const trace_features[] = {
	&feature_stacks, &feature_sharing, &feature_timeline, &feature_footprint, &feature_cgroup,
};
const int trace_nfeatures = sizeof(trace_features) / sizeof(trace_features[0]);

_Static_assert(sizeof(trace_features) / sizeof(trace_features[0]) <=
		       sizeof(((struct trace_run *)0)->state) / sizeof(void *),
	       "struct trace_run has a state slot per feature");

void *trace_run_state(const struct trace_run *run, const struct trace_feature *f)
{
	for (int i = 0; i < trace_nfeatures; i++)
		if (trace_features[i] == f)
			return run->state[i];
	return NULL;
}

int trace_run_open_output(struct trace_run *run, struct output_file *of, const char *path,
			  const char **what)
{
	int err;

	if (run->noutputs >= (int)(sizeof(run->outputs) / sizeof(run->outputs[0]))) {
		*what = path;
		return -EMFILE;
	}
	err = output_file_open(of, path, &run->open_why);
	if (err) {
		*what = path;
		return err;
	}
	run->outputs[run->noutputs++] = of;
	return 0;
}

int trace_run_live(struct trace_run *run, struct mm_state **live)
{
	int n;

	if (run->live_tick == run->tick && run->live_tick) {
		*live = run->live;
		return run->nlive;
	}
	/* calloc'ed pages are only touched as far as a read fills them */
	if (!run->live && !(run->live = calloc(run->live_cap, sizeof(*run->live)))) {
		run->read_errors++;
		*live = NULL;
		return 0;
	}
	*live = run->live;
	n = tracer_read_live(run->t, run->live, run->live_cap);
	if (n < 0)
		run->read_errors++;
	run->nlive = n < 0 ? 0 : n;
	run->live_tick = run->tick;
	return run->nlive;
}

/* ---- the run's lifecycle over every enabled feature ---------------------- */

#define FOR_EACH_ENABLED(run, i, f)                                                   \
	for (int i = 0; i < trace_nfeatures; i++)                                      \
		for (const struct trace_feature *f = trace_features[i]; f && (run)->state[i]; \
		     f = NULL)

int trace_features_open(struct trace_run *run, const char **what)
{
	for (int i = 0; i < trace_nfeatures; i++) {
		const struct trace_feature *f = trace_features[i];

		if (!f->wanted(run->o))
			continue;
		run->state[i] = calloc(1, f->state_size);
		if (!run->state[i]) {
			*what = f->name;
			return -ENOMEM;
		}
	}
	FOR_EACH_ENABLED(run, i, f) {
		int err = f->open ? f->open(run->state[i], run, what) : 0;

		if (err)
			return err;
	}
	return 0;
}

void trace_features_configure(struct trace_run *run, struct tracer_config *cfg)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->configure)
			f->configure(run->state[i], run->o, cfg);
}

int trace_features_start(struct trace_run *run, const char **what)
{
	FOR_EACH_ENABLED(run, i, f) {
		int err = f->start ? f->start(run->state[i], run, what) : 0;

		if (err)
			return err;
	}
	return 0;
}

void trace_features_on_record(struct trace_run *run, const void *data, size_t len)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->on_record)
			f->on_record(run->state[i], data, len);
}

int trace_features_wait_ms(struct trace_run *run, uint64_t now_ns, int max_ms)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->wait_ms)
			max_ms = f->wait_ms(run->state[i], now_ns, max_ms);
	return max_ms;
}

void trace_features_tick(struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	run->tick++;
	FOR_EACH_ENABLED(run, i, f)
		if (f->tick)
			f->tick(run->state[i], run, tree, now_ns);
}

void trace_features_at_stop(struct trace_run *run)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->at_stop)
			f->at_stop(run->state[i], run);
}

void trace_features_commit(struct trace_run *run)
{
	for (int i = 0; i < run->noutputs; i++)
		output_file_commit(run->outputs[i]);
}

int trace_features_finish(struct trace_run *run, uint64_t now_ns)
{
	int first = 0;

	run->tick++; /* one fresh read of the live address spaces for all */
	FOR_EACH_ENABLED(run, i, f) {
		const char *what = NULL;
		int err = f->finish ? f->finish(run->state[i], run, now_ns, &what) : 0;

		if (err) {
			elog("cannot write %s: %s (the output is incomplete)", what, strerror(-err));
			first = first ? first : err;
		}
	}
	return first;
}

void trace_features_collect(struct trace_run *run)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->collect)
			f->collect(run->state[i], run);
}

void trace_features_print(struct trace_run *run, FILE *out, bool json, const struct trace_end *e)
{
	FOR_EACH_ENABLED(run, i, f) {
		void (*print)(void *, FILE *, const struct trace_run *, const struct trace_end *) =
			json ? f->print_json : f->print_text;

		if (print)
			print(run->state[i], out, run, e);
	}
	if (run->read_errors && !json)
		fprintf(out, "WARNING: %d reading(s) of the live processes failed\n", run->read_errors);
}

void trace_features_summary_json(struct trace_run *run, struct json_obj *j)
{
	FOR_EACH_ENABLED(run, i, f)
		if (f->summary_json)
			f->summary_json(run->state[i], j);
}

void trace_features_free(struct trace_run *run)
{
	for (int i = 0; i < trace_nfeatures; i++) {
		if (run->state[i] && trace_features[i]->free)
			trace_features[i]->free(run->state[i]);
		free(run->state[i]);
		run->state[i] = NULL;
	}
	free(run->live);
	run->live = NULL;
}
