#include "fakes.h"
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/eks.h"
#include "aws/policy.h"
#include "base/b64.h"
#include "base/jwt.h"
#include "base/clock.h"
#include "base/macros.h"
#include "base/str.h"
#include "identity/diagnose.h"
#include "kube/project.h"

struct fake_aws *fake_aws_current;

/* --- AWS ----------------------------------------------------------------------- */

void fake_aws_role_drop(struct fake_role *r)
{
	free(r->trust);
	aws_tag_list_release(&r->tags);
	for (int j = 0; j < r->n_inline; j++) {
		free(r->inline_names[j]);
		free(r->inline_docs[j]);
	}
	for (int j = 0; j < r->n_attached; j++)
		free(r->attached[j]);
	memset(r, 0, sizeof(*r));
}

static void association_drop(struct fake_association *a)
{
	free(a->policy);
	aws_tag_list_release(&a->tags);
	memset(a, 0, sizeof(*a));
}

struct fake_association *fake_aws_association(struct fake_aws *f, const char *ns, const char *sa)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->assocs); i++) {
		if (f->assocs[i].used && streq(f->assocs[i].ns, ns) && streq(f->assocs[i].sa, sa))
			return &f->assocs[i];
	}
	return NULL;
}

void fake_aws_reset(struct fake_aws *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->assocs); i++)
		association_drop(&f->assocs[i]);
	for (int i = 0; i < FAKE_MAX; i++)
		fake_aws_role_drop(&f->roles[i]);
	for (int i = 0; i < f->n_client_ids; i++)
		free(f->client_ids[i]);
	aws_tag_list_release(&f->provider_tags);
	memset(f, 0, sizeof(*f));
}

struct fake_role *fake_aws_role(struct fake_aws *f, const char *name)
{
	for (int i = 0; i < FAKE_MAX; i++) {
		if (f->roles[i].used && streq(f->roles[i].name, name))
			return &f->roles[i];
	}
	return NULL;
}

void fake_aws_clear_calls(struct fake_aws *f)
{
	f->n_calls = f->writes = f->reads = 0;
}

const char *fake_aws_call_list(struct fake_aws *f, char *buf, size_t size)
{
	struct strfmt s = STRFMT_INIT(buf, size);

	buf[0] = '\0';
	for (int i = 0; i < f->n_calls; i++)
		strfmt_add(&s, "%s%s", i ? "," : "", f->calls[i]);
	return buf;
}

/* The fake account a client reaches: a test of another account passes that
 * account's struct fake_aws as the client; NULL is the world's. */
static struct fake_aws *fake_of(struct aws_client *c)
{
	return c ? (struct fake_aws *)(void *)c : fake_aws_current;
}

static const char *account_of(const struct fake_aws *f)
{
	return f->account[0] ? f->account : "123456789012";
}

/* Record a call; returns < 0 if the test asked it to fail. */
static int call(struct aws_client *c, const char *op, bool write, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);

	if (f->n_calls < 256)
		str_copy(f->calls[f->n_calls++], sizeof(f->calls[0]), op);
	if (write)
		f->writes++;
	else
		f->reads++;
	if (f->fail_times != 0 && streq(f->fail_op, op)) {
		if (f->fail_times > 0)
			f->fail_times--;
		return op_err_setr(err, f->fail_rc, f->fail_code, "injected failure of %s", op);
	}
	return 0;
}

static int no_role(const char *name, struct op_err *err)
{
	return op_err_setr(err, -ENOENT, "NoSuchEntity", "The role with name %s cannot be found.", name);
}

/* IAM tag keys are case-insensitive: a tag with an equal key replaces it. */
static void tags_set(struct aws_tag_list *l, const struct aws_tag_in *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < l->n; j++) {
			if (strcasecmp(l->items[j].key, tags[i].key) == 0) {
				free(l->items[j].value);
				l->items[j].value = strdup(tags[i].value);
				found = true;
			}
		}
		if (!found)
			aws_tag_list_add(l, tags[i].key, tags[i].value);
	}
}

void fake_tags_remove(struct aws_tag_list *l, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < l->n; j++) {
			if (strcasecmp(l->items[j].key, keys[i]) == 0) {
				free(l->items[j].key);
				free(l->items[j].value);
				l->items[j] = l->items[--l->n];
				break;
			}
		}
	}
}

static int f_list_oidc(struct aws_client *c, struct aws_str_list *ret, struct op_err *err)
{
	int r = call(c, "ListOpenIDConnectProviders", false, err);

	(void)c;
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	if (fake_of(c)->have_provider)
		aws_str_list_add(ret, fake_of(c)->provider_arn);
	return 0;
}

static int f_get_oidc(struct aws_client *c, const char *arn, struct iam_oidc_provider **ret, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	struct iam_oidc_provider *p;
	int r = call(c, "GetOpenIDConnectProvider", false, err);

	(void)c;
	if (r < 0)
		return r;
	if (!f->have_provider || !streq(arn, f->provider_arn))
		return op_err_setr(err, -ENOENT, "NoSuchEntity", "no provider %s", arn);
	p = calloc(1, sizeof(*p));
	p->arn = strdup(arn);
	p->url = strdup(f->provider_url);
	for (int i = 0; i < f->n_client_ids; i++)
		aws_str_list_add(&p->client_ids, f->client_ids[i]);
	for (size_t i = 0; i < f->provider_tags.n; i++)
		aws_tag_list_add(&p->tags, f->provider_tags.items[i].key, f->provider_tags.items[i].value);
	*ret = p;
	return 0;
}

static int f_create_oidc(struct aws_client *c, const struct iam_create_oidc_provider_input *in, char **ret,
			 struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = call(c, "CreateOpenIDConnectProvider", true, err);

	(void)c;
	if (r < 0)
		return r;
	f->have_provider = true;
	str_copy(f->provider_url, sizeof(f->provider_url), in->url + (str_startswith(in->url, "https://") ? 8 : 0));
	str_format(f->provider_arn, sizeof(f->provider_arn), "arn:aws:iam::%s:oidc-provider/%s", account_of(f), f->provider_url);
	for (size_t i = 0; i < in->n_client_ids && f->n_client_ids < 8; i++)
		f->client_ids[f->n_client_ids++] = strdup(in->client_ids[i]);
	tags_set(&f->provider_tags, in->tags, in->n_tags);
	*ret = strdup(f->provider_arn);
	return 0;
}

/* Record a write on the provider `arn`; < 0 if injected or no such provider. */
static int provider_call(struct aws_client *c, const char *op, const char *arn, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = call(c, op, true, err);

	if (r < 0)
		return r;
	if (!f->have_provider || !streq(arn, f->provider_arn))
		return op_err_setr(err, -ENOENT, "NoSuchEntity", "OpenIDConnect Provider not found for arn %s", arn);
	return 0;
}

static int f_add_client(struct aws_client *c, const char *arn, const char *id, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = provider_call(c, "AddClientIDToOpenIDConnectProvider", arn, err);

	(void)c;
	if (r < 0)
		return r;
	for (int i = 0; i < f->n_client_ids; i++) {
		if (streq(f->client_ids[i], id))
			return 0; /* IAM: adding a present client id is a no-op */
	}
	if (f->n_client_ids == 8)
		return op_err_setr(err, -E2BIG, "LimitExceeded", "too many client ids (fake: 8)");
	f->client_ids[f->n_client_ids++] = strdup(id);
	return 0;
}

static int f_remove_client(struct aws_client *c, const char *arn, const char *id, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = provider_call(c, "RemoveClientIDFromOpenIDConnectProvider", arn, err);

	(void)c;
	if (r < 0)
		return r;
	for (int i = 0; i < f->n_client_ids; i++) {
		if (streq(f->client_ids[i], id)) {
			free(f->client_ids[i]);
			memmove(&f->client_ids[i], &f->client_ids[i + 1], (size_t)(f->n_client_ids - i - 1) * sizeof(char *));
			f->n_client_ids--;
			break;
		}
	}
	return 0;
}

static int f_tag_oidc(struct aws_client *c, const char *arn, const struct aws_tag_in *tags, size_t n,
		      struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = provider_call(c, "TagOpenIDConnectProvider", arn, err);

	(void)c;
	if (r < 0)
		return r;
	tags_set(&f->provider_tags, tags, n);
	return 0;
}

static int f_untag_oidc(struct aws_client *c, const char *arn, const char *const *keys, size_t n, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int r = provider_call(c, "UntagOpenIDConnectProvider", arn, err);

	(void)c;
	if (r < 0)
		return r;
	fake_tags_remove(&f->provider_tags, keys, n);
	return 0;
}

/* the role as GetRole returns it */
static struct iam_role *role_of(const struct fake_role *fr)
{
	struct iam_role *r = calloc(1, sizeof(*r));

	r->role_name = strdup(fr->name);
	r->arn = strdup(fr->arn);
	r->path = strdup(fr->path);
	r->description = fr->description[0] ? strdup(fr->description) : NULL;
	r->assume_role_policy = strdup(fr->trust);
	r->max_session_duration = fr->max_session;
	r->permissions_boundary_arn = fr->boundary[0] ? strdup(fr->boundary) : NULL;
	for (size_t i = 0; i < fr->tags.n; i++)
		aws_tag_list_add(&r->tags, fr->tags.items[i].key, fr->tags.items[i].value);
	return r;
}

static int f_get_role(struct aws_client *c, const char *name, struct iam_role **ret, struct op_err *err)
{
	struct fake_role *fr;
	int rc = call(c, "GetRole", false, err);

	(void)c;
	if (rc < 0)
		return rc;
	fr = fake_aws_role(fake_of(c), name);
	if (!fr)
		return no_role(name, err);
	*ret = role_of(fr);
	return 0;
}

/* One page with every role: ListRoles (path prefix; no tags, boundary or
 * policies) or GetAccountAuthorizationDetails (no description or maximum
 * session duration), as IAM answers them. */
static int list_roles(struct aws_client *c, const char *op, const char *prefix, bool details, iam_role_detail_fn fn,
		      void *ctx, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int rc = call(c, op, false, err);

	if (rc < 0)
		return rc;
	for (int i = 0; i < FAKE_MAX && rc >= 0; i++) {
		const struct fake_role *fr = &f->roles[i];
		struct iam_role_detail d = { 0 };

		if (!fr->used || (prefix && !str_startswith(fr->path, prefix)))
			continue;
		d.role = role_of(fr);
		if (details) {
			free(d.role->description);
			d.role->description = NULL;
			d.role->max_session_duration = 0;
			d.has_policies = true;
			for (int j = 0; j < fr->n_inline; j++) {
				aws_str_list_add(&d.inline_names, fr->inline_names[j]);
				aws_str_list_add(&d.inline_docs, fr->inline_docs[j]);
			}
			d.attached.items = calloc((size_t)fr->n_attached + 1, sizeof(*d.attached.items));
			for (int j = 0; j < fr->n_attached; j++)
				d.attached.items[d.attached.n++] = (struct iam_attached_policy){ strdup("p"),
												  strdup(fr->attached[j]) };
		} else {
			free(d.role->permissions_boundary_arn);
			d.role->permissions_boundary_arn = NULL;
			aws_tag_list_release(&d.role->tags);
		}
		rc = fn(&d, ctx);
		iam_role_free(d.role);
		aws_str_list_release(&d.inline_names);
		aws_str_list_release(&d.inline_docs);
		iam_attached_policy_list_release(&d.attached);
	}
	return rc < 0 ? op_err_set(err, rc, "%s: stopped", op) : 0;
}

static int f_list_roles(struct aws_client *c, const char *prefix, iam_role_detail_fn fn, void *ctx,
			struct op_err *err)
{
	(void)c;
	return list_roles(c, "ListRoles", prefix ? prefix : "/", false, fn, ctx, err);
}

static int f_gaad_roles(struct aws_client *c, iam_role_detail_fn fn, void *ctx, struct op_err *err)
{
	(void)c;
	return list_roles(c, "GetAccountAuthorizationDetails", NULL, true, fn, ctx, err);
}

static int f_create_role(struct aws_client *c, const struct iam_create_role_input *in, struct iam_role **ret,
			 struct op_err *err)
{
	struct fake_role *fr = NULL;
	int rc = call(c, "CreateRole", true, err);

	(void)c;
	if (rc < 0)
		return rc;
	if (fake_aws_role(fake_of(c), in->role_name))
		return op_err_setr(err, -EEXIST, "EntityAlreadyExists", "Role with name %s already exists.", in->role_name);
	for (int i = 0; i < FAKE_MAX && !fr; i++) {
		if (!fake_of(c)->roles[i].used)
			fr = &fake_of(c)->roles[i];
	}
	fr->used = true;
	str_copy(fr->name, sizeof(fr->name), in->role_name);
	str_copy(fr->path, sizeof(fr->path), in->path ? in->path : "/");
	str_format(fr->arn, sizeof(fr->arn), "arn:aws:iam::%s:role%s%s", account_of(fake_of(c)), fr->path, fr->name);
	str_copy(fr->description, sizeof(fr->description), in->description ? in->description : "");
	str_copy(fr->boundary, sizeof(fr->boundary), in->permissions_boundary ? in->permissions_boundary : "");
	fr->trust = strdup(in->assume_role_policy);
	fr->max_session = in->max_session_duration ? in->max_session_duration : 3600;
	for (size_t i = 0; i < in->n_tags; i++)
		aws_tag_list_add(&fr->tags, in->tags[i].key, in->tags[i].value);
	if (ret)
		return f_get_role(c, in->role_name, ret, err) < 0 ? -EIO : (fake_of(c)->n_calls--, fake_of(c)->reads--, 0);
	return 0;
}

#define ROLE_OR_FAIL(op, write)                                   \
	struct fake_role *fr;                                     \
	int rc = call(c, op, write, err);                            \
	(void)c;                                                  \
	if (rc < 0)                                               \
		return rc;                                        \
	fr = fake_aws_role(fake_of(c), name);               \
	if (!fr)                                                  \
		return no_role(name, err)

static int f_update_role(struct aws_client *c, const char *name, const char *desc, int max, struct op_err *err)
{
	ROLE_OR_FAIL("UpdateRole", true);
	if (desc)
		str_copy(fr->description, sizeof(fr->description), desc);
	if (max)
		fr->max_session = max;
	return 0;
}

static int f_update_trust(struct aws_client *c, const char *name, const char *doc, struct op_err *err)
{
	ROLE_OR_FAIL("UpdateAssumeRolePolicy", true);
	free(fr->trust);
	fr->trust = strdup(doc);
	return 0;
}

static int f_delete_role(struct aws_client *c, const char *name, struct op_err *err)
{
	ROLE_OR_FAIL("DeleteRole", true);
	if (fr->n_inline || fr->n_attached)
		return op_err_setr(err, -EBUSY, "DeleteConflict", "Cannot delete entity, must delete policies first.");
	free(fr->trust);
	aws_tag_list_release(&fr->tags);
	memset(fr, 0, sizeof(*fr));
	return 0;
}

static int f_tag_role(struct aws_client *c, const char *name, const struct aws_tag_in *tags, size_t n,
		      struct op_err *err)
{
	ROLE_OR_FAIL("TagRole", true);
	tags_set(&fr->tags, tags, n);
	return 0;
}

static int f_untag_role(struct aws_client *c, const char *name, const char *const *keys, size_t n, struct op_err *err)
{
	ROLE_OR_FAIL("UntagRole", true);
	fake_tags_remove(&fr->tags, keys, n);
	return 0;
}

static int inline_index(struct fake_role *fr, const char *pname)
{
	for (int i = 0; i < fr->n_inline; i++) {
		if (streq(fr->inline_names[i], pname))
			return i;
	}
	return -1;
}

static int f_put_policy(struct aws_client *c, const char *name, const char *pname, const char *doc, struct op_err *err)
{
	int i;

	ROLE_OR_FAIL("PutRolePolicy", true);
	i = inline_index(fr, pname);
	if (i < 0) {
		i = fr->n_inline++;
		fr->inline_names[i] = strdup(pname);
	} else {
		free(fr->inline_docs[i]);
	}
	fr->inline_docs[i] = strdup(doc);
	return 0;
}

static int f_get_policy(struct aws_client *c, const char *name, const char *pname, char **ret, struct op_err *err)
{
	int i;

	ROLE_OR_FAIL("GetRolePolicy", false);
	i = inline_index(fr, pname);
	if (i < 0)
		return op_err_setr(err, -ENOENT, "NoSuchEntity", "no policy %s", pname);
	*ret = strdup(fr->inline_docs[i]);
	return 0;
}

static int f_delete_policy(struct aws_client *c, const char *name, const char *pname, struct op_err *err)
{
	int i;

	ROLE_OR_FAIL("DeleteRolePolicy", true);
	i = inline_index(fr, pname);
	if (i < 0)
		return op_err_setr(err, -ENOENT, "NoSuchEntity", "no policy %s", pname);
	free(fr->inline_names[i]);
	free(fr->inline_docs[i]);
	fr->n_inline--;
	fr->inline_names[i] = fr->inline_names[fr->n_inline];
	fr->inline_docs[i] = fr->inline_docs[fr->n_inline];
	return 0;
}

static int f_list_policies(struct aws_client *c, const char *name, struct aws_str_list *ret, struct op_err *err)
{
	ROLE_OR_FAIL("ListRolePolicies", false);
	memset(ret, 0, sizeof(*ret));
	for (int i = 0; i < fr->n_inline; i++)
		aws_str_list_add(ret, fr->inline_names[i]);
	return 0;
}

static int f_attach(struct aws_client *c, const char *name, const char *arn, struct op_err *err)
{
	ROLE_OR_FAIL("AttachRolePolicy", true);
	for (int i = 0; i < fr->n_attached; i++) {
		if (streq(fr->attached[i], arn))
			return 0;
	}
	fr->attached[fr->n_attached++] = strdup(arn);
	return 0;
}

static int f_detach(struct aws_client *c, const char *name, const char *arn, struct op_err *err)
{
	ROLE_OR_FAIL("DetachRolePolicy", true);
	for (int i = 0; i < fr->n_attached; i++) {
		if (streq(fr->attached[i], arn)) {
			free(fr->attached[i]);
			fr->attached[i] = fr->attached[--fr->n_attached];
			return 0;
		}
	}
	return op_err_setr(err, -ENOENT, "NoSuchEntity", "not attached");
}

static int f_list_attached(struct aws_client *c, const char *name, struct iam_attached_policy_list *ret,
			   struct op_err *err)
{
	ROLE_OR_FAIL("ListAttachedRolePolicies", false);
	memset(ret, 0, sizeof(*ret));
	ret->items = calloc((size_t)fr->n_attached + 1, sizeof(*ret->items));
	for (int i = 0; i < fr->n_attached; i++) {
		const char *slash = strrchr(fr->attached[i], '/');

		ret->items[i].arn = strdup(fr->attached[i]);
		ret->items[i].name = strdup(slash ? slash + 1 : fr->attached[i]);
	}
	ret->n = (size_t)fr->n_attached;
	return 0;
}

static int f_put_boundary(struct aws_client *c, const char *name, const char *arn, struct op_err *err)
{
	ROLE_OR_FAIL("PutRolePermissionsBoundary", true);
	str_copy(fr->boundary, sizeof(fr->boundary), arn);
	return 0;
}

static int f_delete_boundary(struct aws_client *c, const char *name, struct op_err *err)
{
	ROLE_OR_FAIL("DeleteRolePermissionsBoundary", true);
	fr->boundary[0] = '\0';
	return 0;
}

/* --- EKS pod identity associations ---------------------------------------------- */

static struct fake_association *assoc_by_id(const char *cluster, const char *id)
{
	struct fake_aws *f = fake_aws_current;

	for (size_t i = 0; i < ARRAY_SIZE(f->assocs); i++) {
		if (f->assocs[i].used && streq(f->assocs[i].id, id) && streq(f->assocs[i].cluster, cluster))
			return &f->assocs[i];
	}
	return NULL;
}

static int assoc_out(const struct fake_association *a, struct eks_pod_identity_association **ret)
{
	struct eks_pod_identity_association *x;

	if (!ret)
		return 0;
	x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->cluster_name = strdup(a->cluster);
	x->namespace_name = strdup(a->ns);
	x->service_account = strdup(a->sa);
	x->role_arn = strdup(a->role_arn);
	x->association_id = strdup(a->id);
	x->association_arn = strdup(a->id);
	x->target_role_arn = a->target_role_arn[0] ? strdup(a->target_role_arn) : NULL;
	x->policy = a->policy ? strdup(a->policy) : NULL;
	x->disable_session_tags = a->disable_session_tags;
	x->created_at_ns = a->created_ns;
	for (size_t i = 0; i < a->tags.n; i++)
		aws_tag_list_add(&x->tags, a->tags.items[i].key, a->tags.items[i].value);
	*ret = x;
	return 0;
}

static int f_create_assoc(struct aws_client *c, const struct eks_create_pod_identity_association_input *in,
			  struct eks_pod_identity_association **ret, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	struct fake_association *a = NULL;
	int rc = call(c, "CreatePodIdentityAssociation", true, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(f->assocs); i++) {
		const struct fake_association *o = &f->assocs[i];

		if (o->used && streq(o->cluster, in->cluster_name) && streq(o->ns, in->namespace_name) &&
		    streq(o->sa, in->service_account))
			return op_err_setr(err, -EEXIST, "ResourceInUseException", "Association already exists");
	}
	if (in->policy && !in->disable_session_tags)
		return op_err_setr(err, -EINVAL, "InvalidParameterException",
				   "disableSessionTags must be true when a policy is given");
	for (size_t i = 0; i < ARRAY_SIZE(f->assocs) && !a; i++) {
		if (!f->assocs[i].used)
			a = &f->assocs[i];
	}
	assert_non_null(a);
	a->used = true;
	str_format(a->id, sizeof(a->id), "a-fake%012d", ++f->next_assoc);
	str_copy(a->cluster, sizeof(a->cluster), in->cluster_name);
	str_copy(a->ns, sizeof(a->ns), in->namespace_name);
	str_copy(a->sa, sizeof(a->sa), in->service_account);
	str_copy(a->role_arn, sizeof(a->role_arn), in->role_arn);
	str_copy(a->target_role_arn, sizeof(a->target_role_arn), in->target_role_arn ? in->target_role_arn : "");
	a->policy = in->policy ? strdup(in->policy) : NULL;
	a->disable_session_tags = in->disable_session_tags;
	a->created_ns = INT64_C(1767225600) * NSEC_PER_SEC + f->next_assoc * NSEC_PER_SEC; /* 2026-01-01 + n s */
	for (size_t i = 0; i < in->n_tags; i++)
		aws_tag_list_add(&a->tags, in->tags[i].key, in->tags[i].value);
	return assoc_out(a, ret);
}

static int f_describe_assoc(struct aws_client *c, const char *cluster, const char *id,
			    struct eks_pod_identity_association **ret, struct op_err *err)
{
	struct fake_association *a;
	int rc = call(c, "DescribePodIdentityAssociation", false, err);

	if (rc < 0)
		return rc;
	a = assoc_by_id(cluster, id);
	if (!a)
		return op_err_setr(err, -ENOENT, "ResourceNotFoundException", "No association %s", id);
	return assoc_out(a, ret);
}

static int f_update_assoc(struct aws_client *c, const struct eks_update_pod_identity_association_input *in,
			  struct eks_pod_identity_association **ret, struct op_err *err)
{
	struct fake_association *a;
	int rc = call(c, "UpdatePodIdentityAssociation", true, err);

	if (rc < 0)
		return rc;
	a = assoc_by_id(in->cluster_name, in->association_id);
	if (!a)
		return op_err_setr(err, -ENOENT, "ResourceNotFoundException", "No association");
	if (in->role_arn)
		str_copy(a->role_arn, sizeof(a->role_arn), in->role_arn);
	if (in->target_role_arn)
		str_copy(a->target_role_arn, sizeof(a->target_role_arn), in->target_role_arn);
	if (in->policy) {
		free(a->policy);
		a->policy = strdup(in->policy);
	}
	if (in->disable_session_tags != EKS_BOOL_UNCHANGED)
		a->disable_session_tags = in->disable_session_tags == EKS_BOOL_TRUE;
	return assoc_out(a, ret);
}

static int f_delete_assoc(struct aws_client *c, const char *cluster, const char *id,
			  struct eks_pod_identity_association **ret, struct op_err *err)
{
	struct fake_association *a;
	int rc = call(c, "DeletePodIdentityAssociation", true, err);

	if (rc < 0)
		return rc;
	a = assoc_by_id(cluster, id);
	if (!a)
		return op_err_setr(err, -ENOENT, "ResourceNotFoundException", "No association");
	rc = assoc_out(a, ret);
	association_drop(a);
	return rc;
}

static int f_list_assoc(struct aws_client *c, const char *cluster, const char *ns, const char *sa, int max,
			struct eks_pod_identity_association_list *ret, struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	int rc = call(c, "ListPodIdentityAssociations", false, err);

	if (rc < 0)
		return rc;
	memset(ret, 0, sizeof(*ret));
	ret->items = calloc(ARRAY_SIZE(f->assocs), sizeof(*ret->items));
	assert_non_null(ret->items);
	for (size_t i = 0; i < ARRAY_SIZE(f->assocs); i++) {
		const struct fake_association *a = &f->assocs[i];

		if (!a->used || !streq(a->cluster, cluster) || (ns && !streq(a->ns, ns)) || (sa && !streq(a->sa, sa)))
			continue;
		ret->items[ret->n].cluster_name = strdup(a->cluster);
		ret->items[ret->n].namespace_name = strdup(a->ns);
		ret->items[ret->n].service_account = strdup(a->sa);
		ret->items[ret->n].association_id = strdup(a->id);
		ret->items[ret->n].association_arn = strdup(a->id);
		ret->n++;
	}
	return 0;
}

/* sts:AssumeRoleWithWebIdentity: the role's trust policy against the
 * token's claims (identity/diagnose.c, which follows AWS's rules). */
static int f_assume_web(struct aws_client *c, const struct sts_assume_role_input *in, struct sts_assumed_role **ret,
			struct op_err *err)
{
	struct fake_aws *f = fake_of(c);
	const char *name = strrchr(in->role_arn, '/'), *iss, *host;
	json_auto_t *claims = jwt_payload(in->web_identity_token);
	struct fake_role *fr;
	struct trust_diagnosis d;
	char provider[700];
	int rc = call(c, "AssumeRoleWithWebIdentity", false, err);

	if (rc < 0)
		return rc;
	if (!claims)
		return op_err_setr(err, -EINVAL, "InvalidIdentityToken", "not a JWT");
	iss = json_string_value(json_object_get(claims, "iss"));
	host = iss && str_startswith(iss, "https://") ? iss + 8 : "";
	fr = name ? fake_aws_role(f, name + 1) : NULL;
	if (!fr)
		return op_err_setr(err, -EACCES, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
	str_format(provider, sizeof(provider), "arn:aws:iam::%s:oidc-provider/%s", account_of(f), host);
	diagnose_web_identity(fr->trust, &(struct web_identity_claims){ provider, host,
		json_string_value(json_object_get(claims, "sub")) ?: "",
		jwt_first_audience(claims) ?: "" }, &d);
	if (!d.allowed)
		return op_err_setr(err, -EACCES, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
	*ret = calloc(1, sizeof(**ret));
	(*ret)->access_key_id = strdup("ASIAFAKE");
	(*ret)->secret_access_key = strdup("fake-secret");
	(*ret)->session_token = strdup("fake-session");
	return 0;
}

const struct aws_api fake_aws_api = {
	.sts_assume_role_with_web_identity = f_assume_web,
	.eks_create_pod_identity_association = f_create_assoc,
	.eks_describe_pod_identity_association = f_describe_assoc,
	.eks_update_pod_identity_association = f_update_assoc,
	.eks_delete_pod_identity_association = f_delete_assoc,
	.eks_list_pod_identity_associations = f_list_assoc,
	.iam_list_oidc_providers = f_list_oidc,
	.iam_get_oidc_provider = f_get_oidc,
	.iam_create_oidc_provider = f_create_oidc,
	.iam_add_client_id_to_oidc_provider = f_add_client,
	.iam_tag_oidc_provider = f_tag_oidc,
	.iam_remove_client_id_from_oidc_provider = f_remove_client,
	.iam_untag_oidc_provider = f_untag_oidc,
	.iam_get_role = f_get_role,
	.iam_create_role = f_create_role,
	.iam_update_role = f_update_role,
	.iam_update_assume_role_policy = f_update_trust,
	.iam_delete_role = f_delete_role,
	.iam_tag_role = f_tag_role,
	.iam_untag_role = f_untag_role,
	.iam_put_role_policy = f_put_policy,
	.iam_get_role_policy = f_get_policy,
	.iam_delete_role_policy = f_delete_policy,
	.iam_list_role_policies = f_list_policies,
	.iam_attach_role_policy = f_attach,
	.iam_detach_role_policy = f_detach,
	.iam_list_attached_role_policies = f_list_attached,
	.iam_put_role_permissions_boundary = f_put_boundary,
	.iam_delete_role_permissions_boundary = f_delete_boundary,
	.iam_list_roles = f_list_roles,
	.iam_get_account_authorization_details_roles = f_gaad_roles,
};

/* --- Kubernetes -------------------------------------------------------------------- */

void fake_kube_init(struct fake_kube *k)
{
	memset(k, 0, sizeof(*k));
	k->objects = json_object();
	k->pods = kube_cache_new(&KUBE_KIND_POD);
	k->sas = kube_cache_new(&KUBE_KIND_SERVICEACCOUNT);
	k->wis = kube_cache_new(&KUBE_KIND_WORKLOADIDENTITY);
}

void fake_kube_release(struct fake_kube *k)
{
	json_decref(k->objects);
	kube_cache_free(k->pods);
	kube_cache_free(k->sas);
	kube_cache_free(k->wis);
}

static void key_of(const struct kube_resource *r, const char *ns, const char *name, char *out, size_t size)
{
	str_format(out, size, "%s/%s/%s", r->plural, ns ? ns : "", name);
}

static struct kube_cache *cache_of(struct fake_kube *k, const struct kube_resource *r)
{
	if (r == &KUBE_PODS)
		return k->pods;
	if (r == &KUBE_SERVICEACCOUNTS)
		return k->sas;
	if (r == &KUBE_WORKLOADIDENTITIES)
		return k->wis;
	return NULL;
}

/* What an informer would do after a write. */
static void feed(struct fake_kube *k, const struct kube_resource *r, const char *ns, const char *name)
{
	struct kube_cache *c = cache_of(k, r);
	json_t *o = fake_kube_obj(k, r, ns, name);
	struct kube_change ch = { 0 };

	if (!c)
		return;
	if (o)
		kube_cache_upsert_json(c, o, &ch);
	else
		kube_cache_delete(c, ns, name, &ch);
	if (k->on_change && ch.type != KUBE_CHANGE_NONE)
		k->on_change(k->on_change_ctx, r, &ch);
	kube_change_release(&ch);
}

static void bump_rv(json_t *obj)
{
	static int rv = 100;
	char buf[16];

	str_format(buf, sizeof(buf), "%d", ++rv);
	json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion", json_string(buf));
}

void fake_kube_put(struct fake_kube *k, const struct kube_resource *r, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	char key[512];

	key_of(r, ns, name, key, sizeof(key));
	if (!json_object_get(meta, "resourceVersion"))
		bump_rv(obj);
	json_object_set_new(k->objects, key, obj);
	feed(k, r, ns, name);
}

json_t *fake_kube_obj(struct fake_kube *k, const struct kube_resource *r, const char *ns, const char *name)
{
	char key[512];

	key_of(r, ns, name, key, sizeof(key));
	return json_object_get(k->objects, key);
}

void fake_kube_clear_calls(struct fake_kube *k)
{
	k->n_calls = k->writes = k->n_events = 0;
}

int fake_kube_count_calls(struct fake_kube *k, const char *prefix)
{
	int n = 0;

	for (int i = 0; i < k->n_calls; i++)
		n += str_startswith(k->calls[i], prefix);
	return n;
}

bool fake_kube_has_event(struct fake_kube *k, const char *reason)
{
	for (int i = 0; i < k->n_events; i++) {
		if (strstr(k->events[i], reason))
			return true;
	}
	return false;
}

static void record(struct fake_kube *k, const char *verb, const struct kube_resource *r, const char *name, bool write)
{
	if (k->n_calls < 256)
		str_format(k->calls[k->n_calls++], sizeof(k->calls[0]), "%s %s/%s", verb, r->plural, name);
	if (write)
		k->writes++;
}

static int fk_get(void *ctx, const struct kube_resource *r, const char *ns, const char *name, json_t **ret,
		  struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_t *o = fake_kube_obj(k, r, ns, name);

	record(k, "get", r, name, false);
	if (k->fail_get_rc && k->fail_get_res == r)
		return op_err_set(err, k->fail_get_rc, "injected failure");
	if (!o)
		return op_err_setr(err, -ENOENT, "NotFound", "%s \"%s\" not found", r->plural, name);
	*ret = json_deep_copy(o);
	return 0;
}

/* RFC 7386 JSON merge patch. */
static void merge(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v) {
		if (json_is_null(v)) {
			json_object_del(target, key);
		} else if (json_is_object(v)) {
			json_t *t = json_object_get(target, key);

			if (!json_is_object(t)) {
				t = json_object();
				json_object_set_new(target, key, t);
			}
			merge(t, v);
		} else {
			json_object_set(target, key, v);
		}
	}
}

static int fk_merge_patch(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *sub,
			  const char *patch, struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_t *o = fake_kube_obj(k, r, ns, name);
	json_auto_t *p = json_loads(patch, 0, NULL);
	const char *want_rv;

	record(k, sub ? "patch-status" : "patch", r, name, true);
	if (k->fail_writes_rc && (!k->fail_write_res || k->fail_write_res == r))
		return op_err_set(err, k->fail_writes_rc, "injected failure");
	if (!o)
		return op_err_setr(err, -ENOENT, "NotFound", "not found");
	assert_non_null(p);
	want_rv = json_string_value(json_object_get(json_object_get(p, "metadata"), "resourceVersion"));
	if (want_rv && !streq(want_rv, json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"))))
		return op_err_setr(err, -ESTALE, "Conflict", "the object has been modified");
	if (sub) {
		/* the status subresource ignores everything but status */
		json_t *st = json_object_get(p, "status");

		if (st) {
			if (!json_is_object(json_object_get(o, "status")))
				json_object_set_new(o, "status", json_object());
			merge(json_object_get(o, "status"), st);
		}
	} else {
		merge(o, p);
		json_object_del(o, "_unused");
	}
	bump_rv(o);
	feed(k, r, ns, name);
	return 0;
}

/* --- server-side apply, minimally: field ownership of annotations and
 * ownerReferences, in the API server's managedFields format -------------- */

static json_t *manager_entry(json_t *obj, const char *manager, const char *operation, bool create)
{
	json_t *meta = json_object_get(obj, "metadata"), *mf = json_object_get(meta, "managedFields"), *e;
	size_t i;

	json_array_foreach(mf, i, e) {
		if (streq(json_string_value(json_object_get(e, "manager")) ?: "", manager) &&
		    streq(json_string_value(json_object_get(e, "operation")) ?: "", operation))
			return e;
	}
	if (!create)
		return NULL;
	if (!mf) {
		mf = json_array();
		json_object_set_new(meta, "managedFields", mf);
	}
	e = json_pack("{s:s, s:s, s:s, s:s, s:{s:{}}}", "manager", manager, "operation", operation, "apiVersion", "v1",
		      "fieldsType", "FieldsV1", "fieldsV1", "f:metadata");
	json_array_append_new(mf, e);
	return e;
}

/* The set of an entry's fields of one kind ("f:annotations" or
 * "f:ownerReferences"), created on demand. */
static json_t *entry_fields(json_t *e, const char *kind)
{
	json_t *m = json_object_get(json_object_get(e, "fieldsV1"), "f:metadata"), *f = json_object_get(m, kind);

	if (!f) {
		f = json_object();
		json_object_set_new(m, kind, f);
	}
	return f;
}

static void owner_ref_key(const char *uid, char *out, size_t size)
{
	str_format(out, size, "k:{\"uid\":\"%s\"}", uid);
}

/* Does a manager other than (manager, operation) own the field? */
static bool owned_by_other(json_t *obj, const char *kind, const char *fkey, const char *manager, const char *op)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, e) {
		if (streq(json_string_value(json_object_get(e, "manager")) ?: "", manager) &&
		    streq(json_string_value(json_object_get(e, "operation")) ?: "", op))
			continue;
		if (json_object_get(json_object_get(json_object_get(json_object_get(e, "fieldsV1"), "f:metadata"), kind), fkey))
			return true;
	}
	return false;
}

/* Take a field from every other manager (a changed value, or force). */
static void disown_others(json_t *obj, const char *kind, const char *fkey, const char *manager, const char *op)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, e) {
		if (streq(json_string_value(json_object_get(e, "manager")) ?: "", manager) &&
		    streq(json_string_value(json_object_get(e, "operation")) ?: "", op))
			continue;
		json_object_del(json_object_get(json_object_get(json_object_get(e, "fieldsV1"), "f:metadata"), kind), fkey);
	}
}

static json_t *owner_ref_with_uid(json_t *refs, const char *uid, size_t *ret_i)
{
	json_t *r;
	size_t i;

	json_array_foreach(refs, i, r) {
		if (streq(json_string_value(json_object_get(r, "uid")) ?: "", uid)) {
			if (ret_i)
				*ret_i = i;
			return r;
		}
	}
	return NULL;
}

/* Server-side apply by `manager` with force: the fields it applies become
 * exactly its own (taken from others where the value differs, shared where it
 * is equal); fields it applied before and omits now are removed unless
 * another manager still owns them. */
static void ssa_apply(json_t *o, json_t *body, const char *manager)
{
	json_t *meta = json_object_get(o, "metadata"), *bmeta = json_object_get(body, "metadata");
	json_t *ann = json_object_get(meta, "annotations"), *bann = json_object_get(bmeta, "annotations");
	json_t *refs = json_object_get(meta, "ownerReferences"), *brefs = json_object_get(bmeta, "ownerReferences");
	json_t *e = manager_entry(o, manager, "Apply", true);
	json_auto_t *prev_ann = json_deep_copy(entry_fields(e, "f:annotations"));
	json_auto_t *prev_refs = json_deep_copy(entry_fields(e, "f:ownerReferences"));
	json_t *mine_ann = json_object(), *mine_refs = json_object(), *v, *r;
	const char *key;
	char fkey[512];
	size_t i;

	if (!ann) {
		ann = json_object();
		json_object_set_new(meta, "annotations", ann);
	}
	json_object_foreach(bann, key, v) {
		json_t *have = json_object_get(ann, key);

		str_format(fkey, sizeof(fkey), "f:%s", key);
		if (!have || !json_equal(have, v))
			disown_others(o, "f:annotations", fkey, manager, "Apply");
		json_object_set(ann, key, v);
		json_object_set_new(mine_ann, fkey, json_object());
	}
	json_object_foreach(prev_ann, key, v) {
		if (!json_object_get(mine_ann, key) && !owned_by_other(o, "f:annotations", key, manager, "Apply"))
			json_object_del(ann, key + 2);
	}
	json_array_foreach(brefs, i, r) {
		const char *uid = json_string_value(json_object_get(r, "uid")) ?: "";

		if (!refs) {
			refs = json_array();
			json_object_set_new(meta, "ownerReferences", refs);
		}
		if (!owner_ref_with_uid(refs, uid, NULL))
			json_array_append(refs, r);
		owner_ref_key(uid, fkey, sizeof(fkey));
		json_object_set_new(mine_refs, fkey, json_object());
	}
	json_object_foreach(prev_refs, key, v) {
		size_t at;
		char uid[128];

		if (json_object_get(mine_refs, key) || owned_by_other(o, "f:ownerReferences", key, manager, "Apply"))
			continue;
		if (sscanf(key, "k:{\"uid\":\"%127[^\"]\"}", uid) == 1 && owner_ref_with_uid(refs, uid, &at))
			json_array_remove(refs, at);
	}
	json_object_set_new(json_object_get(json_object_get(e, "fieldsV1"), "f:metadata"), "f:annotations", mine_ann);
	json_object_set_new(json_object_get(json_object_get(e, "fieldsV1"), "f:metadata"), "f:ownerReferences", mine_refs);
}

static int fk_apply(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *body,
		    json_t **ret, struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_t *o = fake_kube_obj(k, r, ns, name);
	json_auto_t *b = json_loads(body, 0, NULL);

	record(k, "apply", r, name, true);
	if (k->fail_writes_rc && (!k->fail_write_res || k->fail_write_res == r))
		return op_err_set(err, k->fail_writes_rc, "injected failure");
	if (!o) {
		o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
			      "name", name, "namespace", ns, "creationTimestamp", "2026-01-01T00:00:00Z", "uid",
			      "dddddddd-0000-0000-0000-000000000001");
		fake_kube_put(k, r, o);
		o = fake_kube_obj(k, r, ns, name);
	}
	ssa_apply(o, b, KEYLESS_FIELD_MANAGER);
	{
		char t[40];

		/* the API server stamps the manager's entry with its own clock */
		rfc3339_format(k->now_ns, 0, t, sizeof(t));
		json_object_set_new(manager_entry(o, KEYLESS_FIELD_MANAGER, "Apply", true), "time", json_string(t));
	}
	bump_rv(o);
	feed(k, r, ns, name);
	if (ret)
		*ret = json_deep_copy(o);
	return 0;
}

void fake_kube_annotate(struct fake_kube *k, const struct kube_resource *r, const char *ns, const char *name,
			const char *key, const char *value, const char *manager)
{
	json_t *o = fake_kube_obj(k, r, ns, name), *meta = json_object_get(o, "metadata"), *ann;
	char fkey[512];

	assert_non_null(o);
	ann = json_object_get(meta, "annotations");
	if (!ann) {
		ann = json_object();
		json_object_set_new(meta, "annotations", ann);
	}
	str_format(fkey, sizeof(fkey), "f:%s", key);
	/* an update that changes (or removes) a field takes it from everyone else */
	disown_others(o, "f:annotations", fkey, manager, "Update");
	if (value) {
		json_object_set_new(ann, key, json_string(value));
		json_object_set_new(entry_fields(manager_entry(o, manager, "Update", true), "f:annotations"), fkey,
				    json_object());
	} else {
		json_object_del(ann, key);
		if (manager_entry(o, manager, "Update", false))
			json_object_del(entry_fields(manager_entry(o, manager, "Update", false), "f:annotations"), fkey);
	}
	bump_rv(o);
	feed(k, r, ns, name);
}

static int fk_delete(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *uid,
		     struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_t *o = fake_kube_obj(k, r, ns, name);
	char key[512];

	record(k, "delete", r, name, true);
	if (!o)
		return op_err_setr(err, -ENOENT, "NotFound", "not found");
	if (uid && !streq(uid, json_string_value(json_object_get(json_object_get(o, "metadata"), "uid")) ?: ""))
		return op_err_setr(err, -ESTALE, "Conflict", "uid precondition failed");
	key_of(r, ns, name, key, sizeof(key));
	json_object_del(k->objects, key);
	feed(k, r, ns, name);
	return 0;
}

/* A token as the API server issues one: a JWT whose payload names the
 * issuer, the service account and the audience (not signed: the fake STS
 * reads the payload). */
static int fk_token(void *ctx, const char *ns, const char *sa, const char *audience, int seconds, char **ret,
		    struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_auto_t *claims = NULL;
	_cleanup_free_ char *text = NULL, *b = NULL;
	char call[96];

	str_format(call, sizeof(call), "TOKEN %s/%s", ns, sa);
	if (k->n_calls < 256)
		str_copy(k->calls[k->n_calls++], sizeof(k->calls[0]), call);
	if (k->token_rc)
		return op_err_setr(err, k->token_rc, "Forbidden", "injected TokenRequest failure");
	claims = json_pack("{s:s, s:s+++, s:[s], s:i}", "iss", k->token_issuer ? k->token_issuer : "https://issuer",
			   "sub", "system:serviceaccount:", ns, ":", sa, "aud", audience, "exp", seconds);
	text = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
	b = text ? b64_encode(text, strlen(text), true) : NULL;
	if (!b || asprintf(ret, "eyJhbGciOiJSUzI1NiJ9.%s.c2ln", b) < 0)
		return -ENOMEM;
	return 0;
}

static int fk_evict(void *ctx, const char *ns, const char *name, const char *uid, struct op_err *err)
{
	struct fake_kube *k = ctx;
	json_t *o = fake_kube_obj(k, &KUBE_PODS, ns, name);
	char key[512];

	record(k, "evict", &KUBE_PODS, name, true);
	if (k->evict_rc == -EAGAIN)
		return op_err_setr(err, -EAGAIN, "TooManyRequests",
				   "Cannot evict pod as it would violate the pod's disruption budget.");
	if (k->evict_rc)
		return op_err_set(err, k->evict_rc, "injected failure");
	if (!o)
		return op_err_setr(err, -ENOENT, "NotFound", "not found");
	if (uid && !streq(uid, json_string_value(json_object_get(json_object_get(o, "metadata"), "uid")) ?: ""))
		return op_err_setr(err, -ESTALE, "Conflict", "uid precondition failed");
	key_of(&KUBE_PODS, ns, name, key, sizeof(key));
	json_object_del(k->objects, key);
	feed(k, &KUBE_PODS, ns, name);
	k->evictions++;
	return 0;
}

static void fk_event(void *ctx, const struct kube_object_ref *ref, const char *type, const char *reason,
		     const char *action, const char *message)
{
	struct fake_kube *k = ctx;

	(void)ref, (void)action;
	if (k->n_events < 128)
		str_format(k->events[k->n_events++], sizeof(k->events[0]), "%s %s: %s", type, reason, message);
}

struct kube_ops fake_kube_ops(struct fake_kube *k)
{
	return (struct kube_ops){ .get = fk_get, .merge_patch = fk_merge_patch, .apply = fk_apply, .delete = fk_delete,
				  .evict = fk_evict, .token = fk_token,
				  .event = fk_event, .ctx = k };
}
