/* rctx.h: one reconcile of a WorkloadIdentity: its working state (struct
 * rctx) and the helpers every step uses to report (events, failed AWS and
 * Kubernetes calls on conditions) and to write (finalizer, status). The
 * steps (reconcile/steps.h) depend on this file, the orchestrator
 * (workload.c) on the steps and on this file; nothing here calls a step.
 * Not a public API. */
#ifndef KEYLESS_RECONCILE_RCTX_H
#define KEYLESS_RECONCILE_RCTX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "identity/conditions.h"
#include "identity/desired.h"
#include "identity/migration.h"
#include "identity/mode.h"
#include "identity/naming.h"
#include "identity/spec.h"
#include "kube/events.h"
#include "reconcile/workload.h"

#define API_VERSION "keyless.dev/v1alpha1"
#define KIND "WorkloadIdentity"
#define ANN_RESTARTED_FOR "keyless.dev/restarted-for"
#define ANN_RESTARTED_AT "keyless.dev/restartedAt"
/* On a ServiceAccount: keyless may take over eks.amazonaws.com annotations
 * that another field manager set ("true"). */
#define ANN_ALLOW_TAKEOVER "keyless.dev/allow-takeover"
/* On a WorkloadIdentity: adopt the role an earlier object of the same
 * namespace/name left behind (deletionPolicy Retain) ("true"). */
#define ANN_ADOPT_ROLE "keyless.dev/adopt-role"

/* restart: DeletePods evicts at most this many pods per reconcile; the rest
 * follow after a requeue (REQUEUE_PODS_NS), and PodDisruptionBudgets hold
 * throughout (the Eviction API). */
#define RESTART_MAX_EVICTIONS 5
/* A requeue after pods were restarted or evicted now. */
#define REQUEUE_PODS_NS (15 * NSEC_PER_SEC)
/* A requeue after a PodDisruptionBudget blocked an eviction. */
#define REQUEUE_EVICTION_BLOCKED_NS (30 * NSEC_PER_SEC)

#define MAX_RETIRED 16
/* "arn:aws-us-gov:iam::123456789012:role" + a 512-character path + a name */
#define ROLE_ARN_MAX 640

struct eks_pod_identity_association;

/* The identity's running or pending pods, by where they run and which way
 * they get credentials (reconcile/ways.c). */
struct way_pods {
	size_t fargate, windows, irsa, pi;
};

/* One reconcile's working state. */
struct rctx {
	struct wi_reconciler *r;
	char ns[256], name[256], uid[64];
	json_t *obj;             /* the WorkloadIdentity as read */
	struct wi_spec *spec;    /* NULL until parsed */
	struct conditions conds;
	long long generation;
	bool was_ready;          /* Ready=True for this generation before we started */
	bool adopt;              /* annotation keyless.dev/adopt-role: "true" */
	char now[40];
	int64_t now_ns;
	struct kube_object_ref ref;
	char issuer_tag[260];    /* identity_issuer_tag() of the cluster's issuer */
	char role_name[IAM_ROLE_NAME_MAX + 1]; /* the role this object should have now */
	char role_arn[ROLE_ARN_MAX]; /* its ARN; "" until verified to be keyless' own for this object */
	/* the role's state as wi_ensure_role() left it (identity/fingerprint.h);
	 * 0: not known (not verified, or more steps than one reconcile applies) */
	uint64_t role_fp, role_list_fp;
	int role_writes;         /* writes wi_ensure_role made to the role in this reconcile */
	char *trust_doc;         /* the trust policy wi_ensure_role left (verify.c explains a refusal with it) */
	bool verified_before;    /* RoleReady was Verified for this generation when the reconcile began */
	char pending_since[40];  /* RoleReady was AssumeRolePending since then ("" not) */
	char provider_arn[768];  /* the cluster's OIDC provider in the role's account */
	struct wi_account *acct; /* the role's account (home unless spec.accountId; workload.c) */
	char boundary[2048];     /* the permissions boundary of roles there ("" none) */
	/* what keyless created, as recorded in the status (status.roleName,
	 * .retiredRoles, .serviceAccount): changes of the settings or the spec
	 * move the identity and clean these up, so nothing is orphaned */
	char recorded_role[IAM_ROLE_NAME_MAX + 1];
	char retired[MAX_RETIRED][IAM_ROLE_NAME_MAX + 1];
	size_t n_retired;
	char recorded_sa[254];
	char wired_at[40];       /* status.wiredAt ("" if none) */
	long stale_pods;
	bool sa_ready;           /* the service account points at the role */
	bool transient;          /* an AWS/Kubernetes failure worth retrying */
	bool requeue_soon;       /* pods were restarted or evicted now */
	int64_t requeue_after_ns; /* != 0: look again then (an eviction was blocked) */
	bool workloads_wait;     /* WorkloadsReady is False for something only pod
				  * changes or people fix: no polling */
	/* how pods reach the role (reconcile/ways.c): the mode chosen, the
	 * mode in effect before (status.mode), and this reconcile's migration
	 * plan (identity/migration.h), computed once the role's trust is known */
	struct mode_choice mode;
	struct way_pods pods;    /* counted once, by wi_choose_mode */
	enum wi_mode status_mode;
	struct mig_plan plan;
	bool planned;
	char cluster_arn[320];
	/* keyless' pod identity association for this object ("" if none known),
	 * as recorded in status.associationId or found by wi_find_association */
	char association_id[96];
	bool association_known;   /* wi_find_association looked (this reconcile) */
	int64_t association_created_ns;
	struct eks_pod_identity_association *assoc; /* as EKS last answered (owned), or NULL */
};

/* Events (type Normal/Warning); also logs. */
void rctx_event(struct rctx *x, const char *type, const char *reason, const char *action, const char *fmt, ...)
	_printf_(5, 6);

/* Report a failed AWS call on a condition; returns false so callers can
 * `return rctx_aws_failed(...)`. Marks transient failures for retry. The
 * condition and the Event carry the AWS message with keyless' own principal
 * redacted (aws/redact.h); the log line has it in full. */
bool rctx_aws_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err);

/* Report a failed Kubernetes write on a condition (same contract). */
bool rctx_kube_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err);

/* status, finalizer, retired roles (rctx.c) */
int wi_set_finalizer(struct rctx *x, bool present);
/* Write the status now if it changed (the recorded role name before
 * CreateRole). 0 or a negative errno. */
int wi_write_status(struct rctx *x);
/* Forget a retired role (it is gone or not ours). */
void wi_forget_retired(struct rctx *x, size_t i);

/* One Kubernetes write by this reconcile: the reconciler's total, and this
 * thread's count (the reconcile's own, for wi_reconcile's log line). */
extern __thread uint64_t wi_thread_kube_writes;

static inline void wi_count_kube_write(struct rctx *x)
{
	atomic_fetch_add(&x->r->kube_writes, 1);
	wi_thread_kube_writes++;
}

#endif
