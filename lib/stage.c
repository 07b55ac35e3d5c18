/* SPDX-License-Identifier: MIT */
/*
 * A pipeline stage of the ingest: runs jobs on a thread of its own, one at
 * a time, in submission order, while the submitting thread prepares the
 * next ones. Up to `depth` jobs are outstanding (queued or running); a
 * submit beyond that waits, so a submitter cycling through depth + 1
 * buffers never touches one the stage still has. An ingest has two
 * stages: aggregating parsed rows into batches, and writing batches to the
 * store. Without a thread the same jobs run inline, in the same order: the
 * store ends up the same either way.
 */
#include "evc-int.h"

#include <pthread.h>
#include <stdlib.h>

struct job {
	void *job;
	evc_ckpt ckpt;
	bool has_ckpt;
};

struct evc_stage {
	evc_stage_fn fn;
	void *ctx;
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Outstanding jobs, a ring: queue[head] is running or next. */
	struct job queue[EVC_STAGE_DEPTH_MAX];
	unsigned depth, head, n;
	bool quit;
	int rc; /* the first failure; later jobs are skipped */
};

static int run_job(evc_stage *w, const struct job *j)
{
	return w->fn(w->ctx, j->job, j->has_ckpt ? &j->ckpt : NULL);
}

static void *stage_main(void *arg)
{
	evc_stage *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->n == 0 && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->n == 0)
			break;
		/* The submitter only appends behind the outstanding jobs,
		 * so the job at head runs without the lock; after a failure
		 * the rest are dropped. */
		const struct job *j = &w->queue[w->head];
		if (w->rc == EVC_OK) {
			pthread_mutex_unlock(&w->mu);
			const int rc = run_job(w, j);
			pthread_mutex_lock(&w->mu);
			w->rc = rc;
		}
		w->head = (w->head + 1) % w->depth;
		w->n--;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int evc__stage_start(evc_stage **out, bool threaded, unsigned depth,
                     evc_stage_fn fn, void *ctx)
{
	evc_stage *w = evc__calloc(1, sizeof(*w));
	if (!w)
		return EVC_ENOMEM;
	w->fn = fn;
	w->ctx = ctx;
	w->depth = depth < 1                     ? 1
	           : depth > EVC_STAGE_DEPTH_MAX ? EVC_STAGE_DEPTH_MAX
	                                         : depth;
	if (threaded) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thread, NULL, stage_main, w) == 0) {
			w->threaded = true;
		} else {
			/* No thread: the same jobs, inline. */
			pthread_cond_destroy(&w->cv);
			pthread_mutex_destroy(&w->mu);
		}
	}
	*out = w;
	return EVC_OK;
}

int evc__stage_submit(evc_stage *w, void *job, const evc_ckpt *ckpt)
{
	const struct job j = {
	    .job = job,
	    .ckpt = ckpt ? *ckpt : (evc_ckpt){0},
	    .has_ckpt = ckpt != NULL,
	};
	if (!w->threaded) {
		if (w->rc == EVC_OK)
			w->rc = run_job(w, &j);
		return w->rc;
	}
	pthread_mutex_lock(&w->mu);
	while (w->n == w->depth)
		pthread_cond_wait(&w->cv, &w->mu);
	const int rc = w->rc;
	if (rc == EVC_OK) {
		w->queue[(w->head + w->n) % w->depth] = j;
		w->n++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

unsigned evc__stage_outstanding(evc_stage *w)
{
	if (!w->threaded)
		return 0;
	pthread_mutex_lock(&w->mu);
	const unsigned n = w->n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int evc__stage_finish(evc_stage *w)
{
	if (!w)
		return EVC_OK;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		while (w->n > 0)
			pthread_cond_wait(&w->cv, &w->mu);
		w->quit = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
	const int rc = w->rc;
	free(w);
	return rc;
}
