/* Unit tests for the typed calls (aws/iam, aws/sts, aws/eks): the requests
 * they build and how they read captured (moto) and documented (AWS, botocore
 * model) answers, pagination included. */
#include "support.h"

#include <jansson.h>

#include "aws/api.h"
#include "aws/eks.h"
#include "aws/iam.h"
#include "aws/policy.h"
#include "aws/sts.h"
#include "test_aws_fake.h"

static struct aws_client *client(struct fake *f)
{
	fake_setenv(f, "AWS_REGION=us-east-1");
	return fake_client(f);
}

/* --- IAM -------------------------------------------------------------------- */

static void test_iam__get_role_decodes_policy_and_tags(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct iam_role *r = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-iam-get-role.xml");
	c = client(&f);
	assert_int_equal(iam_get_role(c, "capture-role", &r, &e), 0);
	assert_string_equal(f.seen[0].body, "Action=GetRole&Version=2010-05-08&RoleName=capture-role");
	assert_string_equal(r->role_name, "capture-role");
	assert_string_equal(r->arn, "arn:aws:iam::123456789012:role/keyless/capture-role");
	assert_string_equal(r->path, "/keyless/");
	assert_string_equal(r->role_id, "AROARZPUZDIKH5NUKUBFO");
	assert_string_equal(r->description, "captured");
	assert_int_equal(r->max_session_duration, 3600);
	assert_null(r->permissions_boundary_arn);
	assert_string_equal(aws_tag_list_get(&r->tags, "keyless.dev/cluster"), "local");
	assert_true(str_startswith(r->assume_role_policy, "{\"Version\": \"2012-10-17\", \"Statement\": [{"));
	assert_int_equal(aws_policy_equal(r->assume_role_policy,
					  "{\"Statement\":{\"Action\":[\"sts:AssumeRoleWithWebIdentity\"],\"Condition\":{"
					  "\"StringEquals\":{\"example.com:aud\":\"sts.amazonaws.com\",\"example.com:sub\":"
					  "\"system:serviceaccount:ns:sa\"}},\"Effect\":\"Allow\",\"Principal\":{\"Federated\":"
					  "\"arn:aws:iam::123456789012:oidc-provider/example.com\"}},\"Version\":\"2012-10-17\"}"),
			 1);
	iam_role_free(r);
	aws_client_free(c);
	fake_release(&f);
}

static void test_iam__create_role_request_encoding(void **state)
{
	static const struct aws_tag_in tags[] = { { "keyless.dev/cluster", "prod east" }, { "ü&=+", "x/y" } };
	struct iam_create_role_input in = {
		.role_name = "payments-api",
		.assume_role_policy = "{\"a\": \"b c\"}",
		.path = "/keyless/",
		.description = "managed by keyless",
		.max_session_duration = 7200,
		.permissions_boundary = "arn:aws:iam::123456789012:policy/boundary",
		.tags = tags,
		.n_tags = 2,
	};
	struct fake f;
	struct aws_client *c;
	struct iam_role *r = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-iam-create-role.xml");
	c = client(&f);
	assert_int_equal(iam_create_role(c, &in, &r, &e), 0);
	assert_string_equal(f.seen[0].body,
			    "Action=CreateRole&Version=2010-05-08&RoleName=payments-api&Path=%2Fkeyless%2F"
			    "&AssumeRolePolicyDocument=%7B%22a%22%3A+%22b+c%22%7D&Description=managed+by+keyless"
			    "&MaxSessionDuration=7200&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fboundary"
			    "&Tags.member.1.Key=keyless.dev%2Fcluster&Tags.member.1.Value=prod+east"
			    "&Tags.member.2.Key=%C3%BC%26%3D%2B&Tags.member.2.Value=x%2Fy");
	assert_string_equal(r->role_name, "capture-role");
	iam_role_free(r);
	/* required inputs are checked before any request */
	in.assume_role_policy = NULL;
	op_err_clear(&e);
	assert_int_equal(iam_create_role(c, &in, &r, &e), -EINVAL);
	assert_true(strstr(e.message, "AssumeRolePolicyDocument is required") != NULL);
	assert_int_equal(f.n_seen, 1);
	aws_client_free(c);
	fake_release(&f);
}

static void test_iam__pagination_follows_marker(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_str_list names = { 0 };
	struct iam_attached_policy_list att = { 0 };
	struct aws_stats s;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-role-policies-page1.xml");
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-role-policies-page2.xml");
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-attached-role-policies-page1.xml");
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-attached-role-policies-page2.xml");
	c = client(&f);
	assert_int_equal(iam_list_role_policies(c, "r", &names, &e), 0);
	assert_int_equal(names.n, 3);
	assert_string_equal(names.items[0], "keyless-a");
	assert_string_equal(names.items[2], "keyless-c");
	assert_string_equal(f.seen[0].body, "Action=ListRolePolicies&Version=2010-05-08&RoleName=r");
	assert_string_equal(f.seen[1].body, "Action=ListRolePolicies&Version=2010-05-08&RoleName=r&Marker=AAEAAQ%2B%2F%3D%25page2");
	assert_int_equal(iam_list_attached_role_policies(c, "r", &att, &e), 0);
	assert_int_equal(att.n, 2);
	assert_string_equal(att.items[1].arn, "arn:aws:iam::123456789012:policy/keyless/keyless-boundary");
	assert_string_equal(att.items[0].name, "ReadOnlyAccess");
	aws_stats_snapshot(c, &s);
	assert_int_equal(s.op[AWS_OP_IAM_LIST_ROLE_POLICIES].calls, 2); /* pages count */
	aws_str_list_release(&names);
	iam_attached_policy_list_release(&att);

	/* an error on page 2 returns nothing */
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-role-policies-page1.xml");
	fake_push_file(&f, 404, "aws-responses/moto-iam-get-role-nosuchentity.xml");
	names = (struct aws_str_list){ 0 };
	assert_int_equal(iam_list_role_policies(c, "r", &names, &e), -ENOENT);
	assert_int_equal(names.n, 0);
	aws_client_free(c);
	fake_release(&f);
}

/* role listings for the drift sweep: what each returns, pages of 1,000 */
struct seen_roles {
	int n;
	char names[8][32];
	const char *stop_at; /* stop (-ECANCELED) at this role */
};

static int seen_role(const struct iam_role_detail *d, void *ctx)
{
	struct seen_roles *s = ctx;

	if (s->stop_at && streq(d->role->role_name, s->stop_at))
		return -ECANCELED;
	str_copy(s->names[s->n++], sizeof(s->names[0]), d->role->role_name);
	if (streq(d->role->role_name, "role-a")) {
		assert_string_equal(d->role->description, "keyless: a & b");
		assert_int_equal(d->role->max_session_duration, 3600);
		assert_true(str_startswith(d->role->assume_role_policy, "{\"Version\":\"2012-10-17\""));
		assert_false(d->has_policies);
		assert_int_equal(d->role->tags.n, 0);
	}
	if (streq(d->role->role_name, "capture-role")) {
		/* GetAccountAuthorizationDetails: policies decoded, tags, boundary */
		assert_true(d->has_policies);
		assert_int_equal(d->inline_names.n, 2);
		assert_string_equal(d->inline_names.items[0], "keyless");
		assert_int_equal(aws_policy_equal(d->inline_docs.items[0],
						  "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
						  "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}}"),
				 1);
		assert_int_equal(d->attached.n, 1);
		assert_string_equal(d->attached.items[0].arn, "arn:aws:iam::123456789012:policy/keyless/keyless-boundary");
		assert_string_equal(d->role->permissions_boundary_arn,
				    "arn:aws:iam::123456789012:policy/keyless/keyless-boundary");
		assert_string_equal(aws_tag_list_get(&d->role->tags, "Team"), "a&b");
		assert_null(d->role->description);
	}
	return 0;
}

static void test_iam__role_listings(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct seen_roles s = { 0 };
	struct aws_stats st;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-roles-page1.xml");
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-roles-page2.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-get-account-authorization-details-roles.xml");
	fake_push_file(&f, 200, "aws-responses/aws-iam-list-roles-page1.xml");
	c = client(&f);
	assert_int_equal(iam_list_roles(c, "/keyless/", seen_role, &s, &e), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[2], "role-c");
	assert_string_equal(f.seen[0].body, "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fkeyless%2F&MaxItems=1000");
	assert_string_equal(f.seen[1].body, "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fkeyless%2F&MaxItems=1000"
					    "&Marker=AAEAAQ%2B%2F%3D%25page2");

	s = (struct seen_roles){ 0 };
	assert_int_equal(iam_get_account_authorization_details_roles(c, seen_role, &s, &e), 0);
	assert_string_equal(f.seen[2].body, "Action=GetAccountAuthorizationDetails&Version=2010-05-08"
					    "&Filter.member.1=Role&MaxItems=1000");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "capture-role");
	assert_string_equal(s.names[1], "other-role");
	aws_stats_snapshot(c, &st);
	assert_int_equal(st.op[AWS_OP_IAM_LIST_ROLES].calls, 2);
	assert_int_equal(st.op[AWS_OP_IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS].calls, 1);

	/* the callback stops the listing: its error, and no further page */
	s = (struct seen_roles){ .stop_at = "role-b" };
	assert_int_equal(iam_list_roles(c, NULL, seen_role, &s, &e), -ECANCELED);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(e.message, "stopped"));
	assert_int_equal(f.n_seen, 4);
	aws_client_free(c);
	fake_release(&f);
}

static void test_iam__policies_tags_boundary_requests(void **state)
{
	static const char *const keys[] = { "a", "b c" };
	struct fake f;
	struct aws_client *c;
	struct aws_tag_list tags = { 0 };
	struct aws_str_list names = { 0 };
	char *doc = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-iam-get-role-policy.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-list-role-tags.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-list-role-policies.xml");
	{
		static const char *const writes[] = { "UntagRole", "PutRolePermissionsBoundary",
						      "DeleteRolePermissionsBoundary", "UpdateRole", "UpdateRole",
						      "AttachRolePolicy", "AddClientIDToOpenIDConnectProvider",
						      "RemoveClientIDFromOpenIDConnectProvider",
						      "UntagOpenIDConnectProvider" };

		for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
			char b[128];

			snprintf(b, sizeof(b), "<%sResponse><ResponseMetadata/></%sResponse>", writes[i], writes[i]);
			fake_push(&f, 200, b);
		}
	}
	c = client(&f);
	assert_int_equal(iam_get_role_policy(c, "capture-role", "inline", &doc, &e), 0);
	/* %20, %2B and %25 decode; '/' was never encoded */
	assert_true(strstr(doc, "arn:aws:s3:::bucket/prefix with space/+plus%percent/*") != NULL);
	free(doc);
	assert_int_equal(iam_list_role_tags(c, "capture-role", &tags, &e), 0);
	assert_string_equal(aws_tag_list_get(&tags, "keyless.dev/cluster"), "local");
	aws_tag_list_release(&tags);
	assert_int_equal(iam_list_role_policies(c, "capture-role", &names, &e), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.items[0], "inline");
	aws_str_list_release(&names);
	/* writes: only the request matters (and the answer's root element) */
	assert_int_equal(iam_untag_role(c, "r", keys, 2, &e), 0);
	assert_string_equal(f.seen[3].body,
			    "Action=UntagRole&Version=2010-05-08&RoleName=r&TagKeys.member.1=a&TagKeys.member.2=b+c");
	assert_int_equal(iam_put_role_permissions_boundary(c, "r", "arn:b", &e), 0);
	assert_string_equal(f.seen[4].body,
			    "Action=PutRolePermissionsBoundary&Version=2010-05-08&RoleName=r&PermissionsBoundary=arn%3Ab");
	assert_int_equal(iam_delete_role_permissions_boundary(c, "r", &e), 0);
	assert_string_equal(f.seen[5].body, "Action=DeleteRolePermissionsBoundary&Version=2010-05-08&RoleName=r");
	assert_int_equal(iam_update_role(c, "r", "", 0, &e), 0);
	assert_string_equal(f.seen[6].body, "Action=UpdateRole&Version=2010-05-08&RoleName=r&Description=");
	assert_int_equal(iam_update_role(c, "r", NULL, 43200, &e), 0);
	assert_string_equal(f.seen[7].body, "Action=UpdateRole&Version=2010-05-08&RoleName=r&MaxSessionDuration=43200");
	assert_int_equal(iam_attach_role_policy(c, "r", "arn:aws:iam::aws:policy/ReadOnlyAccess", &e), 0);
	assert_string_equal(f.seen[8].body, "Action=AttachRolePolicy&Version=2010-05-08&RoleName=r"
					    "&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess");
	assert_int_equal(iam_add_client_id_to_oidc_provider(c, "arn:p", "sts.amazonaws.com", &e), 0);
	assert_string_equal(f.seen[9].body, "Action=AddClientIDToOpenIDConnectProvider&Version=2010-05-08"
					    "&OpenIDConnectProviderArn=arn%3Ap&ClientID=sts.amazonaws.com");
	assert_int_equal(iam_remove_client_id_from_oidc_provider(c, "arn:p", "https://a.example/x", &e), 0);
	assert_string_equal(f.seen[10].body, "Action=RemoveClientIDFromOpenIDConnectProvider&Version=2010-05-08"
					     "&OpenIDConnectProviderArn=arn%3Ap&ClientID=https%3A%2F%2Fa.example%2Fx");
	assert_int_equal(iam_untag_oidc_provider(c, "arn:p", keys, 2, &e), 0);
	assert_string_equal(f.seen[11].body, "Action=UntagOpenIDConnectProvider&Version=2010-05-08"
					     "&OpenIDConnectProviderArn=arn%3Ap&TagKeys.member.1=a&TagKeys.member.2=b+c");
	aws_client_free(c);
	fake_release(&f);
}

static void test_iam__oidc_providers_and_summary(void **state)
{
	static const char *const ids[] = { "sts.amazonaws.com" };
	static const char *const thumbs[] = { "9e99a48a9960b14926bb7f3b02e22da2b0ab7280" };
	struct iam_create_oidc_provider_input in = {
		.url = "https://capture.example.com/id/ABC",
		.client_ids = ids,
		.n_client_ids = 1,
		.thumbprints = thumbs,
		.n_thumbprints = 1,
	};
	struct fake f;
	struct aws_client *c;
	struct aws_str_list arns = { 0 };
	struct iam_oidc_provider *p = NULL;
	struct iam_account_summary *s = NULL;
	char *arn = NULL;
	long v;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-iam-create-oidc-provider.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-list-oidc-providers.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-get-oidc-provider.xml");
	fake_push_file(&f, 200, "aws-responses/moto-iam-get-account-summary.xml");
	c = client(&f);
	assert_int_equal(iam_create_oidc_provider(c, &in, &arn, &e), 0);
	assert_string_equal(arn, "arn:aws:iam::123456789012:oidc-provider/capture.example.com/id/ABC");
	assert_string_equal(f.seen[0].body, "Action=CreateOpenIDConnectProvider&Version=2010-05-08"
					    "&Url=https%3A%2F%2Fcapture.example.com%2Fid%2FABC"
					    "&ClientIDList.member.1=sts.amazonaws.com"
					    "&ThumbprintList.member.1=9e99a48a9960b14926bb7f3b02e22da2b0ab7280");
	assert_int_equal(iam_list_oidc_providers(c, &arns, &e), 0);
	assert_true(aws_str_list_index(&arns, arn) >= 0);
	assert_int_equal(iam_get_oidc_provider(c, arn, &p, &e), 0);
	assert_string_equal(p->url, "capture.example.com/id/ABC");
	assert_int_equal(p->client_ids.n, 1);
	assert_string_equal(p->client_ids.items[0], "sts.amazonaws.com");
	assert_string_equal(p->thumbprints.items[0], "9e99a48a9960b14926bb7f3b02e22da2b0ab7280");
	assert_string_equal(aws_tag_list_get(&p->tags, "keyless.dev/cluster"), "local");
	assert_int_equal(iam_get_account_summary(c, &s, &e), 0);
	assert_int_equal(iam_account_summary_get(s, "AssumeRolePolicySizeQuota", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(iam_account_summary_get(s, "RolesQuota", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(iam_account_summary_get(s, "Nope", &v), -ENOENT);
	iam_account_summary_free(s);
	iam_oidc_provider_free(p);
	aws_str_list_release(&arns);
	free(arn);
	aws_client_free(c);
	fake_release(&f);
}

static void test_iam__errors_carry_code_and_request_id(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct iam_role *r = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 404, "aws-responses/moto-iam-get-role-nosuchentity.xml");
	fake_push_file(&f, 409, "aws-responses/moto-iam-delete-role-deleteconflict.xml");
	fake_push(&f, 200, "<SomethingElseResponse/>");
	c = client(&f);
	assert_int_equal(iam_get_role(c, "no-such-role", &r, &e), -ENOENT);
	assert_null(r);
	assert_string_equal(e.reason, "NoSuchEntity");
	assert_int_equal(e.http_status, 404);
	assert_string_equal(e.message, "GetRole: Role no-such-role not found");
	assert_string_equal(e.request_id, "XfpltbflwQOjWzUxMk752oyd35uGbOkEjdWKSYTgw04xmqqQef6B");
	assert_int_equal(iam_delete_role(c, "capture-role", &e), -EBUSY);
	assert_string_equal(e.reason, "DeleteConflict");
	/* a 200 that is not the action's answer is a protocol error */
	assert_int_equal(iam_get_role(c, "x", &r, &e), -EPROTO);
	assert_int_equal(e.http_status, 200);
	aws_client_free(c);
	fake_release(&f);
}

/* --- STS -------------------------------------------------------------------- */

static void test_sts__caller_identity_and_web_identity(void **state)
{
	struct sts_assume_role_input in = {
		.role_arn = "arn:aws:iam::123456789012:role/keyless-controller",
		.role_session_name = "s1",
		.web_identity_token = "tok.en.x",
		.duration_seconds = 900,
	};
	struct fake f;
	struct aws_client *c;
	struct sts_caller_identity *id = NULL;
	struct sts_assumed_role *a = NULL;
	struct op_err e;
	char h[16];

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-sts-get-caller-identity.xml");
	fake_push_file(&f, 200, "aws-responses/aws-sts-assume-role-with-web-identity.xml");
	fake_push_file(&f, 400, "aws-responses/front-sts-invalididentitytoken.xml");
	c = client(&f);
	assert_int_equal(sts_get_caller_identity(c, &id, &e), 0);
	assert_string_equal(id->account, "123456789012");
	assert_string_equal(id->arn, "arn:aws:iam::123456789012:user/keyless-test-admin");
	assert_string_equal(f.seen[0].url, "https://sts.us-east-1.amazonaws.com/");
	assert_string_equal(f.seen[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
	sts_caller_identity_free(id);
	assert_int_equal(sts_assume_role_with_web_identity(c, &in, &a, &e), 0);
	assert_string_equal(a->assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/keyless-controller/keyless-1795885200");
	assert_string_equal(a->subject_from_web_identity_token, "system:serviceaccount:kube-system:keyless");
	assert_string_equal(a->audience, "sts.amazonaws.com");
	assert_int_equal(a->expiration_ns, INT64_C(1795888800) * NSEC_PER_SEC);
	assert_null(fake_seen_header(&f.seen[1], "Authorization", h, sizeof(h)));
	assert_string_equal(f.seen[1].body,
			    "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
			    "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fkeyless-controller"
			    "&RoleSessionName=s1&WebIdentityToken=tok.en.x&DurationSeconds=900");
	sts_assumed_role_free(a);
	a = NULL;
	assert_int_equal(sts_assume_role_with_web_identity(c, &in, &a, &e), -EPERM);
	assert_string_equal(e.reason, "InvalidIdentityToken");
	assert_null(a);
	in.web_identity_token = NULL;
	assert_int_equal(sts_assume_role_with_web_identity(c, &in, &a, &e), -EINVAL);
	assert_int_equal(f.n_seen, 3);
	aws_client_free(c);
	fake_release(&f);
}

/* --- EKS -------------------------------------------------------------------- */

static void test_eks__describe_cluster(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct eks_cluster *x = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/moto-eks-describe-cluster.json");
	/* as captured: the code only in the X-Amzn-ErrorType header */
	snprintf(fake_push_file(&f, 404, "aws-responses/moto-eks-describe-cluster-notfound.json")->error_type, 160,
		 "ResourceNotFoundException");
	fake_push_file(&f, 403, "aws-responses/moto-eks-describe-cluster-signaturedoesnotmatch.xml");
	c = client(&f);
	assert_int_equal(eks_describe_cluster(c, "keyless-local", &x, &e), 0);
	assert_string_equal(f.seen[0].method, "GET");
	assert_string_equal(f.seen[0].url, "https://eks.us-east-1.amazonaws.com/clusters/keyless-local");
	assert_null(f.seen[0].body);
	assert_string_equal(x->name, "keyless-local");
	assert_string_equal(x->status, "ACTIVE");
	assert_true(str_startswith(x->oidc_issuer, "https://127.0.0.1:"));
	assert_true(x->created_at_ns > INT64_C(1700000000) * NSEC_PER_SEC);
	eks_cluster_free(x);
	assert_int_equal(eks_describe_cluster(c, "no/such cluster", &x, &e), -ENOENT);
	assert_string_equal(f.seen[1].url, "https://eks.us-east-1.amazonaws.com/clusters/no%2Fsuch%20cluster");
	assert_string_equal(e.reason, "ResourceNotFoundException");
	/* moto answers EKS auth failures in Query XML: still parsed */
	assert_int_equal(eks_describe_cluster(c, "keyless-local", &x, &e), -EPERM);
	assert_string_equal(e.reason, "SignatureDoesNotMatch");
	aws_client_free(c);
	fake_release(&f);
}

/* Found by fuzz_aws_eks: a createdAt number past int64 nanoseconds
 * overflowed (signed overflow, UB); it is now no time, like a bad string. */
static void test_eks__time_out_of_range(void **state)
{
	static const char *const bodies[] = {
		"{\"cluster\":{\"name\":\"x\",\"createdAt\":9887155200}}",
		"{\"cluster\":{\"name\":\"x\",\"createdAt\":-9887155200.5}}",
		"{\"cluster\":{\"name\":\"x\",\"createdAt\":1e300}}",
	};
	struct fake f;
	struct aws_client *c;
	struct eks_cluster *x = NULL;
	struct op_err e;

	(void)state;
	fake_init(&f);
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++)
		fake_push(&f, 200, bodies[i]);
	fake_push(&f, 200, "{\"cluster\":{\"name\":\"x\",\"createdAt\":1795885200.25}}");
	c = client(&f);
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
		assert_int_equal(eks_describe_cluster(c, "x", &x, &e), 0);
		assert_int_equal(x->created_at_ns, 0);
		eks_cluster_free(x);
	}
	assert_int_equal(eks_describe_cluster(c, "x", &x, &e), 0);
	assert_int_equal(x->created_at_ns, INT64_C(1795885200250000000));
	eks_cluster_free(x);
	aws_client_free(c);
	fake_release(&f);
}

static void test_eks__pod_identity_associations(void **state)
{
	static const struct aws_tag_in tags[] = { { "keyless.dev/cluster", "prod" } };
	struct eks_create_pod_identity_association_input cin = {
		.cluster_name = "prod",
		.namespace_name = "payments",
		.service_account = "api",
		.role_arn = "arn:aws:iam::123456789012:role/keyless/payments-api",
		.client_request_token = "11111111-2222-4333-8444-555555555555",
		.tags = tags,
		.n_tags = 1,
	};
	struct eks_update_pod_identity_association_input uin = {
		.cluster_name = "prod",
		.association_id = "a-abcdefghijklmnop1",
		.role_arn = "arn:aws:iam::123456789012:role/keyless/payments-api-v2",
	};
	struct fake f;
	struct aws_client *c;
	struct eks_pod_identity_association *a = NULL;
	struct eks_pod_identity_association_list l = { 0 };
	json_t *body;
	struct op_err e;
	char h[64];

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 200, "aws-responses/aws-eks-create-pod-identity-association.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-describe-pod-identity-association.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-update-pod-identity-association.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-delete-pod-identity-association.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-list-pod-identity-associations-page1.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-list-pod-identity-associations-page2.json");
	c = client(&f);

	assert_int_equal(eks_create_pod_identity_association(c, &cin, &a, &e), 0);
	assert_string_equal(f.seen[0].method, "POST");
	assert_string_equal(f.seen[0].url, "https://eks.us-east-1.amazonaws.com/clusters/prod/pod-identity-associations");
	assert_string_equal(fake_seen_header(&f.seen[0], "Content-Type", h, sizeof(h)), "application/json");
	body = json_loads(f.seen[0].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "namespace")), "payments");
	assert_string_equal(json_string_value(json_object_get(body, "serviceAccount")), "api");
	assert_string_equal(json_string_value(json_object_get(body, "clientRequestToken")),
			    "11111111-2222-4333-8444-555555555555");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "tags"), "keyless.dev/cluster")),
			    "prod");
	assert_int_equal(json_object_size(body), 5);
	json_decref(body);
	assert_string_equal(a->association_id, "a-abcdefghijklmnop1");
	assert_string_equal(a->namespace_name, "payments");
	assert_int_equal(a->created_at_ns, INT64_C(1795885200123000000));
	assert_string_equal(aws_tag_list_get(&a->tags, "keyless.dev/namespace"), "payments");
	assert_false(a->disable_session_tags);
	eks_pod_identity_association_free(a);

	assert_int_equal(eks_describe_pod_identity_association(c, "prod", "a-abcdefghijklmnop1", &a, &e), 0);
	assert_string_equal(f.seen[1].method, "GET");
	assert_string_equal(f.seen[1].url, "https://eks.us-east-1.amazonaws.com/clusters/prod/pod-identity-associations/a-abcdefghijklmnop1");
	assert_true(a->disable_session_tags);
	assert_string_equal(a->target_role_arn, "arn:aws:iam::210987654321:role/shared/reader");
	assert_string_equal(a->policy, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
				       "[\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::b/*\"]}]}");
	eks_pod_identity_association_free(a);

	assert_int_equal(eks_update_pod_identity_association(c, &uin, &a, &e), 0);
	assert_string_equal(f.seen[2].method, "POST");
	body = json_loads(f.seen[2].body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(body, "roleArn")), uin.role_arn);
	/* a generated idempotency token: a v4 UUID */
	assert_int_equal(strlen(json_string_value(json_object_get(body, "clientRequestToken"))), 36);
	assert_int_equal(json_string_value(json_object_get(body, "clientRequestToken"))[14], '4');
	json_decref(body);
	assert_string_equal(a->role_arn, uin.role_arn);
	eks_pod_identity_association_free(a);
	/* left out unless asked: no targetRoleArn, policy or disableSessionTags above */
	body = json_loads(f.seen[2].body, 0, NULL);
	assert_int_equal(json_object_size(body), 2);
	json_decref(body);

	assert_int_equal(eks_delete_pod_identity_association(c, "prod", "a-abcdefghijklmnop1", NULL, &e), 0);
	assert_string_equal(f.seen[3].method, "DELETE");
	assert_null(f.seen[3].body);

	assert_int_equal(eks_list_pod_identity_associations(c, "prod", "payments", NULL, 2, &l, &e), 0);
	assert_string_equal(f.seen[4].url, "https://eks.us-east-1.amazonaws.com/clusters/prod/pod-identity-associations"
					   "?namespace=payments&maxResults=2");
	assert_string_equal(f.seen[5].url, "https://eks.us-east-1.amazonaws.com/clusters/prod/pod-identity-associations"
					   "?namespace=payments&maxResults=2&nextToken=eyJ2IjoxfQ%3D%3D%2B%2F%25page2");
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[1].service_account, "worker");
	assert_null(l.items[0].owner_arn);
	assert_string_equal(l.items[2].owner_arn, "arn:aws:eks:us-east-1:123456789012:addon/prod/vpc-cni/abc");
	eks_pod_identity_association_list_release(&l);

	/* the Pod Identity fields: sent when set; an update can turn disableSessionTags off */
	fake_push_file(&f, 200, "aws-responses/aws-eks-create-pod-identity-association.json");
	fake_push_file(&f, 200, "aws-responses/aws-eks-update-pod-identity-association.json");
	cin.target_role_arn = "arn:aws:iam::210987654321:role/shared/reader";
	cin.policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
	cin.disable_session_tags = true;
	assert_int_equal(eks_create_pod_identity_association(c, &cin, NULL, &e), 0);
	body = json_loads(f.seen[6].body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(body, "targetRoleArn")), cin.target_role_arn);
	assert_string_equal(json_string_value(json_object_get(body, "policy")), cin.policy);
	assert_true(json_is_true(json_object_get(body, "disableSessionTags")));
	assert_int_equal(json_object_size(body), 8);
	json_decref(body);
	uin.role_arn = NULL;
	uin.disable_session_tags = EKS_BOOL_FALSE;
	uin.target_role_arn = "arn:aws:iam::210987654321:role/shared/writer";
	assert_int_equal(eks_update_pod_identity_association(c, &uin, NULL, &e), 0);
	body = json_loads(f.seen[7].body, 0, NULL);
	assert_true(json_is_false(json_object_get(body, "disableSessionTags")));
	assert_string_equal(json_string_value(json_object_get(body, "targetRoleArn")), uin.target_role_arn);
	assert_null(json_object_get(body, "roleArn"));
	assert_null(json_object_get(body, "policy"));
	json_decref(body);

	/* missing inputs never reach the network */
	cin.role_arn = NULL;
	op_err_clear(&e);
	assert_int_equal(eks_create_pod_identity_association(c, &cin, &a, &e), -EINVAL);
	assert_string_equal(e.message, "CreatePodIdentityAssociation: roleArn is required");
	assert_int_equal(f.n_seen, 8);
	aws_client_free(c);
	fake_release(&f);
}

static void test_api__table_points_at_the_real_calls(void **state)
{
	(void)state;
	assert_ptr_equal(aws_api_real.iam_get_role, iam_get_role);
	assert_ptr_equal(aws_api_real.eks_list_pod_identity_associations, eks_list_pod_identity_associations);
	/* no member left NULL */
	for (size_t i = 0; i < sizeof(aws_api_real) / sizeof(void (*)(void)); i++)
		assert_non_null(((void (*const *)(void))&aws_api_real)[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iam__get_role_decodes_policy_and_tags),
		cmocka_unit_test(test_iam__create_role_request_encoding),
		cmocka_unit_test(test_iam__pagination_follows_marker),
		cmocka_unit_test(test_iam__role_listings),
		cmocka_unit_test(test_iam__policies_tags_boundary_requests),
		cmocka_unit_test(test_iam__oidc_providers_and_summary),
		cmocka_unit_test(test_iam__errors_carry_code_and_request_id),
		cmocka_unit_test(test_sts__caller_identity_and_web_identity),
		cmocka_unit_test(test_eks__describe_cluster),
		cmocka_unit_test(test_eks__time_out_of_range),
		cmocka_unit_test(test_eks__pod_identity_associations),
		cmocka_unit_test(test_api__table_points_at_the_real_calls),
	};

	return cmocka_run_group_tests_name("aws_calls", tests, NULL, NULL);
}
