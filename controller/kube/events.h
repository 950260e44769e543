/* events.h: an events.k8s.io/v1 Event recorder with de-duplication.
 *
 * The first occurrence of (object uid, type, reason, note) creates an Event;
 * repeats within the window (default 10 minutes) patch that Event's series
 * (count, lastObservedTime) instead of creating new ones, so a reconcile loop
 * that keeps failing the same way produces one Event with a growing count,
 * not a flood. Errors are returned, never fatal: callers log them once.
 * Thread-safe.
 */
#ifndef KEYLESS_KUBE_EVENTS_H
#define KEYLESS_KUBE_EVENTS_H

#include <stdint.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/macros.h"
#include "kube/client.h"

struct event_recorder;

struct event_recorder_opts {
	struct kube_client *client;
	const char *controller;   /* reportingController, e.g. "keyless.dev/controller" */
	const char *instance;     /* reportingInstance (replica identity) */
	int64_t window_ns;        /* de-duplication window; 0 = 10 min */
	const struct clock *clock;
};

/* The object an event is about. */
struct kube_object_ref {
	const char *api_version;
	const char *kind;
	const char *namespace;   /* NULL/"" for cluster-scoped */
	const char *name;
	const char *uid;
};

struct event_recorder *event_recorder_new(const struct event_recorder_opts *opts);
void event_recorder_free(struct event_recorder *r);

/* type: "Normal" or "Warning"; action: what keyless did ("CreateRole");
 * note: printf-style, truncated to 1 KiB. */
int event_record(struct event_recorder *r, const struct kube_object_ref *ref, const char *type, const char *reason,
		 const char *action, struct op_err *err, const char *fmt, ...) _printf_(7, 8);

struct event_stats {
	uint64_t created;  /* new Event objects */
	uint64_t updated;  /* series updates of existing ones */
	uint64_t failed;
};
void event_recorder_stats(struct event_recorder *r, struct event_stats *ret);

#endif
