#include "aws/stats.h"

#include <errno.h>
#include <string.h>

#include "base/macros.h"

static const struct aws_op_info ops[AWS_OP__COUNT] = {
	[AWS_OP_IAM_LIST_OIDC_PROVIDERS] = { "ListOpenIDConnectProviders", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_GET_OIDC_PROVIDER] = { "GetOpenIDConnectProvider", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_CREATE_OIDC_PROVIDER] = { "CreateOpenIDConnectProvider", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_ADD_CLIENT_ID_TO_OIDC_PROVIDER] = { "AddClientIDToOpenIDConnectProvider", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_TAG_OIDC_PROVIDER] = { "TagOpenIDConnectProvider", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_REMOVE_CLIENT_ID_FROM_OIDC_PROVIDER] = { "RemoveClientIDFromOpenIDConnectProvider", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_UNTAG_OIDC_PROVIDER] = { "UntagOpenIDConnectProvider", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_GET_ROLE] = { "GetRole", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_CREATE_ROLE] = { "CreateRole", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_UPDATE_ROLE] = { "UpdateRole", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_UPDATE_ASSUME_ROLE_POLICY] = { "UpdateAssumeRolePolicy", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_DELETE_ROLE] = { "DeleteRole", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_TAG_ROLE] = { "TagRole", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_UNTAG_ROLE] = { "UntagRole", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_LIST_ROLE_TAGS] = { "ListRoleTags", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_PUT_ROLE_POLICY] = { "PutRolePolicy", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_GET_ROLE_POLICY] = { "GetRolePolicy", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_DELETE_ROLE_POLICY] = { "DeleteRolePolicy", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_LIST_ROLE_POLICIES] = { "ListRolePolicies", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_ATTACH_ROLE_POLICY] = { "AttachRolePolicy", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_DETACH_ROLE_POLICY] = { "DetachRolePolicy", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_LIST_ATTACHED_ROLE_POLICIES] = { "ListAttachedRolePolicies", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_PUT_ROLE_PERMISSIONS_BOUNDARY] = { "PutRolePermissionsBoundary", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_DELETE_ROLE_PERMISSIONS_BOUNDARY] = { "DeleteRolePermissionsBoundary", AWS_SERVICE_IAM, true },
	[AWS_OP_IAM_GET_ACCOUNT_SUMMARY] = { "GetAccountSummary", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_LIST_ROLES] = { "ListRoles", AWS_SERVICE_IAM, false },
	[AWS_OP_IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS] = { "GetAccountAuthorizationDetails", AWS_SERVICE_IAM, false },
	[AWS_OP_STS_GET_CALLER_IDENTITY] = { "GetCallerIdentity", AWS_SERVICE_STS, false },
	[AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY] = { "AssumeRoleWithWebIdentity", AWS_SERVICE_STS, false },
	[AWS_OP_STS_ASSUME_ROLE] = { "AssumeRole", AWS_SERVICE_STS, false },
	[AWS_OP_EKS_DESCRIBE_CLUSTER] = { "DescribeCluster", AWS_SERVICE_EKS, false },
	[AWS_OP_EKS_CREATE_POD_IDENTITY_ASSOCIATION] = { "CreatePodIdentityAssociation", AWS_SERVICE_EKS, true },
	[AWS_OP_EKS_DESCRIBE_POD_IDENTITY_ASSOCIATION] = { "DescribePodIdentityAssociation", AWS_SERVICE_EKS, false },
	[AWS_OP_EKS_UPDATE_POD_IDENTITY_ASSOCIATION] = { "UpdatePodIdentityAssociation", AWS_SERVICE_EKS, true },
	[AWS_OP_EKS_DELETE_POD_IDENTITY_ASSOCIATION] = { "DeletePodIdentityAssociation", AWS_SERVICE_EKS, true },
	[AWS_OP_EKS_LIST_POD_IDENTITY_ASSOCIATIONS] = { "ListPodIdentityAssociations", AWS_SERVICE_EKS, false },
};

const struct aws_op_info *aws_op_info(enum aws_op op)
{
	static const struct aws_op_info unknown = { "Unknown", AWS_SERVICE_IAM, true };

	return op >= 0 && op < AWS_OP__COUNT ? &ops[op] : &unknown;
}

int aws_op_from_name(const char *name, enum aws_op *ret)
{
	for (int i = 0; i < AWS_OP__COUNT; i++)
		if (ops[i].name && streq(ops[i].name, name)) {
			*ret = (enum aws_op)i;
			return 0;
		}
	return -ENOENT;
}
