/* The service account and the pods of a WorkloadIdentity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "identity/shape.h"
#include "kube/fields.h"
#include "kube/project.h"
#include "reconcile/steps.h"

#define INJECTION_GRACE_S 5
/* A workload whose pods from keyless' own restart came up without the
 * injection (the webhook decides from a cache of service accounts that had
 * not seen the annotation yet) is restarted again, at most this many times,
 * REINJECT_DELAY_S << (restarts so far - 1) after the last restart. */
#define MAX_REINJECT_RESTARTS 3
#define REINJECT_DELAY_S 10
#define MAX_TARGETS 64
#define MAX_STALE 256

/* --- service account ------------------------------------------------------------- */

/* Does an older WorkloadIdentity claim the same service account? The oldest
 * (creation time, then name) wins; the others report the conflict. */
bool wi_sa_claimed_by_other(struct rctx *x, char *winner, size_t size)
{
	struct kube_cache *c = x->r->wis;
	const struct wi_proj *me;
	int64_t my_created;
	bool lost = false;

	kube_cache_rdlock(c);
	me = (const struct wi_proj *)kube_cache_get(c, x->ns, x->name);
	my_created = me ? me->created : INT64_MAX;
	if (!me) {
		int64_t ns = 0;

		if (x->spec->creation_timestamp && rfc3339_parse(x->spec->creation_timestamp, &ns) == 0)
			my_created = ns / NSEC_PER_SEC;
	}
	for (const struct kobj *o = kube_cache_index_first(c, x->ns, x->spec->service_account); o;
	     o = kube_cache_index_next(o)) {
		const struct wi_proj *w = (const struct wi_proj *)o;
		const char *n = kobj_name(c, o);

		if (streq(n, x->name) || w->deleting)
			continue;
		if (w->created < my_created || (w->created == my_created && strcmp(n, x->name) < 0)) {
			lost = true;
			str_copy(winner, size, n);
			break;
		}
	}
	kube_cache_rdunlock(c);
	return lost;
}

/* The annotations keyless sets on the service account. */
enum { A_ROLE, A_REGIONAL, A_AUDIENCE, A_COUNT };
static const char *const ann_keys[A_COUNT] = { ANN_ROLE_ARN, ANN_REGIONAL, ANN_AUDIENCE };

/* want[A_AUDIENCE] NULL: the default audience (the annotation absent, or
 * naming the default). */
static void wanted_annotations(const struct rctx *x, const char *want[A_COUNT])
{
	want[A_ROLE] = x->role_arn;
	want[A_REGIONAL] = x->spec->sts_regional_endpoints ? "true" : "false";
	want[A_AUDIENCE] = streq(x->spec->audience, WI_DEFAULT_AUDIENCE) ? NULL : x->spec->audience;
}

static bool ann_matches(int i, const char *have, const char *want)
{
	if (i == A_AUDIENCE && !want)
		return !have || streq(have, WI_DEFAULT_AUDIENCE);
	return have && want && streq(have, want);
}

/* Server-side apply of keyless' annotations (field manager keyless). A
 * service account keyless created keeps its ownerReference in every apply
 * (an apply that omitted it would remove it). `default_audience`: set the
 * audience annotation to the default explicitly (taking over one someone
 * else set). */
static int apply_sa(struct rctx *x, bool owned, bool default_audience, json_t **ret)
{
	const struct wi_spec *sp = x->spec;
	const char *want[A_COUNT];
	json_auto_t *body = NULL;
	json_t *ann;
	_cleanup_free_ char *text = NULL;
	struct op_err err;
	int rc;

	wanted_annotations(x, want);
	body = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}}", "apiVersion", "v1", "kind", "ServiceAccount",
			 "metadata", "name", sp->service_account, "namespace", x->ns, "annotations", ANN_ROLE_ARN,
			 want[A_ROLE], ANN_REGIONAL, want[A_REGIONAL]);
	if (!body)
		return -ENOMEM;
	ann = json_object_get(json_object_get(body, "metadata"), "annotations");
	if (want[A_AUDIENCE] || default_audience)
		json_object_set_new(ann, ANN_AUDIENCE, json_string(want[A_AUDIENCE] ? want[A_AUDIENCE] : WI_DEFAULT_AUDIENCE));
	if (owned) {
		/* owned by the WorkloadIdentity: garbage-collected with it */
		json_object_set_new(json_object_get(body, "metadata"), "ownerReferences",
				    json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", API_VERSION, "kind", KIND,
					      "name", x->name, "uid", x->uid, "controller", 1, "blockOwnerDeletion", 0));
	}
	text = json_dumps(body, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	/* before the write: its watch event may come before the answer */
	wi_memo_wired(x, want[A_ROLE], want[A_REGIONAL], want[A_AUDIENCE]);
	op_err_clear(&err);
	rc = x->r->kube->apply(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sp->service_account, text, ret, &err);
	if (rc < 0)
		return rctx_kube_failed(x, COND_SA, "server-side apply of the ServiceAccount", rc, &err), rc;
	wi_count_kube_write(x);
	return 0;
}

/* An annotation another field manager set to something else: keyless does
 * not take it over unless the service account opts in. */
static bool blocked_by_other_manager(struct rctx *x, json_t *sa, bool *ret_default_audience)
{
	json_t *anns = json_object_get(json_object_get(sa, "metadata"), "annotations");
	const char *takeover = json_string_value(json_object_get(anns, ANN_ALLOW_TAKEOVER));
	const char *want[A_COUNT];
	char msg[1000];

	*ret_default_audience = false;
	wanted_annotations(x, want);
	for (int i = 0; i < A_COUNT; i++) {
		const char *have = json_string_value(json_object_get(anns, ann_keys[i]));
		struct field_owners fo;
		const char *reason;

		if (!have || ann_matches(i, have, want[i]))
			continue;
		kube_annotation_owners(sa, ann_keys[i], KEYLESS_FIELD_MANAGER, &fo);
		if (!fo.others)
			continue; /* keyless' own: an apply changes or removes it */
		if (takeover && streq(takeover, "true")) {
			if (i == A_AUDIENCE && !want[i])
				*ret_default_audience = true;
			rctx_event(x, "Normal", "AnnotationTakenOver", "ApplyServiceAccount",
				   "service account %s allows keyless to take over %s (was '%s', managed by %s)",
				   x->spec->service_account, ann_keys[i], shape_quote(have).s, fo.other);
			continue;
		}
		reason = i == A_ROLE ? "ServiceAccountManagedElsewhere" : "AnnotationOwnedElsewhere";
		str_format(msg, sizeof(msg),
			   "service account %s: annotation %s is '%s', set by %s, not by keyless; keyless does not "
			   "overwrite annotations that someone else manages. Remove the annotation, or annotate the "
			   "service account %s=true to let keyless manage it",
			   x->spec->service_account, ann_keys[i], shape_quote(have).s, fo.other, ANN_ALLOW_TAKEOVER);
		if (!conditions_get(&x->conds, COND_SA) || !streq(conditions_get(&x->conds, COND_SA)->reason, reason))
			rctx_event(x, "Warning", reason, "ApplyServiceAccount", "%s", msg);
		conditions_set(&x->conds, COND_SA, "False", reason, msg, x->generation, x->now);
		conditions_set(&x->conds, COND_WORKLOADS, "Unknown", reason, msg, x->generation, x->now);
		return true;
	}
	return false;
}

/* status.wiredAt from the API server's clock, the clock of the pods'
 * creationTimestamps (the controller's node clock may differ): when the API
 * server recorded keyless' write of the annotations (keyless' managedFields
 * entry), else another manager's write of the role annotation, else the
 * service account's creation. */
static void wired_at_from(struct rctx *x, json_t *sa)
{
	const char *created = json_string_value(json_object_get(json_object_get(sa, "metadata"), "creationTimestamp"));
	int64_t ns;

	if (kube_annotation_time(sa, ANN_ROLE_ARN, KEYLESS_FIELD_MANAGER, &ns) < 0 &&
	    (!created || rfc3339_parse(created, &ns) < 0))
		ns = x->now_ns; /* the API server said nothing: the only clock left */
	rfc3339_format(ns, 0, x->wired_at, sizeof(x->wired_at));
}

static void sa_wired(struct rctx *x)
{
	const char *want[A_COUNT];
	char msg[900];

	wanted_annotations(x, want);
	/* what the service-account watch will echo back: no news */
	wi_memo_wired(x, want[A_ROLE], want[A_REGIONAL], want[A_AUDIENCE]);

	if (!x->wired_at[0])
		str_copy(x->wired_at, sizeof(x->wired_at), x->now);
	str_format(msg, sizeof(msg), "service account %s is annotated with %s", x->spec->service_account, x->role_arn);
	conditions_set(&x->conds, COND_SA, "True", "Reconciled", msg, x->generation, x->now);
	x->sa_ready = true;
}

/* Does the cache say the service account carries exactly keyless' annotations? */
static bool cache_says_wired(struct rctx *x)
{
	struct kube_cache *c = x->r->sas;
	const char *want[A_COUNT];
	const struct sa_proj *sa;
	bool wired;

	wanted_annotations(x, want);
	kube_cache_rdlock(c);
	sa = (const struct sa_proj *)kube_cache_get(c, x->ns, x->spec->service_account);
	wired = sa && ann_matches(A_ROLE, sa->role_arn, want[A_ROLE]) &&
		ann_matches(A_REGIONAL, sa->regional ? sa->regional->s : NULL, want[A_REGIONAL]) &&
		ann_matches(A_AUDIENCE, sa->audience ? sa->audience->s : NULL, want[A_AUDIENCE]);
	kube_cache_rdunlock(c);
	return wired;
}

/* The service account is missing and keyless may not create it. */
static bool sa_not_found(struct rctx *x)
{
	char msg[600];

	str_format(msg, sizeof(msg), "service account %s/%s does not exist; create it, or set spec.createServiceAccount: true",
		   x->ns, x->spec->service_account);
	conditions_set(&x->conds, COND_SA, "False", "ServiceAccountNotFound", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_WORKLOADS, "Unknown", "ServiceAccountNotFound", msg, x->generation, x->now);
	return false;
}

/* Pod Identity: the association binds the service account, which carries
 * none of keyless' role annotations (the webhook would prefer the
 * association anyway, but an annotation left behind would keep IRSA
 * credentials in the pods of a later move back). */
static bool sa_bound(struct rctx *x)
{
	const struct wi_spec *sp = x->spec;
	struct kube_cache *c = x->r->sas;
	const struct sa_proj *cached;
	json_auto_t *sa = NULL, *body = NULL;
	_cleanup_free_ char *text = NULL;
	bool clean, created_by_us;
	struct op_err err;
	char msg[900];
	int rc;

	if (!x->association_id[0]) {
		conditions_set(&x->conds, COND_SA, "False", "AssociationMissing",
			       "the pod identity association is not there yet", x->generation, x->now);
		return false;
	}
	kube_cache_rdlock(c);
	cached = (const struct sa_proj *)kube_cache_get(c, x->ns, sp->service_account);
	clean = cached && !(cached->role_arn && wi_arn_is_ours(x, cached->role_arn));
	kube_cache_rdunlock(c);
	if (!clean) {
		op_err_clear(&err);
		rc = x->r->kube->get(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sp->service_account, &sa, &err);
		if (rc == -ENOENT && !sp->create_service_account)
			return sa_not_found(x);
		if (rc < 0 && rc != -ENOENT)
			return rctx_kube_failed(x, COND_SA, "reading the ServiceAccount", rc, &err);
		created_by_us = rc == -ENOENT || kube_has_owner_uid(sa, x->uid);
		if (rc == 0 && !created_by_us) {
			/* someone else's service account: only keyless' own annotations go */
			if (wi_release_service_account(x, sp->service_account) < 0)
				return false;
		} else {
			/* keyless' (or to be created): applied with no annotations */
			body = json_pack("{s:s, s:s, s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]}}", "apiVersion", "v1",
					 "kind", "ServiceAccount", "metadata", "name", sp->service_account, "namespace", x->ns,
					 "ownerReferences", "apiVersion", API_VERSION, "kind", KIND, "name", x->name, "uid",
					 x->uid, "controller", 1, "blockOwnerDeletion", 0);
			text = body ? json_dumps(body, JSON_COMPACT) : NULL;
			if (!text) {
				x->transient = true;
				return false;
			}
			wi_memo_wired(x, NULL, NULL, NULL);
			op_err_clear(&err);
			rc = x->r->kube->apply(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sp->service_account, text, NULL,
					       &err);
			if (rc < 0)
				return rctx_kube_failed(x, COND_SA, "server-side apply of the ServiceAccount", rc, &err);
			wi_count_kube_write(x);
			if (!sa)
				rctx_event(x, "Normal", "ServiceAccountCreated", "ApplyServiceAccount",
					   "created service account %s (EKS Pod Identity: no annotations)", sp->service_account);
		}
	}
	wi_memo_wired(x, NULL, NULL, NULL);
	if (x->association_created_ns)
		rfc3339_format(x->association_created_ns, 0, x->wired_at, sizeof(x->wired_at));
	else if (!x->wired_at[0])
		str_copy(x->wired_at, sizeof(x->wired_at), x->now);
	str_format(msg, sizeof(msg), "service account %s is bound to %s by EKS pod identity association %s",
		   sp->service_account, x->role_arn, x->association_id);
	conditions_set(&x->conds, COND_SA, "True", "Reconciled", msg, x->generation, x->now);
	x->sa_ready = true;
	return true;
}

bool wi_ensure_service_account(struct rctx *x)
{
	const struct wi_spec *sp = x->spec;
	json_auto_t *sa = NULL, *applied = NULL;
	json_t *anns;
	const char *want[A_COUNT];
	bool wired, default_audience = false, created_by_us, renamed;
	const char *had;
	struct op_err err;
	int rc;

	if (x->planned && !x->plan.annotation)
		return sa_bound(x);
	if (cache_says_wired(x) && x->wired_at[0]) {
		sa_wired(x);
		return true;
	}
	/* something to do (or the time of the wiring to learn): decide from the
	 * object itself (the cache may lag, and it does not keep managedFields or
	 * ownerReferences) */
	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sp->service_account, &sa, &err);
	if (rc == -ENOENT) {
		if (!sp->create_service_account)
			return sa_not_found(x);
		if (apply_sa(x, true, false, &applied) < 0)
			return false;
		rctx_event(x, "Normal", "ServiceAccountCreated", "ApplyServiceAccount",
			   "created service account %s annotated with role %s", sp->service_account, x->role_arn);
		wired_at_from(x, applied);
		sa_wired(x);
		return true;
	}
	if (rc < 0)
		return rctx_kube_failed(x, COND_SA, "reading the ServiceAccount", rc, &err);
	anns = json_object_get(json_object_get(sa, "metadata"), "annotations");
	wanted_annotations(x, want);
	wired = true;
	for (int i = 0; i < A_COUNT; i++)
		wired &= ann_matches(i, json_string_value(json_object_get(anns, ann_keys[i])), want[i]);
	if (wired) { /* the cache was behind, or the status had no wiredAt */
		if (!x->wired_at[0])
			wired_at_from(x, sa);
		sa_wired(x);
		return true;
	}
	if (blocked_by_other_manager(x, sa, &default_audience))
		return false;
	created_by_us = kube_has_owner_uid(sa, x->uid);
	/* it named an earlier role of this object (a new name): not drift */
	had = json_string_value(json_object_get(anns, ANN_ROLE_ARN));
	renamed = had && !streq(had, x->role_arn) && wi_arn_is_ours(x, had);
	if (apply_sa(x, created_by_us, default_audience, &applied) < 0)
		return false;
	if (x->was_ready && !renamed)
		rctx_event(x, "Normal", "DriftRepaired", "ApplyServiceAccount",
			   "service account %s had lost its annotations; restored %s", sp->service_account, x->role_arn);
	else
		rctx_event(x, "Normal", "ServiceAccountAnnotated", "ApplyServiceAccount",
			   "annotated service account %s with %s=%s", sp->service_account, ANN_ROLE_ARN, x->role_arn);
	/* wired now (the annotations differed): pods created before this lack
	 * (some of) the injection, and their workloads are restarted for this
	 * wiring, even if they were restarted for an earlier one */
	wired_at_from(x, applied);
	sa_wired(x);
	return true;
}

/* The name of the role an ARN in this account names, or NULL. */
static const char *arn_role_name(const struct rctx *x, const char *arn)
{
	char prefix[128];
	const char *slash;

	str_format(prefix, sizeof(prefix), "arn:%s:iam::%s:role/", x->r->partition,
		   x->acct ? x->acct->id : x->r->account_id);
	if (!arn || !str_startswith(arn, prefix))
		return NULL;
	slash = strrchr(arn, '/');
	return slash ? slash + 1 : NULL;
}

bool wi_arn_is_ours(struct rctx *x, const char *arn)
{
	const char *name = arn_role_name(x, arn);

	if (!name || !*name)
		return false;
	if (streq(name, x->role_name) || streq(name, x->recorded_role))
		return true;
	for (size_t i = 0; i < x->n_retired; i++) {
		if (streq(name, x->retired[i]))
			return true;
	}
	return false;
}

int wi_release_service_account(struct rctx *x, const char *sa_name)
{
	json_auto_t *sa = NULL, *body = NULL;
	_cleanup_free_ char *text = NULL;
	const char *arn;
	struct field_owners fo;
	struct op_err err;
	int rc;

	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sa_name, &sa, &err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rctx_kube_failed(x, COND_SA, "reading the ServiceAccount", rc, &err), rc;
	arn = json_string_value(json_object_get(json_object_get(json_object_get(sa, "metadata"), "annotations"),
						ANN_ROLE_ARN));
	if (kube_has_owner_uid(sa, x->uid)) {
		/* keyless created it for this object: it goes with the identity */
		const char *uid = json_string_value(json_object_get(json_object_get(sa, "metadata"), "uid"));

		op_err_clear(&err);
		rc = x->r->kube->delete(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sa_name, uid, &err);
		if (rc < 0 && rc != -ENOENT)
			return rctx_kube_failed(x, COND_SA, "deleting the ServiceAccount keyless created", rc, &err), rc;
		wi_count_kube_write(x);
		rctx_event(x, "Normal", "ServiceAccountDeleted", "DeleteServiceAccount",
			   "deleted service account %s, which keyless created for this WorkloadIdentity", sa_name);
		return 0;
	}
	if (!arn || !wi_arn_is_ours(x, arn))
		return 0; /* someone else's now (another WorkloadIdentity, a person, a tool): leave it */
	kube_annotation_owners(sa, ANN_ROLE_ARN, KEYLESS_FIELD_MANAGER, &fo);
	if (!fo.ours) {
		rctx_event(x, "Warning", "AnnotationOwnedElsewhere", "ApplyServiceAccount",
			   "service account %s still names this identity's role in %s, set by %s; keyless leaves "
			   "annotations it does not manage", sa_name, ANN_ROLE_ARN, fo.other);
		return 0;
	}
	/* applying no annotations releases (removes) the fields keyless owns */
	body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata", "name",
			 sa_name, "namespace", x->ns);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	op_err_clear(&err);
	rc = x->r->kube->apply(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sa_name, text, NULL, &err);
	if (rc < 0 && rc != -ENOENT)
		return rctx_kube_failed(x, COND_SA, "server-side apply of the ServiceAccount", rc, &err), rc;
	wi_count_kube_write(x);
	if (fo.others)
		rctx_event(x, "Warning", "AnnotationOwnedElsewhere", "ApplyServiceAccount",
			   "released keyless' annotations of service account %s; %s also sets %s, so it stays", sa_name,
			   fo.other, ANN_ROLE_ARN);
	else
		rctx_event(x, "Normal", "ServiceAccountUnannotated", "ApplyServiceAccount",
			   "removed the role annotations from service account %s", sa_name);
	return 0;
}

bool wi_role_in_use(struct rctx *x, const char *arn)
{
	struct kube_cache *c = x->r->pods;
	const char *sas[2] = { x->spec ? x->spec->service_account : NULL, x->recorded_sa[0] ? x->recorded_sa : NULL };
	bool used = false;

	kube_cache_rdlock(c);
	for (int k = 0; k < 2 && !used; k++) {
		if (!sas[k] || (k == 1 && sas[0] && streq(sas[0], sas[1])))
			continue;
		for (const struct kobj *o = kube_cache_index_first(c, x->ns, sas[k]); o && !used;
		     o = kube_cache_index_next(o)) {
			const struct pod_proj *p = (const struct pod_proj *)o;

			used = !(p->flags & POD_TERMINATING) && (p->phase == POD_PENDING || p->phase == POD_RUNNING) &&
			       p->role_arn && streq(p->role_arn->s, arn);
		}
	}
	kube_cache_rdunlock(c);
	return used;
}

/* --- pods --------------------------------------------------------------------------- */

struct stale_pod {
	char name[254];
	char uid[37];
	enum pod_owner owner_kind;
	char owner_name[254];
	char restarted_at[40]; /* annotation keyless.dev/restartedAt: the keyless restart that made it, or "" */
	int64_t created;
};

struct target {
	const struct kube_resource *res;
	char name[254];
	char pods[300];   /* its stale pods' names, space-separated (as many as fit) */
	char restarted_at[40]; /* the latest keyless restart any of its stale pods came from, or "" */
};

/* What one pass over the stale pods did and found. */
struct tally {
	size_t jobs, bare, restarted, pending, deferred, blocked, failed, evictions;
	size_t missed;          /* pods of keyless' restarts still without the injection, restarts used up */
	int64_t retry_after_ns; /* > 0: restart again for the webhook's missed pods then */
	struct strfmt manual;  /* what people have to do, for the message */
	char manual_buf[700];
	char blocked_msg[400];
	char bare_example[254];
};

/* Does the pod have the credentials of the way in effect? IRSA: this
 * role's ARN in AWS_ROLE_ARN; Pod Identity: the container-credentials
 * variables (the association decides the role). */
static bool pod_has_credentials(const struct rctx *x, const struct pod_proj *p)
{
	if (x->planned && !x->plan.annotation)
		return (p->flags & POD_HAS_CONTAINER_CREDS) != 0;
	return p->role_arn && streq(p->role_arn->s, x->role_arn) && !(p->flags & POD_HAS_CONTAINER_CREDS);
}

static int collect_pods(struct rctx *x, int64_t wired, struct stale_pod *stale, size_t max_stale, size_t *n_stale,
			char *missing_example, size_t ex_size, size_t *n_missing)
{
	struct kube_cache *c = x->r->pods;

	*n_stale = *n_missing = 0;
	kube_cache_rdlock(c);
	for (const struct kobj *o = kube_cache_index_first(c, x->ns, x->spec->service_account); o;
	     o = kube_cache_index_next(o)) {
		const struct pod_proj *p = (const struct pod_proj *)o;

		if ((p->flags & POD_TERMINATING) || (p->phase != POD_PENDING && p->phase != POD_RUNNING))
			continue;
		if (pod_has_credentials(x, p))
			continue;
		/* both times are the API server's (creationTimestamp, wiredAt); a
		 * pod from a keyless restart goes to the restart logic, which knows
		 * whether the webhook missed it */
		if (p->created >= wired + INJECTION_GRACE_S && !p->restarted_at) {
			if (!*n_missing)
				str_copy(missing_example, ex_size, kobj_name(c, o));
			(*n_missing)++;
			continue;
		}
		if (*n_stale < max_stale) {
			struct stale_pod *s = &stale[*n_stale];

			memset(s, 0, sizeof(*s));
			str_copy(s->name, sizeof(s->name), kobj_name(c, o));
			kube_uid_format(o->uid, s->uid);
			s->owner_kind = p->owner_kind;
			if (p->owner_name)
				str_copy(s->owner_name, sizeof(s->owner_name), p->owner_name->s);
			if (p->restarted_at)
				str_copy(s->restarted_at, sizeof(s->restarted_at), p->restarted_at->s);
			s->created = p->created;
		}
		(*n_stale)++;
	}
	kube_cache_rdunlock(c);
	return 0;
}

/* The workload to restart for a pod: Deployment (through its ReplicaSet),
 * StatefulSet, DaemonSet. 0, or -ENOENT for none (Jobs: *ret_job; bare pods;
 * a ReplicaSet that is gone or has no Deployment), or another negative errno
 * when the ReplicaSet could not be read (reported on WorkloadsReady: the pod
 * is not taken for a bare one). */
static int pod_target(struct rctx *x, const struct stale_pod *s, struct target *t, bool *ret_job)
{
	*ret_job = false;
	if (s->owner_kind == POD_OWNER_REPLICASET) {
		json_auto_t *rs = NULL;
		json_t *owners, *ow;
		struct op_err err;
		char action[600];
		size_t i;
		int rc;

		op_err_clear(&err);
		rc = x->r->kube->get(x->r->kube->ctx, &KUBE_REPLICASETS, x->ns, s->owner_name, &rs, &err);
		if (rc == -ENOENT)
			return -ENOENT; /* gone: its pods are being garbage-collected, or were orphaned */
		if (rc < 0) {
			str_format(action, sizeof(action), "reading ReplicaSet %s (the owner of pod %s)", s->owner_name,
				   s->name);
			rctx_kube_failed(x, COND_WORKLOADS, action, rc, &err);
			return rc;
		}
		owners = json_object_get(json_object_get(rs, "metadata"), "ownerReferences");
		json_array_foreach(owners, i, ow) {
			const char *owner = json_string_value(json_object_get(ow, "name"));

			/* a malformed ownerReference (no string name) is not followed */
			if (json_is_true(json_object_get(ow, "controller")) && owner && *owner &&
			    streq(json_string_value(json_object_get(ow, "kind")) ?: "", "Deployment")) {
				t->res = &KUBE_DEPLOYMENTS;
				if (str_copy(t->name, sizeof(t->name), owner) < 0)
					return -ENOENT;
				return 0;
			}
		}
		return -ENOENT; /* a bare ReplicaSet */
	}
	if (s->owner_kind == POD_OWNER_STATEFULSET || s->owner_kind == POD_OWNER_DAEMONSET) {
		t->res = s->owner_kind == POD_OWNER_STATEFULSET ? &KUBE_STATEFULSETS : &KUBE_DAEMONSETS;
		str_copy(t->name, sizeof(t->name), s->owner_name);
		return 0;
	}
	if (s->owner_kind == POD_OWNER_JOB || s->owner_kind == POD_OWNER_CRONJOB)
		*ret_job = true;
	return -ENOENT;
}

/* The restart marker: the wiring a workload was restarted for (role ARN,
 * the other injected settings, and when the API server recorded the wiring).
 * A workload is restarted once per wiring: again after the annotations were
 * lost and restored (pods created in between lack the injection), never
 * twice for the same one. */
static void restart_marker(const struct rctx *x, char *out, size_t size)
{
	const char *want[A_COUNT];

	wanted_annotations(x, want);
	if (x->planned && !x->plan.annotation) {
		str_format(out, size, "%s podIdentityAssociation=%s wiredAt=%s", x->role_arn, x->association_id,
			   x->wired_at);
		return;
	}
	str_format(out, size, "%s audience=%s sts-regional-endpoints=%s wiredAt=%s", x->role_arn,
		   want[A_AUDIENCE] ? want[A_AUDIENCE] : WI_DEFAULT_AUDIENCE, want[A_REGIONAL], x->wired_at);
}

/* Is something in the way of a rollout restart? Then the fix people apply
 * is added to f: a paused Deployment, a StatefulSet/DaemonSet whose updateStrategy
 * is OnDelete (a template change replaces no pod). */
static bool needs_manual_restart(struct rctx *x, const struct target *t, json_t *obj, struct strfmt *f)
{
	json_t *spec = json_object_get(obj, "spec");
	const char *strategy = json_string_value(json_object_get(json_object_get(spec, "updateStrategy"), "type"));

	if (t->res == &KUBE_DEPLOYMENTS && json_is_true(json_object_get(spec, "paused"))) {
		strfmt_add(f, "; Deployment %s is paused, and keyless does not restart paused Deployments: resume it and "
			   "run `kubectl -n %s rollout restart deployment/%s`", t->name, x->ns, t->name);
		return true;
	}
	if (t->res != &KUBE_DEPLOYMENTS && strategy && streq(strategy, "OnDelete")) {
		strfmt_add(f, "; %s %s has updateStrategy OnDelete, so a rollout restart replaces no pod: delete its "
			   "pods (`kubectl -n %s delete pod %s`)", t->res->kind, t->name, x->ns, t->pods);
		return true;
	}
	return false;
}

enum restart_outcome { RESTARTED, ALREADY_RESTARTED, MANUAL, WORKLOAD_GONE, WEBHOOK_MISSED };

/* How many times a workload whose marker is `done` was restarted for the
 * wiring `marker`: "<marker>" once, "<marker> restarts=N" N times; 0 when
 * the marker is another wiring's. */
static long marker_restarts(const char *done, const char *marker)
{
	size_t len = strlen(marker);
	long k;

	if (strncmp(done, marker, len) != 0)
		return 0;
	if (!done[len])
		return 1;
	if (strncmp(done + len, " restarts=", 10) != 0 || str_to_long(done + len + 10, 2, 1000, &k) < 0)
		return 0;
	return k;
}

/* The workload was restarted for this wiring `restarts` times. Pods that
 * came from the last of those restarts and still lack the injection were
 * admitted by a webhook whose cache had not seen the annotation: restart
 * again (RESTARTED, the marker extended to count it) after a delay that
 * doubles each time, at most MAX_REINJECT_RESTARTS times; then people have
 * to look (WEBHOOK_MISSED). Otherwise ALREADY_RESTARTED: the rollout runs. */
static int reinject_restarts(struct rctx *x, const struct target *t, json_t *obj, long restarts, char *marker,
			     size_t size, struct tally *n)
{
	json_t *tmpl_ann = json_object_get(
		json_object_get(json_object_get(json_object_get(obj, "spec"), "template"), "metadata"), "annotations");
	const char *last = json_string_value(json_object_get(tmpl_ann, ANN_RESTARTED_AT));
	int64_t last_ns, now_ns, due_ns;
	size_t len = strlen(marker);

	if (!last || !t->restarted_at[0] || !streq(last, t->restarted_at))
		return ALREADY_RESTARTED; /* its stale pods predate the last restart: the rollout replaces them */
	if (restarts > MAX_REINJECT_RESTARTS)
		return WEBHOOK_MISSED; /* the first restart and MAX_REINJECT_RESTARTS more */
	/* both times are keyless' own clock: the one it wrote restartedAt with */
	if (rfc3339_parse(last, &last_ns) < 0 || rfc3339_parse(x->now, &now_ns) < 0)
		return ALREADY_RESTARTED;
	due_ns = last_ns + (int64_t)(REINJECT_DELAY_S << (restarts - 1)) * NSEC_PER_SEC;
	if (now_ns < due_ns) {
		if (!n->retry_after_ns || due_ns - now_ns < n->retry_after_ns)
			n->retry_after_ns = due_ns - now_ns;
		return ALREADY_RESTARTED;
	}
	str_format(marker + len, size - len, " restarts=%ld", restarts + 1);
	return RESTARTED;
}

/* Rollout-restart a workload once per wiring. A non-negative enum
 * restart_outcome, or a negative errno (reported on WorkloadsReady). */
static int restart_workload(struct rctx *x, const struct target *t, struct tally *n)
{
	json_auto_t *obj = NULL, *patch = NULL;
	_cleanup_free_ char *text = NULL;
	const char *done;
	char marker[ROLE_ARN_MAX + 400], action[400];
	struct op_err err;
	bool again = false;
	int rc;

	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, t->res, x->ns, t->name, &obj, &err);
	if (rc == -ENOENT)
		return WORKLOAD_GONE; /* deleted: its pods go with it */
	if (rc < 0) {
		str_format(action, sizeof(action), "reading %s %s to restart it", t->res->kind, t->name);
		rctx_kube_failed(x, COND_WORKLOADS, action, rc, &err);
		return rc;
	}
	if (needs_manual_restart(x, t, obj, &n->manual))
		return MANUAL;
	restart_marker(x, marker, sizeof(marker));
	done = json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"),
						 ANN_RESTARTED_FOR));
	if (done && marker_restarts(done, marker) > 0) {
		/* once per wiring per workload, unless the webhook missed the pods of that restart */
		rc = reinject_restarts(x, t, obj, marker_restarts(done, marker), marker, sizeof(marker), n);
		if (rc != RESTARTED)
			return rc;
		again = true;
	}
	patch = json_pack("{s:{s:{s:s}}, s:{s:{s:{s:{s:s}}}}}", "metadata", "annotations", ANN_RESTARTED_FOR, marker,
			  "spec", "template", "metadata", "annotations", ANN_RESTARTED_AT, x->now);
	text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	op_err_clear(&err);
	rc = x->r->kube->merge_patch(x->r->kube->ctx, t->res, x->ns, t->name, NULL, text, &err);
	if (rc == -ENOENT)
		return WORKLOAD_GONE;
	if (rc < 0) {
		str_format(action, sizeof(action), "restarting %s %s", t->res->kind, t->name);
		rctx_kube_failed(x, COND_WORKLOADS, action, rc, &err);
		return rc;
	}
	wi_count_kube_write(x);
	if (again)
		rctx_event(x, "Normal", "WorkloadRestarted", "RolloutRestart",
			   "restarted %s/%s again: pods of keyless' last restart (e.g. %s) were admitted without the "
			   "credentials of %s (the pod identity webhook had not seen the annotation yet)",
			   t->res->kind, t->name, t->pods, x->role_arn);
	else
		rctx_event(x, "Normal", "WorkloadRestarted", "RolloutRestart",
			   "restarted %s/%s so its pods get the credentials of %s", t->res->kind, t->name, x->role_arn);
	return RESTARTED;
}

/* Evict a stale pod (restart: DeletePods) through the Eviction API, so
 * PodDisruptionBudgets hold, and at most RESTART_MAX_EVICTIONS per reconcile
 * (the rest after a requeue). */
static void evict_pod(struct rctx *x, const struct stale_pod *s, const struct target *t, struct tally *n)
{
	struct op_err err;
	char action[600];
	int rc;

	if (n->evictions >= RESTART_MAX_EVICTIONS) {
		n->deferred++;
		return;
	}
	n->evictions++;
	op_err_clear(&err);
	rc = x->r->kube->evict(x->r->kube->ctx, x->ns, s->name, s->uid, &err);
	if (rc == 0) {
		wi_count_kube_write(x);
		if (t)
			rctx_event(x, "Normal", "PodEvicted", "EvictPod",
				   "evicted pod %s of %s/%s so it is recreated with the credentials", s->name, t->res->kind,
				   t->name);
		else
			rctx_event(x, "Normal", "PodEvicted", "EvictPod",
				   "evicted pod %s (no controller) started before the service account was annotated",
				   s->name);
		n->restarted++;
	} else if (rc == -ENOENT || rc == -ESTALE) {
		n->pending++; /* gone or replaced meanwhile */
	} else if (rc == -EAGAIN) {
		/* TooManyRequests: a PodDisruptionBudget allows no disruption now */
		if (!n->blocked++)
			str_format(n->blocked_msg, sizeof(n->blocked_msg), "evicting pod %s: %s", s->name,
				   err.message[0] ? err.message : "blocked by a PodDisruptionBudget");
	} else {
		str_format(action, sizeof(action), "evicting pod %s", s->name);
		rctx_kube_failed(x, COND_WORKLOADS, action, rc, &err);
		n->failed++;
	}
}

static void add_target(struct target *targets, size_t *n_targets, const struct target *t, const struct stale_pod *s)
{
	const char *pod = s->name;
	struct target *at = NULL;
	size_t len;

	for (size_t k = 0; k < *n_targets && !at; k++) {
		if (targets[k].res == t->res && streq(targets[k].name, t->name))
			at = &targets[k];
	}
	if (!at) {
		if (*n_targets >= MAX_TARGETS)
			return;
		at = &targets[(*n_targets)++];
		*at = *t;
		at->pods[0] = '\0';
		at->restarted_at[0] = '\0';
	}
	if (strcmp(s->restarted_at, at->restarted_at) > 0) /* RFC 3339, one format: the latest sorts last */
		str_copy(at->restarted_at, sizeof(at->restarted_at), s->restarted_at);
	len = strlen(at->pods);
	if (len + strlen(pod) + 2 < sizeof(at->pods)) { /* as many names as fit */
		if (len)
			at->pods[len++] = ' ';
		str_copy(at->pods + len, sizeof(at->pods) - len, pod);
	}
}

/* The condition once the pods are sorted: what keyless did, what it waits
 * for, what people have to do. */
static void report_workloads(struct rctx *x, enum wi_restart mode, size_t n_stale, size_t n_missing,
			     const char *missing_example, struct tally *n)
{
	const struct condition *before = conditions_get(&x->conds, COND_WORKLOADS);
	const char *reason;
	char msg[1024];
	struct strfmt f = STRFMT_INIT(msg, sizeof(msg));

	x->stale_pods = (long)(n_stale + n_missing);
	if (n->failed) {
		/* the KubernetesError condition stays (rctx_kube_failed); retried */
		return;
	}
	if (n->restarted || n->deferred)
		x->requeue_soon = true; /* something was replaced now: look again soon */
	else if (n->retry_after_ns)
		x->requeue_after_ns = n->retry_after_ns; /* the webhook missed pods: restart again then */
	if (n_missing || n->missed) {
		if (n_missing)
			strfmt_add(&f, "%zu pod(s) created after service account %s was annotated have no AWS_ROLE_ARN (e.g. "
				   "%s): is the EKS pod identity webhook (mutating webhook pod-identity-webhook) running and "
				   "reachable? keyless does not restart them again", n_missing, x->spec->service_account,
				   missing_example);
		if (n->missed)
			strfmt_add(&f, "%s%zu workload(s) restarted %d times for service account %s still get pods without "
				   "AWS_ROLE_ARN: is the EKS pod identity webhook running and reachable? keyless does not "
				   "restart them again", n_missing ? "; " : "", n->missed, 1 + MAX_REINJECT_RESTARTS,
				   x->spec->service_account);
		if (!before || !streq(before->reason, "InjectionMissing"))
			rctx_event(x, "Warning", "InjectionMissing", "CheckPods", "%s", msg);
		conditions_set(&x->conds, COND_WORKLOADS, "False", "InjectionMissing", msg, x->generation, x->now);
		x->workloads_wait = true;
		return;
	}
	if (!n_stale) {
		strfmt_add(&f, "every running pod of service account %s has the role's credentials", x->spec->service_account);
		conditions_set(&x->conds, COND_WORKLOADS, "True", "Reconciled", msg, x->generation, x->now);
		return;
	}
	if (mode == WI_RESTART_NONE)
		reason = "StalePods";
	else if (n->restarted || n->deferred || n->pending)
		reason = "RestartInProgress";
	else if (n->blocked)
		reason = "EvictionBlocked";
	else
		reason = "ManualRestartRequired";
	strfmt_add(&f, "%zu pod(s) of service account %s started before it was annotated and lack the credentials "
		   "(restart: %s; %zu restarted now)", n_stale, x->spec->service_account, wi_restart_name(mode),
		   n->restarted);
	if (n->deferred)
		strfmt_add(&f, "; %zu more after a requeue (at most %d evictions per reconcile)", n->deferred,
			   RESTART_MAX_EVICTIONS);
	if (n->blocked)
		strfmt_add(&f, "; %zu eviction(s) blocked by a PodDisruptionBudget, retried in %d s (%s)", n->blocked,
			   (int)(REQUEUE_EVICTION_BLOCKED_NS / NSEC_PER_SEC), n->blocked_msg);
	if (n->manual_buf[0])
		strfmt_add(&f, "%s", n->manual_buf);
	if (n->jobs)
		strfmt_add(&f, "; Job pods are never restarted: the Job's next pods get the credentials");
	if (n->bare && mode == WI_RESTART_ROLLOUT)
		strfmt_add(&f, "; %zu pod(s) without a controller are not restarted under RolloutRestart: delete them "
			   "(e.g. `kubectl -n %s delete pod %s`) or set restart: DeletePods", n->bare, x->ns,
			   n->bare_example);
	if (streq(reason, "ManualRestartRequired") && (!before || !streq(before->reason, reason)))
		rctx_event(x, "Warning", "ManualRestartRequired", "RolloutRestart", "%s", msg);
	if (streq(reason, "EvictionBlocked") && (!before || !streq(before->reason, reason)))
		rctx_event(x, "Warning", "EvictionBlocked", "EvictPod", "%s", msg);
	conditions_set(&x->conds, COND_WORKLOADS, "False", reason, msg, x->generation, x->now);
	if (n->blocked && !x->requeue_soon &&
	    (!x->requeue_after_ns || x->requeue_after_ns > REQUEUE_EVICTION_BLOCKED_NS))
		x->requeue_after_ns = REQUEUE_EVICTION_BLOCKED_NS;
	else if (!x->requeue_soon)
		x->workloads_wait = true; /* rollouts under way, or people: pod events wake us */
}

void wi_ensure_workloads(struct rctx *x)
{
	struct stale_pod *stale = calloc(MAX_STALE, sizeof(*stale));
	struct target *targets = calloc(MAX_TARGETS, sizeof(*targets));
	struct target prev_t = { 0 };
	struct tally n = { 0 };
	bool prev_job = false;
	int prev_found = -ENOENT;
	size_t n_stale = 0, n_missing = 0, n_targets = 0;
	enum wi_restart mode = x->spec->restart != WI_RESTART_DEFAULT ? x->spec->restart : x->r->settings->default_restart;
	int64_t wired_ns = 0;
	char example[254] = "";

	if (!stale || !targets) {
		free(stale);
		free(targets);
		x->transient = true;
		return;
	}
	if (x->planned && (x->plan.phase == MIG_ADD_TRUST || x->plan.phase == MIG_SWITCH)) {
		/* a restart now could land the new pods on the old way again */
		/* the pods keep the credentials they have: both ways are trusted */
		conditions_set(&x->conds, COND_WORKLOADS, "True", "Migrating", x->plan.message, x->generation, x->now);
		free(stale);
		free(targets);
		return;
	}
	n.manual = (struct strfmt)STRFMT_INIT(n.manual_buf, sizeof(n.manual_buf));
	rfc3339_parse(x->wired_at, &wired_ns);
	collect_pods(x, wired_ns / NSEC_PER_SEC, stale, MAX_STALE, &n_stale, example, sizeof(example), &n_missing);

	/* restart: None only reports */
	for (size_t i = 0; mode != WI_RESTART_NONE && i < n_stale && i < MAX_STALE; i++) {
		struct target t = { 0 };
		bool job;
		int found;

		/* pods of one ReplicaSet share their workload: look it up once */
		if (i > 0 && stale[i].owner_kind == stale[i - 1].owner_kind &&
		    streq(stale[i].owner_name, stale[i - 1].owner_name)) {
			t = prev_t;
			job = prev_job;
			found = prev_found;
		} else {
			found = pod_target(x, &stale[i], &t, &job);
			prev_t = t;
			prev_job = job;
			prev_found = found;
		}
		if (found < 0 && found != -ENOENT) {
			n.failed++; /* reported by pod_target */
			continue;
		}
		if (found < 0 && job) {
			n.jobs++;
			continue;
		}
		if (found < 0) {
			if (!n.bare++)
				str_copy(n.bare_example, sizeof(n.bare_example), stale[i].name);
		}
		if (mode == WI_RESTART_DELETE_PODS)
			evict_pod(x, &stale[i], found < 0 ? NULL : &t, &n);
		else if (found == 0)
			add_target(targets, &n_targets, &t, &stale[i]);
	}
	if (mode == WI_RESTART_ROLLOUT) {
		for (size_t k = 0; k < n_targets; k++) {
			int rc = restart_workload(x, &targets[k], &n);

			if (rc < 0)
				n.failed++;
			else if (rc == RESTARTED)
				n.restarted++;
			else if (rc == ALREADY_RESTARTED || rc == WORKLOAD_GONE)
				n.pending++;
			else if (rc == WEBHOOK_MISSED)
				n.missed++;
		}
	}
	free(stale);
	free(targets);
	report_workloads(x, mode, n_stale, n_missing, example, &n);
}
