/* api.h: every AWS call keyless makes, as a table of function pointers.
 *
 * The reconciler calls AWS through a `const struct aws_api *` so its unit
 * tests can pass a recorder (assert the exact calls, answer from memory)
 * while the controller passes &aws_api_real. Each member has exactly the
 * signature of the plain function of iam.h / sts.h / eks.h it points to, so
 * a recorder can forward to the real one selectively.
 */
#ifndef KEYLESS_AWS_API_H
#define KEYLESS_AWS_API_H

#include "aws/eks.h"
#include "aws/iam.h"
#include "aws/sts.h"

struct aws_api {
	/* IAM: OIDC providers */
	int (*iam_list_oidc_providers)(struct aws_client *, struct aws_str_list *, struct op_err *);
	int (*iam_get_oidc_provider)(struct aws_client *, const char *, struct iam_oidc_provider **, struct op_err *);
	int (*iam_create_oidc_provider)(struct aws_client *, const struct iam_create_oidc_provider_input *, char **,
					struct op_err *);
	int (*iam_add_client_id_to_oidc_provider)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_tag_oidc_provider)(struct aws_client *, const char *, const struct aws_tag_in *, size_t,
				     struct op_err *);
	int (*iam_remove_client_id_from_oidc_provider)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_untag_oidc_provider)(struct aws_client *, const char *, const char *const *, size_t, struct op_err *);
	/* IAM: roles */
	int (*iam_get_role)(struct aws_client *, const char *, struct iam_role **, struct op_err *);
	int (*iam_create_role)(struct aws_client *, const struct iam_create_role_input *, struct iam_role **,
			       struct op_err *);
	int (*iam_update_role)(struct aws_client *, const char *, const char *, int, struct op_err *);
	int (*iam_update_assume_role_policy)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_delete_role)(struct aws_client *, const char *, struct op_err *);
	int (*iam_tag_role)(struct aws_client *, const char *, const struct aws_tag_in *, size_t, struct op_err *);
	int (*iam_untag_role)(struct aws_client *, const char *, const char *const *, size_t, struct op_err *);
	int (*iam_list_role_tags)(struct aws_client *, const char *, struct aws_tag_list *, struct op_err *);
	/* IAM: policies */
	int (*iam_put_role_policy)(struct aws_client *, const char *, const char *, const char *, struct op_err *);
	int (*iam_get_role_policy)(struct aws_client *, const char *, const char *, char **, struct op_err *);
	int (*iam_delete_role_policy)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_list_role_policies)(struct aws_client *, const char *, struct aws_str_list *, struct op_err *);
	int (*iam_attach_role_policy)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_detach_role_policy)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_list_attached_role_policies)(struct aws_client *, const char *, struct iam_attached_policy_list *,
					       struct op_err *);
	int (*iam_put_role_permissions_boundary)(struct aws_client *, const char *, const char *, struct op_err *);
	int (*iam_delete_role_permissions_boundary)(struct aws_client *, const char *, struct op_err *);
	int (*iam_get_account_summary)(struct aws_client *, struct iam_account_summary **, struct op_err *);
	/* IAM: role listings (drift sweeps) */
	int (*iam_list_roles)(struct aws_client *, const char *, iam_role_detail_fn, void *, struct op_err *);
	int (*iam_get_account_authorization_details_roles)(struct aws_client *, iam_role_detail_fn, void *,
							   struct op_err *);
	/* STS */
	int (*sts_get_caller_identity)(struct aws_client *, struct sts_caller_identity **, struct op_err *);
	int (*sts_assume_role_with_web_identity)(struct aws_client *, const struct sts_assume_role_input *,
						 struct sts_assumed_role **, struct op_err *);
	/* EKS */
	int (*eks_describe_cluster)(struct aws_client *, const char *, struct eks_cluster **, struct op_err *);
	int (*eks_create_pod_identity_association)(struct aws_client *,
						   const struct eks_create_pod_identity_association_input *,
						   struct eks_pod_identity_association **, struct op_err *);
	int (*eks_describe_pod_identity_association)(struct aws_client *, const char *, const char *,
						     struct eks_pod_identity_association **, struct op_err *);
	int (*eks_update_pod_identity_association)(struct aws_client *,
						   const struct eks_update_pod_identity_association_input *,
						   struct eks_pod_identity_association **, struct op_err *);
	int (*eks_delete_pod_identity_association)(struct aws_client *, const char *, const char *,
						   struct eks_pod_identity_association **, struct op_err *);
	int (*eks_list_pod_identity_associations)(struct aws_client *, const char *, const char *, const char *, int,
						  struct eks_pod_identity_association_list *, struct op_err *);
};

/* The real calls. */
extern const struct aws_api aws_api_real;

#endif
