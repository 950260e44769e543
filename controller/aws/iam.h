/* iam.h: the AWS IAM calls keyless needs (Query protocol, 2010-05-08).
 *
 * Every function takes the client first, returns 0 or -errno, and fills
 * `err` on failure (client.h: HTTP status, AWS code in reason, message,
 * request id; error.h: the errno of each code, e.g. NoSuchEntity -> -ENOENT,
 * EntityAlreadyExists -> -EEXIST, DeleteConflict -> -EBUSY). Output
 * parameters are written only on success and belong to the caller.
 * List calls follow IsTruncated/Marker and return every page (each page is
 * one call in the stats). Policy documents are returned URL-decoded (IAM
 * sends them percent-encoded); compare them with aws_policy_equal().
 */
#ifndef KEYLESS_AWS_IAM_H
#define KEYLESS_AWS_IAM_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/client.h"
#include "aws/types.h"
#include "base/err.h"

/* --- roles ---------------------------------------------------------------- */

struct iam_role {
	char *role_name;
	char *role_id;
	char *arn;
	char *path;
	char *create_date;              /* as IAM sends it (ISO 8601) */
	char *description;              /* NULL if none */
	char *assume_role_policy;       /* decoded JSON text */
	int max_session_duration;       /* seconds, 0 if absent */
	char *permissions_boundary_arn; /* NULL if none */
	struct aws_tag_list tags;       /* GetRole returns them, CreateRole echoes them */
};
void iam_role_free(struct iam_role *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct iam_role *, iam_role_free)

struct iam_create_role_input {
	const char *role_name;          /* required */
	const char *assume_role_policy; /* required (JSON text) */
	const char *path;               /* NULL = "/" */
	const char *description;        /* NULL = none */
	int max_session_duration;       /* 0 = IAM default (3600) */
	const char *permissions_boundary; /* policy ARN or NULL */
	const struct aws_tag_in *tags;
	size_t n_tags;
};

int iam_get_role(struct aws_client *c, const char *role_name, struct iam_role **ret, struct op_err *err);
int iam_create_role(struct aws_client *c, const struct iam_create_role_input *in, struct iam_role **ret,
		    struct op_err *err);
/* UpdateRole: description NULL = unchanged ("" clears it); max_session_duration 0 = unchanged. */
int iam_update_role(struct aws_client *c, const char *role_name, const char *description, int max_session_duration,
		    struct op_err *err);
int iam_update_assume_role_policy(struct aws_client *c, const char *role_name, const char *policy_document,
				  struct op_err *err);
int iam_delete_role(struct aws_client *c, const char *role_name, struct op_err *err);

int iam_tag_role(struct aws_client *c, const char *role_name, const struct aws_tag_in *tags, size_t n,
		 struct op_err *err);
int iam_untag_role(struct aws_client *c, const char *role_name, const char *const *keys, size_t n, struct op_err *err);
int iam_list_role_tags(struct aws_client *c, const char *role_name, struct aws_tag_list *ret, struct op_err *err);

/* --- inline policies --------------------------------------------------------- */

int iam_put_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, const char *document,
			struct op_err *err);
/* *ret = the decoded document. */
int iam_get_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, char **ret,
			struct op_err *err);
int iam_delete_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, struct op_err *err);
int iam_list_role_policies(struct aws_client *c, const char *role_name, struct aws_str_list *ret, struct op_err *err);

/* --- managed policies and the permissions boundary --------------------------- */

struct iam_attached_policy {
	char *name;
	char *arn;
};
struct iam_attached_policy_list {
	struct iam_attached_policy *items;
	size_t n;
};
void iam_attached_policy_list_release(struct iam_attached_policy_list *l);

int iam_attach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn, struct op_err *err);
int iam_detach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn, struct op_err *err);
int iam_list_attached_role_policies(struct aws_client *c, const char *role_name, struct iam_attached_policy_list *ret,
				    struct op_err *err);
int iam_put_role_permissions_boundary(struct aws_client *c, const char *role_name, const char *policy_arn,
				      struct op_err *err);
int iam_delete_role_permissions_boundary(struct aws_client *c, const char *role_name, struct op_err *err);

/* --- role listings (drift sweeps) ------------------------------------------------- */

/* One role of a listing, handed to a callback page by page (nothing is
 * kept). `role` has what the call returns; the rest is NULL/0:
 *   iam_list_roles(): name, ARN, path, trust policy, description, maximum
 *     session duration (ListRoles returns no tags, boundary or policies);
 *   iam_get_account_authorization_details_roles(): name, ARN, path, trust
 *     policy, boundary, tags, and (has_policies) the inline policies with
 *     their decoded documents and the attached managed policies (it returns
 *     no description or maximum session duration).
 * Everything is borrowed for the callback's duration. The callback returns 0
 * to go on, or a negative errno to stop (-ENOMEM: out of memory; anything
 * else: the call returns it with "stopped" in err). */
struct iam_role_detail {
	struct iam_role *role;
	bool has_policies;
	struct aws_str_list inline_names;
	struct aws_str_list inline_docs; /* same order as inline_names */
	struct iam_attached_policy_list attached;
};
typedef int (*iam_role_detail_fn)(const struct iam_role_detail *d, void *ctx);

/* Pages of this many items (the most IAM allows; IAM may return fewer). */
#define IAM_LIST_MAX_ITEMS "1000"

/* ListRoles with PathPrefix (NULL: "/"), every page. */
int iam_list_roles(struct aws_client *c, const char *path_prefix, iam_role_detail_fn fn, void *ctx,
		   struct op_err *err);
/* GetAccountAuthorizationDetails with Filter=Role, every page. Needs
 * iam:GetAccountAuthorizationDetails, which IAM cannot scope to some roles:
 * it reads every role, user, group and policy document of the account. */
int iam_get_account_authorization_details_roles(struct aws_client *c, iam_role_detail_fn fn, void *ctx,
						struct op_err *err);

/* --- OIDC providers ----------------------------------------------------------- */

struct iam_oidc_provider {
	char *arn;          /* as asked */
	char *url;          /* as IAM stores it: without "https://" */
	char *create_date;
	struct aws_str_list client_ids;
	struct aws_str_list thumbprints;
	struct aws_tag_list tags;
};
void iam_oidc_provider_free(struct iam_oidc_provider *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct iam_oidc_provider *, iam_oidc_provider_free)

struct iam_create_oidc_provider_input {
	const char *url; /* https://issuer */
	const char *const *client_ids;
	size_t n_client_ids;
	const char *const *thumbprints; /* may be empty: IAM then fetches/ignores them */
	size_t n_thumbprints;
	const struct aws_tag_in *tags;
	size_t n_tags;
};

/* ARNs of every OIDC provider in the account. */
int iam_list_oidc_providers(struct aws_client *c, struct aws_str_list *ret, struct op_err *err);
int iam_get_oidc_provider(struct aws_client *c, const char *arn, struct iam_oidc_provider **ret, struct op_err *err);
/* *ret_arn = the new provider's ARN. */
int iam_create_oidc_provider(struct aws_client *c, const struct iam_create_oidc_provider_input *in, char **ret_arn,
			     struct op_err *err);
int iam_add_client_id_to_oidc_provider(struct aws_client *c, const char *arn, const char *client_id,
				       struct op_err *err);
int iam_tag_oidc_provider(struct aws_client *c, const char *arn, const struct aws_tag_in *tags, size_t n,
			  struct op_err *err);
/* Both succeed when the client id / tag key is already absent (as IAM does). */
int iam_remove_client_id_from_oidc_provider(struct aws_client *c, const char *arn, const char *client_id,
					    struct op_err *err);
int iam_untag_oidc_provider(struct aws_client *c, const char *arn, const char *const *keys, size_t n,
			    struct op_err *err);

/* --- account ---------------------------------------------------------------- */

struct iam_account_summary {
	struct iam_summary_entry {
		char *key;
		long value;
	} *items;
	size_t n;
};
void iam_account_summary_free(struct iam_account_summary *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct iam_account_summary *, iam_account_summary_free)
/* Value of a key ("RolesQuota", "AssumeRolePolicySizeQuota", ...): 0 or -ENOENT. */
int iam_account_summary_get(const struct iam_account_summary *s, const char *key, long *ret);

int iam_get_account_summary(struct aws_client *c, struct iam_account_summary **ret, struct op_err *err);

#endif
