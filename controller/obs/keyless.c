#include "obs/keyless.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"

/* seconds: 1 ms .. 60 s (reconciles, AWS and Kubernetes requests, queue waits) */
static const double buckets[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

int keyless_metrics_init(struct keyless_metrics *km, const char *version)
{
	struct metrics *m;

	memset(km, 0, sizeof(*km));
	m = km->reg = metrics_new();
	if (!m)
		return -ENOMEM;
#define H(name, help, labels) metrics_histogram(m, name, help, labels, buckets, ARRAY_SIZE(buckets))
	km->build_info = metrics_gauge(m, "keyless_build_info", "keyless' version (always 1).", "version");
	km->reconciles = metrics_counter(m, "keyless_reconcile_total",
					 "Reconciles of WorkloadIdentities by result (ok, requeue, error, terminal).",
					 "result");
	km->reconcile_seconds = H("keyless_reconcile_duration_seconds", "How long reconciles took.", NULL);
	km->aws_requests = metrics_counter(m, "keyless_aws_requests_total",
					   "AWS API calls (retries included in one call) by service, operation and outcome "
					   "code (OK, the AWS error code, HTTP<status> or NetworkError).",
					   "service,operation,code");
	km->aws_seconds = H("keyless_aws_request_duration_seconds",
			    "How long AWS API calls took, retries and backoff included.", "service,operation");
	km->kube_requests = metrics_counter(m, "keyless_kube_requests_total",
					    "Kubernetes API requests (each attempt) by verb (WATCH for streams) and HTTP "
					    "status code (<error>: no answer).",
					    "verb,code");
	km->kube_seconds = H("keyless_kube_request_duration_seconds",
			     "How long Kubernetes API requests took (streams not included).", "verb");
	km->queue_depth = metrics_gauge(m, "keyless_workqueue_depth", "Keys waiting in the work queue.", NULL);
	km->queue_delayed = metrics_gauge(m, "keyless_workqueue_delayed",
					  "Keys waiting for a delay (backoff, requeue, resync) before entering the queue.",
					  NULL);
	km->queue_in_flight = metrics_gauge(m, "keyless_workqueue_in_flight", "Keys being reconciled now.", NULL);
	km->queue_adds = metrics_counter(m, "keyless_workqueue_adds_total", "Keys added to the work queue.", NULL);
	km->queue_retries = metrics_counter(m, "keyless_workqueue_retries_total",
					    "Rate-limited re-adds (a reconcile failed).", NULL);
	km->queue_wait = H("keyless_workqueue_queue_duration_seconds",
			   "How long keys waited in the work queue before a worker took them.", NULL);
	km->informer_lists = metrics_counter(m, "keyless_informer_lists_total",
					     "Full LISTs by resource (the first one and relists).", "resource");
	km->informer_relists = metrics_counter(m, "keyless_informer_relists_total",
					       "LISTs after the first, by resource.", "resource");
	km->informer_relists_gone = metrics_counter(m, "keyless_informer_relists_gone_total",
						    "Relists because the watch's resourceVersion was too old (410 Gone).",
						    "resource");
	km->informer_watches = metrics_counter(m, "keyless_informer_watches_total", "WATCH requests started.",
					       "resource");
	km->informer_watch_restarts = metrics_counter(m, "keyless_informer_watch_restarts_total",
						      "WATCH requests after the first (a watch ended or failed).",
						      "resource");
	km->informer_errors = metrics_counter(m, "keyless_informer_errors_total", "Failed LIST or WATCH attempts.",
					      "resource");
	km->informer_events = metrics_counter(m, "keyless_informer_events_total",
					      "Watch events (ADDED, MODIFIED, DELETED) applied to the cache.", "resource");
	km->informer_synced = metrics_gauge(m, "keyless_informer_synced",
					    "1 once the resource's cache is filled by its first LIST.", "resource");
	km->cache_objects = metrics_gauge(m, "keyless_cache_objects", "Objects in the cache, by resource.", "resource");
	km->identities = metrics_gauge(m, "keyless_workload_identities",
				       "WorkloadIdentities in the cache by their Ready condition (True, False, Unknown).",
				       "ready");
	km->stale_pods = metrics_gauge(m, "keyless_stale_pods",
				       "Pods without the role's credentials, summed over WorkloadIdentities' "
				       "status.stalePods.",
				       NULL);
	km->leader = metrics_gauge(m, "keyless_leader",
				   "1 while this replica leads (always 1 without --leader-elect once started).", NULL);
	km->ready = metrics_gauge(m, "keyless_ready", "1 while /readyz answers 200.", NULL);
	km->sweeps = metrics_counter(m, "keyless_drift_sweeps_total",
				     "Periodic drift sweeps of the roles (driftDetection) by result (ok, error).", "result");
	km->sweep_identities = metrics_counter(m, "keyless_drift_sweep_identities_total",
					       "Verified identities the drift sweeps looked at, by outcome (unchanged, "
					       "drifted, missing, spread: verified in full later in the period).",
					       "outcome");
#undef H
	if (!km->build_info || !km->reconciles || !km->reconcile_seconds || !km->aws_requests || !km->aws_seconds ||
	    !km->kube_requests || !km->kube_seconds || !km->queue_depth || !km->queue_delayed || !km->queue_in_flight ||
	    !km->queue_adds || !km->queue_retries || !km->queue_wait || !km->informer_lists || !km->informer_relists ||
	    !km->informer_relists_gone || !km->informer_watches || !km->informer_watch_restarts ||
	    !km->informer_errors || !km->informer_events || !km->informer_synced || !km->cache_objects ||
	    !km->identities || !km->stale_pods || !km->leader || !km->ready || !km->sweeps || !km->sweep_identities) {
		keyless_metrics_release(km);
		return -ENOMEM;
	}
	metric_set(km->build_info, 1, version);
	/* every result, so rate() sees the first one */
	for (int o = RECONCILE_OK; o <= RECONCILE_TERMINAL; o++)
		metric_add(km->reconciles, 0, reconcile_outcome_name((enum reconcile_outcome)o));
	return 0;
}

void keyless_metrics_release(struct keyless_metrics *km)
{
	metrics_free(km->reg);
	memset(km, 0, sizeof(*km));
}

static double seconds(int64_t ns)
{
	return (double)ns / (double)NSEC_PER_SEC;
}

void keyless_metrics_aws_call(void *ctx, enum aws_op op, const char *code, int64_t duration_ns)
{
	struct keyless_metrics *km = ctx;
	const struct aws_op_info *info = aws_op_info(op);
	const char *svc = aws_service_name(info->service);

	metric_add(km->aws_requests, 1, svc, info->name, code);
	metric_observe(km->aws_seconds, seconds(duration_ns), svc, info->name);
}

void keyless_metrics_kube_request(void *ctx, const char *verb, int status, int64_t duration_ns)
{
	struct keyless_metrics *km = ctx;
	char code[16];

	if (status > 0)
		snprintf(code, sizeof(code), "%d", status);
	else
		snprintf(code, sizeof(code), "<error>");
	metric_add(km->kube_requests, 1, verb, code);
	if (!streq(verb, "WATCH"))
		metric_observe(km->kube_seconds, seconds(duration_ns), verb);
}

void keyless_metrics_reconcile(void *ctx, enum reconcile_outcome outcome, int64_t duration_ns)
{
	struct keyless_metrics *km = ctx;

	metric_add(km->reconciles, 1, reconcile_outcome_name(outcome));
	metric_observe(km->reconcile_seconds, seconds(duration_ns));
}

void keyless_metrics_queue_wait(void *ctx, int64_t queued_ns)
{
	struct keyless_metrics *km = ctx;

	metric_observe(km->queue_wait, seconds(queued_ns));
}

void keyless_metrics_drift_sweep(void *ctx, int rc, const struct drift_sweep_stats *st)
{
	struct keyless_metrics *km = ctx;

	metric_add(km->sweeps, 1, rc < 0 ? "error" : "ok");
	metric_add(km->sweep_identities, (double)st->vouched, "unchanged");
	metric_add(km->sweep_identities, (double)st->drifted, "drifted");
	metric_add(km->sweep_identities, (double)st->missing, "missing");
	metric_add(km->sweep_identities, (double)st->spread, "spread");
}
