#include "reconcile/manager.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/ratelimit.h"
#include "base/clock.h"

struct manager {
	struct manager_opts o;
	struct wq *q;
	pthread_t *threads;
	int started;
	atomic_int running; /* workers still in worker_main */
	atomic_int in_flight;
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

const char *reconcile_outcome_name(enum reconcile_outcome o)
{
	static const char *const names[] = {
		[RECONCILE_OK] = "ok",
		[RECONCILE_REQUEUE] = "requeue",
		[RECONCILE_ERROR] = "error",
		[RECONCILE_TERMINAL] = "terminal",
	};

	return (size_t)o < ARRAY_SIZE(names) ? names[o] : "unknown";
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
		{
			char id[9];
			int64_t t0 = clock_mono_ns(NULL);

			snprintf(id, sizeof(id), "%08llx", (unsigned long long)(rand_u64() & 0xffffffffULL));
			atomic_fetch_add(&m->in_flight, 1);
			log_set_context(key, id);
			r = m->o.reconcile(m->o.ctx, key);
			log_clear_context();
			atomic_fetch_sub(&m->in_flight, 1);
			if (m->o.on_reconcile)
				m->o.on_reconcile(m->o.ctx, r.outcome, clock_mono_ns(NULL) - t0);
		}
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
	atomic_fetch_sub(&m->running, 1);
	return NULL;
}

int manager_start(struct manager *m)
{
	for (int i = 0; i < m->o.workers; i++) {
		int r;

		atomic_fetch_add(&m->running, 1);
		r = pthread_create(&m->threads[i], NULL, worker_main, m);
		if (r != 0) {
			atomic_fetch_sub(&m->running, 1);
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

int manager_stop_timeout(struct manager *m, int64_t timeout_ns)
{
	int64_t deadline = clock_mono_ns(NULL) + timeout_ns;

	atomic_store(&m->stopping, true);
	wq_shutdown(m->q); /* queued keys are handed out and skipped at once */
	while (atomic_load(&m->running) > 0) {
		if (clock_mono_ns(NULL) >= deadline)
			return -ETIMEDOUT;
		sleep_ns(20 * NSEC_PER_MSEC);
	}
	for (int i = 0; i < m->started; i++)
		pthread_join(m->threads[i], NULL);
	m->started = 0;
	return 0;
}

int manager_in_flight(struct manager *m)
{
	return atomic_load(&m->in_flight);
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
