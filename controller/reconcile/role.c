/* The OIDC provider and the IAM role of a WorkloadIdentity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/str.h"
#include "identity/desired.h"
#include "identity/documents.h"
#include "identity/fingerprint.h"
#include "identity/plan.h"
#include "identity/trust.h"
#include "kube/project.h"
#include "reconcile/steps.h"

#define MAX_TAGS 50
/* manageOidcProvider false and the provider (or an audience) missing: IAM
 * cannot be watched, so it is looked at again at most this often, for all
 * identities together (each one waiting rechecks after REQUEUE_NOT_READY_NS) */
#define PROVIDER_RECHECK_NS (60 * NSEC_PER_SEC)

/* --- OIDC provider ------------------------------------------------------------ */

static bool provider_has_client(struct wi_account *a, const char *aud)
{
	for (size_t i = 0; i < a->n_provider_client_ids; i++) {
		if (streq(a->provider_client_ids[i], aud))
			return true;
	}
	return false;
}

static void provider_forget(struct wi_account *a)
{
	free(a->provider_arn);
	a->provider_arn = NULL;
	for (size_t i = 0; i < a->n_provider_client_ids; i++)
		free(a->provider_client_ids[i]);
	free(a->provider_client_ids);
	a->provider_client_ids = NULL;
	a->n_provider_client_ids = 0;
}

static void provider_remember(struct wi_account *a, const char *arn, const struct aws_str_list *ids, int64_t now)
{
	provider_forget(a);
	a->provider_arn = strdup(arn);
	a->provider_client_ids = calloc(ids->n + 1, sizeof(char *));
	if (a->provider_client_ids) {
		for (size_t i = 0; i < ids->n; i++)
			a->provider_client_ids[a->n_provider_client_ids++] = strdup(ids->items[i]);
	}
	a->provider_checked_ns = now;
}

/* Look the provider up in AWS (List + Get). Returns 0 (found), -ENOENT, or an error. */
static int provider_lookup(struct rctx *x, struct iam_oidc_provider **ret, struct op_err *err)
{
	struct wi_reconciler *r = x->r;
	struct aws_str_list arns = { 0 };
	int rc;

	rc = r->aws->iam_list_oidc_providers(x->acct->awsc, &arns, err);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < arns.n; i++) {
		if (streq(arns.items[i], x->provider_arn)) {
			rc = r->aws->iam_get_oidc_provider(x->acct->awsc, arns.items[i], ret, err);
			break;
		}
	}
	aws_str_list_release(&arns);
	return rc;
}

/* Is an audience requested by a live WorkloadIdentity that the guardrails
 * allow? (Rejected ones do not keep a client id alive.) */
struct aud_use {
	const char *aud;
	bool used;
};

static int aud_visit(const struct kobj *o, void *ctx)
{
	const struct wi_proj *w = (const struct wi_proj *)o;
	struct aud_use *u = ctx;

	if (!w->deleting && streq(w->audience ? w->audience->s : WI_DEFAULT_AUDIENCE, u->aud)) {
		u->used = true;
		return -1;
	}
	return 0;
}

static bool audience_in_use(struct wi_reconciler *r, const char *aud)
{
	const struct str_array *allowed = &r->settings->guardrails.allowed_audiences;
	struct aud_use u = { .aud = aud };
	bool ok = false;

	for (size_t i = 0; i < allowed->n && !ok; i++)
		ok = streq(allowed->items[i], aud);
	if (!ok)
		return false;
	kube_cache_rdlock(r->wis);
	kube_cache_foreach(r->wis, aud_visit, &u);
	kube_cache_rdunlock(r->wis);
	return u.used;
}

static void str_list_remove(struct aws_str_list *l, const char *s)
{
	long i = aws_str_list_index(l, s);

	if (i < 0)
		return;
	free(l->items[i]);
	memmove(&l->items[i], &l->items[i + 1], (l->n - (size_t)i - 1) * sizeof(char *));
	l->n--;
}

/* With the provider single flight held (provider_begin): remove the client
 * ids keyless added (tagged) that no WorkloadIdentity uses any more. sts.amazonaws.com is never removed: other
 * IRSA roles of the account rely on it. */
static int provider_gc_io(struct rctx *x, struct iam_oidc_provider *p)
{
	struct wi_reconciler *r = x->r;
	struct wi_account *a = x->acct;

	for (size_t i = 0; i < p->tags.n; i++) {
		const char *key = p->tags.items[i].key, *aud = p->tags.items[i].value;
		struct op_err err;
		int rc;

		if (!str_startswith(key, CLIENT_ID_TAG_PREFIX) || !aud || streq(aud, WI_DEFAULT_AUDIENCE) ||
		    audience_in_use(r, aud))
			continue;
		op_err_clear(&err);
		if (aws_str_list_index(&p->client_ids, aud) >= 0) {
			rc = r->aws->iam_remove_client_id_from_oidc_provider(a->awsc, p->arn, aud, &err);
			if (rc < 0) {
				log_warn("removing unused audience '%s' from the OIDC provider failed: %s", aud, err.message);
				return rc;
			}
			str_list_remove(&p->client_ids, aud);
		}
		rc = r->aws->iam_untag_oidc_provider(a->awsc, p->arn, &key, 1, &err);
		if (rc < 0) {
			log_warn("untagging the OIDC provider (%s) failed: %s", key, err.message);
			return rc;
		}
		rctx_event(x, "Normal", "OIDCAudienceRemoved", "RemoveClientIDFromOpenIDConnectProvider",
			   "no WorkloadIdentity uses audience '%s' any more: removed it from the OIDC provider", aud);
	}
	return 0;
}

/* The provider's single flight: with r->lock held, wait until no other
 * thread talks to IAM about the provider, then claim it; provider_end (lock
 * held) hands it back. The lock itself is dropped around every call. */
static void provider_begin(struct wi_reconciler *r, struct wi_account *a)
{
	while (a->provider_busy)
		pthread_cond_wait(&r->provider_idle, &r->lock);
	a->provider_busy = true;
}

static void provider_end(struct wi_reconciler *r, struct wi_account *a)
{
	a->provider_busy = false;
	pthread_cond_broadcast(&r->provider_idle);
}

int wi_provider_sweep(struct wi_reconciler *r, bool *ret_changed, struct op_err *err)
{
	struct wi_account *a = &r->home;
	_cleanup_(iam_oidc_provider_freep) struct iam_oidc_provider *p = NULL;
	struct aws_str_list arns = { 0 };
	char *arn;
	bool changed = false;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (!a->provider_arn) {
		pthread_mutex_unlock(&r->lock); /* not looked up yet: the next reconcile does */
		*ret_changed = false;
		return 0;
	}
	provider_begin(r, a);
	arn = a->provider_arn ? strdup(a->provider_arn) : NULL;
	pthread_mutex_unlock(&r->lock);
	if (arn)
		rc = r->aws->iam_list_oidc_providers(a->awsc, &arns, err);
	if (arn && rc >= 0) {
		rc = -ENOENT;
		if (aws_str_list_index(&arns, arn) >= 0)
			rc = r->aws->iam_get_oidc_provider(a->awsc, arn, &p, err);
	}
	aws_str_list_release(&arns);
	pthread_mutex_lock(&r->lock);
	if (!arn || !a->provider_arn || !streq(arn, a->provider_arn)) {
		rc = rc == -ENOENT ? 0 : rc; /* forgotten or replaced meanwhile: its new owner checked it */
	} else if (rc == -ENOENT) {
		changed = true;
		rc = 0;
	} else if (rc >= 0) {
		for (size_t i = 0; i < a->n_provider_client_ids && !changed; i++)
			changed = aws_str_list_index(&p->client_ids, a->provider_client_ids[i]) < 0;
		if (!changed)
			provider_remember(a, arn, &p->client_ids, clock_mono_ns(r->clock));
	}
	if (changed)
		provider_forget(a);
	provider_end(r, a);
	pthread_mutex_unlock(&r->lock);
	free(arn);
	if (rc < 0)
		return rc;
	*ret_changed = changed;
	return 0;
}

int wi_provider_gc(struct rctx *x)
{
	struct wi_reconciler *r = x->r;
	struct wi_account *a = x->acct;
	_cleanup_(iam_oidc_provider_freep) struct iam_oidc_provider *p = NULL;
	struct op_err err;
	int rc;

	if (!r->settings->manage_oidc_provider)
		return 0;
	pthread_mutex_lock(&r->lock);
	provider_begin(r, a);
	pthread_mutex_unlock(&r->lock);
	op_err_clear(&err);
	rc = provider_lookup(x, &p, &err);
	if (rc == 0)
		rc = provider_gc_io(x, p);
	else if (rc == -ENOENT)
		rc = 0;
	else
		log_warn("%s/%s: reading the OIDC provider failed: %s", x->ns, x->name, err.message);
	pthread_mutex_lock(&r->lock);
	if (p)
		provider_remember(a, x->provider_arn, &p->client_ids, clock_mono_ns(r->clock));
	provider_end(r, a);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* manageOidcProvider false: the provider (missing) or the audience
 * (!missing) is for an IAM admin to register. */
static void provider_not_ready(struct rctx *x, bool missing)
{
	struct wi_reconciler *r = x->r;
	char msg[900];

	if (missing) {
		str_format(msg, sizeof(msg),
			   "no IAM OIDC provider for %s, and keyless is set not to manage it (manageOidcProvider: false): "
			   "create it with client id '%s'",
			   r->issuer, x->spec->audience);
		conditions_set(&x->conds, COND_OIDC, "False", "OIDCProviderMissing", msg, x->generation, x->now);
	} else {
		str_format(msg, sizeof(msg), "the IAM OIDC provider for %s does not list the audience '%s' as a client id",
			   r->issuer, x->spec->audience);
		conditions_set(&x->conds, COND_OIDC, "False", "AudienceNotRegistered", msg, x->generation, x->now);
	}
}

bool wi_ensure_provider(struct rctx *x)
{
	struct wi_reconciler *r = x->r;
	struct wi_account *a = x->acct;
	const char *aud = x->spec->audience;
	int64_t ttl = r->settings->resync_ns > 0 ? r->settings->resync_ns : 600 * NSEC_PER_SEC;
	_cleanup_(iam_oidc_provider_freep) struct iam_oidc_provider *p = NULL;
	char tag_key[64];
	struct op_err err;
	bool ok = false, missing = false;
	int rc;

	identity_client_id_tag_key(aud, tag_key, sizeof(tag_key));
	pthread_mutex_lock(&r->lock);
	for (;;) {
		int64_t now = clock_mono_ns(r->clock);

		if (a->provider_arn && now - a->provider_checked_ns < ttl && provider_has_client(a, aud)) {
			pthread_mutex_unlock(&r->lock);
			conditions_set(&x->conds, COND_OIDC, "True", "Reconciled",
				       "the cluster's OIDC issuer is registered in IAM with this audience", x->generation,
				       x->now);
			return true;
		}
		/* not managed and missing (or without this audience): one look per
		 * PROVIDER_RECHECK_NS for every identity together, not one each */
		if (!r->settings->manage_oidc_provider &&
		    ((a->provider_missing_ns && now - a->provider_missing_ns < PROVIDER_RECHECK_NS) ||
		     (a->provider_arn && now - a->provider_checked_ns < PROVIDER_RECHECK_NS))) {
			missing = !a->provider_arn;
			pthread_mutex_unlock(&r->lock);
			provider_not_ready(x, missing);
			return false;
		}
		if (!a->provider_busy)
			break;
		pthread_cond_wait(&r->provider_idle, &r->lock);
	}
	provider_begin(r, a);
	pthread_mutex_unlock(&r->lock);
	op_err_clear(&err);
	rc = provider_lookup(x, &p, &err);
	if (rc == -ENOENT) {
		if (!r->settings->manage_oidc_provider) {
			missing = true;
			provider_not_ready(x, true);
			goto out;
		} else {
			char thumb[41] = "";
			const char *thumbs[1] = { thumb };
			const char *ids[1] = { aud };
			struct aws_tag_in tags[2] = { { TAG_CLUSTER, r->settings->cluster_name }, { tag_key, aud } };
			struct iam_create_oidc_provider_input in = { .url = r->issuer, .client_ids = ids, .n_client_ids = 1,
								      .thumbprints = thumbs, .tags = tags,
								      .n_tags = streq(aud, WI_DEFAULT_AUDIENCE) ? 1 : 2 };
			struct op_err terr;
			char *arn = NULL;

			op_err_clear(&terr);
			if (r->thumbprint && r->thumbprint(r->issuer, r->settings->oidc_issuer_ca, thumb, &terr) < 0) {
				thumb[0] = '\0';
				log_warn("OIDC provider for %s: creating it without a thumbprint, NOT pinned (IAM accepts that): %s",
					 r->issuer, terr.message);
			}
			in.n_thumbprints = thumb[0] ? 1 : 0;
			op_err_clear(&err);
			rc = r->aws->iam_create_oidc_provider(a->awsc, &in, &arn, &err);
			if (rc == -EEXIST)
				rc = provider_lookup(x, &p, &err); /* another replica or a race: read it */
			else if (rc >= 0)
				rctx_event(x, "Normal", "OIDCProviderCreated", "CreateOpenIDConnectProvider",
					   "registered the cluster's OIDC issuer %s in IAM (%s)", r->issuer, arn);
			if (rc < 0) {
				free(arn);
				rctx_aws_failed(x, COND_OIDC, "iam:CreateOpenIDConnectProvider", rc, &err);
				goto out;
			}
			if (!p) {
				struct aws_str_list one = { .items = (char **)ids, .n = 1 };

				pthread_mutex_lock(&r->lock);
				provider_remember(a, arn, &one, clock_mono_ns(r->clock));
				pthread_mutex_unlock(&r->lock);
				free(arn);
				ok = true;
				goto done;
			}
			free(arn);
		}
	} else if (rc < 0) {
		rctx_aws_failed(x, COND_OIDC, "iam:ListOpenIDConnectProviders", rc, &err);
		goto out;
	}
	/* once per period: audiences keyless added that nobody uses any more */
	if (r->settings->manage_oidc_provider)
		provider_gc_io(x, p);
	if (aws_str_list_index(&p->client_ids, aud) < 0) {
		struct aws_tag_in tag = { tag_key, aud };

		if (!r->settings->manage_oidc_provider) {
			pthread_mutex_lock(&r->lock);
			provider_remember(a, x->provider_arn, &p->client_ids, clock_mono_ns(r->clock));
			pthread_mutex_unlock(&r->lock);
			provider_not_ready(x, false);
			goto out;
		}
		/* tagged first: a client id keyless added is always known as such */
		op_err_clear(&err);
		rc = streq(aud, WI_DEFAULT_AUDIENCE) ? 0 : r->aws->iam_tag_oidc_provider(a->awsc, x->provider_arn, &tag, 1, &err);
		if (rc < 0) {
			rctx_aws_failed(x, COND_OIDC, "iam:TagOpenIDConnectProvider", rc, &err);
			goto out;
		}
		rc = r->aws->iam_add_client_id_to_oidc_provider(a->awsc, x->provider_arn, aud, &err);
		if (rc < 0) {
			rctx_aws_failed(x, COND_OIDC, "iam:AddClientIDToOpenIDConnectProvider", rc, &err);
			goto out;
		}
		aws_str_list_add(&p->client_ids, aud);
		rctx_event(x, "Normal", "OIDCAudienceAdded", "AddClientIDToOpenIDConnectProvider",
			   "added audience '%s' to the OIDC provider", aud);
	}
	pthread_mutex_lock(&r->lock);
	provider_remember(a, x->provider_arn, &p->client_ids, clock_mono_ns(r->clock));
	pthread_mutex_unlock(&r->lock);
	ok = true;
done:
	conditions_set(&x->conds, COND_OIDC, "True", "Reconciled",
		       "the cluster's OIDC issuer is registered in IAM with this audience", x->generation, x->now);
out:
	pthread_mutex_lock(&r->lock);
	if (missing) {
		provider_forget(a);
		a->provider_missing_ns = clock_mono_ns(r->clock);
	} else if (ok) {
		a->provider_missing_ns = 0;
	}
	provider_end(r, a);
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* --- desired role -------------------------------------------------------------- */

struct desired {
	struct role_desired d;
	char *trust, *permissions;
	struct role_tags tags;
	const char *managed[64];
	char description[512];
};

static bool account_scope(const struct rctx *x)
{
	return x->r->settings->role_scope == ROLE_SCOPE_ACCOUNT;
}

static void desired_release(struct desired *d)
{
	free(d->trust);
	free(d->permissions);
}

static int build_desired(struct rctx *x, struct desired *ds)
{
	const struct settings *s = x->r->settings;
	const struct wi_spec *sp = x->spec;
	const struct role_owner_id who = { x->ns, x->name, x->uid, x->issuer_tag };
	int none;

	memset(ds, 0, sizeof(*ds));
	/* the trust policy follows the role's current one (wi_set_trust) */
	ds->permissions = identity_permission_policy(sp, &none);
	if (!ds->permissions && !none)
		return -ENOMEM;
	identity_role_tags(s, &who, sp, &ds->tags);
	for (size_t i = 0; i < sp->n_managed_policy_arns && i < 64; i++)
		ds->managed[i] = sp->managed_policy_arns[i];
	identity_role_description(s, x->ns, x->name, sp, ds->description, sizeof(ds->description));
	ds->d = (struct role_desired){
		.name = x->role_name,
		.path = s->role_path ? s->role_path : "/",
		.description = ds->description,
		.trust_policy = ds->trust,
		.permission_policy = ds->permissions,
		.boundary_arn = x->boundary[0] ? x->boundary : NULL,
		.max_session_duration = sp->max_session_duration ? sp->max_session_duration : s->default_max_session_duration,
		.tags = ds->tags.tags,
		.n_tags = ds->tags.n,
		.managed = ds->managed,
		.n_managed = sp->n_managed_policy_arns < 64 ? sp->n_managed_policy_arns : 64,
	};
	return 0;
}

/* --- observed role --------------------------------------------------------------- */

struct observed {
	struct role_observed o;
	enum role_owner owner;
	struct iam_role *role;
	struct aws_str_list inline_names;
	char *keyless_policy;
	struct iam_attached_policy_list attached;
	struct wi_tag tags[64];
	const char *attached_arns[128];
};

static void observed_release(struct observed *ob)
{
	iam_role_free(ob->role);
	aws_str_list_release(&ob->inline_names);
	free(ob->keyless_policy);
	iam_attached_policy_list_release(&ob->attached);
}

/* GetRole, then (only for a role we own) its policies. Returns 0, -ENOENT
 * for no role (action "iam:GetRole"), -EPERM for a role that is not keyless'
 * own for this object (ob->owner says whose), or an AWS error. A role left
 * by an earlier object of this name is ours only with keyless.dev/adopt-role;
 * a shared role this cluster does not own yet only when it joins (join). */
static int observe(struct rctx *x, const char *name, bool join, struct observed *ob, const char **ret_action,
		   struct op_err *err)
{
	struct wi_reconciler *r = x->r;
	struct owner_key k = { .issuer_tag = x->issuer_tag, .cluster = r->settings->cluster_name, .ns = x->ns,
			       .name = x->name, .uid = x->uid };
	int rc;

	memset(ob, 0, sizeof(*ob));
	*ret_action = "iam:GetRole";
	rc = r->aws->iam_get_role(x->acct->awsc, name, &ob->role, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ob->role->tags.n && i < 64; i++)
		ob->tags[i] = (struct wi_tag){ ob->role->tags.items[i].key, ob->role->tags.items[i].value };
	ob->o = (struct role_observed){
		.exists = true,
		.path = ob->role->path,
		.description = ob->role->description,
		.trust_policy = ob->role->assume_role_policy,
		.boundary_arn = ob->role->permissions_boundary_arn,
		.max_session_duration = ob->role->max_session_duration,
		.tags = ob->tags,
		.n_tags = ob->role->tags.n < 64 ? ob->role->tags.n : 64,
	};
	ob->owner = identity_role_owner(ob->tags, ob->o.n_tags, &k);
	if (ob->owner != ROLE_OWNED && !(ob->owner == ROLE_EARLIER_OBJECT && x->adopt) &&
	    !(ob->owner == ROLE_SHARED && join))
		return -EPERM;
	*ret_action = "iam:ListRolePolicies";
	rc = r->aws->iam_list_role_policies(x->acct->awsc, name, &ob->inline_names, err);
	if (rc < 0)
		return rc;
	if (aws_str_list_index(&ob->inline_names, INLINE_POLICY_NAME) >= 0) {
		*ret_action = "iam:GetRolePolicy";
		rc = r->aws->iam_get_role_policy(x->acct->awsc, name, INLINE_POLICY_NAME, &ob->keyless_policy, err);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	*ret_action = "iam:ListAttachedRolePolicies";
	rc = r->aws->iam_list_attached_role_policies(x->acct->awsc, name, &ob->attached, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ob->attached.n && i < 128; i++)
		ob->attached_arns[i] = ob->attached.items[i].arn;
	ob->o.inline_names = (const char *const *)ob->inline_names.items;
	ob->o.n_inline = ob->inline_names.n;
	ob->o.keyless_policy = ob->keyless_policy;
	ob->o.attached = ob->attached_arns;
	ob->o.n_attached = ob->attached.n < 128 ? ob->attached.n : 128;
	return 0;
}

/* What a drift sweep will compare (identity/fingerprint.h): after a plan
 * applied in full, IAM has the desired state. */
static void remember_fingerprints(struct rctx *x, const struct desired *ds)
{
	static const char *const keyless_only[] = { INLINE_POLICY_NAME };
	struct role_state st = {
		.trust_policy = ds->trust,
		.boundary_arn = ds->d.boundary_arn,
		.tags = ds->d.tags,
		.n_tags = ds->d.n_tags,
		.inline_names = keyless_only,
		.n_inline = ds->permissions ? 1 : 0,
		.keyless_policy = ds->permissions,
		.attached = ds->d.managed,
		.n_attached = ds->d.n_managed,
		.description = ds->d.description,
		.max_session_duration = ds->d.max_session_duration,
	};

	x->role_fp = role_fingerprint(&st);
	x->role_list_fp = role_list_fingerprint(&st);
}

/* Why a role is not ours, for conditions and events. */
static void not_owned_message(struct rctx *x, const char *name, const struct observed *ob, char *msg, size_t size,
			      const char **ret_reason)
{
	const char *uid = identity_tag_get(ob->tags, ob->o.n_tags, TAG_UID);
	const char *issuer = identity_tag_get(ob->tags, ob->o.n_tags, TAG_ISSUER);

	switch (ob->owner) {
	case ROLE_EARLIER_OBJECT:
		*ret_reason = "RoleOwnedByEarlierObject";
		str_format(msg, size,
			   "IAM role %s was created by keyless for an earlier WorkloadIdentity %s/%s (uid %s) and kept "
			   "(deletionPolicy Retain); keyless does not take it over silently. Annotate this object "
			   "keyless.dev/adopt-role=true to adopt it, or delete the role.",
			   name, x->ns, x->name, uid ? uid : "?");
		break;
	case ROLE_OTHER_CLUSTER:
		*ret_reason = "RoleNotOwned";
		if (identity_role_shared(ob->tags, ob->o.n_tags)) {
			str_format(msg, size,
				   "IAM role %s is shared (roleScope Account) and its keyless.dev/owner/%s tag names "
				   "another OIDC issuer than this cluster's (%s): a cluster of the same name elsewhere "
				   "uses it; keyless will not modify or delete it. Give this cluster another clusterName.",
				   name, x->r->settings->cluster_name, x->issuer_tag);
			break;
		}
		str_format(msg, size,
			   "IAM role %s belongs to keyless of another cluster (OIDC issuer %s, this cluster's is %s); "
			   "keyless will not modify or delete it.",
			   name, issuer ? issuer : "?", x->issuer_tag);
		break;
	default:
		*ret_reason = "RoleNotOwned";
		str_format(msg, size,
			   "IAM role %s exists but is not tagged as keyless' role for %s/%s of this cluster (tags "
			   "keyless.dev/issuer, /namespace, /name, /uid); keyless will not modify or delete it. Remove "
			   "that role, or change the settings (roleNamePrefix) so the name is free.",
			   name, x->ns, x->name);
		break;
	}
}

/* --- apply ------------------------------------------------------------------------ */

static const char *tag_val(const struct role_desired *d, const char *key)
{
	for (size_t i = 0; i < d->n_tags; i++) {
		if (streq(d->tags[i].key, key))
			return d->tags[i].value;
	}
	return "";
}

static const char *event_reason(enum step_kind k)
{
	switch (k) {
	case STEP_CREATE_ROLE: return "RoleCreated";
	case STEP_UPDATE_TRUST: return "TrustPolicyUpdated";
	case STEP_UPDATE_ROLE: return "RoleUpdated";
	case STEP_PUT_BOUNDARY:
	case STEP_DELETE_BOUNDARY: return "PermissionsBoundaryUpdated";
	case STEP_TAG:
	case STEP_UNTAG: return "RoleTagsUpdated";
	case STEP_PUT_POLICY: return "PolicyUpdated";
	case STEP_DELETE_POLICY: return "PolicyDeleted";
	case STEP_ATTACH: return "ManagedPolicyAttached";
	case STEP_DETACH: return "ManagedPolicyDetached";
	}
	return "RoleUpdated";
}

static int apply_step(struct rctx *x, const struct role_desired *d, const struct step *st, struct op_err *err)
{
	struct wi_reconciler *r = x->r;
	const struct aws_api *a = r->aws;

	switch (st->kind) {
	case STEP_CREATE_ROLE: {
		struct aws_tag_in tags[MAX_TAGS + 8];
		struct iam_create_role_input in = {
			.role_name = d->name,
			.assume_role_policy = d->trust_policy,
			.path = d->path,
			.description = d->description,
			.max_session_duration = d->max_session_duration,
			.permissions_boundary = d->boundary_arn,
			.tags = tags,
			.n_tags = d->n_tags,
		};
		struct iam_role *role = NULL;
		int rc;

		for (size_t i = 0; i < d->n_tags; i++)
			tags[i] = (struct aws_tag_in){ d->tags[i].key, d->tags[i].value };
		rc = a->iam_create_role(x->acct->awsc, &in, &role, err);
		if (rc >= 0 && role && role->arn)
			str_copy(x->role_arn, sizeof(x->role_arn), role->arn);
		iam_role_free(role);
		return rc;
	}
	case STEP_UPDATE_TRUST:
		return a->iam_update_assume_role_policy(x->acct->awsc, d->name, d->trust_policy, err);
	case STEP_UPDATE_ROLE:
		return a->iam_update_role(x->acct->awsc, d->name, d->description, d->max_session_duration, err);
	case STEP_PUT_BOUNDARY:
		return a->iam_put_role_permissions_boundary(x->acct->awsc, d->name, d->boundary_arn, err);
	case STEP_DELETE_BOUNDARY:
		return a->iam_delete_role_permissions_boundary(x->acct->awsc, d->name, err);
	case STEP_TAG: {
		struct aws_tag_in t = { st->arg, tag_val(d, st->arg) };

		return a->iam_tag_role(x->acct->awsc, d->name, &t, 1, err);
	}
	case STEP_UNTAG:
		return a->iam_untag_role(x->acct->awsc, d->name, &st->arg, 1, err);
	case STEP_PUT_POLICY:
		return a->iam_put_role_policy(x->acct->awsc, d->name, INLINE_POLICY_NAME, d->permission_policy, err);
	case STEP_DELETE_POLICY:
		return a->iam_delete_role_policy(x->acct->awsc, d->name, st->arg, err);
	case STEP_ATTACH:
		return a->iam_attach_role_policy(x->acct->awsc, d->name, st->arg, err);
	case STEP_DETACH:
		return a->iam_detach_role_policy(x->acct->awsc, d->name, st->arg, err);
	}
	return -EINVAL;
}

/* Tag changes are collapsed into one TagRole/UntagRole each. */
static int apply_tags(struct rctx *x, const struct role_desired *d, const struct plan *p, struct op_err *err)
{
	struct aws_tag_in add[MAX_TAGS + 8];
	const char *del[64];
	size_t na = 0, nd = 0;
	int rc = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->steps[i].kind == STEP_TAG && na < ARRAY_SIZE(add))
			add[na++] = (struct aws_tag_in){ p->steps[i].arg, tag_val(d, p->steps[i].arg) };
		else if (p->steps[i].kind == STEP_UNTAG && nd < ARRAY_SIZE(del))
			del[nd++] = p->steps[i].arg;
	}
	if (na)
		rc = x->r->aws->iam_tag_role(x->acct->awsc, d->name, add, na, err);
	if (rc >= 0 && nd)
		rc = x->r->aws->iam_untag_role(x->acct->awsc, d->name, del, nd, err);
	return rc;
}

/* --- shared roles (roleScope Account) ------------------------------------------------ */

/* The service account a shared role's statements name for this object. */
static const char *object_sa(const struct rctx *x)
{
	if (x->spec && x->spec->service_account)
		return x->spec->service_account;
	return x->recorded_sa;
}

/* The other owners' parts of a shared role's trust policy. */
static void shared_parts(struct rctx *x, const struct observed *ob, struct trust_shared *others)
{
	const struct trust_shared_in in = {
		.observed = ob->o.exists ? ob->o.trust_policy : NULL,
		.tags = ob->tags,
		.n_tags = ob->o.n_tags,
		.cluster = x->r->settings->cluster_name,
		.provider_arn = x->provider_arn,
		.cluster_arn = x->cluster_arn,
		.ns = x->ns,
		.sa = object_sa(x),
	};

	if (identity_trust_shared(&in, others) < 0)
		memset(others, 0, sizeof(*others));
}

/* The other clusters' owner tags stay: they become desired tags too.
 * -E2BIG (msg says why) when the role would carry more than IAM's 50 tags. */
static int keep_other_owners(struct rctx *x, struct desired *ds, const struct observed *ob, char *msg, size_t size)
{
	const char *cluster = x->r->settings->cluster_name;
	size_t others = identity_other_owners(ob->tags, ob->o.n_tags, cluster);

	if (ds->d.n_tags + others > ROLE_TAGS_MAX) {
		str_format(msg, size, "IAM role %s is shared by %zu other clusters (keyless.dev/owner tags); with those, "
			   "keyless' own %d, the settings' extraTags and spec.tags it would carry %zu tags, more than "
			   "IAM's %d per role. Use fewer spec.tags or extraTags.",
			   x->role_name, others, SHARED_OWNERSHIP_TAGS, ds->d.n_tags + others, ROLE_TAGS_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < ob->o.n_tags; i++) {
		const char *c = identity_owner_tag_cluster(ob->tags[i].key);

		if (c && strcasecmp(c, cluster) != 0)
			ds->tags.tags[ds->d.n_tags++] = ob->tags[i];
	}
	return 0;
}

static int trust_statements(const char *doc)
{
	json_t *stmts = identity_policy_statements(doc);
	int n = (int)json_array_size(stmts);

	json_decref(stmts);
	return n;
}

bool wi_ensure_role(struct rctx *x)
{
	struct wi_reconciler *r = x->r;
	struct desired ds;
	struct observed ob;
	struct plan *p = NULL;
	struct op_err err;
	const char *action = "iam:GetRole";
	long quota = r->trust_policy_quota > 0 ? r->trust_policy_quota : IAM_TRUST_POLICY_SIZE_DEFAULT;
	bool ok = false, tags_done = false, optimistic, created = false;
	char msg[900];
	int rc;

	if (build_desired(x, &ds) < 0) {
		desired_release(&ds);
		x->transient = true;
		return false;
	}
	/* sizes, as IAM counts them, before sending anything (the trust's below) */
	if (ds.permissions && identity_policy_size(ds.permissions) > IAM_INLINE_POLICY_SIZE_MAX) {
		str_format(msg, sizeof(msg), "spec.permissions.statements: the inline policy would be %zu characters; IAM "
			 "allows %d per role (without whitespace); use fewer statements or managedPolicyArns",
			 identity_policy_size(ds.permissions), IAM_INLINE_POLICY_SIZE_MAX);
		conditions_set(&x->conds, COND_ROLE, "False", "PolicyTooLarge", msg, x->generation, x->now);
		goto out;
	}

	/* A new identity (keyless never reported on its role, no ARN in the
	 * status): the role does not exist but for a crash right after
	 * CreateRole, so CreateRole comes first and GetRole only if the name is
	 * taken (EntityAlreadyExists changes nothing: a foreign role, or one an
	 * earlier object left, is then observed and judged as always). One IAM
	 * call less per new identity. */
	optimistic = !x->role_arn[0] && !conditions_get(&x->conds, COND_ROLE);
observe:
	op_err_clear(&err);
	if (optimistic) {
		memset(&ob, 0, sizeof(ob));
		rc = -ENOENT;
	} else {
		rc = observe(x, x->role_name, true, &ob, &action, &err);
	}
	if (rc == -ENOENT && streq(action, "iam:GetRole")) {
		ob.o.exists = false;
	} else if (rc == -EPERM) {
		const char *reason;

		x->role_arn[0] = '\0'; /* the status never advertises a role that is not ours */
		not_owned_message(x, x->role_name, &ob, msg, sizeof(msg), &reason);
		if (!conditions_get(&x->conds, COND_ROLE) || !streq(conditions_get(&x->conds, COND_ROLE)->reason, reason))
			rctx_event(x, "Warning", reason, "GetRole", "%s", msg);
		conditions_set(&x->conds, COND_ROLE, "False", reason, msg, x->generation, x->now);
		observed_release(&ob);
		goto out;
	} else if (rc < 0) {
		rctx_aws_failed(x, COND_ROLE, action, rc, &err);
		observed_release(&ob);
		goto out;
	}
	if (ob.role && ob.role->arn && str_copy(x->role_arn, sizeof(x->role_arn), ob.role->arn) < 0) {
		x->role_arn[0] = '\0';
		conditions_set(&x->conds, COND_ROLE, "False", "AWSError", "the role's ARN is longer than keyless allows",
			       x->generation, x->now);
		observed_release(&ob);
		goto out;
	}
	if (ob.owner == ROLE_EARLIER_OBJECT)
		rctx_event(x, "Normal", "RoleAdopted", "TagRole",
			   "adopted IAM role %s left by an earlier WorkloadIdentity of this name (keyless.dev/adopt-role)",
			   x->role_name);

	if (account_scope(x) && keep_other_owners(x, &ds, &ob, msg, sizeof(msg)) < 0) {
		conditions_set(&x->conds, COND_ROLE, "False", "TooManyTags", msg, x->generation, x->now);
		observed_release(&ob);
		goto out;
	}

	/* the trust policy: how pods reach the role now (IRSA, Pod Identity, or
	 * both while migrating), from what the role trusts today (of a shared
	 * role: this cluster's part of it; the other owners' parts are kept) */
	free(ds.trust);
	if (account_scope(x)) {
		struct trust_shared others;

		shared_parts(x, &ob, &others);
		wi_plan_ways(x, others.own_kinds);
		ds.trust = wi_trust_document(x, &others);
		identity_trust_shared_release(&others);
	} else {
		wi_plan_ways(x, ob.o.exists && ob.o.trust_policy ? identity_trust_kinds(ob.o.trust_policy) : 0);
		ds.trust = wi_trust_document(x, NULL);
	}
	ds.d.trust_policy = ds.trust;
	if (!ds.trust) {
		observed_release(&ob);
		x->transient = true;
		goto out;
	}
	if ((long)identity_policy_size(ds.trust) > quota) {
		str_format(msg, sizeof(msg), "the trust policy of IAM role %s would be %zu characters (%d statements%s); "
			 "the account allows %ld (AssumeRolePolicySizeQuota: 2048 by default, up to 8192 on request; "
			 "set trustPolicySizeQuota in the settings once raised); nothing was sent. EKS Pod Identity "
			 "(spec.mode: PodIdentity) needs one short statement however many clusters use the role",
			 x->role_name, identity_policy_size(ds.trust), trust_statements(ds.trust),
			 account_scope(x) ? ", one per cluster that shares the role" : "", quota);
		conditions_set(&x->conds, COND_ROLE, "False", "TrustPolicyTooLarge", msg, x->generation, x->now);
		observed_release(&ob);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p || plan_role(&ds.d, &ob.o, p) < 0) {
		observed_release(&ob);
		x->transient = true;
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];

		if (st->kind == STEP_TAG || st->kind == STEP_UNTAG) {
			if (tags_done)
				continue;
			tags_done = true;
			op_err_clear(&err);
			rc = apply_tags(x, &ds.d, p, &err);
		} else {
			op_err_clear(&err);
			rc = apply_step(x, &ds.d, st, &err);
		}
		if (rc == -EEXIST && st->kind == STEP_CREATE_ROLE && optimistic) {
			optimistic = false; /* the name is taken: look at what has it */
			observed_release(&ob);
			free(p);
			p = NULL;
			goto observe;
		}
		if (rc < 0) {
			char act[64];

			str_format(act, sizeof(act), "iam:%s", step_name(st->kind));
			rctx_aws_failed(x, COND_ROLE, act, rc, &err);
			observed_release(&ob);
			goto out;
		}
		atomic_fetch_add(&r->aws_writes_planned, 1);
		x->role_writes++;
		if (st->kind == STEP_CREATE_ROLE) {
			created = true;
			rctx_event(x, "Normal", "RoleCreated", "CreateRole", "created IAM role %s trusting only %s/%s",
				   x->role_name, x->ns, x->spec->service_account);
		} else if (st->kind == STEP_UPDATE_TRUST && x->planned && x->plan.phase != MIG_STEADY) {
			rctx_event(x, "Normal", "TrustPolicyUpdated", step_name(st->kind), "IAM role %s: %s",
				   x->role_name, x->plan.message);
		} else if (x->was_ready && !created) {
			/* nothing in the spec changed since we last made it right: someone changed AWS
			 * (not the policies of a role this reconcile created: a new name) */
			atomic_fetch_add(&r->drift_repairs, 1);
			rctx_event(x, "Normal", "DriftRepaired", step_name(st->kind),
				   "IAM role %s had drifted; %s restored it", x->role_name, step_name(st->kind));
		} else {
			rctx_event(x, "Normal", event_reason(st->kind), step_name(st->kind), "%s on IAM role %s%s%s",
				   step_name(st->kind), x->role_name, st->arg ? ": " : "", st->arg ? st->arg : "");
		}
	}
	if (p->overflow)
		x->requeue_soon = true;
	else
		remember_fingerprints(x, &ds);
	if (p->path_differs)
		log_warn("%s/%s: IAM role %s has path %s, settings say %s; IAM cannot move a role, left as is", x->ns,
			 x->name, x->role_name, ob.o.path ? ob.o.path : "/", ds.d.path);
	observed_release(&ob);
	if (x->plan.trust_irsa && x->plan.trust_pod_identity)
		str_format(msg, sizeof(msg), "IAM role %s trusts only system:serviceaccount:%s:%s (audience %s) and, "
			   "while the identity migrates, EKS Pod Identity sessions tagged with that namespace and service "
			   "account in cluster %s", x->role_name, x->ns, x->spec->service_account, x->spec->audience,
			   x->r->settings->cluster_name);
	else if (x->plan.trust_pod_identity && x->spec->disable_session_tags)
		str_format(msg, sizeof(msg), "IAM role %s trusts EKS Pod Identity without session-tag conditions "
			   "(spec.disableSessionTags): any pod identity association in the account may use it",
			   x->role_name);
	else if (x->plan.trust_pod_identity)
		str_format(msg, sizeof(msg), "IAM role %s trusts only EKS Pod Identity sessions of %s/%s in cluster %s",
			   x->role_name, x->ns, x->spec->service_account, x->r->settings->cluster_name);
	else
		str_format(msg, sizeof(msg), "IAM role %s trusts only system:serviceaccount:%s:%s (audience %s)",
			   x->role_name, x->ns, x->spec->service_account, x->spec->audience);
	conditions_set(&x->conds, COND_ROLE, "True", "Reconciled", msg, x->generation, x->now);
	free(x->trust_doc);
	x->trust_doc = ds.trust ? strdup(ds.trust) : NULL;
	ok = true;
out:
	free(p);
	desired_release(&ds);
	return ok;
}

/* --- deletion, revocation, retirement ------------------------------------------------ */

/* This cluster lets go of a shared role other clusters still own: its part
 * of the trust policy and its owner tag go; the policies stay (they are the
 * others' too). Returns the number of owners left (0: delete it), or an AWS
 * error. */
static int release_shared(struct rctx *x, const char *name, struct observed *ob, const char **ret_action,
			  struct op_err *err)
{
	struct wi_reconciler *r = x->r;
	struct trust_shared others;
	const struct trust_want none = { .ns = x->ns, .sa = object_sa(x) };
	struct iam_role *role = NULL;
	char key[128];
	const char *keys[1] = { key };
	size_t left;
	char *trust;
	int rc = 0;

	if (!identity_other_owners(ob->tags, ob->o.n_tags, r->settings->cluster_name))
		return 0;
	shared_parts(x, ob, &others);
	trust = identity_trust_shared_document(&others, &none);
	identity_trust_shared_release(&others);
	/* no statement of the others' yet (they have not written theirs): the
	 * trust stays as it is until they do */
	if (trust && !streq(trust, ob->o.trust_policy ? ob->o.trust_policy : "")) {
		*ret_action = "iam:UpdateAssumeRolePolicy";
		rc = r->aws->iam_update_assume_role_policy(x->acct->awsc, name, trust, err);
	}
	free(trust);
	if (rc < 0)
		return rc;
	identity_owner_tag_key(r->settings->cluster_name, key, sizeof(key));
	*ret_action = "iam:UntagRole";
	rc = r->aws->iam_untag_role(x->acct->awsc, name, keys, 1, err);
	if (rc < 0)
		return rc;
	/* two last owners letting go at once each saw the other: whoever reads
	 * no owner left afterwards deletes the role */
	*ret_action = "iam:GetRole";
	rc = r->aws->iam_get_role(x->acct->awsc, name, &role, err);
	if (rc == -ENOENT)
		return 1; /* gone already: nothing left to do */
	if (rc < 0)
		return rc;
	left = 0;
	for (size_t i = 0; i < role->tags.n; i++)
		left += identity_owner_tag_cluster(role->tags.items[i].key) != NULL;
	iam_role_free(role);
	if (left)
		rctx_event(x, "Normal", "RoleReleased", "UntagRole",
			   "IAM role %s is shared; this cluster let go of it and %zu other owners keep it", name, left);
	return left > 0 ? 1 : 0;
}

int wi_delete_role(struct rctx *x, const char *name, const char *cond, bool *ret_deleted)
{
	struct wi_reconciler *r = x->r;
	struct observed ob;
	const char *action;
	struct op_err err;
	int rc;

	*ret_deleted = false;
	op_err_clear(&err);
	rc = observe(x, name, false, &ob, &action, &err);
	if (rc == -ENOENT && streq(action, "iam:GetRole")) {
		observed_release(&ob);
		return 0; /* nothing to delete */
	}
	if (rc == -EPERM && ob.owner == ROLE_SHARED) {
		observed_release(&ob);
		return 0; /* a shared role this cluster already let go of */
	}
	if (rc == -EPERM) {
		char msg[900];
		const char *reason;

		not_owned_message(x, name, &ob, msg, sizeof(msg), &reason);
		observed_release(&ob);
		rctx_event(x, "Warning", reason, "DeleteRole", "not deleted: %s", msg);
		return 0;
	}
	if (rc < 0)
		goto fail;
	if (identity_role_shared(ob.tags, ob.o.n_tags)) {
		rc = release_shared(x, name, &ob, &action, &err);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			observed_release(&ob);
			return 0;
		}
	}
	for (size_t i = 0; i < ob.inline_names.n; i++) {
		action = "iam:DeleteRolePolicy";
		rc = r->aws->iam_delete_role_policy(x->acct->awsc, name, ob.inline_names.items[i], &err);
		if (rc < 0 && rc != -ENOENT)
			goto fail;
	}
	for (size_t i = 0; i < ob.attached.n; i++) {
		action = "iam:DetachRolePolicy";
		rc = r->aws->iam_detach_role_policy(x->acct->awsc, name, ob.attached.items[i].arn, &err);
		if (rc < 0 && rc != -ENOENT)
			goto fail;
	}
	action = "iam:DeleteRole";
	rc = r->aws->iam_delete_role(x->acct->awsc, name, &err);
	if (rc < 0 && rc != -ENOENT)
		goto fail;
	observed_release(&ob);
	*ret_deleted = true;
	rctx_event(x, "Normal", "RoleDeleted", "DeleteRole", "deleted IAM role %s", name);
	return 0;
fail:
	observed_release(&ob);
	rctx_aws_failed(x, cond, action, rc, &err);
	return rc;
}

int wi_revoke_role(struct rctx *x, const char *name, bool *ret_owned, bool *ret_revoked)
{
	struct wi_reconciler *r = x->r;
	struct observed ob;
	const char *action;
	struct op_err err;
	int rc;

	*ret_owned = *ret_revoked = false;
	op_err_clear(&err);
	rc = observe(x, name, false, &ob, &action, &err);
	if ((rc == -ENOENT && streq(action, "iam:GetRole")) || rc == -EPERM) {
		observed_release(&ob);
		return 0; /* none, or not ours to touch */
	}
	if (rc < 0)
		goto fail;
	*ret_owned = true;
	for (size_t i = 0; i < ob.inline_names.n; i++) {
		action = "iam:DeleteRolePolicy";
		rc = r->aws->iam_delete_role_policy(x->acct->awsc, name, ob.inline_names.items[i], &err);
		if (rc < 0 && rc != -ENOENT)
			goto fail;
		*ret_revoked = true;
	}
	for (size_t i = 0; i < ob.attached.n; i++) {
		action = "iam:DetachRolePolicy";
		rc = r->aws->iam_detach_role_policy(x->acct->awsc, name, ob.attached.items[i].arn, &err);
		if (rc < 0 && rc != -ENOENT)
			goto fail;
		*ret_revoked = true;
	}
	observed_release(&ob);
	return 0;
fail:
	observed_release(&ob);
	rctx_aws_failed(x, COND_ROLE, action, rc, &err);
	return rc;
}

void wi_retire_roles(struct rctx *x)
{
	for (size_t i = x->n_retired; i-- > 0;) {
		const char *name = x->retired[i];
		struct iam_role *role = NULL;
		struct op_err err;
		bool deleted;
		int rc;

		op_err_clear(&err);
		rc = x->r->aws->iam_get_role(x->acct->awsc, name, &role, &err);
		if (rc == -ENOENT) {
			wi_forget_retired(x, i);
			continue;
		}
		if (rc < 0) {
			rctx_aws_failed(x, COND_ROLE, "iam:GetRole", rc, &err);
			continue;
		}
		if (role->arn && wi_role_in_use(x, role->arn)) {
			iam_role_free(role);
			x->requeue_soon = true; /* the restart replaces those pods */
			continue;
		}
		iam_role_free(role);
		if (wi_delete_role(x, name, COND_ROLE, &deleted) == 0)
			wi_forget_retired(x, i);
	}
}
