#include "aws/iam.h"

#include <errno.h>
#include <string.h>

#include "aws/policy.h"
#include "aws/query.h"
#include "aws/xml.h"
#include "base/str.h"

/* Pages followed at most (a marker that never ends must not loop forever). */
#define IAM_MAX_PAGES 1000

static int oom(struct op_err *err)
{
	return op_err_set(err, -ENOMEM, "out of memory");
}

static int need(struct op_err *err, const char *op, const char *what, const char *v)
{
	if (!v || !*v)
		return op_err_set(err, -EINVAL, "%s: %s is required", op, what);
	return 0;
}

/* Call an action with no interesting result. */
static int simple(struct aws_client *c, enum aws_op op, struct aws_query *q, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	xmlNode *res;
	int r = aws_query_call(c, op, q, false, NULL, &doc, &res, err);

	aws_query_release(q);
	return r;
}

static void add_tags(struct aws_query *q, const struct aws_tag_in *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		aws_query_addf(q, tags[i].key, "Tags.member.%zu.Key", i + 1);
		aws_query_addf(q, tags[i].value ? tags[i].value : "", "Tags.member.%zu.Value", i + 1);
	}
}

static void add_tag_keys(struct aws_query *q, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aws_query_addf(q, keys[i], "TagKeys.member.%zu", i + 1);
}

static int parse_tags(const xmlNode *list, struct aws_tag_list *out)
{
	for (xmlNode *m = aws_xml_child(list, "member"); m; m = aws_xml_next_same(m)) {
		_cleanup_free_ char *k = aws_xml_text(m, "Key", NULL);
		_cleanup_free_ char *v = aws_xml_text(m, "Value", NULL);

		if (!k)
			continue;
		if (aws_tag_list_add(out, k, v ? v : "") < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Decode a URL-encoded policy document element (NULL when absent). */
static int decoded_text(const xmlNode *node, const char *path, char **ret)
{
	_cleanup_free_ char *raw = NULL;
	bool o = false;

	raw = aws_xml_text(node, path, &o);
	if (o)
		return -ENOMEM;
	if (!raw) {
		*ret = NULL;
		return 0;
	}
	return aws_policy_decode(raw, ret);
}

/* --- roles ---------------------------------------------------------------- */

void iam_role_free(struct iam_role *r)
{
	if (!r)
		return;
	free(r->role_name);
	free(r->role_id);
	free(r->arn);
	free(r->path);
	free(r->create_date);
	free(r->description);
	free(r->assume_role_policy);
	free(r->permissions_boundary_arn);
	aws_tag_list_release(&r->tags);
	free(r);
}

static int parse_role(const char *op, const xmlNode *role, struct iam_role **ret, struct op_err *err)
{
	_cleanup_(iam_role_freep) struct iam_role *r = calloc(1, sizeof(*r));
	_cleanup_free_ char *msd = NULL;
	bool o = false;
	long v;

	if (!r)
		return oom(err);
	if (!role)
		return op_err_set(err, -EPROTO, "%s: answer has no Role", op);
	r->role_name = aws_xml_text(role, "RoleName", &o);
	r->role_id = aws_xml_text(role, "RoleId", &o);
	r->arn = aws_xml_text(role, "Arn", &o);
	r->path = aws_xml_text(role, "Path", &o);
	r->create_date = aws_xml_text(role, "CreateDate", &o);
	r->description = aws_xml_text(role, "Description", &o);
	r->permissions_boundary_arn = aws_xml_text(role, "PermissionsBoundary/PermissionsBoundaryArn", &o);
	msd = aws_xml_text(role, "MaxSessionDuration", &o);
	if (o || decoded_text(role, "AssumeRolePolicyDocument", &r->assume_role_policy) < 0 ||
	    parse_tags(aws_xml_child(role, "Tags"), &r->tags) < 0)
		return oom(err);
	if (msd && str_to_long(msd, 0, 1000000, &v) == 0)
		r->max_session_duration = (int)v;
	if (!r->role_name || !r->arn)
		return op_err_set(err, -EPROTO, "%s: answer lacks RoleName or Arn", op);
	*ret = TAKE_PTR(r);
	return 0;
}

int iam_get_role(struct aws_client *c, const char *role_name, struct iam_role **ret, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_query q;
	xmlNode *res;
	int r;

	if ((r = need(err, "GetRole", "RoleName", role_name)) < 0)
		return r;
	aws_query_init(&q, "GetRole", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	r = aws_query_call(c, AWS_OP_IAM_GET_ROLE, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	return parse_role("GetRole", aws_xml_child(res, "Role"), ret, err);
}

int iam_create_role(struct aws_client *c, const struct iam_create_role_input *in, struct iam_role **ret,
		    struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_query q;
	xmlNode *res;
	int r;

	if ((r = need(err, "CreateRole", "RoleName", in ? in->role_name : NULL)) < 0 ||
	    (r = need(err, "CreateRole", "AssumeRolePolicyDocument", in->assume_role_policy)) < 0)
		return r;
	aws_query_init(&q, "CreateRole", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", in->role_name);
	aws_query_add(&q, "Path", in->path);
	aws_query_add(&q, "AssumeRolePolicyDocument", in->assume_role_policy);
	aws_query_add(&q, "Description", in->description);
	if (in->max_session_duration > 0)
		aws_query_add_long(&q, "MaxSessionDuration", in->max_session_duration);
	aws_query_add(&q, "PermissionsBoundary", in->permissions_boundary);
	add_tags(&q, in->tags, in->n_tags);
	r = aws_query_call(c, AWS_OP_IAM_CREATE_ROLE, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	if (!ret)
		return 0;
	return parse_role("CreateRole", aws_xml_child(res, "Role"), ret, err);
}

int iam_update_role(struct aws_client *c, const char *role_name, const char *description, int max_session_duration,
		    struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "UpdateRole", "RoleName", role_name)) < 0)
		return r;
	aws_query_init(&q, "UpdateRole", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	aws_query_add(&q, "Description", description);
	if (max_session_duration > 0)
		aws_query_add_long(&q, "MaxSessionDuration", max_session_duration);
	return simple(c, AWS_OP_IAM_UPDATE_ROLE, &q, err);
}

int iam_update_assume_role_policy(struct aws_client *c, const char *role_name, const char *policy_document,
				  struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "UpdateAssumeRolePolicy", "RoleName", role_name)) < 0 ||
	    (r = need(err, "UpdateAssumeRolePolicy", "PolicyDocument", policy_document)) < 0)
		return r;
	aws_query_init(&q, "UpdateAssumeRolePolicy", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	aws_query_add(&q, "PolicyDocument", policy_document);
	return simple(c, AWS_OP_IAM_UPDATE_ASSUME_ROLE_POLICY, &q, err);
}

static int role_only(struct aws_client *c, enum aws_op op, const char *role_name, struct op_err *err)
{
	const char *name = aws_op_info(op)->name;
	struct aws_query q;
	int r;

	if ((r = need(err, name, "RoleName", role_name)) < 0)
		return r;
	aws_query_init(&q, name, AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	return simple(c, op, &q, err);
}

int iam_delete_role(struct aws_client *c, const char *role_name, struct op_err *err)
{
	return role_only(c, AWS_OP_IAM_DELETE_ROLE, role_name, err);
}

int iam_tag_role(struct aws_client *c, const char *role_name, const struct aws_tag_in *tags, size_t n,
		 struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "TagRole", "RoleName", role_name)) < 0)
		return r;
	aws_query_init(&q, "TagRole", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	add_tags(&q, tags, n);
	return simple(c, AWS_OP_IAM_TAG_ROLE, &q, err);
}

int iam_untag_role(struct aws_client *c, const char *role_name, const char *const *keys, size_t n, struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "UntagRole", "RoleName", role_name)) < 0)
		return r;
	aws_query_init(&q, "UntagRole", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	add_tag_keys(&q, keys, n);
	return simple(c, AWS_OP_IAM_UNTAG_ROLE, &q, err);
}

/* --- pagination ------------------------------------------------------------ */

typedef int (*page_fn)(const xmlNode *result, void *acc);

/* Call op page by page (Marker/IsTruncated), handing each result to fn. */
static int paginate_max(struct aws_client *c, enum aws_op op, const char *key, const char *value, const char *max_items,
			page_fn fn, void *acc, struct op_err *err)
{
	const char *name = aws_op_info(op)->name;
	_cleanup_free_ char *marker = NULL;

	for (int page = 0; page < IAM_MAX_PAGES; page++) {
		_cleanup_xml_ xmlDoc *doc = NULL;
		_cleanup_free_ char *trunc = NULL;
		struct aws_query q;
		xmlNode *res;
		bool o = false;
		int r;

		aws_query_init(&q, name, AWS_IAM_VERSION);
		aws_query_add(&q, key, value);
		aws_query_add(&q, "MaxItems", max_items);
		aws_query_add(&q, "Marker", marker);
		r = aws_query_call(c, op, &q, false, NULL, &doc, &res, err);
		aws_query_release(&q);
		if (r < 0)
			return r;
		if ((r = fn(res, acc)) < 0)
			return r == -ENOMEM ? oom(err) : op_err_set(err, r, "%s: stopped after page %d", name, page + 1);
		trunc = aws_xml_text(res, "IsTruncated", &o);
		free(marker);
		marker = aws_xml_text(res, "Marker", &o);
		if (o)
			return oom(err);
		if (!trunc || !streq(trunc, "true"))
			return 0;
		if (!marker || !*marker)
			return op_err_set(err, -EPROTO, "%s: IsTruncated without a Marker", name);
	}
	return op_err_set(err, -E2BIG, "%s: more than %d pages", name, IAM_MAX_PAGES);
}

/* pages of IAM's default size (100) */
static int paginate(struct aws_client *c, enum aws_op op, const char *key, const char *value, page_fn fn, void *acc,
		    struct op_err *err)
{
	return paginate_max(c, op, key, value, NULL, fn, acc, err);
}

static int tags_page(const xmlNode *res, void *acc)
{
	return parse_tags(aws_xml_child(res, "Tags"), acc);
}

int iam_list_role_tags(struct aws_client *c, const char *role_name, struct aws_tag_list *ret, struct op_err *err)
{
	struct aws_tag_list l = { 0 };
	int r;

	if ((r = need(err, "ListRoleTags", "RoleName", role_name)) < 0)
		return r;
	r = paginate(c, AWS_OP_IAM_LIST_ROLE_TAGS, "RoleName", role_name, tags_page, &l, err);
	if (r < 0) {
		aws_tag_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}

/* --- inline policies ---------------------------------------------------------- */

int iam_put_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, const char *document,
			struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "PutRolePolicy", "RoleName", role_name)) < 0 ||
	    (r = need(err, "PutRolePolicy", "PolicyName", policy_name)) < 0 ||
	    (r = need(err, "PutRolePolicy", "PolicyDocument", document)) < 0)
		return r;
	aws_query_init(&q, "PutRolePolicy", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	aws_query_add(&q, "PolicyName", policy_name);
	aws_query_add(&q, "PolicyDocument", document);
	return simple(c, AWS_OP_IAM_PUT_ROLE_POLICY, &q, err);
}

int iam_get_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, char **ret,
			struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_query q;
	xmlNode *res;
	char *d = NULL;
	int r;

	if ((r = need(err, "GetRolePolicy", "RoleName", role_name)) < 0 ||
	    (r = need(err, "GetRolePolicy", "PolicyName", policy_name)) < 0)
		return r;
	aws_query_init(&q, "GetRolePolicy", AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	aws_query_add(&q, "PolicyName", policy_name);
	r = aws_query_call(c, AWS_OP_IAM_GET_ROLE_POLICY, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	if (decoded_text(res, "PolicyDocument", &d) < 0)
		return oom(err);
	if (!d)
		return op_err_set(err, -EPROTO, "GetRolePolicy: answer has no PolicyDocument");
	*ret = d;
	return 0;
}

static int role_and(struct aws_client *c, enum aws_op op, const char *role_name, const char *key, const char *value,
		    struct op_err *err)
{
	const char *name = aws_op_info(op)->name;
	struct aws_query q;
	int r;

	if ((r = need(err, name, "RoleName", role_name)) < 0 || (r = need(err, name, key, value)) < 0)
		return r;
	aws_query_init(&q, name, AWS_IAM_VERSION);
	aws_query_add(&q, "RoleName", role_name);
	aws_query_add(&q, key, value);
	return simple(c, op, &q, err);
}

int iam_delete_role_policy(struct aws_client *c, const char *role_name, const char *policy_name, struct op_err *err)
{
	return role_and(c, AWS_OP_IAM_DELETE_ROLE_POLICY, role_name, "PolicyName", policy_name, err);
}

static int names_page(const xmlNode *res, void *acc)
{
	struct aws_str_list *l = acc;

	for (xmlNode *m = aws_xml_child(aws_xml_child(res, "PolicyNames"), "member"); m; m = aws_xml_next_same(m))
		if (aws_str_list_push(l, aws_xml_text(m, NULL, NULL)) < 0)
			return -ENOMEM;
	return 0;
}

int iam_list_role_policies(struct aws_client *c, const char *role_name, struct aws_str_list *ret, struct op_err *err)
{
	struct aws_str_list l = { 0 };
	int r;

	if ((r = need(err, "ListRolePolicies", "RoleName", role_name)) < 0)
		return r;
	r = paginate(c, AWS_OP_IAM_LIST_ROLE_POLICIES, "RoleName", role_name, names_page, &l, err);
	if (r < 0) {
		aws_str_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}

/* --- managed policies ------------------------------------------------------- */

void iam_attached_policy_list_release(struct iam_attached_policy_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].arn);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int iam_attach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn, struct op_err *err)
{
	return role_and(c, AWS_OP_IAM_ATTACH_ROLE_POLICY, role_name, "PolicyArn", policy_arn, err);
}

int iam_detach_role_policy(struct aws_client *c, const char *role_name, const char *policy_arn, struct op_err *err)
{
	return role_and(c, AWS_OP_IAM_DETACH_ROLE_POLICY, role_name, "PolicyArn", policy_arn, err);
}

static int attached_page(const xmlNode *res, void *acc)
{
	struct iam_attached_policy_list *l = acc;

	for (xmlNode *m = aws_xml_child(aws_xml_child(res, "AttachedPolicies"), "member"); m;
	     m = aws_xml_next_same(m)) {
		struct iam_attached_policy *n = realloc(l->items, (l->n + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->items = n;
		n[l->n].name = aws_xml_text(m, "PolicyName", NULL);
		n[l->n].arn = aws_xml_text(m, "PolicyArn", NULL);
		l->n++;
		if (!n[l->n - 1].name || !n[l->n - 1].arn)
			return -ENOMEM;
	}
	return 0;
}

int iam_list_attached_role_policies(struct aws_client *c, const char *role_name, struct iam_attached_policy_list *ret,
				    struct op_err *err)
{
	struct iam_attached_policy_list l = { 0 };
	int r;

	if ((r = need(err, "ListAttachedRolePolicies", "RoleName", role_name)) < 0)
		return r;
	r = paginate(c, AWS_OP_IAM_LIST_ATTACHED_ROLE_POLICIES, "RoleName", role_name, attached_page, &l, err);
	if (r < 0) {
		iam_attached_policy_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}

int iam_put_role_permissions_boundary(struct aws_client *c, const char *role_name, const char *policy_arn,
				      struct op_err *err)
{
	return role_and(c, AWS_OP_IAM_PUT_ROLE_PERMISSIONS_BOUNDARY, role_name, "PermissionsBoundary", policy_arn,
			err);
}

int iam_delete_role_permissions_boundary(struct aws_client *c, const char *role_name, struct op_err *err)
{
	return role_only(c, AWS_OP_IAM_DELETE_ROLE_PERMISSIONS_BOUNDARY, role_name, err);
}

/* --- role listings (drift sweeps) ------------------------------------------------- */

struct detail_page {
	const char *list; /* "RoleDetailList" or "Roles" */
	iam_role_detail_fn fn;
	void *ctx;
};

static void role_detail_release(struct iam_role_detail *d)
{
	iam_role_free(d->role);
	aws_str_list_release(&d->inline_names);
	aws_str_list_release(&d->inline_docs);
	iam_attached_policy_list_release(&d->attached);
}

/* the policies of a GetAccountAuthorizationDetails RoleDetail */
static int parse_detail_policies(const xmlNode *m, struct iam_role_detail *d)
{
	for (xmlNode *p = aws_xml_child(aws_xml_child(m, "RolePolicyList"), "member"); p; p = aws_xml_next_same(p)) {
		bool o = false;
		char *name = aws_xml_text(p, "PolicyName", &o), *doc = NULL;

		if (!name && !o)
			continue; /* nameless: nothing to compare */
		if (aws_str_list_push(&d->inline_names, name) < 0 || decoded_text(p, "PolicyDocument", &doc) < 0 ||
		    aws_str_list_push(&d->inline_docs, doc ? doc : strdup("")) < 0)
			return -ENOMEM;
	}
	for (xmlNode *p = aws_xml_child(aws_xml_child(m, "AttachedManagedPolicies"), "member"); p;
	     p = aws_xml_next_same(p)) {
		struct iam_attached_policy *n = realloc(d->attached.items, (d->attached.n + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->attached.items = n;
		n[d->attached.n].name = aws_xml_text(p, "PolicyName", NULL);
		n[d->attached.n].arn = aws_xml_text(p, "PolicyArn", NULL);
		d->attached.n++;
		if (!n[d->attached.n - 1].name || !n[d->attached.n - 1].arn)
			return -ENOMEM;
	}
	d->has_policies = true;
	return 0;
}

static int detail_page(const xmlNode *res, void *acc)
{
	struct detail_page *dp = acc;
	bool gaad = streq(dp->list, "RoleDetailList");

	for (xmlNode *m = aws_xml_child(aws_xml_child(res, dp->list), "member"); m; m = aws_xml_next_same(m)) {
		struct iam_role_detail d = { 0 };
		struct op_err perr;
		int r;

		op_err_clear(&perr);
		r = parse_role(dp->list, m, &d.role, &perr);
		if (r == -EPROTO)
			continue; /* a member without a name or an ARN is nothing keyless could own */
		if (r >= 0 && gaad)
			r = parse_detail_policies(m, &d);
		if (r >= 0)
			r = dp->fn(&d, dp->ctx);
		role_detail_release(&d);
		if (r < 0)
			return r;
	}
	return 0;
}

int iam_list_roles(struct aws_client *c, const char *path_prefix, iam_role_detail_fn fn, void *ctx,
		   struct op_err *err)
{
	struct detail_page dp = { "Roles", fn, ctx };

	return paginate_max(c, AWS_OP_IAM_LIST_ROLES, "PathPrefix", path_prefix, IAM_LIST_MAX_ITEMS, detail_page, &dp,
			    err);
}

int iam_get_account_authorization_details_roles(struct aws_client *c, iam_role_detail_fn fn, void *ctx,
						struct op_err *err)
{
	struct detail_page dp = { "RoleDetailList", fn, ctx };

	return paginate_max(c, AWS_OP_IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS, "Filter.member.1", "Role",
			    IAM_LIST_MAX_ITEMS, detail_page, &dp, err);
}

/* --- OIDC providers ------------------------------------------------------------ */

void iam_oidc_provider_free(struct iam_oidc_provider *p)
{
	if (!p)
		return;
	free(p->arn);
	free(p->url);
	free(p->create_date);
	aws_str_list_release(&p->client_ids);
	aws_str_list_release(&p->thumbprints);
	aws_tag_list_release(&p->tags);
	free(p);
}

int iam_list_oidc_providers(struct aws_client *c, struct aws_str_list *ret, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_str_list l = { 0 };
	struct aws_query q;
	xmlNode *res;
	int r;

	aws_query_init(&q, "ListOpenIDConnectProviders", AWS_IAM_VERSION);
	r = aws_query_call(c, AWS_OP_IAM_LIST_OIDC_PROVIDERS, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	for (xmlNode *m = aws_xml_child(aws_xml_child(res, "OpenIDConnectProviderList"), "member"); m;
	     m = aws_xml_next_same(m)) {
		bool o = false;
		char *arn = aws_xml_text(m, "Arn", &o);

		if (o || (arn && aws_str_list_push(&l, arn) < 0)) {
			aws_str_list_release(&l);
			return oom(err);
		}
	}
	*ret = l;
	return 0;
}

static int str_members(const xmlNode *list, struct aws_str_list *out)
{
	for (xmlNode *m = aws_xml_child(list, "member"); m; m = aws_xml_next_same(m))
		if (aws_str_list_push(out, aws_xml_text(m, NULL, NULL)) < 0)
			return -ENOMEM;
	return 0;
}

int iam_get_oidc_provider(struct aws_client *c, const char *arn, struct iam_oidc_provider **ret, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	_cleanup_(iam_oidc_provider_freep) struct iam_oidc_provider *p = NULL;
	struct aws_query q;
	xmlNode *res;
	bool o = false;
	int r;

	if ((r = need(err, "GetOpenIDConnectProvider", "OpenIDConnectProviderArn", arn)) < 0)
		return r;
	aws_query_init(&q, "GetOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "OpenIDConnectProviderArn", arn);
	r = aws_query_call(c, AWS_OP_IAM_GET_OIDC_PROVIDER, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return oom(err);
	p->arn = strdup(arn);
	p->url = aws_xml_text(res, "Url", &o);
	p->create_date = aws_xml_text(res, "CreateDate", &o);
	if (o || !p->arn || str_members(aws_xml_child(res, "ClientIDList"), &p->client_ids) < 0 ||
	    str_members(aws_xml_child(res, "ThumbprintList"), &p->thumbprints) < 0 ||
	    parse_tags(aws_xml_child(res, "Tags"), &p->tags) < 0)
		return oom(err);
	*ret = TAKE_PTR(p);
	return 0;
}

int iam_create_oidc_provider(struct aws_client *c, const struct iam_create_oidc_provider_input *in, char **ret_arn,
			     struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_query q;
	xmlNode *res;
	char *arn;
	bool o = false;
	int r;

	if ((r = need(err, "CreateOpenIDConnectProvider", "Url", in ? in->url : NULL)) < 0)
		return r;
	aws_query_init(&q, "CreateOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "Url", in->url);
	for (size_t i = 0; i < in->n_client_ids; i++)
		aws_query_addf(&q, in->client_ids[i], "ClientIDList.member.%zu", i + 1);
	for (size_t i = 0; i < in->n_thumbprints; i++)
		aws_query_addf(&q, in->thumbprints[i], "ThumbprintList.member.%zu", i + 1);
	add_tags(&q, in->tags, in->n_tags);
	r = aws_query_call(c, AWS_OP_IAM_CREATE_OIDC_PROVIDER, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	arn = aws_xml_text(res, "OpenIDConnectProviderArn", &o);
	if (o)
		return oom(err);
	if (!arn || !*arn) {
		free(arn);
		return op_err_set(err, -EPROTO, "CreateOpenIDConnectProvider: answer has no OpenIDConnectProviderArn");
	}
	if (ret_arn)
		*ret_arn = arn;
	else
		free(arn);
	return 0;
}

int iam_add_client_id_to_oidc_provider(struct aws_client *c, const char *arn, const char *client_id,
				       struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "AddClientIDToOpenIDConnectProvider", "OpenIDConnectProviderArn", arn)) < 0 ||
	    (r = need(err, "AddClientIDToOpenIDConnectProvider", "ClientID", client_id)) < 0)
		return r;
	aws_query_init(&q, "AddClientIDToOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "OpenIDConnectProviderArn", arn);
	aws_query_add(&q, "ClientID", client_id);
	return simple(c, AWS_OP_IAM_ADD_CLIENT_ID_TO_OIDC_PROVIDER, &q, err);
}

int iam_tag_oidc_provider(struct aws_client *c, const char *arn, const struct aws_tag_in *tags, size_t n,
			  struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "TagOpenIDConnectProvider", "OpenIDConnectProviderArn", arn)) < 0)
		return r;
	aws_query_init(&q, "TagOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "OpenIDConnectProviderArn", arn);
	add_tags(&q, tags, n);
	return simple(c, AWS_OP_IAM_TAG_OIDC_PROVIDER, &q, err);
}

int iam_remove_client_id_from_oidc_provider(struct aws_client *c, const char *arn, const char *client_id,
					    struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "RemoveClientIDFromOpenIDConnectProvider", "OpenIDConnectProviderArn", arn)) < 0 ||
	    (r = need(err, "RemoveClientIDFromOpenIDConnectProvider", "ClientID", client_id)) < 0)
		return r;
	aws_query_init(&q, "RemoveClientIDFromOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "OpenIDConnectProviderArn", arn);
	aws_query_add(&q, "ClientID", client_id);
	return simple(c, AWS_OP_IAM_REMOVE_CLIENT_ID_FROM_OIDC_PROVIDER, &q, err);
}

int iam_untag_oidc_provider(struct aws_client *c, const char *arn, const char *const *keys, size_t n,
			    struct op_err *err)
{
	struct aws_query q;
	int r;

	if ((r = need(err, "UntagOpenIDConnectProvider", "OpenIDConnectProviderArn", arn)) < 0)
		return r;
	aws_query_init(&q, "UntagOpenIDConnectProvider", AWS_IAM_VERSION);
	aws_query_add(&q, "OpenIDConnectProviderArn", arn);
	add_tag_keys(&q, keys, n);
	return simple(c, AWS_OP_IAM_UNTAG_OIDC_PROVIDER, &q, err);
}

/* --- account summary ----------------------------------------------------------- */

void iam_account_summary_free(struct iam_account_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].key);
	free(s->items);
	free(s);
}

int iam_account_summary_get(const struct iam_account_summary *s, const char *key, long *ret)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (streq(s->items[i].key, key)) {
			*ret = s->items[i].value;
			return 0;
		}
	return -ENOENT;
}

int iam_get_account_summary(struct aws_client *c, struct iam_account_summary **ret, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	_cleanup_(iam_account_summary_freep) struct iam_account_summary *s = calloc(1, sizeof(*s));
	struct aws_query q;
	xmlNode *res;
	int r;

	if (!s)
		return oom(err);
	aws_query_init(&q, "GetAccountSummary", AWS_IAM_VERSION);
	r = aws_query_call(c, AWS_OP_IAM_GET_ACCOUNT_SUMMARY, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	for (xmlNode *e = aws_xml_child(aws_xml_child(res, "SummaryMap"), "entry"); e; e = aws_xml_next_same(e)) {
		_cleanup_free_ char *k = aws_xml_text(e, "key", NULL);
		_cleanup_free_ char *v = aws_xml_text(e, "value", NULL);
		struct iam_summary_entry *n;
		long val;

		if (!k || !v || str_to_long(v, -1, INT32_MAX, &val) < 0)
			continue;
		n = realloc(s->items, (s->n + 1) * sizeof(*n));
		if (!n)
			return oom(err);
		s->items = n;
		n[s->n].key = TAKE_PTR(k);
		n[s->n].value = val;
		s->n++;
	}
	*ret = TAKE_PTR(s);
	return 0;
}
