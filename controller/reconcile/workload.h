/* workload.h: the WorkloadIdentity reconciler (IRSA and EKS Pod Identity
 * modes, and the migration between them: reconcile/ways.c).
 *
 * wi_reconcile() is the reconcile function the manager calls with a key
 * "namespace/name". Level-based and idempotent: it reads the object (API
 * server), the service account, pods and other WorkloadIdentities (caches) and
 * the role (AWS), computes the desired state with identity/ (pure), applies
 * the difference, and writes the status only when it changed. A second
 * reconcile with nothing changed makes no AWS writes and no Kubernetes writes.
 *
 * Steps: validate (spec, namespace guardrail, permission guardrails; a
 * rejection revokes what an earlier grant gave, guardrailEnforcement; the
 * mode and why, identity/mode.h) ->
 * finalizer -> service-account conflict (the oldest WorkloadIdentity wins;
 * a loser gets no role, and one it had is deleted) -> OIDC provider ->
 * record the role name in the status -> role (create / repair: trust,
 * inline policy, managed policies, boundary, max session, tags; never
 * touching a role without keyless' ownership tags for this cluster's issuer,
 * namespace, name and uid) -> service account (server-side apply of the
 * eks.amazonaws.com annotations, never over annotations another field
 * manager owns) -> the previous service account and roles, when the spec or
 * the settings moved the identity -> pods started before the wiring
 * (restart per spec.restart) -> status + events. Deletion: with
 * deletionPolicy Delete the roles keyless created are emptied and deleted,
 * its annotations released (a service account it created is deleted), then
 * the finalizer is dropped.
 */
#ifndef KEYLESS_RECONCILE_WORKLOAD_H
#define KEYLESS_RECONCILE_WORKLOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>

#include "aws/api.h"
#include "base/clock.h"
#include "base/strmap.h"
#include "identity/settings.h"
#include "kube/cache.h"
#include "reconcile/kube_ops.h"
#include "reconcile/manager.h"

/* An AWS account keyless makes roles in: the cluster's (home) or one of
 * the settings' accounts (identity/accounts.h), each with its own client
 * and its own OIDC provider cache (the provider fields are guarded by the
 * reconciler's lock). */
struct wi_account {
	const char *id;                       /* 12 digits (borrowed) */
	struct aws_client *awsc;              /* IAM there */
	const struct account_setting *entry;  /* NULL: the cluster's account */
	bool provider_busy;
	char *provider_arn;
	char **provider_client_ids;
	size_t n_provider_client_ids;
	int64_t provider_checked_ns;
	int64_t provider_missing_ns; /* manageOidcProvider false: found missing then (0: not) */
};

struct wi_reconciler {
	/* configuration (borrowed) */
	const struct settings *settings;
	const char *issuer;     /* https://..., resolved at start */
	const char *account_id; /* resolved at start */
	const char *partition;  /* "aws", "aws-cn", "aws-us-gov" */
	const char *region;     /* the cluster's (EKS) region */
	const char *controller_namespace; /* keyless' own namespace (NULL: unknown): excluded
					   * unless guardrails.allowControllerNamespace */
	long trust_policy_quota; /* AssumeRolePolicySizeQuota; 0 = 2048 */
	/* I/O */
	const struct aws_api *aws;
	struct aws_client *awsc;
	const struct kube_ops *kube;
	/* the OIDC thumbprint lookup (verified TLS to the issuer, against ca_file
	 * = settings' oidcIssuerCA, or the system store when NULL); NULL: omit it */
	int (*thumbprint)(const char *issuer_url, const char *ca_file, char *out, struct op_err *err);
	struct kube_cache *pods, *sas, *wis;
	const struct clock *clock;
	/* the OIDC provider, checked at most once per resync period. `lock`
	 * guards these fields only and is never held across I/O: one thread at a
	 * time talks to IAM about the provider (provider_busy), the others that
	 * need it wait on provider_idle; a cached answer never waits */
	pthread_mutex_t lock;
	pthread_cond_t provider_idle;
	struct wi_account home;     /* wi_reconciler_init: account_id, awsc */
	struct wi_account *accounts; /* the settings' accounts, n_accounts (borrowed; clients set by the caller) */
	size_t n_accounts;
	/* per WorkloadIdentity ("ns/name"): the generation last read, when AWS
	 * was last verified for it, and how its service account was left wired
	 * (reconcile/memo.c); guarded by memo_lock, never held across I/O */
	pthread_mutex_t memo_lock;
	struct strmap memo;
	/* counters */
	atomic_uint_fast64_t kube_writes, aws_writes_planned, drift_repairs;
};

/* The account of that id (NULL id: the cluster's), NULL if keyless has none. */
struct wi_account *wi_account_get(struct wi_reconciler *r, const char *id);

/* Initialize/release the mutex and cached provider state. */
void wi_reconciler_init(struct wi_reconciler *r);
void wi_reconciler_release(struct wi_reconciler *r);

/* The manager's reconcile function; ctx is a struct wi_reconciler. */
struct reconcile_result wi_reconcile(void *ctx, const char *key);

/* Informer handlers: map a change of a WorkloadIdentity, ServiceAccount or
 * Pod to the WorkloadIdentity keys to reconcile (ctx: struct wi_handler). */
struct wi_handler {
	struct wi_reconciler *r;
	struct wq *q;
};
void wi_on_wi_change(const struct kube_change *ch, void *ctx);
void wi_on_sa_change(const struct kube_change *ch, void *ctx);
void wi_on_pod_change(const struct kube_change *ch, void *ctx);

#endif
