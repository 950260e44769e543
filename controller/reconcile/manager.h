/* manager.h: the worker pool that drives reconciles from the work queue
 * (controller-runtime's controller loop).
 *
 * N worker threads take keys from the queue and call the reconcile function;
 * its result decides what happens to the key (ARCHITECTURE.md):
 *   RECONCILE_OK        forget the key's failures; re-add after `resync` if
 *                       set (periodic drift check), else done;
 *   RECONCILE_REQUEUE   re-add after result.after_ns (forget failures);
 *   RECONCILE_ERROR     rate-limited re-add (per-key exponential backoff,
 *                       overall token bucket);
 *   RECONCILE_TERMINAL  forget; no retry until the object changes (a new
 *                       event re-adds the key).
 * Stopping shuts the queue down, drops keys still queued (the next leader or
 * start lists everything again) and waits for in-flight reconciles.
 *
 * Each reconcile gets an id (8 random hex digits); while it runs, every line
 * the worker logs carries the key and that id (log_set_context, base/log.h).
 */
#ifndef KEYLESS_RECONCILE_MANAGER_H
#define KEYLESS_RECONCILE_MANAGER_H

#include <stdint.h>

#include "reconcile/queue.h"

enum reconcile_outcome {
	RECONCILE_OK,
	RECONCILE_REQUEUE,
	RECONCILE_ERROR,
	RECONCILE_TERMINAL,
};

/* "ok", "requeue", "error", "terminal" (the metric label) */
const char *reconcile_outcome_name(enum reconcile_outcome o);

struct reconcile_result {
	enum reconcile_outcome outcome;
	int64_t after_ns; /* RECONCILE_REQUEUE */
};

typedef struct reconcile_result (*reconcile_fn)(void *ctx, const char *key);

struct manager;

struct manager_opts {
	int workers;        /* 0 = 2 */
	reconcile_fn reconcile;
	void *ctx;
	int64_t resync_ns;  /* re-add after success; 0 = never; jittered by 10% */
	struct wq_opts queue;
	void (*on_worker_exit)(void *ctx); /* per-thread cleanup (e.g. kube_client_thread_done) */
	/* optional: after each reconcile, on the worker (metrics) */
	void (*on_reconcile)(void *ctx, enum reconcile_outcome outcome, int64_t duration_ns);
};

struct manager_stats {
	uint64_t reconciles, ok, requeues, errors, terminal;
};

struct manager *manager_new(const struct manager_opts *opts);
int manager_start(struct manager *m);
/* Shut the queue down, drop queued keys, wait for in-flight reconciles. */
void manager_stop(struct manager *m);
/* The same, waiting at most timeout_ns: returns 0 when every worker ended,
 * or -ETIMEDOUT with reconciles still running (their workers are left
 * running; manager_free waits for them, or the process exits). */
int manager_stop_timeout(struct manager *m, int64_t timeout_ns);
/* Reconciles running now. */
int manager_in_flight(struct manager *m);
void manager_free(struct manager *m);

struct wq *manager_queue(struct manager *m);
void manager_get_stats(struct manager *m, struct manager_stats *ret);

#endif
