/* queue.h: the work queue (client-go's workqueue semantics).
 *
 * Keys are strings ("namespace/name"). A key is never handed to two workers
 * at once: while it is being processed (between wq_get and wq_done), adding
 * it again only marks it dirty, and wq_done puts it back in the queue. A key
 * added several times before a worker takes it is processed once.
 *
 * Delays: wq_add_after re-adds after a delay (the earliest pending delay per
 * key wins). wq_add_rate_limited uses the larger of a per-key exponential
 * backoff (base * 2^failures, 5 ms .. 1000 s by default) and an overall token
 * bucket (10 qps, burst 100 by default); wq_forget resets the key's failures.
 *
 * Shutdown: wq_shutdown stops accepting adds and wakes idle workers; queued
 * keys are still handed out until the queue is empty, then wq_get returns
 * -ESHUTDOWN. wq_shutdown_drain also waits until in-flight keys are done.
 * Thread-safe.
 */
#ifndef KEYLESS_RECONCILE_QUEUE_H
#define KEYLESS_RECONCILE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct wq;

struct wq_opts {
	int64_t base_delay_ns; /* 0 = 5 ms */
	int64_t max_delay_ns;  /* 0 = 1000 s */
	double qps;            /* 0 = 10; < 0 = no bucket */
	double burst;          /* 0 = 100 */
	const struct clock *clock; /* for the bucket; NULL = real */
	/* optional: called by wq_get (on the getting thread, no lock held) with
	 * how long the key waited in the queue: since it was added, or since
	 * wq_done re-queued it (metrics) */
	void (*on_get)(void *ctx, int64_t queued_ns);
	void *on_get_ctx;
};

struct wq_stats {
	uint64_t adds;     /* accepted adds (including re-adds) */
	uint64_t retries;  /* wq_add_rate_limited calls */
	size_t depth;      /* keys waiting in the queue */
	size_t delayed;    /* keys waiting for a delay */
	size_t processing; /* keys being processed */
};

struct wq *wq_new(const struct wq_opts *opts);
void wq_free(struct wq *q);

void wq_add(struct wq *q, const char *key);
void wq_add_after(struct wq *q, const char *key, int64_t delay_ns);
void wq_add_rate_limited(struct wq *q, const char *key);

/* The delay wq_add_rate_limited would use now, counting one more failure
 * (exposed for tests; wq_add_rate_limited calls it). */
int64_t wq_when(struct wq *q, const char *key);
void wq_forget(struct wq *q, const char *key);
unsigned wq_num_requeues(struct wq *q, const char *key);

/* Block for the next key (owned by the caller; free it after wq_done).
 * Returns 0, or -ESHUTDOWN once shut down and empty. */
int wq_get(struct wq *q, char **ret_key);
/* Like wq_get but gives up after timeout_ns with -ETIMEDOUT. */
int wq_get_timeout(struct wq *q, char **ret_key, int64_t timeout_ns);
void wq_done(struct wq *q, const char *key);

void wq_shutdown(struct wq *q);
void wq_shutdown_drain(struct wq *q);
void wq_get_stats(struct wq *q, struct wq_stats *ret);

#endif
