/* plan.h: observed IAM role vs desired role -> the exact steps (pure).
 *
 * external-dns style: the reconciler reads what AWS has (struct
 * role_observed), computes what the WorkloadIdentity wants (struct
 * role_desired), and plan_role() lists the smallest set of idempotent calls
 * that makes one into the other. Documents are compared as JSON (key order,
 * whitespace, single value vs one-element list do not count), never as text.
 * A plan with no steps means nothing to write.
 *
 * A role keyless owns is wholly keyless': inline policies other than
 * "keyless", managed policies not asked for and tags not desired are removed
 * (someone adding a policy in the console would otherwise bypass the
 * guardrails). A role's path cannot change in IAM; a different path is
 * reported (plan.path_differs), not repaired.
 */
#ifndef KEYLESS_IDENTITY_PLAN_H
#define KEYLESS_IDENTITY_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "identity/spec.h"

struct role_desired {
	const char *name;
	const char *path;
	const char *description;
	const char *trust_policy;      /* JSON */
	const char *permission_policy; /* JSON, NULL: no inline policy */
	const char *boundary_arn;      /* NULL: none */
	int max_session_duration;
	const struct wi_tag *tags;     /* ownership tags + user tags + extra tags */
	size_t n_tags;
	const char *const *managed;    /* managed policy ARNs */
	size_t n_managed;
};

struct role_observed {
	bool exists;
	const char *path;
	const char *description;
	const char *trust_policy;      /* decoded JSON */
	const char *boundary_arn;
	int max_session_duration;
	const struct wi_tag *tags;
	size_t n_tags;
	const char *const *inline_names; /* ListRolePolicies */
	size_t n_inline;
	const char *keyless_policy;    /* GetRolePolicy("keyless"), decoded, NULL if none */
	const char *const *attached;   /* ListAttachedRolePolicies ARNs */
	size_t n_attached;
};

enum step_kind {
	STEP_CREATE_ROLE,       /* with trust, path, description, max session, boundary, tags */
	STEP_UPDATE_TRUST,
	STEP_UPDATE_ROLE,       /* description / max session */
	STEP_PUT_BOUNDARY,
	STEP_DELETE_BOUNDARY,
	STEP_TAG,               /* arg: tag key (value from desired) */
	STEP_UNTAG,             /* arg: tag key */
	STEP_PUT_POLICY,        /* the inline policy "keyless" */
	STEP_DELETE_POLICY,     /* arg: inline policy name */
	STEP_ATTACH,            /* arg: managed policy ARN */
	STEP_DETACH,            /* arg: managed policy ARN */
};

struct step {
	enum step_kind kind;
	const char *arg; /* borrowed from desired/observed */
};

#define PLAN_MAX_STEPS 256

struct plan {
	struct step steps[PLAN_MAX_STEPS];
	size_t n;
	bool path_differs;
	bool overflow; /* more steps than fit (the reconcile runs again) */
};

/* Compute the plan. Returns 0, or -EINVAL if a document is not JSON. */
int plan_role(const struct role_desired *d, const struct role_observed *o, struct plan *ret);

const char *step_name(enum step_kind k);

#endif
