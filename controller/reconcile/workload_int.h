/* workload_int.h: shared between the files of the WorkloadIdentity reconciler
 * (workload.c: the flow and status; role.c: OIDC provider and role;
 * wiring.c: service account and pods; cleanup.c: deletion). Not a public API. */
#ifndef KEYLESS_RECONCILE_WORKLOAD_INT_H
#define KEYLESS_RECONCILE_WORKLOAD_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "identity/conditions.h"
#include "identity/naming.h"
#include "identity/spec.h"
#include "kube/events.h"
#include "reconcile/workload.h"

#define API_VERSION "keyless.dev/v1alpha1"
#define KIND "WorkloadIdentity"
#define ANN_ROLE_ARN "eks.amazonaws.com/role-arn"
#define ANN_REGIONAL "eks.amazonaws.com/sts-regional-endpoints"
#define ANN_AUDIENCE "eks.amazonaws.com/audience"
#define ANN_RESTARTED_FOR "keyless.dev/restarted-for"
#define ANN_RESTARTED_AT "keyless.dev/restartedAt"

/* One reconcile's working state. */
struct rctx {
	struct wi_reconciler *r;
	char ns[256], name[256], uid[64];
	json_t *obj;             /* the WorkloadIdentity as read */
	struct wi_spec *spec;    /* NULL until parsed */
	struct conditions conds;
	long long generation;
	bool was_ready;          /* Ready=True for this generation before we started */
	char now[40];
	int64_t now_ns;
	struct kube_object_ref ref;
	char role_name[IAM_ROLE_NAME_MAX + 1];
	char role_arn[512];
	char provider_arn[768];
	char wired_at[40];       /* status.wiredAt ("" if none) */
	long stale_pods;
	bool sa_ready;           /* the service account points at the role */
	bool transient;          /* an AWS/Kubernetes failure worth retrying */
	bool requeue_soon;       /* pods still being replaced */
};

/* Events (type Normal/Warning); also logs. */
void rctx_event(struct rctx *x, const char *type, const char *reason, const char *action, const char *fmt, ...)
	_printf_(5, 6);

/* Report a failed AWS call on a condition; returns false so callers can
 * `return rctx_aws_failed(...)`. Marks transient failures for retry. */
bool rctx_aws_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err);

/* Report a failed Kubernetes write on a condition (same contract). */
bool rctx_kube_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err);

/* role.c */
bool wi_ensure_provider(struct rctx *x);
/* Returns false when the role is not ready (the condition says why). */
bool wi_ensure_role(struct rctx *x);
/* Delete the inline/managed policies and the role, if keyless owns it. */
int wi_delete_role(struct rctx *x, bool *ret_deleted);

/* wiring.c */
bool wi_ensure_service_account(struct rctx *x);
void wi_ensure_workloads(struct rctx *x);
/* Remove our annotations from the SA if they still point at the role. */
int wi_unwire_service_account(struct rctx *x);

/* cleanup.c */
struct reconcile_result wi_finalize(struct rctx *x);

/* workload.c */
int wi_set_finalizer(struct rctx *x, bool present);

#endif
