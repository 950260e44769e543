/* steps.h: the steps of a WorkloadIdentity reconcile, each on a struct
 * rctx (reconcile/rctx.h): role.c (OIDC provider and role), wiring.c
 * (service account and pods), ways.c (IRSA or Pod Identity, the migration
 * plan and the trust it asks for), association.c (the EKS pod identity
 * association), cleanup.c (deletion), memo.c (what is remembered between
 * reconciles). The orchestrator (workload.c) and the
 * drift sweep (sweep.c) call them; they call only rctx.h and each other.
 * Not a public API. */
#ifndef KEYLESS_RECONCILE_STEPS_H
#define KEYLESS_RECONCILE_STEPS_H

#include "reconcile/rctx.h"

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
/* The trust kinds (enum trust_kind) the role had when last verified, -1
 * when not known. */
int wi_memo_trust_kinds(struct rctx *x);
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

/* verify.c: settings verifyAssumeRole - RoleReady True only once a
 * short-lived token of the service account assumes the role. false: not
 * (yet) verified (RoleReady False says why; a requeue is set). */
bool wi_verify_assume(struct rctx *x);

/* ways.c: how pods reach the role (identity/mode.h, identity/migration.h) */
/* Choose the mode for this reconcile (x->mode). false: the spec asks for what the mode in
 * effect cannot do (err: reason and message). */
bool wi_choose_mode(struct rctx *x, struct op_err *err);
/* Is the OIDC provider needed (IRSA in effect, chosen, or still used by pods)? */
bool wi_needs_provider(struct rctx *x);
/* The migration plan from the facts (trust_kinds: enum trust_kind of the
 * role's trust policy, -1 or 0 if no role); sets the Migrating condition. */
void wi_plan_ways(struct rctx *x, int trust_kinds);
/* The trust policy the plan asks for (malloc'd JSON), NULL without memory.
 * others: for an account-scoped role, the parts other clusters own
 * (identity/trust.h); NULL for a cluster-scoped one. */
struct trust_shared;
char *wi_trust_document(struct rctx *x, const struct trust_shared *others);

/* association.c: the EKS pod identity association (Pod Identity mode) */
/* Find keyless' association of this object (x->association_id, x->assoc);
 * false on an AWS failure or when someone else's association binds the
 * service account (AssociationNotOwned). */
bool wi_find_association(struct rctx *x);
/* Create, update or delete it as x->plan says (after wi_find_association). */
bool wi_ensure_association(struct rctx *x);
/* Deletion: delete keyless' associations of this object for service
 * account sa. 0 or a negative errno. */
int wi_delete_association(struct rctx *x, const char *sa);

/* cleanup.c */
struct reconcile_result wi_finalize(struct rctx *x);

#endif
