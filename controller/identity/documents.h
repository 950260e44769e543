/* documents.h: the IAM policy documents keyless writes (pure).
 *
 * Trust policy, exactly (keys in this order, compact JSON):
 *   {"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 *    "Principal":{"Federated":"<provider ARN>"},
 *    "Action":"sts:AssumeRoleWithWebIdentity",
 *    "Condition":{"StringEquals":{"<issuer host>:sub":"system:serviceaccount:<ns>:<sa>",
 *                                 "<issuer host>:aud":"<audience>"}}}]}
 * The namespace is always the WorkloadIdentity's own: there is no way to
 * name another.
 *
 * Permission policy (the inline policy "keyless"): the spec's statements,
 * in order, as {"Sid","Effect","Action":[...],"Resource":[...],"Condition"}.
 *
 * Sizes are counted as IAM counts them: characters, whitespace excluded.
 * Limits: trust policy 2,048 by default (the account's
 * AssumeRolePolicySizeQuota, up to 8,192 when raised); inline policies of a
 * role 10,240 in total.
 */
#ifndef KEYLESS_IDENTITY_DOCUMENTS_H
#define KEYLESS_IDENTITY_DOCUMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "identity/spec.h"

#define INLINE_POLICY_NAME "keyless"
#define IAM_INLINE_POLICY_SIZE_MAX 10240
#define IAM_TRUST_POLICY_SIZE_DEFAULT 2048
#define STS_SESSION_POLICY_SIZE_MAX 2048

/* malloc'd JSON text, or NULL on allocation failure. */
char *identity_trust_policy(const char *provider_arn, const char *issuer, const char *ns, const char *sa,
			    const char *audience);

/* malloc'd JSON text of the spec's statements; NULL with *ret_none = 1 when
 * the spec has no statements (managed policies only). */
char *identity_permission_policy(const struct wi_spec *spec, int *ret_none);

/* The same for spec.sessionPolicy: the pod identity association's policy
 * (EKS passes it to STS as the session policy, at most 2,048 characters). */
char *identity_session_policy(const struct wi_spec *spec, int *ret_none);

/* The statements of a policy document (JSON text) as an array, a lone
 * statement object wrapped in one (a new reference); NULL if doc is not a
 * policy document. */
json_t *identity_policy_statements(const char *doc);

/* Does a policy value (a string, or a list of strings) match s? like: IAM's
 * wildcards * and ?; nocase: without regard to case. */
bool identity_policy_value_matches(json_t *v, const char *s, bool like, bool nocase);

/* IAM's size of a document: characters other than whitespace. */
size_t identity_policy_size(const char *doc);

#endif
