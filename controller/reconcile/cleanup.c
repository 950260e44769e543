/* Deletion of a WorkloadIdentity: the finalizer keyless.dev/cleanup. */
#include <errno.h>
#include <string.h>

#include "base/str.h"
#include "reconcile/workload_int.h"

static bool has_finalizer(json_t *obj)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f) {
		if (streq(json_string_value(f) ?: "", WI_FINALIZER))
			return true;
	}
	return false;
}

struct reconcile_result wi_finalize(struct rctx *x)
{
	struct wi_reconciler *r = x->r;
	json_t *spec = json_object_get(x->obj, "spec");
	const char *policy = json_string_value(json_object_get(spec, "deletionPolicy"));
	const char *status_arn = json_string_value(json_object_get(json_object_get(x->obj, "status"), "roleArn"));
	const struct settings *s = r->settings;
	bool deleted = false;
	int rc;

	if (!has_finalizer(x->obj))
		return (struct reconcile_result){ .outcome = RECONCILE_OK };
	/* The role name depends only on settings, namespace and name, so cleanup
	 * works even if the spec has become invalid. */
	if (identity_role_name(s->role_name_prefix ? s->role_name_prefix : "", s->cluster_name, x->ns, x->name,
			       x->role_name, sizeof(x->role_name)) < 0)
		x->role_name[0] = '\0';
	if (status_arn)
		str_copy(x->role_arn, sizeof(x->role_arn), status_arn);
	else if (x->role_name[0])
		str_format(x->role_arn, sizeof(x->role_arn), "arn:%s:iam::%s:role%s%s", r->partition, r->account_id,
			 s->role_path ? s->role_path : "/", x->role_name);

	if (x->role_name[0] && (!policy || !streq(policy, "Retain"))) {
		rc = wi_delete_role(x, &deleted);
		if (rc < 0) {
			/* AWS unreachable or refusing: keep the finalizer and retry; nothing is orphaned */
			conditions_summarize(&x->conds, x->generation, x->now);
			return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
		}
	} else if (x->role_name[0]) {
		rctx_event(x, "Normal", "RoleRetained", "Delete", "deletionPolicy Retain: IAM role %s is kept",
			   x->role_name);
	}
	rc = wi_unwire_service_account(x);
	if (rc < 0)
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	rc = wi_set_finalizer(x, false);
	if (rc < 0 && rc != -ENOENT)
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	return (struct reconcile_result){ .outcome = RECONCILE_OK };
}
