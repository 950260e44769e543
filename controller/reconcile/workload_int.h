/* workload_int.h: shared between the files of the WorkloadIdentity reconciler
 * (workload.c: the flow and status; role.c: OIDC provider and role;
 * wiring.c: service account and pods; cleanup.c: deletion). Not a public API. */
#ifndef KEYLESS_RECONCILE_WORKLOAD_INT_H
#define KEYLESS_RECONCILE_WORKLOAD_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

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
	char provider_arn[768];
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

/* role.c */
bool wi_ensure_provider(struct rctx *x);
/* Returns false when the role is not ready (the condition says why). Sets
 * x->role_arn once the role is verified to be keyless' own. */
bool wi_ensure_role(struct rctx *x);
/* Delete the role `name` (its inline and managed policies first) if it is
 * keyless' own for this object; a role that is not is left untouched (an
 * event says so) and counts as done. 0 or a negative errno (the condition
 * `cond` says why). */
int wi_delete_role(struct rctx *x, const char *name, const char *cond, bool *ret_deleted);
/* Remove the inline and managed policies of the role `name` if it is keyless'
 * own (guardrailEnforcement: revoke); its trust stays. 0 (*ret_owned: it is
 * ours; *ret_revoked: something was removed) or a negative errno. */
int wi_revoke_role(struct rctx *x, const char *name, bool *ret_owned, bool *ret_revoked);
/* Retire the roles in x->retired: each is deleted once no pod uses it. */
void wi_retire_roles(struct rctx *x);
/* Remove keyless-added audiences no WorkloadIdentity uses any more from the
 * OIDC provider (and their tags). Reads the provider. 0 or a negative errno. */
int wi_provider_gc(struct rctx *x);
/* For the drift sweep: read the OIDC provider keyless last found (List +
 * Get). *ret_changed: it is gone or lost an audience keyless had seen on it,
 * and is forgotten (the next reconcile of each identity looks again and
 * repairs it). Otherwise it stays known for another period. Nothing cached
 * yet: no call. 0 or a negative errno. */
int wi_provider_sweep(struct wi_reconciler *r, bool *ret_changed, struct op_err *err);

/* wiring.c */
/* Decide the service-account conflict before anything is created: true if
 * an older WorkloadIdentity claims the same service account (its name in
 * winner). */
bool wi_sa_claimed_by_other(struct rctx *x, char *winner, size_t size);
bool wi_ensure_service_account(struct rctx *x);
void wi_ensure_workloads(struct rctx *x);
/* Release keyless' annotations from service account `sa` if its role
 * annotation names one of this object's roles, or delete the service account
 * if keyless created it for this object. 0 or a negative errno. */
int wi_release_service_account(struct rctx *x, const char *sa);
/* Does a running or pending pod of this object's service accounts use the
 * role with this ARN? */
bool wi_role_in_use(struct rctx *x, const char *arn);
/* Does this role ARN name one of this object's roles (current, recorded,
 * retired) in this account? */
bool wi_arn_is_ours(struct rctx *x, const char *arn);

/* memo.c: what the reconciler remembers per object between reconciles, so
 * that cost follows change. A reconcile records the generation it read
 * (wi_memo_seen), whether it verified the OIDC provider and the role in AWS
 * for that generation and when (wi_memo_verified), and the annotations it
 * left on the service account (wi_memo_wired). wi_memo_fresh: AWS was
 * verified for this uid, generation and role ARN less than a resync period
 * ago, so a reconcile that only pods, the service account or keyless' own
 * writes triggered skips the AWS reads; the periodic resync (re-added one
 * resync period after the reconcile that verified) always verifies. The
 * settings are fixed for the process's life. */
void wi_memo_seen(struct rctx *x);
bool wi_memo_fresh(struct rctx *x);
/* ok: verified at at_ns (monotonic); !ok: not verified (an AWS step failed). */
void wi_memo_verified(struct rctx *x, int64_t at_ns, bool ok);
/* audience NULL: the default audience. */
void wi_memo_wired(struct rctx *x, const char *role, const char *regional, const char *audience);
void wi_memo_forget(struct wi_reconciler *r, const char *ns, const char *name);
/* For the informer handlers: is this update of ns/name (as the cache has it
 * now) only the echo of keyless' own writes? A WorkloadIdentity: not being
 * deleted, still finalized, and the generation the last reconcile read. A
 * service account: it carries exactly the annotations the last reconcile of
 * WorkloadIdentity wi_name left on it. */
bool wi_memo_wi_echo(struct wi_reconciler *r, const char *ns, const char *name);
bool wi_memo_sa_echo(struct wi_reconciler *r, const char *ns, const char *wi_name, const char *sa_name);

/* For the drift sweep (reconcile/sweep.c): the identities whose role was
 * verified at or before `before_ns` with known fingerprints, each with the
 * hash of its role ARN (wi_memo_arn_hash). *ret is sorted by arn_hash;
 * free with wi_memo_snapshot_free. Returns the count or -ENOMEM. */
struct wi_memo_snap {
	char *key; /* "ns/name" */
	uint64_t arn_hash, role_fp, role_list_fp;
};
long wi_memo_snapshot(struct wi_reconciler *r, int64_t before_ns, struct wi_memo_snap **ret);
void wi_memo_snapshot_free(struct wi_memo_snap *v, size_t n);
uint64_t wi_memo_arn_hash(const char *arn);
/* A sweep that started at at_ns found key's role as verified: it stays
 * fresh for another period. */
void wi_memo_vouch(struct wi_reconciler *r, const char *key, uint64_t arn_hash, int64_t at_ns);
/* A sweep that started at at_ns found key's role changed or gone: the next
 * reconcile reads it in full. False when a reconcile verified it after
 * at_ns (nothing to do). */
bool wi_memo_invalidate(struct wi_reconciler *r, const char *key, int64_t at_ns);

/* cleanup.c */
struct reconcile_result wi_finalize(struct rctx *x);

/* workload.c */
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
