// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/unwind_worker.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A queued sample (smp != NULL) or the end of an address space. */
struct unwind_job {
	struct unwind_job *next;
	struct stack_sample *smp;
	size_t len;
	char *maps_text;
	uint32_t tgid;
	uint64_t start_ns;
};

struct unwind_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct unwind_job *head, **tail;
	bool stopping, joined;
	int frames_fd;
	/* the worker's own, read after the join */
	struct unwinder *unw;
	uint64_t failed;
};

static void run_job(struct unwind_worker *w, struct unwind_job *j)
{
	struct stack_frames f;

	if (!j->smp) {
		unwinder_end(w->unw, j->tgid, j->start_ns);
		return;
	}
	/* the entry holds the kernel frames (and the frame-pointer user ones) */
	if (bpf_map_lookup_elem(w->frames_fd, &j->smp->hash, &f))
		memset(&f, 0, sizeof(f));
	if (unwinder_unwind(w->unw, j->smp, j->len, j->maps_text, &f) <= 0 ||
	    bpf_map_update_elem(w->frames_fd, &j->smp->hash, &f, BPF_ANY))
		w->failed++;
	j->maps_text = NULL; /* taken */
}

static void free_job(struct unwind_job *j)
{
	free(j->smp);
	free(j->maps_text);
	free(j);
}

static void *worker_main(void *arg)
{
	struct unwind_worker *w = arg;

	for (;;) {
		struct unwind_job *j;

		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		j = w->head;
		if (j) {
			w->head = j->next;
			if (!w->head)
				w->tail = &w->head;
		}
		pthread_mutex_unlock(&w->lock);
		if (!j)
			return NULL; /* stopping, and nothing left */
		run_job(w, j);
		free_job(j);
	}
}

struct unwind_worker *unwind_worker_start(int frames_fd)
{
	struct unwind_worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->frames_fd = frames_fd;
	w->tail = &w->head;
	w->unw = unwinder_new();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	err = w->unw ? pthread_create(&w->thread, NULL, worker_main, w) : ENOMEM;
	if (err) {
		unwinder_free(w->unw);
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

static void push(struct unwind_worker *w, struct unwind_job *j)
{
	pthread_mutex_lock(&w->lock);
	*w->tail = j;
	w->tail = &j->next;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

int unwind_worker_sample(struct unwind_worker *w, const struct stack_sample *smp, size_t len,
			 char *maps_text)
{
	struct unwind_job *j = calloc(1, sizeof(*j));

	if (j)
		j->smp = malloc(len);
	if (!j || !j->smp) {
		free(j);
		free(maps_text);
		return -ENOMEM;
	}
	memcpy(j->smp, smp, len);
	j->len = len;
	j->maps_text = maps_text;
	push(w, j);
	return 0;
}

int unwind_worker_end(struct unwind_worker *w, uint32_t tgid, uint64_t start_ns)
{
	struct unwind_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->tgid = tgid;
	j->start_ns = start_ns;
	push(w, j);
	return 0;
}

void unwind_worker_finish(struct unwind_worker *w, struct unwind_stats *stats, uint64_t *failed)
{
	if (!w->joined) {
		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->joined = true;
	}
	unwinder_stats(w->unw, stats);
	*failed = w->failed;
}

void unwind_worker_free(struct unwind_worker *w)
{
	struct unwind_stats st;
	uint64_t failed;

	if (!w)
		return;
	unwind_worker_finish(w, &st, &failed);
	unwinder_free(w->unw);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}
