/* keyless.h: keyless' own metrics (names, labels, buckets) and the observer
 * callbacks that feed them from the AWS client, the Kubernetes client and
 * the reconcile manager. The state gauges (queue, informers, identities,
 * leader) are set by a collector in cli/controller.c.
 *
 * The list, with labels, is in README.md ("Metrics").
 */
#ifndef KEYLESS_OBS_KEYLESS_H
#define KEYLESS_OBS_KEYLESS_H

#include <stdint.h>

#include "aws/stats.h"
#include "obs/metrics.h"
#include "reconcile/manager.h"
#include "reconcile/sweep.h"

struct keyless_metrics {
	struct metrics *reg;
	struct metric *build_info;
	struct metric *reconciles, *reconcile_seconds;
	struct metric *aws_requests, *aws_seconds;
	struct metric *kube_requests, *kube_seconds;
	struct metric *queue_depth, *queue_delayed, *queue_in_flight, *queue_adds, *queue_retries, *queue_wait;
	struct metric *informer_lists, *informer_relists, *informer_relists_gone, *informer_watches,
		*informer_watch_restarts, *informer_errors, *informer_events, *informer_synced, *cache_objects;
	struct metric *identities, *stale_pods, *leader, *ready;
	struct metric *sweeps, *sweep_identities;
};

/* Register every family in a new registry. Returns 0 or -ENOMEM. */
int keyless_metrics_init(struct keyless_metrics *km, const char *version);
void keyless_metrics_release(struct keyless_metrics *km);

/* Observers (ctx = struct keyless_metrics *). */
void keyless_metrics_aws_call(void *ctx, enum aws_op op, const char *code, int64_t duration_ns);
void keyless_metrics_kube_request(void *ctx, const char *verb, int status, int64_t duration_ns);
void keyless_metrics_reconcile(void *ctx, enum reconcile_outcome outcome, int64_t duration_ns);
void keyless_metrics_queue_wait(void *ctx, int64_t queued_ns);
/* drift_sweeper_start's on_sweep (ctx: struct keyless_metrics). */
void keyless_metrics_drift_sweep(void *ctx, int rc, const struct drift_sweep_stats *st);

#endif
