/* kube_ops.h: the Kubernetes reads and writes the WorkloadIdentity
 * reconciler makes, as a table of functions (ARCHITECTURE.md: I/O behind a
 * table), so unit tests can record the exact calls and answer from memory
 * while the controller uses kube_ops_real over kube/client.
 *
 * Every write is counted (kube_ops_writes); a reconcile that finds nothing to
 * change makes none.
 */
#ifndef KEYLESS_RECONCILE_KUBE_OPS_H
#define KEYLESS_RECONCILE_KUBE_OPS_H

#include <jansson.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/events.h"

struct kube_ops {
	/* GET an object (*ret new reference); -ENOENT if absent. */
	int (*get)(void *ctx, const struct kube_resource *r, const char *ns, const char *name, json_t **ret,
		   struct op_err *err);
	/* JSON merge patch of an object or of its "status" subresource (sub). */
	int (*merge_patch)(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *sub,
			   const char *patch, struct op_err *err);
	/* Server-side apply under field manager "keyless" (force). ret (may be
	 * NULL): the object as the API server stored it (managedFields carry the
	 * API server's time of keyless' write). */
	int (*apply)(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *body,
		     json_t **ret, struct op_err *err);
	/* A short-lived token of a service account (TokenRequest; *ret malloc'd,
	 * never logged). */
	int (*token)(void *ctx, const char *ns, const char *sa, const char *audience, int seconds, char **ret,
		     struct op_err *err);
	/* DELETE with a uid precondition. */
	int (*delete)(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *uid,
		      struct op_err *err);
	/* Evict a pod (policy/v1 Eviction, uid precondition): PodDisruptionBudgets
	 * are respected. -EAGAIN when a budget blocks it (not retried), -ENOENT if
	 * the pod is gone. */
	int (*evict)(void *ctx, const char *ns, const char *name, const char *uid, struct op_err *err);
	/* Record an Event (never fails the reconcile). */
	void (*event)(void *ctx, const struct kube_object_ref *ref, const char *type, const char *reason,
		      const char *action, const char *message);
	void *ctx;
};

#define KEYLESS_FIELD_MANAGER "keyless"

/* The real table over a kube client and an event recorder (both borrowed). */
struct kube_ops_real {
	struct kube_client *client;
	struct event_recorder *events;
};
extern const struct kube_ops KUBE_OPS_REAL_TEMPLATE; /* set .ctx to a struct kube_ops_real */

#endif
