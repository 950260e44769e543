/* trust.h: the trust policy of a role, for each way of assuming it (pure).
 *
 * A role keyless manages is assumed in one of two ways, or both while an
 * identity migrates from one to the other (identity/migration.h):
 *
 * IRSA, one statement per cluster whose service account may assume it (the
 * statement identity_trust_policy() in documents.h writes, unchanged):
 *   {"Effect":"Allow","Principal":{"Federated":"<provider ARN>"},
 *    "Action":"sts:AssumeRoleWithWebIdentity",
 *    "Condition":{"StringEquals":{"<host>:sub":"system:serviceaccount:<ns>:<sa>",
 *                                 "<host>:aud":"<audience>"}}}
 *
 * EKS Pod Identity, one statement:
 *   {"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},
 *    "Action":["sts:AssumeRole","sts:TagSession"],
 *    "Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":"<ARN>" (or the list of them),
 *                                 "aws:RequestTag/kubernetes-namespace":"<ns>",
 *                                 "aws:RequestTag/kubernetes-service-account":"<sa>"}}}
 * EKS Auth sets those session tags from the association itself (the
 * cluster, namespace and service account it binds), so the role can be used
 * only through an association for this namespace and service account, in
 * the listed clusters, whoever creates the association. With session tags
 * disabled (spec.disableSessionTags) there is nothing to condition on: the
 * statement is "sts:AssumeRole" alone (AWS's documented minimum; EKS does
 * not document setting aws:SourceAccount, so keyless does not require it),
 * and any association in the account may name the role; keyless allows that
 * only when the operator's guardrails do (identity/mode.h).
 *
 * Statements come in a fixed order (IRSA ones, then Pod Identity), without
 * Sid, so an unchanged identity always gets the same document and an
 * existing IRSA role's trust policy is byte for byte what it was.
 */
#ifndef KEYLESS_IDENTITY_TRUST_H
#define KEYLESS_IDENTITY_TRUST_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

#include "identity/spec.h"

#define POD_IDENTITY_SERVICE "pods.eks.amazonaws.com"
#define POD_IDENTITY_AUDIENCE "pods.eks.amazonaws.com"

/* One cluster's IRSA statement (all borrowed). */
struct trust_irsa {
	const char *provider_arn; /* arn:aws:iam::<account>:oidc-provider/<host> */
	const char *issuer;       /* https://<host> */
	const char *audience;
};

/* The Pod Identity statement (all borrowed). */
struct trust_pod_identity {
	const char *account_id;            /* the role's account (informational) */
	const char *const *cluster_arns;   /* clusters whose associations may use the role (>= 1) */
	size_t n_clusters;
	bool session_tags;                 /* false: disableSessionTags (no namespace/SA conditions) */
};

struct trust_want {
	const char *ns;
	const char *sa;
	const struct trust_irsa *irsa;     /* n_irsa statements, in this order */
	size_t n_irsa;
	const struct trust_pod_identity *pod_identity; /* NULL: none */
};

/* The trust policy (compact JSON, malloc'd), or NULL on allocation failure
 * or when it would have no statement. */
char *identity_trust_document(const struct trust_want *w);

/* An account-scoped role (roleScope Account, identity/naming.h) is shared by
 * the clusters in its keyless.dev/owner/<cluster> tags. Each cluster's
 * keyless keeps the others' parts of the trust policy and changes only its
 * own:
 * - an IRSA statement is another owner's when its provider's issuer tag is
 *   that owner's tag value and it is exactly keyless' statement for this
 *   namespace/service account (sub and aud, nothing else);
 * - a cluster ARN in the Pod Identity statement is another owner's when it
 *   ends in cluster/<owner> (the statement's namespace and service-account
 *   conditions must be this identity's).
 * Anything else (a statement of a cluster that let go, or one nobody owns)
 * is dropped. Statements are sorted by provider ARN and cluster ARNs by
 * value, so every owner computes the same document from the same facts. */
#define TRUST_SHARED_MAX 32

struct trust_shared_in {
	const char *observed;            /* the role's trust policy; NULL: none */
	const struct wi_tag *tags;       /* the role's tags */
	size_t n_tags;
	const char *cluster;             /* this cluster's name */
	const char *provider_arn;        /* this cluster's OIDC provider */
	const char *cluster_arn;         /* this cluster's EKS ARN */
	const char *ns;
	const char *sa;
};

struct trust_shared {
	struct trust_irsa irsa[TRUST_SHARED_MAX]; /* other owners' IRSA statements */
	size_t n_irsa;
	const char *cluster_arns[TRUST_SHARED_MAX]; /* other owners' clusters (Pod Identity) */
	size_t n_clusters;
	int own_kinds;  /* TRUST_IRSA: this cluster's statement is there; TRUST_POD_IDENTITY: the
			 * Pod Identity statement names this cluster (or has no session tags) */
	json_t *doc;    /* the observed policy's statements: own the strings above */
};

/* Returns 0 (out filled; release it), or -ENOMEM. An unparsable observed
 * policy contributes nothing. */
int identity_trust_shared(const struct trust_shared_in *in, struct trust_shared *out);
void identity_trust_shared_release(struct trust_shared *s);

/* The trust policy of a shared role: this cluster's wishes (own, as for
 * identity_trust_document) merged with the other owners' parts. NULL on
 * allocation failure or when it would have no statement. */
char *identity_trust_shared_document(const struct trust_shared *others, const struct trust_want *own);

/* What kinds of statement a trust policy holds (a decoded JSON document). */
enum trust_kind {
	TRUST_IRSA = 1,          /* Principal Federated oidc-provider/..., AssumeRoleWithWebIdentity */
	TRUST_POD_IDENTITY = 2,  /* Principal Service pods.eks.amazonaws.com */
	TRUST_OTHER = 4,         /* anything else */
};

/* A mask of enum trust_kind, or -EINVAL if doc is not a policy document. */
int identity_trust_kinds(const char *doc);

#endif
