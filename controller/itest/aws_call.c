/* aws_call: perform AWS calls with keyless's client, for the e2e tests.
 *
 *     bin/itest/aws_call < steps.jsonl
 *
 * One client (configured from the process environment, exactly as keyless
 * would be) serves every step, so the credential cache, the retry quota and
 * the IAM token bucket carry over between steps. Each stdin line is
 *     {"op": "GetRole", "args": {"RoleName": "x"}}
 * with op an AWS action name (iam.h, sts.h, eks.h) or one of the pseudo-ops
 * "Credentials" (fetch/refresh credentials; prints the access key id, whether
 * there is a session token and the expiry -- never secrets) and "Stats".
 * Each step prints one JSON line:
 *     {"op":..., "rc": 0|-errno, "errno": "ENOENT"|"", "result": {...},
 *      "error": {"http_status":..., "reason":..., "message":..., "request_id":...},
 *      "attempts": n, "calls": n, "sleeps_ms": [...], "retry_quota": {"iam":..,"sts":..,"eks":..}}
 * Sleeps (retry backoff, rate-limit waits) are recorded and really slept,
 * unless AWS_CALL_NO_SLEEP=1. Options through the environment:
 *   AWS_CALL_IAM_RATE / AWS_CALL_IAM_BURST   IAM token bucket (default: the client's)
 *   AWS_CALL_ANONYMOUS=1                     no credentials
 * On start it prints {"credentials_source": ..., "region": ...} first.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "aws/api.h"
#include "aws/client.h"
#include "base/clock.h"
#include "base/str.h"

#define MAX_SLEEPS 64

static struct {
	int64_t ns[MAX_SLEEPS];
	size_t n;
	bool no_sleep;
} sleeps;

static void record_sleep(void *ctx, int64_t ns)
{
	(void)ctx;
	if (sleeps.n < MAX_SLEEPS)
		sleeps.ns[sleeps.n++] = ns;
	if (!sleeps.no_sleep)
		sleep_ns(ns);
}

static const char *errno_name(int r)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {
		{ ENOENT, "ENOENT" },	    { EEXIST, "EEXIST" },     { EACCES, "EACCES" },
		{ EAGAIN, "EAGAIN" },	    { EDQUOT, "EDQUOT" },     { EINVAL, "EINVAL" },
		{ EBUSY, "EBUSY" },	    { EPERM, "EPERM" },	      { EIO, "EIO" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ECONNRESET, "ECONNRESET" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ EPROTO, "EPROTO" },	    { ENOKEY, "ENOKEY" },     { EOPNOTSUPP, "EOPNOTSUPP" },
		{ E2BIG, "E2BIG" },	    { ENODATA, "ENODATA" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (-r == names[i].e)
			return names[i].n;
	return r ? "E?" : "";
}

/* --- args helpers ---------------------------------------------------------- */

static const char *S(json_t *a, const char *k)
{
	return json_string_value(json_object_get(a, k));
}

static int I(json_t *a, const char *k)
{
	return (int)json_integer_value(json_object_get(a, k));
}

/* {"k": "v", ...} or [{"Key":..,"Value":..}] -> tags (borrowed from a) */
static struct aws_tag_in *tags_of(json_t *a, const char *k, size_t *n)
{
	json_t *t = json_object_get(a, k), *v;
	struct aws_tag_in *out;
	const char *key;
	size_t i = 0, idx;

	*n = json_is_object(t) ? json_object_size(t) : json_array_size(t);
	out = calloc(*n + 1, sizeof(*out));
	if (json_is_object(t)) {
		json_object_foreach(t, key, v) out[i++] = (struct aws_tag_in){ key, json_string_value(v) };
	} else {
		json_array_foreach(t, idx, v)
			out[i++] = (struct aws_tag_in){ S(v, "Key"), S(v, "Value") };
	}
	return out;
}

static const char **strv_of(json_t *a, const char *k, size_t *n)
{
	json_t *t = json_object_get(a, k), *v;
	const char **out;
	size_t i;

	*n = json_array_size(t);
	out = calloc(*n + 1, sizeof(*out));
	json_array_foreach(t, i, v) out[i] = json_string_value(v);
	return out;
}

/* --- results to JSON ---------------------------------------------------------- */

static json_t *tags_json(const struct aws_tag_list *l)
{
	json_t *o = json_object();

	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i].key, json_string(l->items[i].value));
	return o;
}

static json_t *strs_json(const struct aws_str_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->items[i]));
	return a;
}

static json_t *js(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *role_json(const struct iam_role *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:o}", "RoleName", js(r->role_name), "RoleId",
			 js(r->role_id), "Arn", js(r->arn), "Path", js(r->path), "CreateDate", js(r->create_date),
			 "Description", js(r->description), "AssumeRolePolicyDocument", js(r->assume_role_policy),
			 "MaxSessionDuration", r->max_session_duration, "PermissionsBoundaryArn",
			 js(r->permissions_boundary_arn), "Tags", tags_json(&r->tags));
}

static json_t *assoc_json(const struct eks_pod_identity_association *a)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:I, s:o}", "clusterName",
			 js(a->cluster_name), "namespace", js(a->namespace_name), "serviceAccount",
			 js(a->service_account), "roleArn", js(a->role_arn), "associationArn", js(a->association_arn),
			 "associationId", js(a->association_id), "ownerArn", js(a->owner_arn), "targetRoleArn",
			 js(a->target_role_arn), "externalId", js(a->external_id), "policy", js(a->policy), "disableSessionTags",
			 a->disable_session_tags, "createdAtNs", (json_int_t)a->created_at_ns, "modifiedAtNs",
			 (json_int_t)a->modified_at_ns, "tags", tags_json(&a->tags));
}

/* --- the steps ---------------------------------------------------------------- */

static int run(struct aws_client *c, const char *op, json_t *a, json_t **result, struct op_err *e)
{
	const struct aws_api *api = &aws_api_real;
	int r = -EOPNOTSUPP;

	*result = json_null();
	if (streq(op, "Credentials")) {
		struct aws_credentials *cr = NULL;

		r = aws_client_credentials(c, &cr, e);
		if (r >= 0) {
			*result = json_pack("{s:s, s:b, s:I}", "AccessKeyId", cr->access_key_id, "HasSessionToken",
					    cr->session_token != NULL, "ExpirationNs", (json_int_t)cr->expiration_ns);
			aws_credentials_unref(cr);
		}
	} else if (streq(op, "GetRole")) {
		struct iam_role *x = NULL;

		r = api->iam_get_role(c, S(a, "RoleName"), &x, e);
		if (r >= 0)
			*result = role_json(x);
		iam_role_free(x);
	} else if (streq(op, "CreateRole")) {
		struct iam_role *x = NULL;
		size_t nt;
		_cleanup_free_ struct aws_tag_in *t = tags_of(a, "Tags", &nt);
		struct iam_create_role_input in = {
			.role_name = S(a, "RoleName"),
			.assume_role_policy = S(a, "AssumeRolePolicyDocument"),
			.path = S(a, "Path"),
			.description = S(a, "Description"),
			.max_session_duration = I(a, "MaxSessionDuration"),
			.permissions_boundary = S(a, "PermissionsBoundary"),
			.tags = t,
			.n_tags = nt,
		};

		r = api->iam_create_role(c, &in, &x, e);
		if (r >= 0)
			*result = role_json(x);
		iam_role_free(x);
	} else if (streq(op, "UpdateRole")) {
		r = api->iam_update_role(c, S(a, "RoleName"), S(a, "Description"), I(a, "MaxSessionDuration"), e);
	} else if (streq(op, "UpdateAssumeRolePolicy")) {
		r = api->iam_update_assume_role_policy(c, S(a, "RoleName"), S(a, "PolicyDocument"), e);
	} else if (streq(op, "DeleteRole")) {
		r = api->iam_delete_role(c, S(a, "RoleName"), e);
	} else if (streq(op, "TagRole")) {
		size_t nt;
		_cleanup_free_ struct aws_tag_in *t = tags_of(a, "Tags", &nt);

		r = api->iam_tag_role(c, S(a, "RoleName"), t, nt, e);
	} else if (streq(op, "UntagRole")) {
		size_t n;
		_cleanup_free_ const char **k = strv_of(a, "TagKeys", &n);

		r = api->iam_untag_role(c, S(a, "RoleName"), k, n, e);
	} else if (streq(op, "ListRoleTags")) {
		struct aws_tag_list l = { 0 };

		r = api->iam_list_role_tags(c, S(a, "RoleName"), &l, e);
		if (r >= 0)
			*result = tags_json(&l);
		aws_tag_list_release(&l);
	} else if (streq(op, "PutRolePolicy")) {
		r = api->iam_put_role_policy(c, S(a, "RoleName"), S(a, "PolicyName"), S(a, "PolicyDocument"), e);
	} else if (streq(op, "GetRolePolicy")) {
		char *d = NULL;

		r = api->iam_get_role_policy(c, S(a, "RoleName"), S(a, "PolicyName"), &d, e);
		if (r >= 0)
			*result = json_pack("{s:s}", "PolicyDocument", d);
		free(d);
	} else if (streq(op, "DeleteRolePolicy")) {
		r = api->iam_delete_role_policy(c, S(a, "RoleName"), S(a, "PolicyName"), e);
	} else if (streq(op, "ListRolePolicies")) {
		struct aws_str_list l = { 0 };

		r = api->iam_list_role_policies(c, S(a, "RoleName"), &l, e);
		if (r >= 0)
			*result = strs_json(&l);
		aws_str_list_release(&l);
	} else if (streq(op, "AttachRolePolicy")) {
		r = api->iam_attach_role_policy(c, S(a, "RoleName"), S(a, "PolicyArn"), e);
	} else if (streq(op, "DetachRolePolicy")) {
		r = api->iam_detach_role_policy(c, S(a, "RoleName"), S(a, "PolicyArn"), e);
	} else if (streq(op, "ListAttachedRolePolicies")) {
		struct iam_attached_policy_list l = { 0 };

		r = api->iam_list_attached_role_policies(c, S(a, "RoleName"), &l, e);
		if (r >= 0) {
			*result = json_array();
			for (size_t i = 0; i < l.n; i++)
				json_array_append_new(*result, json_pack("{s:s, s:s}", "PolicyName", l.items[i].name,
									 "PolicyArn", l.items[i].arn));
		}
		iam_attached_policy_list_release(&l);
	} else if (streq(op, "PutRolePermissionsBoundary")) {
		r = api->iam_put_role_permissions_boundary(c, S(a, "RoleName"), S(a, "PermissionsBoundary"), e);
	} else if (streq(op, "DeleteRolePermissionsBoundary")) {
		r = api->iam_delete_role_permissions_boundary(c, S(a, "RoleName"), e);
	} else if (streq(op, "ListOpenIDConnectProviders")) {
		struct aws_str_list l = { 0 };

		r = api->iam_list_oidc_providers(c, &l, e);
		if (r >= 0)
			*result = strs_json(&l);
		aws_str_list_release(&l);
	} else if (streq(op, "GetOpenIDConnectProvider")) {
		struct iam_oidc_provider *p = NULL;

		r = api->iam_get_oidc_provider(c, S(a, "OpenIDConnectProviderArn"), &p, e);
		if (r >= 0)
			*result = json_pack("{s:o, s:o, s:o, s:o, s:o}", "Url", js(p->url), "CreateDate",
					    js(p->create_date), "ClientIDList", strs_json(&p->client_ids),
					    "ThumbprintList", strs_json(&p->thumbprints), "Tags", tags_json(&p->tags));
		iam_oidc_provider_free(p);
	} else if (streq(op, "CreateOpenIDConnectProvider")) {
		size_t nc, nt, ntags;
		_cleanup_free_ const char **cl = strv_of(a, "ClientIDList", &nc);
		_cleanup_free_ const char **th = strv_of(a, "ThumbprintList", &nt);
		_cleanup_free_ struct aws_tag_in *t = tags_of(a, "Tags", &ntags);
		struct iam_create_oidc_provider_input in = {
			.url = S(a, "Url"),
			.client_ids = cl,
			.n_client_ids = nc,
			.thumbprints = th,
			.n_thumbprints = nt,
			.tags = t,
			.n_tags = ntags,
		};
		char *arn = NULL;

		r = api->iam_create_oidc_provider(c, &in, &arn, e);
		if (r >= 0)
			*result = json_pack("{s:s}", "OpenIDConnectProviderArn", arn);
		free(arn);
	} else if (streq(op, "AddClientIDToOpenIDConnectProvider")) {
		r = api->iam_add_client_id_to_oidc_provider(c, S(a, "OpenIDConnectProviderArn"), S(a, "ClientID"), e);
	} else if (streq(op, "TagOpenIDConnectProvider")) {
		size_t nt;
		_cleanup_free_ struct aws_tag_in *t = tags_of(a, "Tags", &nt);

		r = api->iam_tag_oidc_provider(c, S(a, "OpenIDConnectProviderArn"), t, nt, e);
	} else if (streq(op, "RemoveClientIDFromOpenIDConnectProvider")) {
		r = api->iam_remove_client_id_from_oidc_provider(c, S(a, "OpenIDConnectProviderArn"), S(a, "ClientID"), e);
	} else if (streq(op, "UntagOpenIDConnectProvider")) {
		size_t n;
		_cleanup_free_ const char **k = strv_of(a, "TagKeys", &n);

		r = api->iam_untag_oidc_provider(c, S(a, "OpenIDConnectProviderArn"), k, n, e);
	} else if (streq(op, "GetAccountSummary")) {
		struct iam_account_summary *s = NULL;

		r = api->iam_get_account_summary(c, &s, e);
		if (r >= 0) {
			*result = json_object();
			for (size_t i = 0; i < s->n; i++)
				json_object_set_new(*result, s->items[i].key, json_integer(s->items[i].value));
		}
		iam_account_summary_free(s);
	} else if (streq(op, "GetCallerIdentity")) {
		struct sts_caller_identity *x = NULL;

		r = api->sts_get_caller_identity(c, &x, e);
		if (r >= 0)
			*result = json_pack("{s:o, s:o, s:o}", "Account", js(x->account), "Arn", js(x->arn), "UserId",
					    js(x->user_id));
		sts_caller_identity_free(x);
	} else if (streq(op, "AssumeRoleWithWebIdentity")) {
		struct sts_assumed_role *x = NULL;
		struct sts_assume_role_input in = {
			.role_arn = S(a, "RoleArn"),
			.role_session_name = S(a, "RoleSessionName"),
			.web_identity_token = S(a, "WebIdentityToken"),
			.duration_seconds = I(a, "DurationSeconds"),
		};

		r = api->sts_assume_role_with_web_identity(c, &in, &x, e);
		if (r >= 0)
			*result = json_pack("{s:o, s:b, s:b, s:I, s:o, s:o, s:o}", "AccessKeyId", js(x->access_key_id),
					    "HasSecretAccessKey", x->secret_access_key && *x->secret_access_key,
					    "HasSessionToken", x->session_token && *x->session_token, "ExpirationNs",
					    (json_int_t)x->expiration_ns, "AssumedRoleArn", js(x->assumed_role_arn),
					    "SubjectFromWebIdentityToken", js(x->subject_from_web_identity_token),
					    "Audience", js(x->audience));
		sts_assumed_role_free(x);
	} else if (streq(op, "DescribeCluster")) {
		struct eks_cluster *x = NULL;

		r = api->eks_describe_cluster(c, S(a, "name"), &x, e);
		if (r >= 0)
			*result = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "name", js(x->name), "arn", js(x->arn),
					    "status", js(x->status), "version", js(x->version), "endpoint",
					    js(x->endpoint), "oidcIssuer", js(x->oidc_issuer));
		eks_cluster_free(x);
	} else if (streq(op, "CreatePodIdentityAssociation")) {
		struct eks_pod_identity_association *x = NULL;
		size_t nt;
		_cleanup_free_ struct aws_tag_in *t = tags_of(a, "tags", &nt);
		struct eks_create_pod_identity_association_input in = {
			.cluster_name = S(a, "clusterName"),
			.namespace_name = S(a, "namespace"),
			.service_account = S(a, "serviceAccount"),
			.role_arn = S(a, "roleArn"),
			.client_request_token = S(a, "clientRequestToken"),
			.tags = t,
			.n_tags = nt,
			.target_role_arn = S(a, "targetRoleArn"),
			.policy = S(a, "policy"),
			.disable_session_tags = json_is_true(json_object_get(a, "disableSessionTags")),
		};

		r = api->eks_create_pod_identity_association(c, &in, &x, e);
		if (r >= 0)
			*result = assoc_json(x);
		eks_pod_identity_association_free(x);
	} else if (streq(op, "DescribePodIdentityAssociation") || streq(op, "DeletePodIdentityAssociation")) {
		struct eks_pod_identity_association *x = NULL;

		if (streq(op, "DescribePodIdentityAssociation"))
			r = api->eks_describe_pod_identity_association(c, S(a, "clusterName"), S(a, "associationId"),
								       &x, e);
		else
			r = api->eks_delete_pod_identity_association(c, S(a, "clusterName"), S(a, "associationId"), &x,
								     e);
		if (r >= 0)
			*result = assoc_json(x);
		eks_pod_identity_association_free(x);
	} else if (streq(op, "UpdatePodIdentityAssociation")) {
		struct eks_pod_identity_association *x = NULL;
		struct eks_update_pod_identity_association_input in = {
			.cluster_name = S(a, "clusterName"),
			.association_id = S(a, "associationId"),
			.role_arn = S(a, "roleArn"),
			.client_request_token = S(a, "clientRequestToken"),
			.target_role_arn = S(a, "targetRoleArn"),
			.policy = S(a, "policy"),
			.disable_session_tags = !json_object_get(a, "disableSessionTags") ? EKS_BOOL_UNCHANGED
						: json_is_true(json_object_get(a, "disableSessionTags")) ? EKS_BOOL_TRUE
						: EKS_BOOL_FALSE,
		};

		r = api->eks_update_pod_identity_association(c, &in, &x, e);
		if (r >= 0)
			*result = assoc_json(x);
		eks_pod_identity_association_free(x);
	} else if (streq(op, "ListPodIdentityAssociations")) {
		struct eks_pod_identity_association_list l = { 0 };

		r = api->eks_list_pod_identity_associations(c, S(a, "clusterName"), S(a, "namespace"),
							     S(a, "serviceAccount"), I(a, "maxResults"), &l, e);
		if (r >= 0) {
			*result = json_array();
			for (size_t i = 0; i < l.n; i++)
				json_array_append_new(*result,
						      json_pack("{s:o, s:o, s:o, s:o, s:o}", "clusterName",
								js(l.items[i].cluster_name), "namespace",
								js(l.items[i].namespace_name), "serviceAccount",
								js(l.items[i].service_account), "associationArn",
								js(l.items[i].association_arn), "associationId",
								js(l.items[i].association_id)));
		}
		eks_pod_identity_association_list_release(&l);
	} else {
		op_err_set(e, -EOPNOTSUPP, "aws_call: unknown op %s", op);
	}
	return r;
}

static json_t *stats_json(struct aws_client *c)
{
	struct aws_stats s;
	json_t *ops = json_object();

	aws_stats_snapshot(c, &s);
	for (int i = 0; i < AWS_OP__COUNT; i++)
		if (s.op[i].calls)
			json_object_set_new(ops, aws_op_info((enum aws_op)i)->name,
					    json_pack("{s:I, s:I, s:I, s:I}", "calls", (json_int_t)s.op[i].calls,
						      "attempts", (json_int_t)s.op[i].attempts, "errors",
						      (json_int_t)s.op[i].errors, "throttled",
						      (json_int_t)s.op[i].throttled));
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "ops", ops, "reads", (json_int_t)s.reads,
			 "writes", (json_int_t)s.writes, "retries", (json_int_t)s.retries, "quota_exhausted",
			 (json_int_t)s.quota_exhausted, "rate_limited", (json_int_t)s.rate_limited,
			 "rate_limited_ns", (json_int_t)s.rate_limited_ns, "backoff_ns", (json_int_t)s.backoff_ns,
			 "iam_rate", s.iam_rate, "iam_rate_cuts", (json_int_t)s.iam_rate_cuts);
}

static uint64_t total(const struct aws_stats *s, bool attempts)
{
	uint64_t t = 0;

	for (int i = 0; i < AWS_OP__COUNT; i++)
		t += attempts ? s->op[i].attempts : s->op[i].calls;
	return t;
}

int main(void)
{
	struct aws_client *c = NULL;
	struct aws_client_opts opts = { .sleep = record_sleep };
	struct op_err e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	const char *v;
	json_t *hello;

	sleeps.no_sleep = getenv("AWS_CALL_NO_SLEEP") && streq(getenv("AWS_CALL_NO_SLEEP"), "1");
	if ((v = getenv("AWS_CALL_IAM_RATE")))
		opts.iam_rate = strtod(v, NULL);
	if ((v = getenv("AWS_CALL_IAM_BURST")))
		opts.iam_burst = strtod(v, NULL);
	if ((v = getenv("AWS_CALL_IAM_RATE_MODE")))
		opts.iam_rate_mode = streq(v, "fixed") ? AWS_RATE_FIXED : AWS_RATE_ADAPTIVE;
	if ((v = getenv("AWS_CALL_IAM_RATE_INITIAL")))
		opts.iam_rate_initial = strtod(v, NULL);
	opts.anonymous = getenv("AWS_CALL_ANONYMOUS") && streq(getenv("AWS_CALL_ANONYMOUS"), "1");
	op_err_clear(&e);
	if (aws_client_new(&opts, &c, &e) < 0) {
		json_t *o = json_pack("{s:s, s:i, s:s, s:s}", "fatal", "aws_client_new", "rc", e.code, "errno",
				      errno_name(e.code), "message", e.message);

		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
		return 1;
	}
	hello = json_pack("{s:s, s:s, s:o}", "credentials_source", aws_client_credentials_source(c), "credentials_kind",
			  aws_creds_source_name(aws_client_credentials_kind(c)), "region", js(aws_client_region(c)));
	json_dumpf(hello, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(hello);
	fflush(stdout);

	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_t *step = json_loadb(line, (size_t)len, 0, NULL), *res = NULL, *out, *sl;
		struct aws_stats before, after;
		const char *op;
		int r;

		if (!step)
			continue;
		op = S(step, "op");
		op_err_clear(&e);
		sleeps.n = 0;
		aws_stats_snapshot(c, &before);
		if (op && streq(op, "Stats")) {
			r = 0;
			res = stats_json(c);
		} else {
			r = run(c, op ? op : "", json_object_get(step, "args"), &res, &e);
		}
		aws_stats_snapshot(c, &after);
		sl = json_array();
		for (size_t i = 0; i < sleeps.n; i++)
			json_array_append_new(sl, json_real((double)sleeps.ns[i] / 1e6));
		out = json_pack("{s:s, s:i, s:s, s:o, s:{s:i, s:s, s:s, s:s}, s:I, s:I, s:o, s:{s:i, s:i, s:i}}", "op",
				op ? op : "", "rc", r, "errno", errno_name(r), "result", res ? res : json_null(), "error",
				"http_status", e.http_status, "reason", e.reason, "message", e.message, "request_id",
				e.request_id, "attempts", (json_int_t)(total(&after, true) - total(&before, true)),
				"calls", (json_int_t)(total(&after, false) - total(&before, false)), "sleeps_ms", sl,
				"retry_quota", "iam", aws_client_retry_quota(c, AWS_SERVICE_IAM), "sts",
				aws_client_retry_quota(c, AWS_SERVICE_STS), "eks",
				aws_client_retry_quota(c, AWS_SERVICE_EKS));
		json_dumpf(out, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(out);
		json_decref(step);
	}
	free(line);
	aws_client_free(c);
	return 0;
}
