/* The service account and the pods of a WorkloadIdentity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "kube/project.h"
#include "reconcile/workload_int.h"

#define INJECTION_GRACE_S 5
#define MAX_TARGETS 64

/* --- service account ------------------------------------------------------------- */

/* Does an older WorkloadIdentity claim the same service account? The oldest
 * (creation time, then name) wins; the others report the conflict. */
static bool sa_claimed_by_other(struct rctx *x, char *winner, size_t size)
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

static int apply_sa(struct rctx *x, bool create)
{
	const struct wi_spec *sp = x->spec;
	json_auto_t *body = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}}", "apiVersion", "v1", "kind",
				      "ServiceAccount", "metadata", "name", sp->service_account, "namespace", x->ns,
				      "annotations", ANN_ROLE_ARN, x->role_arn, ANN_REGIONAL,
				      sp->sts_regional_endpoints ? "true" : "false");
	_cleanup_free_ char *text = NULL;
	struct op_err err;
	int rc;

	if (!body)
		return -ENOMEM;
	if (!streq(sp->audience, WI_DEFAULT_AUDIENCE))
		json_object_set_new(json_object_get(json_object_get(body, "metadata"), "annotations"), ANN_AUDIENCE,
				    json_string(sp->audience));
	if (create) {
		/* owned by the WorkloadIdentity: garbage-collected with it */
		json_object_set_new(json_object_get(body, "metadata"), "ownerReferences",
				    json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", API_VERSION, "kind", KIND,
					      "name", x->name, "uid", x->uid, "controller", 1, "blockOwnerDeletion", 0));
	}
	text = json_dumps(body, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	op_err_clear(&err);
	rc = x->r->kube->apply(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sp->service_account, text, &err);
	if (rc < 0)
		return rctx_kube_failed(x, COND_SA, "server-side apply of the ServiceAccount", rc, &err), rc;
	atomic_fetch_add(&x->r->kube_writes, 1);
	return 0;
}

bool wi_ensure_service_account(struct rctx *x)
{
	const struct wi_spec *sp = x->spec;
	struct kube_cache *c = x->r->sas;
	const char *want_aud = streq(sp->audience, WI_DEFAULT_AUDIENCE) ? NULL : sp->audience;
	const char *want_regional = sp->sts_regional_endpoints ? "true" : "false";
	char winner[256], msg[900];
	bool exists, wired, changed;
	const struct sa_proj *sa;

	if (sa_claimed_by_other(x, winner, sizeof(winner))) {
		str_format(msg, sizeof(msg),
			 "service account %s is claimed by the older WorkloadIdentity %s; only one WorkloadIdentity may "
			 "own a service account", sp->service_account, winner);
		if (!conditions_get(&x->conds, COND_SA) ||
		    !streq(conditions_get(&x->conds, COND_SA)->reason, "ServiceAccountConflict"))
			rctx_event(x, "Warning", "ServiceAccountConflict", "Wire", "%s", msg);
		conditions_set(&x->conds, COND_SA, "False", "ServiceAccountConflict", msg, x->generation, x->now);
		conditions_set(&x->conds, COND_WORKLOADS, "False", "ServiceAccountConflict", msg, x->generation, x->now);
		return false;
	}

	kube_cache_rdlock(c);
	sa = (const struct sa_proj *)kube_cache_get(c, x->ns, sp->service_account);
	exists = sa != NULL;
	wired = sa && sa->role_arn && streq(sa->role_arn->s, x->role_arn);
	changed = !wired || !sa->regional || !streq(sa->regional->s, want_regional) ||
		  (want_aud ? !sa->audience || !streq(sa->audience->s, want_aud) : sa->audience != NULL);
	kube_cache_rdunlock(c);

	if (!exists && !sp->create_service_account) {
		str_format(msg, sizeof(msg),
			 "service account %s/%s does not exist; create it, or set spec.createServiceAccount: true",
			 x->ns, sp->service_account);
		conditions_set(&x->conds, COND_SA, "False", "ServiceAccountNotFound", msg, x->generation, x->now);
		conditions_set(&x->conds, COND_WORKLOADS, "Unknown", "ServiceAccountNotFound", msg, x->generation, x->now);
		return false;
	}
	if (changed) {
		if (apply_sa(x, !exists) < 0)
			return false;
		if (!exists)
			rctx_event(x, "Normal", "ServiceAccountCreated", "ApplyServiceAccount",
				   "created service account %s annotated with role %s", sp->service_account, x->role_arn);
		else if (x->was_ready)
			rctx_event(x, "Normal", "DriftRepaired", "ApplyServiceAccount",
				   "service account %s had lost its annotations; restored %s", sp->service_account,
				   x->role_arn);
		else
			rctx_event(x, "Normal", "ServiceAccountAnnotated", "ApplyServiceAccount",
				   "annotated service account %s with %s=%s", sp->service_account, ANN_ROLE_ARN, x->role_arn);
		if (!wired || !x->wired_at[0])
			str_copy(x->wired_at, sizeof(x->wired_at), x->now);
	} else if (!x->wired_at[0]) {
		str_copy(x->wired_at, sizeof(x->wired_at), x->now);
	}
	str_format(msg, sizeof(msg), "service account %s is annotated with %s", sp->service_account, x->role_arn);
	conditions_set(&x->conds, COND_SA, "True", "Reconciled", msg, x->generation, x->now);
	x->sa_ready = true;
	return true;
}

int wi_unwire_service_account(struct rctx *x)
{
	const char *sa_name = json_string_value(json_object_get(json_object_get(x->obj, "spec"), "serviceAccountName"));
	json_auto_t *sa = NULL, *body = NULL;
	_cleanup_free_ char *text = NULL;
	const char *arn;
	struct op_err err;
	int rc;

	if (!sa_name)
		return 0;
	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sa_name, &sa, &err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	arn = json_string_value(json_object_get(json_object_get(json_object_get(sa, "metadata"), "annotations"),
						ANN_ROLE_ARN));
	if (!arn || !x->role_arn[0] || !streq(arn, x->role_arn))
		return 0; /* someone else's now: leave it */
	/* applying no annotations releases (removes) the fields keyless owns */
	body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata", "name",
			 sa_name, "namespace", x->ns);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	rc = x->r->kube->apply(x->r->kube->ctx, &KUBE_SERVICEACCOUNTS, x->ns, sa_name, text, &err);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	atomic_fetch_add(&x->r->kube_writes, 1);
	rctx_event(x, "Normal", "ServiceAccountUnannotated", "ApplyServiceAccount",
		   "removed the role annotations from service account %s", sa_name);
	return 0;
}

/* --- pods --------------------------------------------------------------------------- */

struct stale_pod {
	char name[254];
	char uid[37];
	char owner_kind[32];
	char owner_name[254];
	int64_t created;
};

struct target {
	const struct kube_resource *res;
	char name[254];
};

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
		if (p->role_arn && streq(p->role_arn->s, x->role_arn))
			continue; /* has the credentials */
		if (p->created >= wired + INJECTION_GRACE_S) {
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
			if (p->owner_kind)
				str_copy(s->owner_kind, sizeof(s->owner_kind), p->owner_kind->s);
			if (p->owner_name)
				str_copy(s->owner_name, sizeof(s->owner_name), p->owner_name->s);
			s->created = p->created;
		}
		(*n_stale)++;
	}
	kube_cache_rdunlock(c);
	return 0;
}

/* The workload to restart for a pod: Deployment (through its ReplicaSet),
 * StatefulSet, DaemonSet. Jobs and bare pods have none. */
static int pod_target(struct rctx *x, const struct stale_pod *s, struct target *t, bool *ret_job)
{
	*ret_job = false;
	if (streq(s->owner_kind, "ReplicaSet")) {
		json_auto_t *rs = NULL;
		json_t *owners, *ow;
		struct op_err err;
		size_t i;

		if (x->r->kube->get(x->r->kube->ctx, &KUBE_REPLICASETS, x->ns, s->owner_name, &rs, &err) < 0)
			return -ENOENT;
		owners = json_object_get(json_object_get(rs, "metadata"), "ownerReferences");
		json_array_foreach(owners, i, ow) {
			if (json_is_true(json_object_get(ow, "controller")) &&
			    streq(json_string_value(json_object_get(ow, "kind")) ?: "", "Deployment")) {
				t->res = &KUBE_DEPLOYMENTS;
				str_copy(t->name, sizeof(t->name), json_string_value(json_object_get(ow, "name")));
				return 0;
			}
		}
		return -ENOENT; /* a bare ReplicaSet */
	}
	if (streq(s->owner_kind, "StatefulSet") || streq(s->owner_kind, "DaemonSet")) {
		t->res = streq(s->owner_kind, "StatefulSet") ? &KUBE_STATEFULSETS : &KUBE_DAEMONSETS;
		str_copy(t->name, sizeof(t->name), s->owner_name);
		return 0;
	}
	if (streq(s->owner_kind, "Job") || streq(s->owner_kind, "CronJob"))
		*ret_job = true;
	return -ENOENT;
}

/* Rollout-restart a workload once per role ARN. Returns 1 if restarted now,
 * 0 if already restarted for this ARN or paused, < 0 on error. */
static int restart_workload(struct rctx *x, const struct target *t, bool *ret_paused)
{
	json_auto_t *obj = NULL, *patch = NULL;
	_cleanup_free_ char *text = NULL;
	const char *done;
	struct op_err err;
	int rc;

	*ret_paused = false;
	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, t->res, x->ns, t->name, &obj, &err);
	if (rc < 0)
		return rc;
	if (json_is_true(json_object_get(json_object_get(obj, "spec"), "paused"))) {
		*ret_paused = true;
		return 0;
	}
	done = json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"),
						 ANN_RESTARTED_FOR));
	if (done && streq(done, x->role_arn))
		return 0; /* once per role ARN per workload */
	patch = json_pack("{s:{s:{s:s}}, s:{s:{s:{s:{s:s}}}}}", "metadata", "annotations", ANN_RESTARTED_FOR, x->role_arn,
			  "spec", "template", "metadata", "annotations", ANN_RESTARTED_AT, x->now);
	text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	rc = x->r->kube->merge_patch(x->r->kube->ctx, t->res, x->ns, t->name, NULL, text, &err);
	if (rc < 0) {
		rctx_kube_failed(x, COND_WORKLOADS, "restarting a workload", rc, &err);
		return rc;
	}
	atomic_fetch_add(&x->r->kube_writes, 1);
	rctx_event(x, "Normal", "WorkloadRestarted", "RolloutRestart",
		   "restarted %s/%s so its pods get the credentials of %s", t->res->kind, t->name, x->role_arn);
	return 1;
}

void wi_ensure_workloads(struct rctx *x)
{
	struct stale_pod *stale = calloc(256, sizeof(*stale));
	struct target targets[MAX_TARGETS], prev_t = { 0 };
	bool prev_job = false;
	int prev_found = -ENOENT;
	size_t n_stale = 0, n_missing = 0, n_targets = 0, n_jobs = 0, n_bare = 0, n_paused = 0, restarted = 0;
	enum wi_restart mode = x->spec->restart != WI_RESTART_DEFAULT ? x->spec->restart : x->r->settings->default_restart;
	int64_t wired_ns = 0;
	char example[254] = "", msg[1000];

	if (!stale) {
		x->transient = true;
		return;
	}
	rfc3339_parse(x->wired_at, &wired_ns);
	collect_pods(x, wired_ns / NSEC_PER_SEC, stale, 256, &n_stale, example, sizeof(example), &n_missing);

	for (size_t i = 0; i < n_stale && i < 256; i++) {
		struct target t = { 0 };
		bool job, dup = false;
		int found;

		/* pods of one ReplicaSet share their workload: look it up once */
		if (i > 0 && streq(stale[i].owner_kind, stale[i - 1].owner_kind) &&
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
		if (found < 0) {
			if (job) {
				n_jobs++;
			} else {
				n_bare++;
				if (mode == WI_RESTART_DELETE_PODS) {
					struct op_err err;

					op_err_clear(&err);
					if (x->r->kube->delete(x->r->kube->ctx, &KUBE_PODS, x->ns, stale[i].name, stale[i].uid,
							       &err) == 0) {
						atomic_fetch_add(&x->r->kube_writes, 1);
						rctx_event(x, "Normal", "PodDeleted", "DeletePod",
							   "deleted pod %s (no controller) started before the service account "
							   "was annotated", stale[i].name);
						restarted++;
					}
				}
			}
			continue;
		}
		if (mode == WI_RESTART_DELETE_PODS) {
			struct op_err err;

			op_err_clear(&err);
			if (x->r->kube->delete(x->r->kube->ctx, &KUBE_PODS, x->ns, stale[i].name, stale[i].uid, &err) == 0) {
				atomic_fetch_add(&x->r->kube_writes, 1);
				rctx_event(x, "Normal", "PodDeleted", "DeletePod",
					   "deleted pod %s of %s/%s so it is recreated with the credentials", stale[i].name,
					   t.res->kind, t.name);
				restarted++;
			}
			continue;
		}
		for (size_t k = 0; k < n_targets; k++)
			dup |= targets[k].res == t.res && streq(targets[k].name, t.name);
		if (!dup && n_targets < MAX_TARGETS)
			targets[n_targets++] = t;
	}
	if (mode == WI_RESTART_ROLLOUT) {
		for (size_t k = 0; k < n_targets; k++) {
			bool paused;
			int rc = restart_workload(x, &targets[k], &paused);

			if (rc > 0)
				restarted++;
			if (paused)
				n_paused++;
		}
	}
	free(stale);

	x->stale_pods = (long)(n_stale + n_missing);
	if (n_missing) {
		str_format(msg, sizeof(msg),
			 "%zu pod(s) created after service account %s was annotated have no AWS_ROLE_ARN (e.g. %s): is the "
			 "EKS pod identity webhook (mutating webhook pod-identity-webhook) running and reachable? keyless "
			 "does not restart them again",
			 n_missing, x->spec->service_account, example);
		if (!conditions_get(&x->conds, COND_WORKLOADS) ||
		    !streq(conditions_get(&x->conds, COND_WORKLOADS)->reason, "InjectionMissing"))
			rctx_event(x, "Warning", "InjectionMissing", "CheckPods", "%s", msg);
		conditions_set(&x->conds, COND_WORKLOADS, "False", "InjectionMissing", msg, x->generation, x->now);
	} else if (n_stale) {
		const char *reason = mode == WI_RESTART_NONE ? "StalePods" : "RestartInProgress";

		str_format(msg, sizeof(msg),
			 "%zu pod(s) of service account %s started before it was annotated and lack the credentials "
			 "(restart: %s; %zu restarted now%s%s%s)",
			 n_stale, x->spec->service_account, wi_restart_name(mode), restarted,
			 n_jobs ? "; Job pods are never restarted" : "",
			 n_paused ? "; a paused Deployment is skipped" : "",
			 n_bare && mode == WI_RESTART_ROLLOUT ? "; pods without a controller need restart: DeletePods" : "");
		conditions_set(&x->conds, COND_WORKLOADS, "False", reason, msg, x->generation, x->now);
		if (mode != WI_RESTART_NONE && (restarted || n_targets))
			x->requeue_soon = true;
	} else {
		str_format(msg, sizeof(msg), "every running pod of service account %s has the role's credentials",
			 x->spec->service_account);
		conditions_set(&x->conds, COND_WORKLOADS, "True", "Reconciled", msg, x->generation, x->now);
	}
}
