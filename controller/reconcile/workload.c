#include "reconcile/workload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aws/eks.h"
#include "aws/redact.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "identity/accounts.h"
#include "identity/guardrails.h"
#include "identity/trust.h"
#include "kube/project.h"
#include "reconcile/rctx.h"
#include "reconcile/steps.h"

#define REQUEUE_NOT_READY_NS (60 * NSEC_PER_SEC)
/* A migration between IRSA and Pod Identity moves to its next phase this soon. */
#define REQUEUE_MIGRATION_NS (1 * NSEC_PER_SEC)

void wi_reconciler_init(struct wi_reconciler *r)
{
	r->home.id = r->account_id;
	r->home.awsc = r->awsc;
	r->home.entry = NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->provider_idle, NULL);
	pthread_mutex_init(&r->memo_lock, NULL);
	r->memo = (struct strmap)STRMAP_INIT;
}

static void account_release(struct wi_account *a)
{
	free(a->provider_arn);
	for (size_t i = 0; i < a->n_provider_client_ids; i++)
		free(a->provider_client_ids[i]);
	free(a->provider_client_ids);
	a->provider_arn = NULL;
	a->provider_client_ids = NULL;
	a->n_provider_client_ids = 0;
}

struct wi_account *wi_account_get(struct wi_reconciler *r, const char *id)
{
	if (!id || !r->home.id || streq(id, r->home.id))
		return &r->home;
	for (size_t i = 0; i < r->n_accounts; i++) {
		if (streq(r->accounts[i].id, id))
			return &r->accounts[i];
	}
	return NULL;
}

void wi_reconciler_release(struct wi_reconciler *r)
{
	account_release(&r->home);
	for (size_t i = 0; i < r->n_accounts; i++)
		account_release(&r->accounts[i]);
	pthread_cond_destroy(&r->provider_idle);
	pthread_mutex_destroy(&r->lock);
	strmap_release(&r->memo, free);
	pthread_mutex_destroy(&r->memo_lock);
}

/* Revoke the permissions of every role keyless recorded for this object
 * (guardrailEnforcement: revoke). Returns 0 (*ret_owned: some role is
 * keyless' own, so a resync keeps checking it) or a negative errno. */
static int revoke_recorded(struct rctx *x, bool *ret_owned, char *note, size_t note_size)
{
	const char *names[MAX_RETIRED + 1];
	size_t n = 0;
	struct strfmt f = STRFMT_INIT(note, note_size);
	int rc = 0;

	*ret_owned = false;
	note[0] = '\0';
	if (!x->acct)
		return 0; /* in an account keyless has no settings for: out of reach */
	if (x->recorded_role[0])
		names[n++] = x->recorded_role;
	for (size_t i = 0; i < x->n_retired; i++)
		names[n++] = x->retired[i];
	for (size_t i = 0; i < n; i++) {
		bool owned = false, revoked = false;
		int r = wi_revoke_role(x, names[i], &owned, &revoked);

		if (r < 0) {
			rc = r;
			continue;
		}
		*ret_owned |= owned;
		if (owned)
			strfmt_add(&f, "%s%s", f.len ? ", " : "", names[i]);
		if (revoked)
			rctx_event(x, "Warning", "PermissionsRevoked", "Revoke",
				   "removed the inline and managed policies of IAM role %s: the identity is rejected "
				   "(guardrailEnforcement: revoke); its trust is kept", names[i]);
	}
	return rc;
}

/* A rejection: every condition False with the same reason. What keyless
 * granted earlier is revoked (guardrailEnforcement: revoke): the guardrails
 * hold for roles that exist, not only for new ones. Terminal until the
 * object changes, unless a role of ours exists (a resync keeps it revoked)
 * or revoking failed (retried). */
static struct reconcile_result reject(struct rctx *x, const char *reason, const struct op_err *err)
{
	static const char *const types[] = { COND_OIDC, COND_ROLE, COND_SA, COND_WORKLOADS };
	const struct condition *before = conditions_get(&x->conds, COND_READY);
	bool news = !before || !streq(before->reason, reason) || before->observed_generation != x->generation;
	bool owned = false;
	char msg[1024], roles[512] = "";
	int rc = 0;

	if (x->r->settings->enforcement == ENFORCE_REVOKE)
		rc = revoke_recorded(x, &owned, roles, sizeof(roles));
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		conditions_set(&x->conds, types[i], "False", reason, err->message, x->generation, x->now);
	if (roles[0]) {
		str_format(msg, sizeof(msg), "%s; keyless removed the permissions of IAM role %s (guardrailEnforcement: "
			   "revoke); the trust is kept, so allowing the identity again restores them at once",
			   err->message, roles);
		conditions_set(&x->conds, COND_ROLE, "False", reason, msg, x->generation, x->now);
	}
	conditions_set(&x->conds, COND_READY, "False", reason, err->message, x->generation, x->now);
	/* an event only when this is news, not on every resync */
	if (news)
		rctx_event(x, "Warning", reason, "Validate", "%s", err->message);
	if (wi_write_status(x) < 0 || rc < 0 || x->transient)
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	return (struct reconcile_result){ .outcome = owned ? RECONCILE_OK : RECONCILE_TERMINAL };
}

/* The loser of a shared service account gets no role: one it had is deleted
 * (it would trust the winner's service account). */
static void lose_service_account(struct rctx *x, const char *winner)
{
	char msg[900];
	bool deleted;

	str_format(msg, sizeof(msg),
		   "service account %s is claimed by the older WorkloadIdentity %s; only one WorkloadIdentity may own "
		   "a service account, so this one gets no IAM role",
		   x->spec->service_account, winner);
	if (!conditions_get(&x->conds, COND_SA) ||
	    !streq(conditions_get(&x->conds, COND_SA)->reason, "ServiceAccountConflict"))
		rctx_event(x, "Warning", "ServiceAccountConflict", "Wire", "%s", msg);
	conditions_set(&x->conds, COND_OIDC, "Unknown", "ServiceAccountConflict", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_ROLE, "False", "ServiceAccountConflict", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_SA, "False", "ServiceAccountConflict", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_WORKLOADS, "False", "ServiceAccountConflict", msg, x->generation, x->now);
	/* an association it made would bind the winner's service account to its role */
	if ((x->association_id[0] || x->status_mode == WI_MODE_POD_IDENTITY) &&
	    wi_delete_association(x, x->spec->service_account) == 0)
		x->association_id[0] = '\0';
	if (x->recorded_role[0] && wi_delete_role(x, x->recorded_role, COND_ROLE, &deleted) == 0) {
		x->recorded_role[0] = '\0';
		x->role_arn[0] = '\0';
	}
	for (size_t i = x->n_retired; i-- > 0;) {
		if (wi_delete_role(x, x->retired[i], COND_ROLE, &deleted) == 0)
			wi_forget_retired(x, i);
	}
	/* a service account this object annotated before it lost (another name) */
	if (x->recorded_sa[0] && !streq(x->recorded_sa, x->spec->service_account) &&
	    wi_release_service_account(x, x->recorded_sa) == 0)
		x->recorded_sa[0] = '\0';
	if (streq(x->recorded_sa, x->spec->service_account))
		x->recorded_sa[0] = '\0'; /* the winner's now */
}

/* Record the role name before anything is created under it: a role keyless
 * creates is always findable from the status. A name recorded earlier (the
 * settings changed) is retired: deleted once no pod uses it. */
static int record_role(struct rctx *x)
{
	if (streq(x->recorded_role, x->role_name))
		return 0;
	if (x->recorded_role[0]) {
		bool known = false;

		for (size_t i = 0; i < x->n_retired; i++)
			known |= streq(x->retired[i], x->recorded_role);
		if (!known) {
			if (x->n_retired == MAX_RETIRED) {
				rctx_event(x, "Warning", "TooManyRetiredRoles", "Record",
					   "%d earlier roles of this object are still in use; not moving to IAM role %s until "
					   "they are gone", MAX_RETIRED, x->role_name);
				x->transient = true;
				return -ENOSPC;
			}
			str_copy(x->retired[x->n_retired++], sizeof(x->retired[0]), x->recorded_role);
			rctx_event(x, "Normal", "RoleRenamed", "Record",
				   "the settings now name this identity's IAM role %s; %s is retired once no pod uses it",
				   x->role_name, x->recorded_role);
		}
	}
	/* a role being brought back from retirement is current again */
	for (size_t i = 0; i < x->n_retired; i++) {
		if (streq(x->retired[i], x->role_name))
			wi_forget_retired(x, i);
	}
	str_copy(x->recorded_role, sizeof(x->recorded_role), x->role_name);
	x->role_arn[0] = '\0';
	return wi_write_status(x);
}

/* --- the flow ------------------------------------------------------------------------ */

static void rctx_free(struct rctx *x)
{
	wi_spec_free(x->spec);
	json_decref(x->obj);
	eks_pod_identity_association_free(x->assoc);
	free(x->trust_doc);
}

/* Does this reconcile need to look at pod identity associations? Only when
 * Pod Identity is chosen, was in effect or left an association: an
 * IRSA-only identity costs no EKS call (and needs no EKS permission). */
static bool association_relevant(const struct rctx *x)
{
	return x->mode.mode == WI_MODE_POD_IDENTITY || x->status_mode == WI_MODE_POD_IDENTITY || x->association_id[0];
}

/* The OIDC provider when nothing uses IRSA: not needed, not touched. */
static bool provider_not_needed(struct rctx *x)
{
	conditions_set(&x->conds, COND_OIDC, "True", "NotNeeded",
		       "EKS Pod Identity does not use the cluster's IAM OIDC provider", x->generation, x->now);
	return true;
}

/* A fresh reconcile (AWS verified for this generation) applies the plan
 * from what was verified; a plan that wants another trust or association
 * (a migration moving on, pods gone), or a migration under way, is not
 * fresh: AWS is read again. */
static bool plan_from_memo(struct rctx *x)
{
	int kinds = wi_memo_trust_kinds(x);

	if (kinds < 0)
		return false;
	wi_plan_ways(x, kinds);
	/* a migration reads AWS every time: each phase moves on what it finds */
	return x->plan.phase == MIG_STEADY && kinds == ((x->plan.trust_irsa ? TRUST_IRSA : 0) | (x->plan.trust_pod_identity ? TRUST_POD_IDENTITY : 0)) &&
	       x->plan.association == (x->association_id[0] != '\0');
}

static int split_key(const char *key, struct rctx *x)
{
	const char *slash = strchr(key, '/');

	if (!slash || slash == key || !slash[1] || (size_t)(slash - key) >= sizeof(x->ns))
		return -EINVAL;
	memcpy(x->ns, key, (size_t)(slash - key));
	x->ns[slash - key] = '\0';
	return str_copy(x->name, sizeof(x->name), slash + 1);
}

static void load_object(struct rctx *x)
{
	json_t *meta = json_object_get(x->obj, "metadata"), *status = json_object_get(x->obj, "status"), *v;
	const char *adopt = json_string_value(json_object_get(json_object_get(meta, "annotations"), ANN_ADOPT_ROLE));
	const struct condition *ready;
	size_t i;

	str_copy(x->uid, sizeof(x->uid), json_string_value(json_object_get(meta, "uid")) ?: "");
	x->generation = json_integer_value(json_object_get(meta, "generation"));
	x->adopt = adopt && streq(adopt, "true");
	conditions_from_json(json_object_get(status, "conditions"), &x->conds);
	str_copy(x->wired_at, sizeof(x->wired_at), json_string_value(json_object_get(status, "wiredAt")) ?: "");
	x->status_mode = WI_MODE_DEFAULT;
	wi_mode_parse(json_string_value(json_object_get(status, "mode")), &x->status_mode);
	if (str_copy(x->association_id, sizeof(x->association_id),
		     json_string_value(json_object_get(status, "associationId")) ?: "") < 0)
		x->association_id[0] = '\0';
	/* what keyless recorded; a name that is not a role name is ignored */
	if (str_copy(x->recorded_role, sizeof(x->recorded_role),
		     json_string_value(json_object_get(status, "roleName")) ?: "") < 0)
		x->recorded_role[0] = '\0';
	json_array_foreach(json_object_get(status, "retiredRoles"), i, v) {
		if (x->n_retired < MAX_RETIRED && json_is_string(v) && json_string_length(v) <= IAM_ROLE_NAME_MAX &&
		    json_string_length(v) > 0)
			str_copy(x->retired[x->n_retired++], sizeof(x->retired[0]), json_string_value(v));
	}
	if (str_copy(x->recorded_sa, sizeof(x->recorded_sa),
		     json_string_value(json_object_get(status, "serviceAccount")) ?: "") < 0)
		x->recorded_sa[0] = '\0';
	ready = conditions_get(&x->conds, COND_READY);
	x->was_ready = ready && streq(ready->status, "True") && ready->observed_generation == x->generation &&
		       json_integer_value(json_object_get(status, "observedGeneration")) == x->generation;
	x->ref = (struct kube_object_ref){ .api_version = API_VERSION, .kind = KIND, .namespace = x->ns,
					   .name = x->name, .uid = x->uid };
}

/* The account of the role keyless made for this object: the one in
 * status.roleArn, else the one spec.accountId names (a crash may have come
 * between creating the role and recording its ARN), else the cluster's.
 * NULL: an account keyless has no settings for (any more). */
static struct wi_account *role_account(struct rctx *x, const char *status_arn)
{
	const char *spec_acct = json_string_value(json_object_get(json_object_get(x->obj, "spec"), "accountId"));
	char id[16];

	/* arn:<partition>:iam::<account>:role/... */
	if (status_arn && strstr(status_arn, ":iam::") && str_format(id, sizeof(id), "%.12s",
								      strstr(status_arn, ":iam::") + 6) == 0)
		return wi_account_get(x->r, id);
	if (spec_acct && wi_account_get(x->r, spec_acct))
		return wi_account_get(x->r, spec_acct);
	return &x->r->home;
}

/* The role this object should have under today's settings, and the
 * provider. The ARN in the status is kept while it names that role (it was
 * verified to be ours when written; every write re-verifies). */
static int role_identity(struct rctx *x)
{
	const struct settings *s = x->r->settings;
	const char *status_arn = json_string_value(json_object_get(json_object_get(x->obj, "status"), "roleArn"));
	struct role_key k = { .issuer = x->r->issuer, .prefix = s->role_name_prefix, .path = s->role_path,
			      .cluster = s->cluster_name, .ns = x->ns, .name = x->name,
			      .account = s->role_scope == ROLE_SCOPE_ACCOUNT };
	int r = identity_role_name(&k, x->role_name, sizeof(x->role_name));

	if (r < 0)
		return r;
	identity_issuer_tag(x->r->issuer, x->issuer_tag, sizeof(x->issuer_tag));
	if (!x->acct)
		x->acct = role_account(x, status_arn);
	str_format(x->provider_arn, sizeof(x->provider_arn), "arn:%s:iam::%s:oidc-provider/%s", x->r->partition,
		   x->acct ? x->acct->id : x->r->account_id, identity_issuer_host(x->r->issuer));
	if (status_arn && streq(x->recorded_role, x->role_name) && str_endswith(status_arn, x->role_name))
		str_copy(x->role_arn, sizeof(x->role_arn), status_arn);
	return 0;
}

static struct reconcile_result reconcile_one(struct wi_reconciler *r, const char *key);

static const char *outcome_name(enum reconcile_outcome o)
{
	switch (o) {
	case RECONCILE_OK: return "ok";
	case RECONCILE_REQUEUE: return "requeue";
	case RECONCILE_ERROR: return "error, will retry";
	case RECONCILE_TERMINAL: return "rejected";
	}
	return "?";
}

/* One reconcile, with what it cost: its own AWS calls (reads and writes)
 * and Kubernetes writes, counted on this thread (other workers' calls meanwhile
 * are theirs). */
__thread uint64_t wi_thread_kube_writes;

struct reconcile_result wi_reconcile(void *ctx, const char *key)
{
	struct wi_reconciler *r = ctx;
	struct aws_call_tally tally = { 0 }, *outer = aws_call_tally_attach(&tally);
	uint64_t kw = wi_thread_kube_writes;
	int64_t t0 = clock_mono_ns(NULL);
	struct reconcile_result res;

	res = reconcile_one(r, key);
	aws_call_tally_attach(outer);
	if (r->awsc)
		log_info("%s: reconciled (%s) in %lld ms: %llu AWS calls (%llu writes), %llu Kubernetes writes", key,
			 outcome_name(res.outcome), (long long)((clock_mono_ns(NULL) - t0) / NSEC_PER_MSEC),
			 (unsigned long long)(tally.reads + tally.writes), (unsigned long long)tally.writes,
			 (unsigned long long)(wi_thread_kube_writes - kw));
	return res;
}

/* keyless' own namespace: a WorkloadIdentity there could re-point keyless'
 * own service account (and so its AWS credentials). */
static int check_controller_namespace(struct rctx *x, struct op_err *err)
{
	const char *own = x->r->controller_namespace;

	if (!own || !streq(own, x->ns) || x->r->settings->guardrails.allow_controller_namespace)
		return 0;
	return op_err_setr(err, -EACCES, "NamespaceNotAllowed",
			   "namespace '%s' is keyless' own (the controller runs there, and a WorkloadIdentity could "
			   "re-point keyless' own service account); set guardrails.allowControllerNamespace: true to "
			   "allow it",
			   x->ns);
}

/* fresh: this generation passed the guardrails under these settings already
 * (wi_memo_fresh), so the (costly) permission check is not run again. */
static struct reconcile_result validate(struct rctx *x, bool fresh, bool *ret_ok)
{
	const struct guardrails *g = &x->r->settings->guardrails;
	struct op_err err;
	int rc;

	*ret_ok = false;
	op_err_clear(&err);
	rc = wi_spec_parse(x->obj, &x->spec, &err);
	if (rc < 0)
		return reject(x, "InvalidSpec", &err);
	op_err_clear(&err);
	if (guardrails_check_namespace(g, x->ns, &err) < 0 || check_controller_namespace(x, &err) < 0)
		return reject(x, "NamespaceNotAllowed", &err);
	op_err_clear(&err);
	if (!fresh && guardrails_check_spec(g, x->spec, &err) < 0)
		return reject(x, "PolicyRejected", &err);
	*ret_ok = true;
	return (struct reconcile_result){ .outcome = RECONCILE_OK };
}

/* The role's account (identity/accounts.h). false: refused (err says why). */
static bool choose_account(struct rctx *x, struct op_err *err)
{
	struct account_choice c;

	op_err_clear(err);
	identity_account_choose(x->r->settings, x->r->account_id, x->ns, x->spec, &c);
	if (c.refused)
		return op_err_setr(err, -EINVAL, "AccountNotAllowed", "%s", c.message), false;
	if (!wi_account_get(x->r, c.account_id))
		return op_err_setr(err, -EINVAL, "AccountNotAllowed",
				   "spec.accountId: keyless has no credentials for account %s (see its log at start)",
				   c.account_id), false;
	if (!x->acct || x->acct != wi_account_get(x->r, c.account_id))
		return op_err_setr(err, -EINVAL, "AccountChangeNotSupported",
				   "spec.accountId: this identity's role is in account %s (status.roleArn), the spec now "
				   "names %s; keyless does not move an identity between accounts. Restore spec.accountId, "
				   "or delete the WorkloadIdentity and create it again",
				   x->acct ? x->acct->id : "(an account keyless has no settings for)", c.account_id), false;
	str_copy(x->boundary, sizeof(x->boundary), c.boundary);
	return true;
}

static bool cond_is(struct rctx *x, const char *type, const char *status, const char *reason)
{
	const struct condition *c = conditions_get(&x->conds, type);

	return c && streq(c->status, status) && (!reason || streq(c->reason, reason));
}

/* Is the object waiting for something only a watched change (a pod, the
 * service account, another WorkloadIdentity) or a person fixes? Then
 * nothing is polled: the watch events and the resync period bring it back.
 * - WorkloadsReady is the only condition not True, for such a reason;
 * - the service account is missing, or its annotations are another field
 *   manager's (the service-account watch);
 * - an older WorkloadIdentity holds the service account (its watch). */
static bool waits_on_watch(struct rctx *x)
{
	static const char *const sa_reasons[] = { "ServiceAccountNotFound", "ServiceAccountManagedElsewhere",
						  "AnnotationOwnedElsewhere" };

	if (cond_is(x, COND_SA, "False", "ServiceAccountConflict"))
		return true;
	if (!cond_is(x, COND_OIDC, "True", NULL) || !cond_is(x, COND_ROLE, "True", NULL))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(sa_reasons); i++) {
		if (cond_is(x, COND_SA, "False", sa_reasons[i]))
			return true;
	}
	return x->workloads_wait && cond_is(x, COND_SA, "True", NULL);
}

static struct reconcile_result reconcile_one(struct wi_reconciler *r, const char *key)
{
	struct rctx x = { .r = r };
	struct reconcile_result res = { .outcome = RECONCILE_OK };
	struct op_err err;
	char winner[256];
	bool ok, fresh, aws_ok;
	int64_t t0 = clock_mono_ns(r->clock);
	int rc;

	if (split_key(key, &x) < 0)
		return (struct reconcile_result){ .outcome = RECONCILE_TERMINAL };
	x.now_ns = clock_real_ns(r->clock);
	rfc3339_format(x.now_ns, 0, x.now, sizeof(x.now));
	op_err_clear(&err);
	rc = r->kube->get(r->kube->ctx, &KUBE_WORKLOADIDENTITIES, x.ns, x.name, &x.obj, &err);
	if (rc == -ENOENT) {
		wi_memo_forget(r, x.ns, x.name);
		return res; /* gone: its finalizer already ran */
	}
	if (rc < 0) {
		log_warn("%s: reading the WorkloadIdentity failed: %s", key, err.message);
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	}
	load_object(&x);
	if (role_identity(&x) < 0) {
		op_err_setr(&err, -EINVAL, "InvalidSpec", "metadata.name: '%s' cannot be part of an IAM role name", x.name);
		res = reject(&x, "InvalidSpec", &err);
		goto out;
	}

	if (json_object_get(json_object_get(x.obj, "metadata"), "deletionTimestamp")) {
		wi_memo_forget(r, x.ns, x.name);
		if (!x.acct) { /* its role is in an account the settings no longer list: kept, not orphaned */
			op_err_setr(&err, -EINVAL, "AccountNotConfigured",
				    "status.roleArn names an account keyless has no settings for (any more): its role cannot "
				    "be deleted. Restore the account in the settings' accounts, or delete the role yourself "
				    "and remove the finalizer %s", WI_FINALIZER);
			conditions_set(&x.conds, COND_ROLE, "False", "AccountNotConfigured", err.message, x.generation,
				       x.now);
			conditions_summarize(&x.conds, x.generation, x.now);
			wi_write_status(&x);
			res.outcome = RECONCILE_ERROR;
			goto out;
		}
		res = wi_finalize(&x);
		goto out;
	}
	wi_memo_seen(&x);
	/* AWS was verified for this generation less than a resync period ago:
	 * what brought the object back (pods, the service account, keyless' own
	 * writes) changed nothing in AWS, so nothing there is read again */
	fresh = wi_memo_fresh(&x) && cond_is(&x, COND_OIDC, "True", NULL) && cond_is(&x, COND_ROLE, "True", NULL);

	/* 1. validate: spec, namespace, guardrails, and the mode */
	res = validate(&x, fresh, &ok);
	if (!ok) {
		wi_memo_verified(&x, t0, false);
		goto out;
	}
	if (!choose_account(&x, &err)) {
		wi_memo_verified(&x, t0, false);
		res = reject(&x, err.reason, &err);
		goto out;
	}
	op_err_clear(&err);
	if (!wi_choose_mode(&x, &err)) {
		wi_memo_verified(&x, t0, false);
		res = reject(&x, err.reason, &err);
		goto out;
	}
	if (fresh)
		fresh = plan_from_memo(&x);
	{
		const struct condition *c = conditions_get(&x.conds, COND_ROLE);

		x.verified_before = c && streq(c->reason, "Verified") && c->observed_generation == x.generation;
		if (c && streq(c->reason, "AssumeRolePending"))
			str_copy(x.pending_since, sizeof(x.pending_since), c->last_transition);
	}

	/* 2. the finalizer first, so nothing created below can be orphaned */
	if (!x.spec->has_finalizer) {
		rc = wi_set_finalizer(&x, true);
		if (rc < 0) {
			res.outcome = RECONCILE_ERROR; /* Conflict: a newer version exists; it will come back */
			goto out;
		}
	}

	/* 3. a shared service account is decided before anything is created */
	if (wi_sa_claimed_by_other(&x, winner, sizeof(winner))) {
		wi_memo_verified(&x, t0, false);
		lose_service_account(&x, winner);
		goto status;
	}
	aws_ok = fresh;
	if (!fresh) {
		aws_ok = (wi_needs_provider(&x) ? wi_ensure_provider(&x) : provider_not_needed(&x)) &&
			 record_role(&x) == 0 && (!association_relevant(&x) || wi_find_association(&x)) &&
			 wi_ensure_role(&x) && wi_ensure_association(&x) && wi_verify_assume(&x);
		wi_memo_verified(&x, t0, aws_ok);
	}
	if (aws_ok && wi_ensure_service_account(&x)) {
		/* 4. what an earlier spec or settings wired: released once the new one is in place */
		if (x.recorded_sa[0] && !streq(x.recorded_sa, x.spec->service_account) &&
		    wi_release_service_account(&x, x.recorded_sa) < 0)
			x.transient = true;
		else
			str_copy(x.recorded_sa, sizeof(x.recorded_sa), x.spec->service_account);
		wi_ensure_workloads(&x);
		wi_retire_roles(&x);
	}
status:
	conditions_summarize(&x.conds, x.generation, x.now);
	rc = wi_write_status(&x);
	if (rc < 0 && rc != -ENOENT)
		x.transient = true; /* Conflict, 5xx, timeout, Forbidden: retried, the status must not stay stale */

	if (x.transient)
		res.outcome = RECONCILE_ERROR;
	else if (x.planned && (x.plan.phase == MIG_ADD_TRUST || x.plan.phase == MIG_SWITCH ||
			       x.plan.phase == MIG_DROP_TRUST))
		/* a migration phase done by this reconcile's writes: the next one
		 * moves on at once (keyless' own writes bring no event); Restart
		 * waits for pod events */
		res = (struct reconcile_result){ .outcome = RECONCILE_REQUEUE, .after_ns = REQUEUE_MIGRATION_NS };
	else if (x.requeue_soon)
		res = (struct reconcile_result){ .outcome = RECONCILE_REQUEUE, .after_ns = REQUEUE_PODS_NS };
	else if (x.requeue_after_ns)
		res = (struct reconcile_result){ .outcome = RECONCILE_REQUEUE, .after_ns = x.requeue_after_ns };
	else if (!streq(conditions_get(&x.conds, COND_READY)->status, "True") && !waits_on_watch(&x))
		res = (struct reconcile_result){ .outcome = RECONCILE_REQUEUE, .after_ns = REQUEUE_NOT_READY_NS };
out:
	rctx_free(&x);
	return res;
}

/* --- event handlers ------------------------------------------------------------------- */

static void enqueue(struct wq *q, const char *ns, const char *name)
{
	struct buf k = BUF_INIT(0);

	if (buf_printf(&k, "%s/%s", ns, name) >= 0)
		wq_add(q, k.data);
	buf_release(&k);
}

/* Every WorkloadIdentity naming (ns, sa); with skip_echo, not those whose
 * last reconcile left the service account exactly as it is now (the event is
 * the echo of keyless' own write, or changed nothing keyless manages). */
static void enqueue_by_sa(struct wi_handler *h, const char *ns, const char *sa, bool skip_echo)
{
	struct kube_cache *c = h->r->wis;
	char names[64][256];
	int n = 0;

	if (!sa)
		return;
	kube_cache_rdlock(c);
	for (const struct kobj *o = kube_cache_index_first(c, ns, sa); o && n < 64; o = kube_cache_index_next(o))
		str_copy(names[n++], sizeof(names[0]), kobj_name(c, o));
	kube_cache_rdunlock(c);
	for (int i = 0; i < n; i++) {
		if (!skip_echo || !wi_memo_sa_echo(h->r, ns, names[i], sa))
			enqueue(h->q, ns, names[i]);
	}
}

void wi_on_wi_change(const struct kube_change *ch, void *ctx)
{
	struct wi_handler *h = ctx;

	/* keyless' own writes (the finalizer; the status is not projected) to
	 * a generation it has read already are no news */
	if (ch->type == KUBE_CHANGE_UPDATED && (!ch->old_idx || !ch->idx || streq(ch->idx, ch->old_idx)) &&
	    wi_memo_wi_echo(h->r, ch->ns, ch->name))
		return;
	enqueue(h->q, ch->ns, ch->name);
	/* a service account changing hands: the other claimants re-decide */
	if (ch->type != KUBE_CHANGE_RESYNC) {
		enqueue_by_sa(h, ch->ns, ch->idx, false);
		if (ch->old_idx && (!ch->idx || !streq(ch->idx, ch->old_idx)))
			enqueue_by_sa(h, ch->ns, ch->old_idx, false);
	}
}

void wi_on_sa_change(const struct kube_change *ch, void *ctx)
{
	if (ch->type != KUBE_CHANGE_RESYNC)
		enqueue_by_sa(ctx, ch->ns, ch->name, ch->type != KUBE_CHANGE_DELETED);
}

void wi_on_pod_change(const struct kube_change *ch, void *ctx)
{
	if (ch->type == KUBE_CHANGE_RESYNC)
		return;
	enqueue_by_sa(ctx, ch->ns, ch->idx ? ch->idx : ch->old_idx, false);
}
