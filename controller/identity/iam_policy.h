/* iam_policy.h: the IAM identity policy keyless itself needs for given
 * settings (`keyless iam-policy`), fenced so that holding it cannot be
 * turned into more than what the permissions boundary allows. Pure.
 *
 * Statements (Sid: what and why; README "keyless' own AWS permissions"):
 *   ReadAccount           iam:GetAccountSummary, iam:ListOpenIDConnectProviders
 *                         (+ iam:ListRoles with driftDetection roles) on "*"
 *                         (none supports a resource).
 *   ReadAccountAuthorizationDetails  (driftDetection bulk)
 *                         iam:GetAccountAuthorizationDetails on "*": an
 *                         account-wide read (every role, user, group and policy
 *                         document) that cannot be scoped to keyless' roles.
 *   ReadOIDCProvider      iam:GetOpenIDConnectProvider on the issuer's provider.
 *   ManageOIDCProvider    (manageOidcProvider) Create, Add/RemoveClientID,
 *                         Tag/Untag on the issuer's provider, tag keys limited
 *                         to keyless.dev/cluster and keyless.dev/client-id/<hash>.
 *   ReadRoles             iam:GetRole on every role (tells foreign roles apart).
 *   ReadOwnedRoles        ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies,
 *                         ListRoleTags on roles tagged keyless.dev/cluster=<cluster>.
 *   CreateFencedRoles     iam:CreateRole (and iam:TagRole, the tags on create) under
 *                         role<path><prefix><cluster>+*, only with the boundary,
 *                         keyless.dev/cluster=<cluster> and the allowed tag keys.
 *   ManageOwnedRoles      UpdateAssumeRolePolicy, UpdateRole, DeleteRole, UntagRole,
 *                         DeleteRolePolicy, DetachRolePolicy (+ DeleteRolePermissionsBoundary
 *                         when the boundary is waived) on roles tagged with the cluster.
 *   TagOwnedRoles         iam:TagRole on such roles, allowed tag keys only.
 *   GrantOnOwnedRoles     PutRolePolicy, PutRolePermissionsBoundary on such roles
 *                         whose (new) boundary is the configured one.
 *   AttachAllowedPolicies (guardrails.managedPolicyArns) iam:AttachRolePolicy of
 *                         those policies only, same fence.
 *   ReadPodIdentityAssociations  eks:List/DescribePodIdentityAssociation in
 *                         this cluster (EKS Pod Identity mode).
 *   CreateTaggedPodIdentityAssociations  eks:CreatePodIdentityAssociation (and
 *                         eks:TagResource) only with keyless.dev/cluster=<cluster>.
 *   ManageOwnedPodIdentityAssociations  Update/Delete only on associations
 *                         tagged keyless.dev/cluster=<cluster>.
 *   PassOwnedRolesToPodIdentity  iam:PassRole of keyless' role names only,
 *                         only to pods.eks.amazonaws.com.
 *   DenyBoundaryRemoval, DenyOtherBoundaries, DenyReleasingOwnership,
 *   DenyRetaggingOwnership   explicit denies (win over any other policy the
 *                         principal holds); the first two only with a boundary.
 *   DescribeCluster       (no oidcIssuer) eks:DescribeCluster of this cluster.
 *   CallerIdentity        (no accountId) sts:GetCallerIdentity.
 */
#ifndef KEYLESS_IDENTITY_IAM_POLICY_H
#define KEYLESS_IDENTITY_IAM_POLICY_H

#include <jansson.h>

#include "base/err.h"
#include "identity/settings.h"

struct iam_policy_input {
	const struct settings *settings; /* required */
	const char *account_id;          /* required, 12 digits */
	const char *partition;           /* "aws", "aws-cn", "aws-us-gov" */
	const char *dns_suffix;          /* "amazonaws.com", ...: EKS issuers when the issuer is unknown */
	const char *region;              /* NULL: "*" in the EKS ARN */
	const char *issuer;              /* NULL: settings->oidc_issuer, else every EKS issuer of the region */
};

/* Build the policy document. *ret is a new reference (the caller's). Errors:
 * -EINVAL (reason "InvalidInput") for a bad account id or a path/prefix that
 * holds an IAM wildcard character. */
int iam_policy_build(const struct iam_policy_input *in, json_t **ret, struct op_err *err);

#endif
