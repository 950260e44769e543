/* Deletion of a WorkloadIdentity: the finalizer keyless.dev/cleanup. */
#include <errno.h>
#include <string.h>

#include "base/str.h"
#include "reconcile/steps.h"

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

/* Exactly what keyless created goes: the roles recorded in the status (the
 * current one unless deletionPolicy is Retain, and every retired one), the
 * annotations it set on the service accounts it recorded, and a service
 * account it created, and its pod identity association. The role name of today's settings is the fallback
 * when nothing is recorded; every role is checked for keyless' ownership
 * tags of this object before anything is deleted. */
struct reconcile_result wi_finalize(struct rctx *x)
{
	json_t *spec = json_object_get(x->obj, "spec");
	const char *policy = json_string_value(json_object_get(spec, "deletionPolicy"));
	const char *spec_sa = json_string_value(json_object_get(spec, "serviceAccountName"));
	const char *audience = json_string_value(json_object_get(spec, "audience"));
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	const char *current = x->recorded_role[0] ? x->recorded_role : x->role_name;
	bool retain = policy && streq(policy, "Retain"), deleted, failed = false;
	int rc;

	if (!has_finalizer(x->obj))
		return (struct reconcile_result){ .outcome = RECONCILE_OK };
	/* the pod identity association goes first (it names the role); only
	 * looked for when Pod Identity was or may have been used, so an
	 * IRSA-only identity costs no EKS call */
	if (x->status_mode == WI_MODE_POD_IDENTITY || x->association_id[0] ||
	    (mode && (streq(mode, "PodIdentity") || streq(mode, "Auto"))) ||
	    (!mode && x->r->settings->default_mode != WI_MODE_IRSA)) {
		if (x->recorded_sa[0] && wi_delete_association(x, x->recorded_sa) < 0)
			failed = true;
		if (spec_sa && !streq(spec_sa, x->recorded_sa) && wi_delete_association(x, spec_sa) < 0)
			failed = true;
		if (!failed)
			x->association_id[0] = '\0';
	}
	if (!retain) {
		if (wi_delete_role(x, current, COND_ROLE, &deleted) < 0)
			failed = true;
	} else {
		rctx_event(x, "Normal", "RoleRetained", "Delete", "deletionPolicy Retain: IAM role %s is kept", current);
	}
	for (size_t i = x->n_retired; i-- > 0;) {
		if (wi_delete_role(x, x->retired[i], COND_ROLE, &deleted) < 0)
			failed = true;
	}
	if (x->recorded_sa[0] && wi_release_service_account(x, x->recorded_sa) < 0)
		failed = true;
	if (spec_sa && !streq(spec_sa, x->recorded_sa) && wi_release_service_account(x, spec_sa) < 0)
		failed = true;
	if (failed) {
		/* AWS or the API server unreachable or refusing: keep the finalizer
		 * and retry; nothing is orphaned */
		conditions_summarize(&x->conds, x->generation, x->now);
		wi_write_status(x);
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	}
	/* an audience only this object used leaves the OIDC provider now */
	if (audience && !streq(audience, WI_DEFAULT_AUDIENCE) && wi_provider_gc(x) < 0)
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	rc = wi_set_finalizer(x, false);
	if (rc < 0 && rc != -ENOENT)
		return (struct reconcile_result){ .outcome = RECONCILE_ERROR };
	return (struct reconcile_result){ .outcome = RECONCILE_OK };
}
