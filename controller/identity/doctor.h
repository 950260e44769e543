/* doctor.h: the pure checks of `keyless doctor` (cli/doctor.c gathers the
 * objects and AWS's answers): the service account's annotation (and a
 * mistyped key close to it), what AWS's webhook injected into a pod, and a
 * local evaluation of permission policies for one action and resource.
 */
#ifndef KEYLESS_IDENTITY_DOCTOR_H
#define KEYLESS_IDENTITY_DOCTOR_H

#include <jansson.h>
#include <stdbool.h>

/* An annotation key that looks like eks.amazonaws.com/role-arn but is not
 * it (case, a few edits, another domain), or NULL. */
const char *doctor_annotation_typo(json_t *annotations);

/* What the pod identity webhook put into a pod (v1 Pod JSON). */
struct pod_injection {
	const char *role_arn;      /* AWS_ROLE_ARN of the first container that has it, NULL: none */
	bool token_file;           /* AWS_WEB_IDENTITY_TOKEN_FILE */
	bool token_volume;         /* the projected aws-iam-token volume */
	bool container_credentials; /* AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity) */
	bool container_token_file;  /* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity) */
	const char *unreadable;    /* a container that runs as non-root with no pod fsGroup: it may not
				    * read the token file (NULL: none) */
};
void doctor_pod_injection(json_t *pod, struct pod_injection *out);

/* A local evaluation of one permission policy for an action and resource
 * (wildcards * and ?, Action/NotAction, Resource/NotResource; conditions are
 * NOT evaluated: *ret_conditional says one applied). 1: an Allow applies,
 * -1: a Deny applies, 0: neither. An approximation of IAM's evaluation. */
int doctor_policy_decision(const char *doc, const char *action, const char *resource, bool *ret_conditional);

#endif
