#include "reconcile/manager.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/ratelimit.h"

struct manager {
	struct manager_opts o;
	struct wq *q;
	pthread_t *threads;
	int started;
	atomic_bool stopping; /* queued keys are dropped, in-flight ones finish */
	atomic_uint_fast64_t reconciles, ok, requeues, errors, terminal;
};

struct manager *manager_new(const struct manager_opts *opts)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->o = *opts;
	if (m->o.workers <= 0)
		m->o.workers = 2;
	m->q = wq_new(&m->o.queue);
	m->threads = calloc((size_t)m->o.workers, sizeof(pthread_t));
	if (!m->q || !m->threads) {
		manager_free(m);
		return NULL;
	}
	return m;
}

static void *worker_main(void *arg)
{
	struct manager *m = arg;
	char *key;

	while (wq_get(m->q, &key) == 0) {
		struct reconcile_result r;

		if (atomic_load(&m->stopping)) {
			wq_done(m->q, key);
			free(key);
			continue;
		}
		r = m->o.reconcile(m->o.ctx, key);
		atomic_fetch_add(&m->reconciles, 1);
		switch (r.outcome) {
		case RECONCILE_OK:
			atomic_fetch_add(&m->ok, 1);
			wq_forget(m->q, key);
			if (m->o.resync_ns > 0)
				wq_add_after(m->q, key, jitter_ns(m->o.resync_ns, 0.1));
			break;
		case RECONCILE_REQUEUE:
			atomic_fetch_add(&m->requeues, 1);
			wq_forget(m->q, key);
			wq_add_after(m->q, key, r.after_ns);
			break;
		case RECONCILE_ERROR:
			atomic_fetch_add(&m->errors, 1);
			wq_add_rate_limited(m->q, key);
			break;
		case RECONCILE_TERMINAL:
			atomic_fetch_add(&m->terminal, 1);
			wq_forget(m->q, key);
			break;
		}
		wq_done(m->q, key);
		free(key);
	}
	if (m->o.on_worker_exit)
		m->o.on_worker_exit(m->o.ctx);
	return NULL;
}

int manager_start(struct manager *m)
{
	for (int i = 0; i < m->o.workers; i++) {
		int r = pthread_create(&m->threads[i], NULL, worker_main, m);

		if (r != 0) {
			manager_stop(m);
			return -r;
		}
		m->started++;
	}
	return 0;
}

void manager_stop(struct manager *m)
{
	atomic_store(&m->stopping, true);
	wq_shutdown_drain(m->q);
	for (int i = 0; i < m->started; i++)
		pthread_join(m->threads[i], NULL);
	m->started = 0;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	if (m->started)
		manager_stop(m);
	wq_free(m->q);
	free(m->threads);
	free(m);
}

struct wq *manager_queue(struct manager *m)
{
	return m->q;
}

void manager_get_stats(struct manager *m, struct manager_stats *ret)
{
	ret->reconciles = atomic_load(&m->reconciles);
	ret->ok = atomic_load(&m->ok);
	ret->requeues = atomic_load(&m->requeues);
	ret->errors = atomic_load(&m->errors);
	ret->terminal = atomic_load(&m->terminal);
}
