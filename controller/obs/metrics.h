/* metrics.h: a small metric registry and its Prometheus text rendering
 * (exposition format 0.0.4). No I/O: server/http.c serves what
 * metrics_render() writes.
 *
 * A registry holds families (counter, gauge, histogram), each with a fixed
 * list of label names; a family holds one series per distinct tuple of label
 * values, created on first use. Every function is thread-safe (one mutex per
 * registry; the hot paths are one lock, one short linear lookup and an add).
 * A family holds at most METRICS_MAX_SERIES series; updates of further label
 * tuples are dropped (a bound on memory if a label ever took unexpected
 * values).
 *
 *     struct metric *req = metrics_counter(m, "keyless_aws_requests_total",
 *                                          "AWS API requests.", "service,operation,code");
 *     metric_add(req, 1, "iam", "CreateRole", "OK");   // one value per label
 *
 * Gauges that mirror state kept elsewhere (queue depth, cache contents) are
 * filled by collectors, called at the start of every metrics_render() (on
 * the caller's thread, without the registry lock held).
 */
#ifndef KEYLESS_OBS_METRICS_H
#define KEYLESS_OBS_METRICS_H

#include <stddef.h>

#include "base/buf.h"

#define METRICS_MAX_SERIES 2000
#define METRICS_MAX_LABELS 4

struct metrics;
struct metric;

struct metrics *metrics_new(void);
/* Frees the registry and every family; accepts NULL. */
void metrics_free(struct metrics *m);

/* Register a family. `labels` is a comma-separated list of label names
 * ("service,operation,code"; NULL or "" for none, at most METRICS_MAX_LABELS).
 * Returns NULL for an invalid or already registered name, invalid label
 * names (a histogram may not use "le"), or out of memory. The family belongs
 * to the registry. Rendered in registration order. */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *help, const char *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help, const char *labels);
/* `bounds`: the buckets' upper bounds, strictly increasing (copied; +Inf is
 * implicit). */
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help, const char *labels,
				 const double *bounds, size_t n_bounds);

/* Update the series named by the label values (exactly as many `const char *`
 * arguments as the family has labels, in order; copied). A NULL family is
 * ignored, so optional metrics need no checks at the call site.
 *   metric_add      counter or gauge: += v (counters ignore v < 0)
 *   metric_set      gauge: = v; counter: = v, to mirror a counter kept
 *                   elsewhere (a collector copying a snapshot)
 *   metric_observe  histogram: one observation of v */
void metric_add(struct metric *f, double v, ...);
void metric_set(struct metric *f, double v, ...);
void metric_observe(struct metric *f, double v, ...);
/* Drop every series of a family (a collector that recomputes a gauge from
 * scratch, so label tuples that disappeared disappear). */
void metric_clear(struct metric *f);

/* Current value of a counter/gauge series (count of a histogram series);
 * 0 if absent. For tests. */
double metric_value(struct metric *f, ...);

/* Call fn(ctx) at the start of every metrics_render(). Returns 0 or -ENOMEM. */
int metrics_add_collector(struct metrics *m, void (*fn)(void *ctx), void *ctx);

/* Run the collectors, then append every family in the text format to out:
 * "# HELP", "# TYPE", then one line per series (histograms: _bucket with
 * cumulative counts and le="...", "+Inf" last, then _sum and _count). Label
 * values are escaped (\\, \", \n), HELP text too (\\, \n). Families without
 * series print only HELP and TYPE. Returns 0 or -ENOMEM. */
int metrics_render(struct metrics *m, struct buf *out);

/* The content type of metrics_render()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
