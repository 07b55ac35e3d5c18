/* SPDX-License-Identifier: MIT */
/*
 * A pipeline stage of the ingest: runs jobs on a thread of its own, one at
 * a time, in submission order, while the submitting thread prepares the
 * next job (double buffering: a submit waits until the previous job is
 * done). An ingest has two: aggregating parsed rows into batches, and
 * writing batches to the store. Without a thread the same jobs run inline,
 * in the same order: the store ends up the same either way.
 */
#include "evc-int.h"

#include <pthread.h>
#include <stdlib.h>

struct evc_stage {
	evc_stage_fn fn;
	void *ctx;
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy; /* a job is submitted and not finished */
	bool quit;
	void *job;
	evc_ckpt ckpt;
	bool has_ckpt;
	int rc; /* the first failure; later jobs are skipped */
};

static void run_job(evc_stage *w)
{
	if (w->rc == EVC_OK)
		w->rc = w->fn(w->ctx, w->job, w->has_ckpt ? &w->ckpt : NULL);
}

static void *stage_main(void *arg)
{
	evc_stage *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		/* The submitter waits for !busy before touching the job or
		 * the store, so the job runs without the lock. */
		pthread_mutex_unlock(&w->mu);
		run_job(w);
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int evc__stage_start(evc_stage **out, bool threaded, evc_stage_fn fn, void *ctx)
{
	evc_stage *w = evc__calloc(1, sizeof(*w));
	if (!w)
		return EVC_ENOMEM;
	w->fn = fn;
	w->ctx = ctx;
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

static void wait_idle(evc_stage *w)
{
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
}

int evc__stage_submit(evc_stage *w, void *job, const evc_ckpt *ckpt)
{
	if (!w->threaded) {
		w->job = job;
		w->has_ckpt = ckpt != NULL;
		if (ckpt)
			w->ckpt = *ckpt;
		run_job(w);
		return w->rc;
	}
	pthread_mutex_lock(&w->mu);
	wait_idle(w);
	const int rc = w->rc;
	if (rc == EVC_OK) {
		w->job = job;
		w->has_ckpt = ckpt != NULL;
		if (ckpt)
			w->ckpt = *ckpt;
		w->busy = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int evc__stage_finish(evc_stage *w)
{
	if (!w)
		return EVC_OK;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		wait_idle(w);
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
