/* diagnose.h: why a web-identity token can or cannot assume a role, from
 * the role's trust policy (pure): `keyless doctor` (and verifyAssumeRole's
 * condition messages).
 *
 * The evaluation follows AWS's documented rules for sts:AssumeRoleWithWebIdentity
 * as the local STS front does (hack/standins/sts_front.py): a statement
 * applies when its Principal is "*" or names the provider under
 * "Federated", its Action (or NotAction) covers the action, and every
 * condition holds; an applying Deny refuses, else an applying Allow
 * allows. Conditions on <issuer host>:sub and :aud with String(Not)Equals,
 * String(Not)EqualsIgnoreCase and String(Not)Like are evaluated; any other
 * operator or key is reported as not evaluated (an approximation: say so).
 *
 * When nothing allows, each Allow statement that names the token's
 * provider (or, without one, every Allow statement) is explained, one
 * reason per failing part, character by character:
 *   - another provider ARN (a wrong account, issuer, or typo: the first
 *     differing character);
 *   - a condition key for another issuer host;
 *   - sub for another namespace or another service account (the parts of
 *     system:serviceaccount:<ns>:<sa> compared separately);
 *   - a value that differs only in case;
 *   - sub and aud swapped;
 *   - a wildcard inside StringEquals (literal there: StringLike matches);
 *   - otherwise the first differing character.
 */
#ifndef KEYLESS_IDENTITY_DIAGNOSE_H
#define KEYLESS_IDENTITY_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>

struct web_identity_claims {
	const char *provider_arn; /* arn:<p>:iam::<role's account>:oidc-provider/<iss minus https://> */
	const char *issuer_host;  /* iss minus https:// */
	const char *sub;
	const char *aud;          /* the audience that matched the provider's client ids */
};

#define DIAG_MAX_REASONS 8

struct trust_diagnosis {
	bool allowed;
	bool approximate;   /* a condition keyless could not evaluate */
	size_t n;
	char reasons[DIAG_MAX_REASONS][400];
};

/* doc: the role's trust policy (JSON). */
void diagnose_web_identity(const char *doc, const struct web_identity_claims *c, struct trust_diagnosis *out);

/* EKS Pod Identity: the session tags EKS Auth sets from the association
 * (eks-cluster-arn, eks-cluster-name, kubernetes-namespace,
 * kubernetes-service-account) against the role's trust policy: a statement
 * for Service pods.eks.amazonaws.com that allows sts:AssumeRole and, with
 * session tags, sts:TagSession, whose aws:RequestTag/<key> String*
 * conditions hold. Other conditions are approximated. */
struct pod_identity_session {
	const char *cluster_arn;
	const char *cluster_name;
	const char *ns;
	const char *sa;
	bool session_tags;        /* false: the association disables them */
};
void diagnose_pod_identity(const char *doc, const struct pod_identity_session *s, struct trust_diagnosis *out);

/* Where two strings first differ: "at character N: 'x' (policy) vs 'y'
 * (token)", or "the token's is longer/shorter" (out >= 160 bytes). */
void diagnose_first_difference(const char *policy, const char *token, char *out, size_t size);

#endif
