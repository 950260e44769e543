#include "identity/doctor.h"

#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "identity/desired.h"
#include "identity/documents.h"

const char *doctor_annotation_typo(json_t *annotations)
{
	const char *key;
	json_t *v;

	json_object_foreach(annotations, key, v) {
		const char *slash = strrchr(key, '/');

		if (streq(key, ANN_ROLE_ARN))
			continue;
		if (strcasecmp(key, ANN_ROLE_ARN) == 0 || str_edit_distance(key, ANN_ROLE_ARN, 4) <= 3 ||
		    (slash && (strcasecmp(slash + 1, "role-arn") == 0 || strcasecmp(slash + 1, "rolearn") == 0 ||
			       strcasecmp(slash + 1, "role_arn") == 0)))
			return key;
	}
	return NULL;
}

static const char *env_value(json_t *container, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(container, "env"), i, e) {
		if (streq(json_string_value(json_object_get(e, "name")) ?: "", name))
			return json_string_value(json_object_get(e, "value")) ?: "";
	}
	return NULL;
}

static bool non_root(json_t *sc)
{
	json_t *uid = json_object_get(sc, "runAsUser");

	return json_is_true(json_object_get(sc, "runAsNonRoot")) || (json_is_integer(uid) && json_integer_value(uid) != 0);
}

void doctor_pod_injection(json_t *pod, struct pod_injection *out)
{
	json_t *spec = json_object_get(pod, "spec"), *psc = json_object_get(spec, "securityContext"), *c, *v;
	bool fs_group = json_object_get(psc, "fsGroup") != NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	json_array_foreach(json_object_get(spec, "volumes"), i, v) {
		if (streq(json_string_value(json_object_get(v, "name")) ?: "", "aws-iam-token"))
			out->token_volume = true;
	}
	json_array_foreach(json_object_get(spec, "containers"), i, c) {
		const char *arn = env_value(c, "AWS_ROLE_ARN");

		if (arn && !out->role_arn)
			out->role_arn = arn;
		out->token_file |= env_value(c, "AWS_WEB_IDENTITY_TOKEN_FILE") != NULL;
		out->container_credentials |= env_value(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL;
		out->container_token_file |= env_value(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") != NULL;
		/* the projected token is 0600 for the kubelet's user unless fsGroup
		 * gives the pod's group read access */
		if (!fs_group && !out->unreadable && (non_root(json_object_get(c, "securityContext")) || non_root(psc)))
			out->unreadable = json_string_value(json_object_get(c, "name"));
	}
}

int doctor_policy_decision(const char *doc, const char *action, const char *resource, bool *ret_conditional)
{
	json_t *stmts = identity_policy_statements(doc), *st;
	int decision = 0;
	size_t i;

	*ret_conditional = false;
	json_array_foreach(stmts, i, st) {
		json_t *a = json_object_get(st, "Action"), *na = json_object_get(st, "NotAction");
		json_t *r = json_object_get(st, "Resource"), *nr = json_object_get(st, "NotResource");
		bool act = a ? identity_policy_value_matches(a, action, true, true)
			     : na && !identity_policy_value_matches(na, action, true, true);
		bool res = r ? identity_policy_value_matches(r, resource, true, false)
			     : nr && !identity_policy_value_matches(nr, resource, true, false);

		if (!act || !res)
			continue;
		*ret_conditional |= json_object_get(st, "Condition") != NULL;
		if (streq(json_string_value(json_object_get(st, "Effect")) ?: "", "Deny"))
			decision = -1;
		else if (decision == 0)
			decision = 1;
	}
	json_decref(stmts);
	return decision;
}
