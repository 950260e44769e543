#include "aws/eks.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <openssl/rand.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/str.h"

#define EKS_MAX_PAGES 1000
#define JSON_CT "application/json"

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

void eks_uuid4(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* fall back to the non-crypto source: tokens only need uniqueness */
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(rand() & 0xff);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

/* path = prefix + encoded(a) [+ mid + encoded(b)] [+ suffix] */
static int build_path(struct buf *p, const char *cluster, const char *suffix, const char *id)
{
	int r = buf_puts(p, "/clusters/");

	if (r >= 0)
		r = sigv4_uri_encode(p, cluster, strlen(cluster), false);
	if (r >= 0 && suffix)
		r = buf_puts(p, suffix);
	if (r >= 0 && id) {
		r = buf_puts(p, "/");
		if (r >= 0)
			r = sigv4_uri_encode(p, id, strlen(id), false);
	}
	return r;
}

/* Perform a REST-JSON call; *ret = the parsed JSON answer (an object). */
static int rest_call(struct aws_client *c, enum aws_op op, const char *method, const char *path, const char *query,
		     json_t *body, json_t **ret, struct op_err *err)
{
	const char *name = aws_op_info(op)->name;
	_cleanup_free_ char *text = NULL;
	struct aws_http_response resp;
	struct aws_call call = {
		.op = op,
		.method = method,
		.path = path,
		.query = query,
	};
	json_error_t jerr;
	json_t *j;
	int r;

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			return oom(err);
		call.body = text;
		call.body_len = strlen(text);
		call.content_type = JSON_CT;
	}
	aws_http_response_init(&resp);
	r = aws_client_call(c, &call, &resp, err);
	if (r < 0) {
		aws_http_response_release(&resp);
		return r;
	}
	j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
	if (!j || !json_is_object(j)) {
		r = op_err_set(err, -EPROTO, "%s: answer (HTTP %ld) is not a JSON object%s%s", name, resp.status,
			       j ? "" : ": ", j ? "" : jerr.text);
		if (err) {
			err->http_status = (int)resp.status;
			str_copy(err->request_id, sizeof(err->request_id), resp.request_id);
		}
		json_decref(j);
		aws_http_response_release(&resp);
		return r;
	}
	aws_http_response_release(&resp);
	*ret = j;
	return 0;
}

static char *jstr(const json_t *o, const char *key, bool *oomp)
{
	const char *s = json_string_value(json_object_get(o, key));
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oomp = true;
	return d;
}

/* epoch seconds (number) or an ISO string -> ns. A double holds epoch
 * seconds to about 0.2 us, so fractions are rounded to microseconds. A
 * number past what int64 nanoseconds hold (year 2262) is no time (0), like
 * a string that is not one. */
#define JTIME_MAX_SEC 9.2e9

static int64_t jtime(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	int64_t ns = 0;

	if (json_is_number(v)) {
		double d = json_number_value(v), sec = floor(d);

		if (!(sec > -JTIME_MAX_SEC && sec < JTIME_MAX_SEC))
			return 0;
		return (int64_t)sec * NSEC_PER_SEC + (int64_t)llround((d - sec) * 1e6) * 1000;
	}
	if (json_is_string(v) && rfc3339_parse(json_string_value(v), &ns) == 0)
		return ns;
	return 0;
}

static int jtags(const json_t *o, struct aws_tag_list *out)
{
	json_t *tags = json_object_get(o, "tags"), *v;
	const char *k;

	if (!json_is_object(tags))
		return 0;
	json_object_foreach(tags, k, v)
	{
		if (json_is_string(v) && aws_tag_list_add(out, k, json_string_value(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* --- DescribeCluster -------------------------------------------------------- */

void eks_cluster_free(struct eks_cluster *x)
{
	if (!x)
		return;
	free(x->name);
	free(x->arn);
	free(x->status);
	free(x->version);
	free(x->endpoint);
	free(x->oidc_issuer);
	free(x->certificate_authority);
	free(x->platform_version);
	aws_tag_list_release(&x->tags);
	free(x);
}

int eks_describe_cluster(struct aws_client *c, const char *name, struct eks_cluster **ret, struct op_err *err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(4096);
	_cleanup_(eks_cluster_freep) struct eks_cluster *x = NULL;
	json_t *j = NULL, *cl;
	bool o = false;
	int r;

	if ((r = need(err, "DescribeCluster", "name", name)) < 0)
		return r;
	if (build_path(&path, name, NULL, NULL) < 0)
		return oom(err);
	r = rest_call(c, AWS_OP_EKS_DESCRIBE_CLUSTER, "GET", path.data, NULL, NULL, &j, err);
	if (r < 0)
		return r;
	cl = json_object_get(j, "cluster");
	if (!json_is_object(cl)) {
		json_decref(j);
		return op_err_set(err, -EPROTO, "DescribeCluster: answer has no cluster");
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		json_decref(j);
		return oom(err);
	}
	x->name = jstr(cl, "name", &o);
	x->arn = jstr(cl, "arn", &o);
	x->status = jstr(cl, "status", &o);
	x->version = jstr(cl, "version", &o);
	x->endpoint = jstr(cl, "endpoint", &o);
	x->platform_version = jstr(cl, "platformVersion", &o);
	x->oidc_issuer = jstr(json_object_get(json_object_get(cl, "identity"), "oidc"), "issuer", &o);
	x->certificate_authority = jstr(json_object_get(cl, "certificateAuthority"), "data", &o);
	x->created_at_ns = jtime(cl, "createdAt");
	if (jtags(cl, &x->tags) < 0)
		o = true;
	json_decref(j);
	if (o)
		return oom(err);
	if (!x->name)
		return op_err_set(err, -EPROTO, "DescribeCluster: answer lacks cluster.name");
	*ret = TAKE_PTR(x);
	return 0;
}

/* --- Pod Identity associations ------------------------------------------------ */

void eks_pod_identity_association_free(struct eks_pod_identity_association *x)
{
	if (!x)
		return;
	free(x->cluster_name);
	free(x->namespace_name);
	free(x->service_account);
	free(x->role_arn);
	free(x->association_arn);
	free(x->association_id);
	free(x->owner_arn);
	free(x->target_role_arn);
	free(x->external_id);
	free(x->policy);
	aws_tag_list_release(&x->tags);
	free(x);
}

static int parse_association(const char *op, json_t *j, struct eks_pod_identity_association **ret,
			     struct op_err *err)
{
	_cleanup_(eks_pod_identity_association_freep) struct eks_pod_identity_association *x = NULL;
	json_t *a = json_object_get(j, "association");
	bool o = false;

	if (!json_is_object(a))
		return op_err_set(err, -EPROTO, "%s: answer has no association", op);
	x = calloc(1, sizeof(*x));
	if (!x)
		return oom(err);
	x->cluster_name = jstr(a, "clusterName", &o);
	x->namespace_name = jstr(a, "namespace", &o);
	x->service_account = jstr(a, "serviceAccount", &o);
	x->role_arn = jstr(a, "roleArn", &o);
	x->association_arn = jstr(a, "associationArn", &o);
	x->association_id = jstr(a, "associationId", &o);
	x->owner_arn = jstr(a, "ownerArn", &o);
	x->target_role_arn = jstr(a, "targetRoleArn", &o);
	x->external_id = jstr(a, "externalId", &o);
	x->policy = jstr(a, "policy", &o);
	x->disable_session_tags = json_is_true(json_object_get(a, "disableSessionTags"));
	x->created_at_ns = jtime(a, "createdAt");
	x->modified_at_ns = jtime(a, "modifiedAt");
	if (o || jtags(a, &x->tags) < 0)
		return oom(err);
	if (!x->association_id)
		return op_err_set(err, -EPROTO, "%s: answer lacks association.associationId", op);
	*ret = TAKE_PTR(x);
	return 0;
}

/* Call and parse {"association": ...}. */
static int association_call(struct aws_client *c, enum aws_op op, const char *method, const char *path, json_t *body,
			    struct eks_pod_identity_association **ret, struct op_err *err)
{
	json_t *j = NULL;
	int r = rest_call(c, op, method, path, NULL, body, &j, err);

	if (r < 0)
		return r;
	if (ret)
		r = parse_association(aws_op_info(op)->name, j, ret, err);
	json_decref(j);
	return r;
}

/* body[key] = v unless v is NULL. */
static int set_opt_string(json_t *body, const char *key, const char *v)
{
	return v ? json_object_set_new(body, key, json_string(v)) : 0;
}

int eks_create_pod_identity_association(struct aws_client *c,
					const struct eks_create_pod_identity_association_input *in,
					struct eks_pod_identity_association **ret, struct op_err *err)
{
	static const char op[] = "CreatePodIdentityAssociation";
	_cleanup_buf_ struct buf path = BUF_INIT(4096);
	json_t *body, *tags = NULL;
	char token[37];
	int r;

	if ((r = need(err, op, "clusterName", in ? in->cluster_name : NULL)) < 0 ||
	    (r = need(err, op, "namespace", in->namespace_name)) < 0 ||
	    (r = need(err, op, "serviceAccount", in->service_account)) < 0 ||
	    (r = need(err, op, "roleArn", in->role_arn)) < 0)
		return r;
	if (build_path(&path, in->cluster_name, "/pod-identity-associations", NULL) < 0)
		return oom(err);
	if (!in->client_request_token)
		eks_uuid4(token);
	body = json_pack("{s:s, s:s, s:s, s:s}", "namespace", in->namespace_name, "serviceAccount",
			 in->service_account, "roleArn", in->role_arn, "clientRequestToken",
			 in->client_request_token ? in->client_request_token : token);
	if (body && in->n_tags) {
		tags = json_object();
		for (size_t i = 0; tags && i < in->n_tags; i++)
			json_object_set_new(tags, in->tags[i].key, json_string(in->tags[i].value ? in->tags[i].value : ""));
		if (!tags || json_object_set_new(body, "tags", tags) < 0) {
			json_decref(body);
			return oom(err);
		}
	}
	if (body && (set_opt_string(body, "targetRoleArn", in->target_role_arn) < 0 ||
		     set_opt_string(body, "policy", in->policy) < 0 ||
		     (in->disable_session_tags && json_object_set_new(body, "disableSessionTags", json_true()) < 0))) {
		json_decref(body);
		body = NULL;
	}
	if (!body)
		return oom(err);
	r = association_call(c, AWS_OP_EKS_CREATE_POD_IDENTITY_ASSOCIATION, "POST", path.data, body, ret, err);
	json_decref(body);
	return r;
}

/* Describe and Delete: the same request on .../pod-identity-associations/<id>. */
static int association_by_id(struct aws_client *c, enum aws_op aop, const char *method, const char *cluster_name,
			     const char *association_id, struct eks_pod_identity_association **ret, struct op_err *err)
{
	const char *op = aws_op_info(aop)->name;
	_cleanup_buf_ struct buf path = BUF_INIT(4096);
	int r;

	if ((r = need(err, op, "clusterName", cluster_name)) < 0 ||
	    (r = need(err, op, "associationId", association_id)) < 0)
		return r;
	if (build_path(&path, cluster_name, "/pod-identity-associations", association_id) < 0)
		return oom(err);
	return association_call(c, aop, method, path.data, NULL, ret, err);
}

int eks_describe_pod_identity_association(struct aws_client *c, const char *cluster_name, const char *association_id,
					  struct eks_pod_identity_association **ret, struct op_err *err)
{
	return association_by_id(c, AWS_OP_EKS_DESCRIBE_POD_IDENTITY_ASSOCIATION, "GET", cluster_name, association_id,
				 ret, err);
}

int eks_update_pod_identity_association(struct aws_client *c,
					const struct eks_update_pod_identity_association_input *in,
					struct eks_pod_identity_association **ret, struct op_err *err)
{
	static const char op[] = "UpdatePodIdentityAssociation";
	_cleanup_buf_ struct buf path = BUF_INIT(4096);
	json_t *body;
	char token[37];
	int r;

	if ((r = need(err, op, "clusterName", in ? in->cluster_name : NULL)) < 0 ||
	    (r = need(err, op, "associationId", in->association_id)) < 0)
		return r;
	if (build_path(&path, in->cluster_name, "/pod-identity-associations", in->association_id) < 0)
		return oom(err);
	if (!in->client_request_token)
		eks_uuid4(token);
	body = json_pack("{s:s}", "clientRequestToken", in->client_request_token ? in->client_request_token : token);
	if (body && (set_opt_string(body, "roleArn", in->role_arn) < 0 ||
		     set_opt_string(body, "targetRoleArn", in->target_role_arn) < 0 ||
		     set_opt_string(body, "policy", in->policy) < 0 ||
		     (in->disable_session_tags != EKS_BOOL_UNCHANGED &&
		      json_object_set_new(body, "disableSessionTags",
					  json_boolean(in->disable_session_tags == EKS_BOOL_TRUE)) < 0))) {
		json_decref(body);
		body = NULL;
	}
	if (!body)
		return oom(err);
	r = association_call(c, AWS_OP_EKS_UPDATE_POD_IDENTITY_ASSOCIATION, "POST", path.data, body, ret, err);
	json_decref(body);
	return r;
}

int eks_delete_pod_identity_association(struct aws_client *c, const char *cluster_name, const char *association_id,
					struct eks_pod_identity_association **ret, struct op_err *err)
{
	return association_by_id(c, AWS_OP_EKS_DELETE_POD_IDENTITY_ASSOCIATION, "DELETE", cluster_name, association_id,
				 ret, err);
}

void eks_pod_identity_association_list_release(struct eks_pod_identity_association_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct eks_pod_identity_association_summary *s = &l->items[i];

		free(s->cluster_name);
		free(s->namespace_name);
		free(s->service_account);
		free(s->association_arn);
		free(s->association_id);
		free(s->owner_arn);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int query_param(struct buf *q, const char *key, const char *value)
{
	int r;

	if (!value)
		return 0;
	r = buf_puts(q, q->len ? "&" : "");
	if (r >= 0)
		r = buf_puts(q, key);
	if (r >= 0)
		r = buf_puts(q, "=");
	if (r >= 0)
		r = sigv4_uri_encode(q, value, strlen(value), false);
	return r;
}

int eks_list_pod_identity_associations(struct aws_client *c, const char *cluster_name, const char *namespace_name,
				       const char *service_account, int max_results,
				       struct eks_pod_identity_association_list *ret, struct op_err *err)
{
	static const char op[] = "ListPodIdentityAssociations";
	_cleanup_buf_ struct buf path = BUF_INIT(4096);
	struct eks_pod_identity_association_list l = { 0 };
	_cleanup_free_ char *next = NULL;
	char maxr[16];
	int r;

	if ((r = need(err, op, "clusterName", cluster_name)) < 0)
		return r;
	if (build_path(&path, cluster_name, "/pod-identity-associations", NULL) < 0)
		return oom(err);
	snprintf(maxr, sizeof(maxr), "%d", max_results);
	for (int page = 0; page < EKS_MAX_PAGES; page++) {
		_cleanup_buf_ struct buf q = BUF_INIT(16384);
		json_t *j = NULL, *arr, *e;
		const char *nt;
		bool more;
		size_t i;

		/* query keys in the model's member order; signing sorts them anyway */
		if (query_param(&q, "namespace", namespace_name) < 0 ||
		    query_param(&q, "serviceAccount", service_account) < 0 ||
		    query_param(&q, "maxResults", max_results > 0 ? maxr : NULL) < 0 ||
		    query_param(&q, "nextToken", next) < 0) {
			r = oom(err);
			goto fail;
		}
		r = rest_call(c, AWS_OP_EKS_LIST_POD_IDENTITY_ASSOCIATIONS, "GET", path.data, q.data, NULL, &j, err);
		if (r < 0)
			goto fail;
		arr = json_object_get(j, "associations");
		json_array_foreach(arr, i, e)
		{
			struct eks_pod_identity_association_summary *n = realloc(l.items, (l.n + 1) * sizeof(*n));
			bool o = false;

			if (!n) {
				json_decref(j);
				r = oom(err);
				goto fail;
			}
			l.items = n;
			n[l.n] = (struct eks_pod_identity_association_summary){
				.cluster_name = jstr(e, "clusterName", &o),
				.namespace_name = jstr(e, "namespace", &o),
				.service_account = jstr(e, "serviceAccount", &o),
				.association_arn = jstr(e, "associationArn", &o),
				.association_id = jstr(e, "associationId", &o),
				.owner_arn = jstr(e, "ownerArn", &o),
			};
			l.n++;
			if (o) {
				json_decref(j);
				r = oom(err);
				goto fail;
			}
		}
		nt = json_string_value(json_object_get(j, "nextToken"));
		more = nt && *nt;
		free(next);
		next = more ? strdup(nt) : NULL;
		json_decref(j);
		if (more && !next) {
			r = oom(err);
			goto fail;
		}
		if (!next) {
			*ret = l;
			return 0;
		}
	}
	r = op_err_set(err, -E2BIG, "%s: more than %d pages", op, EKS_MAX_PAGES);
fail:
	eks_pod_identity_association_list_release(&l);
	return r;
}
