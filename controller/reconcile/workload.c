#include "reconcile/workload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "identity/guardrails.h"
#include "kube/project.h"
#include "reconcile/workload_int.h"

#define REQUEUE_NOT_READY_NS (60 * NSEC_PER_SEC)
#define REQUEUE_PODS_NS (15 * NSEC_PER_SEC)

void wi_reconciler_init(struct wi_reconciler *r)
{
	pthread_mutex_init(&r->lock, NULL);
}

void wi_reconciler_release(struct wi_reconciler *r)
{
	free(r->provider_arn);
	for (size_t i = 0; i < r->n_provider_client_ids; i++)
		free(r->provider_client_ids[i]);
	free(r->provider_client_ids);
	pthread_mutex_destroy(&r->lock);
}

/* --- events and failures ----------------------------------------------------- */

void rctx_event(struct rctx *x, const char *type, const char *reason, const char *action, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	str_vformat_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (streq(type, "Warning"))
		log_warn("%s/%s: %s: %s", x->ns, x->name, reason, msg);
	else
		log_info("%s/%s: %s: %s", x->ns, x->name, reason, msg);
	if (x->r->kube->event)
		x->r->kube->event(x->r->kube->ctx, &x->ref, type, reason, action, msg);
}

static bool transient_rc(int rc)
{
	return rc == -EAGAIN || rc == -EIO || rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
	       rc == -ECONNRESET || rc == -ENOMEM || rc == -ESTALE || rc == -EBUSY;
}

bool rctx_aws_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err)
{
	char msg[900];
	const char *reason;

	if (rc == -EACCES) {
		reason = "AWSAccessDenied";
		str_format(msg, sizeof(msg), "AWS denied keyless %s: %s", action, err->message);
	} else if (rc == -EAGAIN) {
		reason = "AWSThrottled";
		str_format(msg, sizeof(msg), "%s was throttled by AWS after retries; retrying with backoff: %s", action,
			 err->message);
	} else if (transient_rc(rc)) {
		reason = "AWSUnavailable";
		str_format(msg, sizeof(msg), "%s failed: %s; retrying with backoff", action,
			 err->message[0] ? err->message : strerror(-rc));
	} else {
		reason = "AWSError";
		str_format(msg, sizeof(msg), "%s failed: %s%s%s", action, err->reason, err->reason[0] ? ": " : "",
			 err->message[0] ? err->message : strerror(-rc));
	}
	/* AccessDenied may be fixed by an IAM admin at any time: retry too */
	x->transient = true;
	conditions_set(&x->conds, cond, "False", reason, msg, x->generation, x->now);
	rctx_event(x, "Warning", reason, action, "%s", msg);
	return false;
}

bool rctx_kube_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err)
{
	char msg[900];

	str_format(msg, sizeof(msg), "%s failed: %s", action, err->message[0] ? err->message : strerror(-rc));
	x->transient = true;
	conditions_set(&x->conds, cond, "False", "KubernetesError", msg, x->generation, x->now);
	rctx_event(x, "Warning", "KubernetesError", action, "%s", msg);
	return false;
}

/* --- finalizer ------------------------------------------------------------------ */

int wi_set_finalizer(struct rctx *x, bool present)
{
	json_t *meta = json_object_get(x->obj, "metadata"), *fins = json_object_get(meta, "finalizers"), *f;
	json_auto_t *list = json_array(), *patch = NULL;
	_cleanup_free_ char *text = NULL;
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	struct op_err err;
	size_t i;
	int r;

	json_array_foreach(fins, i, f) {
		if (!streq(json_string_value(f) ?: "", WI_FINALIZER))
			json_array_append(list, f);
	}
	if (present)
		json_array_append_new(list, json_string(WI_FINALIZER));
	/* resourceVersion makes the merge patch conditional: no lost update of
	 * another controller's finalizer */
	patch = json_pack("{s:{s:O, s:s}}", "metadata", "finalizers", list, "resourceVersion", rv ? rv : "");
	text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	op_err_clear(&err);
	r = x->r->kube->merge_patch(x->r->kube->ctx, &KUBE_WORKLOADIDENTITIES, x->ns, x->name, NULL, text, &err);
	if (r < 0) {
		if (r != -ESTALE && r != -ENOENT)
			rctx_event(x, "Warning", "KubernetesError", present ? "AddFinalizer" : "RemoveFinalizer", "%s",
				   err.message);
		return r;
	}
	atomic_fetch_add(&x->r->kube_writes, 1);
	return 0;
}

/* --- status ----------------------------------------------------------------------- */

static json_t *build_status(struct rctx *x)
{
	json_t *st = json_object();

	if (x->role_arn[0])
		json_object_set_new(st, "roleArn", json_string(x->role_arn));
	if (x->role_name[0])
		json_object_set_new(st, "roleName", json_string(x->role_name));
	if (x->provider_arn[0])
		json_object_set_new(st, "oidcProviderArn", json_string(x->provider_arn));
	if (x->spec)
		json_object_set_new(st, "serviceAccount", json_string(x->spec->service_account));
	json_object_set_new(st, "observedGeneration", json_integer(x->generation));
	json_object_set_new(st, "stalePods", json_integer(x->stale_pods));
	if (x->wired_at[0])
		json_object_set_new(st, "wiredAt", json_string(x->wired_at));
	json_object_set_new(st, "conditions", conditions_to_json(&x->conds));
	return st;
}

/* Write the status only if it differs from what the object has. */
static int write_status(struct rctx *x)
{
	json_auto_t *st = build_status(x), *patch = NULL;
	json_t *old = json_object_get(x->obj, "status");
	_cleanup_free_ char *text = NULL;
	struct op_err err;
	int r;

	if (old && json_equal(old, st))
		return 0;
	patch = json_pack("{s:O}", "status", st);
	text = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	op_err_clear(&err);
	r = x->r->kube->merge_patch(x->r->kube->ctx, &KUBE_WORKLOADIDENTITIES, x->ns, x->name, "status", text, &err);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("%s/%s: status update failed: %s", x->ns, x->name, err.message);
		return r;
	}
	atomic_fetch_add(&x->r->kube_writes, 1);
	return 0;
}

/* A rejection: every condition False with the same reason, terminal. */
static struct reconcile_result reject(struct rctx *x, const char *reason, const struct op_err *err)
{
	static const char *const types[] = { COND_OIDC, COND_ROLE, COND_SA, COND_WORKLOADS };
	const struct condition *before = conditions_get(&x->conds, COND_READY);
	bool news = !before || !streq(before->reason, reason) || before->observed_generation != x->generation;

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		conditions_set(&x->conds, types[i], "False", reason, err->message, x->generation, x->now);
	conditions_set(&x->conds, COND_READY, "False", reason, err->message, x->generation, x->now);
	/* an event only when this is news, not on every resync */
	if (news)
		rctx_event(x, "Warning", reason, "Validate", "%s", err->message);
	write_status(x);
	return (struct reconcile_result){ .outcome = RECONCILE_TERMINAL };
}

/* --- the flow ------------------------------------------------------------------------ */

static void rctx_free(struct rctx *x)
{
	wi_spec_free(x->spec);
	json_decref(x->obj);
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
	json_t *meta = json_object_get(x->obj, "metadata"), *status = json_object_get(x->obj, "status");
	const struct condition *ready;

	str_copy(x->uid, sizeof(x->uid), json_string_value(json_object_get(meta, "uid")) ?: "");
	x->generation = json_integer_value(json_object_get(meta, "generation"));
	conditions_from_json(json_object_get(status, "conditions"), &x->conds);
	str_copy(x->wired_at, sizeof(x->wired_at), json_string_value(json_object_get(status, "wiredAt")) ?: "");
	ready = conditions_get(&x->conds, COND_READY);
	x->was_ready = ready && streq(ready->status, "True") && ready->observed_generation == x->generation &&
		       json_integer_value(json_object_get(status, "observedGeneration")) == x->generation;
	x->ref = (struct kube_object_ref){ .api_version = API_VERSION, .kind = KIND, .namespace = x->ns,
					   .name = x->name, .uid = x->uid };
}

static int role_identity(struct rctx *x)
{
	const struct settings *s = x->r->settings;
	int r = identity_role_name(s->role_name_prefix ? s->role_name_prefix : "", s->cluster_name, x->ns, x->name,
				   x->role_name, sizeof(x->role_name));

	if (r < 0)
		return r;
	str_format(x->role_arn, sizeof(x->role_arn), "arn:%s:iam::%s:role%s%s", x->r->partition, x->r->account_id,
		 s->role_path ? s->role_path : "/", x->role_name);
	str_format(x->provider_arn, sizeof(x->provider_arn), "arn:%s:iam::%s:oidc-provider/%s", x->r->partition,
		 x->r->account_id, identity_issuer_host(x->r->issuer));
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

/* One reconcile, with what it cost: AWS calls (reads and writes, from the
 * client's counters; exact with one worker) and Kubernetes writes. */
struct reconcile_result wi_reconcile(void *ctx, const char *key)
{
	struct wi_reconciler *r = ctx;
	struct aws_stats before, after;
	uint64_t kw = atomic_load(&r->kube_writes);
	int64_t t0 = clock_mono_ns(NULL);
	struct reconcile_result res;

	if (r->awsc)
		aws_stats_snapshot(r->awsc, &before);
	res = reconcile_one(r, key);
	if (r->awsc) {
		aws_stats_snapshot(r->awsc, &after);
		log_info("%s: reconciled (%s) in %lld ms: %llu AWS calls (%llu writes), %llu Kubernetes writes", key,
			 outcome_name(res.outcome), (long long)((clock_mono_ns(NULL) - t0) / NSEC_PER_MSEC),
			 (unsigned long long)(after.reads + after.writes - before.reads - before.writes),
			 (unsigned long long)(after.writes - before.writes),
			 (unsigned long long)(atomic_load(&r->kube_writes) - kw));
	}
	return res;
}

static struct reconcile_result reconcile_one(struct wi_reconciler *r, const char *key)
{
	struct rctx x = { .r = r };
	struct reconcile_result res = { .outcome = RECONCILE_OK };
	struct op_err err;
	int rc;

	if (split_key(key, &x) < 0)
		return (struct reconcile_result){ .outcome = RECONCILE_TERMINAL };
	x.now_ns = clock_real_ns(r->clock);
	rfc3339_format(x.now_ns, 0, x.now, sizeof(x.now));
	op_err_clear(&err);
	rc = r->kube->get(r->kube->ctx, &KUBE_WORKLOADIDENTITIES, x.ns, x.name, &x.obj, &err);
	if (rc == -ENOENT)
		return res; /* gone: its finalizer already ran */
	if (rc < 0) {
		log_warn("%s: reading the WorkloadIdentity failed: %s", key, err.message);
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	}
	load_object(&x);

	if (json_object_get(json_object_get(x.obj, "metadata"), "deletionTimestamp")) {
		res = wi_finalize(&x);
		goto out;
	}

	/* 1. validate: spec, namespace, guardrails (terminal until the object changes) */
	op_err_clear(&err);
	rc = wi_spec_parse(x.obj, &x.spec, &err);
	if (rc < 0) {
		res = reject(&x, "InvalidSpec", &err);
		goto out;
	}
	op_err_clear(&err);
	if (guardrails_check_namespace(&r->settings->guardrails, x.ns, &err) < 0) {
		res = reject(&x, "NamespaceNotAllowed", &err);
		goto out;
	}
	op_err_clear(&err);
	if (guardrails_check_spec(&r->settings->guardrails, x.spec, &err) < 0) {
		res = reject(&x, "PolicyRejected", &err);
		goto out;
	}
	if (role_identity(&x) < 0) {
		op_err_set(&err, -EINVAL, "metadata.name: '%s' cannot be part of an IAM role name", x.name);
		res = reject(&x, "InvalidSpec", &err);
		goto out;
	}

	/* 2. the finalizer first, so nothing created below can be orphaned */
	if (!x.spec->has_finalizer) {
		rc = wi_set_finalizer(&x, true);
		if (rc < 0) {
			res.outcome = RECONCILE_ERROR; /* Conflict: a newer version exists; it will come back */
			goto out;
		}
	}

	/* 3-6 */
	if (wi_ensure_provider(&x) && wi_ensure_role(&x) && wi_ensure_service_account(&x))
		wi_ensure_workloads(&x);
	conditions_summarize(&x.conds, x.generation, x.now);
	if (write_status(&x) == -ESTALE)
		x.transient = true;

	if (x.transient)
		res.outcome = RECONCILE_ERROR;
	else if (x.requeue_soon)
		res = (struct reconcile_result){ .outcome = RECONCILE_REQUEUE, .after_ns = REQUEUE_PODS_NS };
	else if (!streq(conditions_get(&x.conds, COND_READY)->status, "True"))
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

/* Every WorkloadIdentity naming (ns, sa). */
static void enqueue_by_sa(struct wi_handler *h, const char *ns, const char *sa)
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
	for (int i = 0; i < n; i++)
		enqueue(h->q, ns, names[i]);
}

void wi_on_wi_change(const struct kube_change *ch, void *ctx)
{
	struct wi_handler *h = ctx;

	enqueue(h->q, ch->ns, ch->name);
	/* a service account changing hands: the other claimants re-decide */
	if (ch->type != KUBE_CHANGE_RESYNC) {
		enqueue_by_sa(h, ch->ns, ch->idx);
		if (ch->old_idx && (!ch->idx || !streq(ch->idx, ch->old_idx)))
			enqueue_by_sa(h, ch->ns, ch->old_idx);
	}
}

void wi_on_sa_change(const struct kube_change *ch, void *ctx)
{
	if (ch->type != KUBE_CHANGE_RESYNC)
		enqueue_by_sa(ctx, ch->ns, ch->name);
}

void wi_on_pod_change(const struct kube_change *ch, void *ctx)
{
	if (ch->type == KUBE_CHANGE_RESYNC)
		return;
	enqueue_by_sa(ctx, ch->ns, ch->idx ? ch->idx : ch->old_idx);
}
