/* rctx.c: the helpers of one reconcile (rctx.h): events, failures on
 * conditions, the finalizer and the status. */
#include "reconcile/rctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "aws/redact.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "kube/project.h"

/* --- events and failures ----------------------------------------------------- */

/* Log log_msg (the controller's own log) and post event_msg (the tenant's namespace). */
static void emit_event(struct rctx *x, const char *type, const char *reason, const char *action, const char *log_msg,
		       const char *event_msg)
{
	if (streq(type, "Warning"))
		log_warn("%s/%s: %s: %s", x->ns, x->name, reason, log_msg);
	else
		log_info("%s/%s: %s: %s", x->ns, x->name, reason, log_msg);
	if (x->r->kube->event)
		x->r->kube->event(x->r->kube->ctx, &x->ref, type, reason, action, event_msg);
}

void rctx_event(struct rctx *x, const char *type, const char *reason, const char *action, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	str_vformat_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_event(x, type, reason, action, msg, msg);
}

static bool transient_rc(int rc)
{
	return rc == -EAGAIN || rc == -EIO || rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
	       rc == -ECONNRESET || rc == -ENOMEM || rc == -ESTALE || rc == -EBUSY;
}

bool rctx_aws_failed(struct rctx *x, const char *cond, const char *action, int rc, const struct op_err *err)
{
	char msg[900], tenant_msg[900];
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
	/* AWS messages name keyless' own principal: the tenant's condition and
	 * Event get them redacted, the controller's log in full */
	aws_redact_principals(tenant_msg, sizeof(tenant_msg), msg);
	conditions_set(&x->conds, cond, "False", reason, tenant_msg, x->generation, x->now);
	emit_event(x, "Warning", reason, action, msg, tenant_msg);
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
	wi_count_kube_write(x);
	return 0;
}

/* --- status ----------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* Fields keyless may clear are set to null, so the merge patch removes them. */
static json_t *build_status(struct rctx *x)
{
	json_t *st = json_object(), *retired = json_array();

	for (size_t i = 0; i < x->n_retired; i++)
		json_array_append_new(retired, json_string(x->retired[i]));
	json_object_set_new(st, "roleArn", str_or_null(x->role_arn));
	json_object_set_new(st, "roleName", str_or_null(x->recorded_role));
	json_object_set_new(st, "retiredRoles", x->n_retired ? retired : (json_decref(retired), json_null()));
	if (x->provider_arn[0])
		json_object_set_new(st, "oidcProviderArn", json_string(x->provider_arn));
	json_object_set_new(st, "serviceAccount", str_or_null(x->recorded_sa));
	{
		enum wi_mode m = x->planned ? x->plan.in_effect : x->status_mode;

		json_object_set_new(st, "mode", m == WI_MODE_DEFAULT ? json_null() : json_string(wi_mode_name(m)));
	}
	json_object_set_new(st, "associationId", str_or_null(x->association_id));
	json_object_set_new(st, "observedGeneration", json_integer(x->generation));
	json_object_set_new(st, "stalePods", json_integer(x->stale_pods));
	if (x->wired_at[0])
		json_object_set_new(st, "wiredAt", json_string(x->wired_at));
	json_object_set_new(st, "conditions", conditions_to_json(&x->conds));
	return st;
}

/* Does the object's status already say what `st` says (nulls: absent)? */
static bool status_same(json_t *old, json_t *st)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(old))
		return false;
	json_object_foreach(st, key, v) {
		json_t *o = json_object_get(old, key);

		if (json_is_null(v) ? o != NULL : !json_equal(o, v))
			return false;
		n += !json_is_null(v);
	}
	return json_object_size(old) == n;
}

int wi_write_status(struct rctx *x)
{
	json_auto_t *st = build_status(x), *patch = NULL;
	json_t *old = json_object_get(x->obj, "status");
	_cleanup_free_ char *text = NULL;
	struct op_err err;
	int r;

	if (status_same(old, st))
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
	wi_count_kube_write(x);
	/* what the object now says, so a second write in this reconcile compares against it */
	{
		json_t *now = json_deep_copy(st);
		const char *key;
		json_t *v;
		void *tmp;

		json_object_foreach_safe(now, tmp, key, v) {
			if (json_is_null(v))
				json_object_del(now, key);
		}
		json_object_set_new(x->obj, "status", now);
	}
	return 0;
}

void wi_forget_retired(struct rctx *x, size_t i)
{
	if (i >= x->n_retired)
		return;
	memmove(x->retired[i], x->retired[i + 1], (x->n_retired - i - 1) * sizeof(x->retired[0]));
	x->n_retired--;
}

