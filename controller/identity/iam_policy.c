#include "identity/iam_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "identity/accounts.h"
#include "identity/naming.h"

#define ARN_MAX 2048

/* Builder state: the document and the fixed values every statement uses. */
struct pb {
	json_t *statements;
	const struct iam_policy_input *in;
	const char *boundary; /* NULL when waived */
	char boundary_buf[2048];
	const struct account_setting *other; /* the policy of keyless' role in another account (settings accounts) */
	char roles[ARN_MAX];  /* arn:<p>:iam::<acct>:role/\* */
	char provider[ARN_MAX];
};

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Append {Sid, Effect, Action, Resource[, Condition]}; takes `condition`. */
static void add(struct pb *b, const char *sid, const char *effect, const char *const *actions, size_t n_actions,
		json_t *resource, json_t *condition)
{
	json_t *st = json_object();

	json_object_set_new(st, "Sid", json_string(sid));
	json_object_set_new(st, "Effect", json_string(effect));
	json_object_set_new(st, "Action", n_actions == 1 ? json_string(actions[0]) : strings(actions, n_actions));
	json_object_set_new(st, "Resource", resource);
	if (condition)
		json_object_set_new(st, "Condition", condition);
	json_array_append_new(b->statements, st);
}

/* condition[op][key] = value (value taken). */
static void cond(json_t *condition, const char *op, const char *key, json_t *value)
{
	json_t *block = json_object_get(condition, op);

	if (!block) {
		block = json_object();
		json_object_set_new(condition, op, block);
	}
	json_object_set_new(block, key, value);
}

/* Roles of this cluster (keyless.dev/cluster), or shared roles
 * (keyless.dev/scope=Account: every owner cluster's keyless manages them). */
static json_t *owned(const struct pb *b, bool shared)
{
	json_t *c = json_object();

	if (shared)
		cond(c, "StringEquals", "iam:ResourceTag/" TAG_SCOPE, json_string(SCOPE_ACCOUNT));
	else
		cond(c, "StringEquals", "iam:ResourceTag/" TAG_CLUSTER, json_string(b->in->settings->cluster_name));
	return c;
}

/* The tag keys keyless may write on a role: its own (of a shared role: this
 * cluster's owner tag, never another's), the operator's extraTags, and the
 * patterns tenants may use (StringLike: * and ?). */
static json_t *role_tag_keys(const struct settings *s, bool shared)
{
	static const char *const own[] = { TAG_CLUSTER, TAG_ISSUER, TAG_NAMESPACE, TAG_NAME, TAG_UID };
	static const char *const own_shared[] = { TAG_SCOPE, TAG_NAMESPACE, TAG_NAME };
	json_t *keys = shared ? strings(own_shared, ARRAY_SIZE(own_shared)) : strings(own, ARRAY_SIZE(own));
	char owner[128];

	if (shared) {
		identity_owner_tag_key(s->cluster_name, owner, sizeof(owner));
		json_array_append_new(keys, json_string(owner));
	}

	for (size_t i = 0; i < s->n_extra_tags; i++)
		json_array_append_new(keys, json_string(s->extra_tags[i].key));
	for (size_t i = 0; i < s->guardrails.allowed_tag_keys.n; i++)
		json_array_append_new(keys, json_string(s->guardrails.allowed_tag_keys.items[i]));
	return keys;
}

static bool has_wildcard(const char *s)
{
	return s && strpbrk(s, "*?$") != NULL;
}

static bool account_ok(const char *a)
{
	if (!a || strlen(a) != 12)
		return false;
	for (; *a; a++) {
		if (*a < '0' || *a > '9')
			return false;
	}
	return true;
}

static void oidc_statements(struct pb *b)
{
	static const char *const read_account[] = { "iam:GetAccountSummary", "iam:ListOpenIDConnectProviders" };
	static const char *const read_account_roles[] = { "iam:GetAccountSummary", "iam:ListOpenIDConnectProviders",
							  "iam:ListRoles" };
	static const char *const read_details[] = { "iam:GetAccountAuthorizationDetails" };
	bool bulk = b->in->settings->drift_detection == DRIFT_BULK;
	static const char *const read_provider[] = { "iam:GetOpenIDConnectProvider" };
	static const char *const manage[] = { "iam:CreateOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider",
					      "iam:RemoveClientIDFromOpenIDConnectProvider",
					      "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider" };
	static const char *const provider_tags[] = { TAG_CLUSTER, CLIENT_ID_TAG_PREFIX "*" };
	json_t *c;

	/* the drift sweep (reconcile/sweep.h): ListRoles and
	 * GetAccountAuthorizationDetails support no resource; the latter reads
	 * every IAM policy document of the account, so only when asked for */
	if (bulk) {
		add(b, "ReadAccount", "Allow", read_account, ARRAY_SIZE(read_account), json_string("*"), NULL);
		add(b, "ReadAccountAuthorizationDetails", "Allow", read_details, 1, json_string("*"), NULL);
	} else {
		add(b, "ReadAccount", "Allow", read_account_roles, ARRAY_SIZE(read_account_roles), json_string("*"), NULL);
	}
	add(b, "ReadOIDCProvider", "Allow", read_provider, 1, json_string(b->provider), NULL);
	if (!b->in->settings->manage_oidc_provider)
		return;
	c = json_object();
	cond(c, "ForAllValues:StringLike", "aws:TagKeys", strings(provider_tags, ARRAY_SIZE(provider_tags)));
	add(b, "ManageOIDCProvider", "Allow", manage, ARRAY_SIZE(manage), json_string(b->provider), c);
}

/* The statements that manage roles: of this cluster (shared false), or
 * shared ones (roleScope Account: Sids end in "Shared"; the cluster's own
 * statements stay without CreateRole, so roles from before the scope
 * changed can be retired). */
static void role_statements(struct pb *b, const char *create_arn, bool shared)
{
	static const char *const get[] = { "iam:GetRole" };
	static const char *const read[] = { "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
					    "iam:ListRoleTags" };
	static const char *const create[] = { "iam:CreateRole", "iam:TagRole" };
	static const char *const manage[] = { "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:DeleteRole",
					      "iam:UntagRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
					      "iam:DeleteRolePermissionsBoundary" };
	static const char *const tag[] = { "iam:TagRole" };
	static const char *const grant[] = { "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary" };
	static const char *const attach[] = { "iam:AttachRolePolicy" };
	const struct settings *s = b->in->settings;
	const struct str_array *managed = &s->guardrails.managed_policy_arns;
	bool account = s->role_scope == ROLE_SCOPE_ACCOUNT;
	const char *sfx = shared ? "Shared" : "";
	char sid[64], owner[128];
	json_t *c;

	if (!shared)
		add(b, "ReadRoles", "Allow", get, 1, json_string(b->roles), NULL);
	str_format(sid, sizeof(sid), "ReadOwnedRoles%s", sfx);
	add(b, sid, "Allow", read, ARRAY_SIZE(read), json_string(b->roles), owned(b, shared));

	if (shared == account) {
		c = json_object();
		if (b->boundary)
			cond(c, "StringEquals", "iam:PermissionsBoundary", json_string(b->boundary));
		if (shared) {
			identity_owner_tag_key(s->cluster_name, owner, sizeof(owner));
			str_format(sid, sizeof(sid), "aws:RequestTag/%s", owner);
			cond(c, "StringEquals", "aws:RequestTag/" TAG_SCOPE, json_string(SCOPE_ACCOUNT));
			cond(c, "StringLike", sid, json_string("*"));
		} else {
			cond(c, "StringEquals", "aws:RequestTag/" TAG_CLUSTER, json_string(s->cluster_name));
		}
		cond(c, "ForAllValues:StringLike", "aws:TagKeys", role_tag_keys(s, shared));
		str_format(sid, sizeof(sid), "CreateFencedRoles%s", sfx);
		add(b, sid, "Allow", create, ARRAY_SIZE(create), json_string(create_arn), c);
	}

	/* without a boundary keyless removes one it finds (settings say none) */
	str_format(sid, sizeof(sid), "ManageOwnedRoles%s", sfx);
	add(b, sid, "Allow", manage, ARRAY_SIZE(manage) - (b->boundary ? 1 : 0), json_string(b->roles),
	    owned(b, shared));

	c = owned(b, shared);
	cond(c, "ForAllValues:StringLike", "aws:TagKeys", role_tag_keys(s, shared));
	str_format(sid, sizeof(sid), "TagOwnedRoles%s", sfx);
	add(b, sid, "Allow", tag, 1, json_string(b->roles), c);

	c = owned(b, shared);
	if (b->boundary)
		cond(c, "StringEquals", "iam:PermissionsBoundary", json_string(b->boundary));
	str_format(sid, sizeof(sid), "GrantOnOwnedRoles%s", sfx);
	add(b, sid, "Allow", grant, b->boundary ? 2 : 1, json_string(b->roles), c);

	if (managed->n) {
		c = owned(b, shared);
		if (b->boundary)
			cond(c, "StringEquals", "iam:PermissionsBoundary", json_string(b->boundary));
		cond(c, "ArnLike", "iam:PolicyARN", strings((const char *const *)managed->items, managed->n));
		str_format(sid, sizeof(sid), "AttachAllowedPolicies%s", sfx);
		add(b, sid, "Allow", attach, 1, json_string(b->roles), c);
	}
}

static void deny_statements(struct pb *b)
{
	static const char *const remove[] = { "iam:DeleteRolePermissionsBoundary" };
	static const char *const other[] = { "iam:CreateRole", "iam:PutRolePermissionsBoundary" };
	static const char *const untag[] = { "iam:UntagRole" };
	static const char *const tag[] = { "iam:TagRole" };
	json_t *c;

	if (b->boundary) {
		add(b, "DenyBoundaryRemoval", "Deny", remove, 1, json_string("*"), NULL);
		c = json_object();
		cond(c, "StringNotEquals", "iam:PermissionsBoundary", json_string(b->boundary));
		add(b, "DenyOtherBoundaries", "Deny", other, ARRAY_SIZE(other), json_string("*"), c);
	}
	const struct settings *s = b->in->settings;
	char owner[128];

	c = json_object();
	cond(c, "ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys",
	     s->role_scope == ROLE_SCOPE_ACCOUNT ? json_pack("[s,s]", TAG_CLUSTER, TAG_SCOPE) : json_string(TAG_CLUSTER));
	add(b, "DenyReleasingOwnership", "Deny", untag, 1, json_string("*"), c);
	c = json_object();
	cond(c, "ForAnyValue:StringEqualsIgnoreCase", "aws:TagKeys", json_string(TAG_CLUSTER));
	cond(c, "StringNotEquals", "aws:RequestTag/" TAG_CLUSTER, json_string(s->cluster_name));
	add(b, "DenyRetaggingOwnership", "Deny", tag, 1, json_string("*"), c);
	if (s->role_scope != ROLE_SCOPE_ACCOUNT)
		return;
	/* a shared role: this cluster lets go of its own owner tag only (alone,
	 * as keyless does), never of another cluster's */
	identity_owner_tag_key(s->cluster_name, owner, sizeof(owner));
	c = json_object();
	cond(c, "ForAnyValue:StringLike", "aws:TagKeys", json_string(TAG_OWNER_PREFIX "*"));
	cond(c, "ForAnyValue:StringNotEqualsIgnoreCase", "aws:TagKeys", json_string(owner));
	add(b, "DenyReleasingOtherOwners", "Deny", untag, 1, json_string("*"), c);
}

/* EKS Pod Identity: keyless' associations in this cluster, and passing its
 * own roles (by name) to the Pod Identity service only. */
static void pod_identity_statements(struct pb *b, const char *create_arn)
{
	static const char *const read[] = { "eks:ListPodIdentityAssociations", "eks:DescribePodIdentityAssociation" };
	static const char *const create[] = { "eks:CreatePodIdentityAssociation", "eks:TagResource" };
	static const char *const manage[] = { "eks:UpdatePodIdentityAssociation", "eks:DeletePodIdentityAssociation" };
	static const char *const pass[] = { "iam:PassRole" };
	const struct iam_policy_input *in = b->in;
	const char *region = in->region ? in->region : "*", *cluster = in->settings->cluster_name;
	char cluster_arn[ARN_MAX], assoc_arn[ARN_MAX];
	json_t *c;

	str_format(cluster_arn, sizeof(cluster_arn), "arn:%s:eks:%s:%s:cluster/%s", in->partition, region,
		   in->account_id, cluster);
	str_format(assoc_arn, sizeof(assoc_arn), "arn:%s:eks:%s:%s:podidentityassociation/%s/*", in->partition, region,
		   in->account_id, cluster);
	add(b, "ReadPodIdentityAssociations", "Allow", read, ARRAY_SIZE(read),
	    json_pack("[s,s]", cluster_arn, assoc_arn), NULL);
	c = json_object();
	cond(c, "StringEquals", "aws:RequestTag/" TAG_CLUSTER, json_string(cluster));
	add(b, "CreateTaggedPodIdentityAssociations", "Allow", create, ARRAY_SIZE(create),
	    json_pack("[s,s]", cluster_arn, assoc_arn), c);
	c = json_object();
	cond(c, "StringEquals", "aws:ResourceTag/" TAG_CLUSTER, json_string(cluster));
	add(b, "ManageOwnedPodIdentityAssociations", "Allow", manage, ARRAY_SIZE(manage), json_string(assoc_arn), c);
	c = json_object();
	cond(c, "StringEquals", "iam:PassedToService", json_string("pods.eks.amazonaws.com"));
	add(b, "PassOwnedRolesToPodIdentity", "Allow", pass, 1, json_string(create_arn), c);
}

int iam_policy_build(const struct iam_policy_input *in, json_t **ret, struct op_err *err)
{
	static const char *const describe[] = { "eks:DescribeCluster" };
	static const char *const whoami[] = { "sts:GetCallerIdentity" };
	const struct settings *s = in ? in->settings : NULL;
	const char *issuer, *prefix;
	char readable[512], create_arn[ARN_MAX], arn[ARN_MAX];
	json_t *doc;
	struct pb b;

	if (!s || !in->partition || !in->dns_suffix)
		return op_err_setr(err, -EINVAL, "InvalidInput", "iam-policy: settings and partition are required");
	if (!account_ok(in->account_id))
		return op_err_setr(err, -EINVAL, "InvalidInput",
				   "iam-policy: the account id must be 12 digits (set accountId in the settings or pass "
				   "--account-id)");
	prefix = s->role_name_prefix ? s->role_name_prefix : "";
	if (has_wildcard(s->role_path) || has_wildcard(prefix))
		return op_err_setr(err, -EINVAL, "InvalidInput",
				   "iam-policy: rolePath and roleNamePrefix must not hold '*', '?' or '$' (they would "
				   "widen the policy's resources)");
	memset(&b, 0, sizeof(b));
	b.in = in;
	b.boundary = s->permissions_boundary_waived && !s->permissions_boundary_arn ? NULL
										     : s->permissions_boundary_arn;
	/* --account-id of one of the settings' accounts: the policy of the role
	 * keyless assumes there (its boundary; no EKS, no further accounts) */
	b.other = identity_account_find(s, in->account_id);
	if (b.other) {
		identity_account_boundary(s, b.other, b.boundary_buf, sizeof(b.boundary_buf));
		b.boundary = b.boundary_buf[0] ? b.boundary_buf : NULL;
	}
	str_format(b.roles, sizeof(b.roles), "arn:%s:iam::%s:role/*", in->partition, in->account_id);
	issuer = in->issuer ? in->issuer : s->oidc_issuer;
	if (issuer)
		str_format(b.provider, sizeof(b.provider), "arn:%s:iam::%s:oidc-provider/%s", in->partition,
			   in->account_id, identity_issuer_host(issuer));
	else /* EKS: https://oidc.eks.<region>.<suffix>/id/<ID> */
		str_format(b.provider, sizeof(b.provider), "arn:%s:iam::%s:oidc-provider/oidc.eks.%s.%s/id/*",
			   in->partition, in->account_id, in->region ? in->region : "*", in->dns_suffix);
	/* every role name keyless makes starts with (<prefix><cluster>+)[:47],
	 * a shared one (roleScope Account) with <prefix> */
	if (s->role_scope == ROLE_SCOPE_ACCOUNT)
		snprintf(readable, sizeof(readable), "%s", prefix);
	else
		snprintf(readable, sizeof(readable), "%s%s+", prefix, s->cluster_name);
	readable[ROLE_NAME_READABLE_MAX] = '\0';
	str_format(create_arn, sizeof(create_arn), "arn:%s:iam::%s:role%s%s*", in->partition, in->account_id,
		   s->role_path ? s->role_path : "/", readable);

	doc = json_object();
	b.statements = json_array();
	json_object_set_new(doc, "Version", json_string("2012-10-17"));
	json_object_set_new(doc, "Statement", b.statements);
	oidc_statements(&b);
	role_statements(&b, create_arn, false);
	if (s->role_scope == ROLE_SCOPE_ACCOUNT)
		role_statements(&b, create_arn, true);
	if (!b.other)
		pod_identity_statements(&b, create_arn);
	deny_statements(&b);
	if (b.other) {
		*ret = doc;
		return 0;
	}
	if (s->n_accounts) { /* the roles keyless assumes to make roles in other accounts */
		static const char *const assume[] = { "sts:AssumeRole" };
		json_t *arns = json_array();

		for (size_t i = 0; i < s->n_accounts; i++)
			json_array_append_new(arns, json_string(s->accounts[i].role_arn));
		add(&b, "AssumeAccountRoles", "Allow", assume, 1, arns, NULL);
	}
	if (!s->oidc_issuer) { /* keyless reads the issuer from EKS at start */
		str_format(arn, sizeof(arn), "arn:%s:eks:%s:%s:cluster/%s", in->partition, in->region ? in->region : "*",
			   in->account_id, s->cluster_name);
		add(&b, "DescribeCluster", "Allow", describe, 1, json_string(arn), NULL);
	}
	if (!s->account_id)
		add(&b, "CallerIdentity", "Allow", whoami, 1, json_string("*"), NULL);
	*ret = doc;
	return 0;
}
