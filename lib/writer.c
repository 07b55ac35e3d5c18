/* SPDX-License-Identifier: MIT */
/*
 * The batch writer: runs the ingest's store work (sorting a full batch,
 * writing it, committing checkpoints) on a second thread while the caller's
 * thread parses the next batch, so an ingest uses both cores. Jobs run one
 * at a time, in submission order, exactly as the single-threaded path runs
 * them inline: the store ends up the same either way.
 */
#include "evc-int.h"

#include <pthread.h>
#include <stdlib.h>

struct evc_writer {
	evc_writer_fn fn;
	void *ctx;
	bool threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy; /* a job is submitted and not finished */
	bool quit;
	evc_agg *batch;
	evc_ckpt ckpt;
	bool has_ckpt;
	int rc; /* the first failure; later jobs are skipped */
};

static void run_job(evc_writer *w)
{
	if (w->rc == EVC_OK)
		w->rc = w->fn(w->ctx, w->batch, w->has_ckpt ? &w->ckpt : NULL);
}

static void *writer_main(void *arg)
{
	evc_writer *w = arg;

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

int evc__writer_start(evc_writer **out, bool threaded, evc_writer_fn fn,
                      void *ctx)
{
	evc_writer *w = evc__calloc(1, sizeof(*w));
	if (!w)
		return EVC_ENOMEM;
	w->fn = fn;
	w->ctx = ctx;
	if (threaded) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thread, NULL, writer_main, w) == 0) {
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

static void wait_idle(evc_writer *w)
{
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
}

int evc__writer_submit(evc_writer *w, evc_agg *batch, const evc_ckpt *ckpt)
{
	if (!w->threaded) {
		w->batch = batch;
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
		w->batch = batch;
		w->has_ckpt = ckpt != NULL;
		if (ckpt)
			w->ckpt = *ckpt;
		w->busy = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int evc__writer_finish(evc_writer *w)
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
