/* spec.h: a WorkloadIdentity's spec, parsed and validated (pure).
 *
 * wi_spec_parse() turns the object's JSON (as the API server returns it, so
 * CRD defaults are applied) into struct wi_spec. What the CRD schema already
 * enforces is checked again here, because keyless must not trust its input:
 * every error names the field ("spec.permissions.statements[1].actions[0]")
 * and the rule, and is reported as reason InvalidSpec.
 *
 * There is deliberately no field for the trust policy, the `sub` or another
 * namespace: the object's own namespace and spec.serviceAccountName decide
 * the subject (see identity/documents.h).
 */
#ifndef KEYLESS_IDENTITY_SPEC_H
#define KEYLESS_IDENTITY_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum wi_effect { WI_ALLOW, WI_DENY };
enum wi_restart { WI_RESTART_DEFAULT, WI_RESTART_ROLLOUT, WI_RESTART_DELETE_PODS, WI_RESTART_NONE };
enum wi_deletion { WI_DELETE, WI_RETAIN };
/* How pods get the role's credentials: WI_MODE_DEFAULT (absent: the
 * settings' defaultMode decides), IRSA, EKS Pod Identity, or Auto
 * (identity/mode.h picks one). */
enum wi_mode { WI_MODE_DEFAULT, WI_MODE_IRSA, WI_MODE_POD_IDENTITY, WI_MODE_AUTO };

/* One condition value list: operator -> key -> values. */
struct wi_condition {
	char *op;      /* "StringEquals", "ForAnyValue:StringLike", ... */
	char *key;     /* "aws:SourceVpc" */
	char **values; /* NULL-terminated */
	size_t n_values;
};

struct wi_statement {
	char *sid;     /* NULL if none */
	enum wi_effect effect;
	char **actions;   /* n_actions */
	size_t n_actions;
	char **resources; /* n_resources */
	size_t n_resources;
	struct wi_condition *conditions;
	size_t n_conditions;
};

struct wi_tag {
	char *key;
	char *value;
};

struct wi_spec {
	/* from metadata */
	char *namespace;
	char *name;
	char *uid;
	long long generation;
	bool deleting;          /* metadata.deletionTimestamp set */
	bool has_finalizer;     /* keyless.dev/cleanup present */
	char *creation_timestamp;
	/* spec */
	char *service_account;
	bool create_service_account;
	char *audience;         /* default sts.amazonaws.com */
	bool sts_regional_endpoints; /* default true */
	struct wi_statement *statements;
	size_t n_statements;
	char **managed_policy_arns;
	size_t n_managed_policy_arns;
	int max_session_duration; /* 0 = operator default */
	enum wi_restart restart;
	enum wi_deletion deletion_policy;
	struct wi_tag *tags;
	size_t n_tags;
	/* EKS Pod Identity (identity/mode.h says when they apply) */
	enum wi_mode mode;
	struct wi_statement *session_statements; /* spec.sessionPolicy.statements -> the association's policy */
	size_t n_session_statements;
	char *target_role_arn;    /* spec.targetRoleArn, NULL if unset */
	char *account_id;         /* spec.accountId (IRSA: the role's account), NULL: the cluster's */
	bool disable_session_tags;
};

#define WI_FINALIZER "keyless.dev/cleanup"
#define WI_DEFAULT_AUDIENCE "sts.amazonaws.com"

/* Limits (the same in the CRD): 50 statements, 100 actions and 100 resources
 * per statement, 20 condition operators x 20 keys x 50 values, 20 managed
 * policies, 40 tags. actions, resources, condition values and
 * managed_policy_arns are also NULL-terminated (managed_policy_arns is an
 * empty list, not NULL, when there are none); tags is NULL when empty.
 * Conditions are flattened to one entry per (operator, key), in document
 * order; a single string value is taken as a one-value list, as IAM does. */

/* Parse a WorkloadIdentity object. On failure returns -EINVAL and err names
 * the field; *ret is written only on success (owned by the caller). */
int wi_spec_parse(json_t *obj, struct wi_spec **ret, struct op_err *err);
void wi_spec_free(struct wi_spec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct wi_spec *, wi_spec_free)

/* "RolloutRestart", "DeletePods", "None"; "Default" for WI_RESTART_DEFAULT
 * (the operator's settings decide). */
const char *wi_restart_name(enum wi_restart r);
/* "IRSA", "PodIdentity", "Auto"; "Default" for WI_MODE_DEFAULT. */
const char *wi_mode_name(enum wi_mode m);
/* The mode one of those names; false (and *ret unchanged) for anything else. */
bool wi_mode_parse(const char *s, enum wi_mode *ret);

#endif
