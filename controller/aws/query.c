#include "aws/query.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/str.h"

#define QUERY_BODY_CAP ((size_t)1 << 20)

/* application/x-www-form-urlencoded exactly as botocore sends it (Python's
 * urlencode/quote_plus): unreserved characters as is, space as '+', every
 * other byte %XX. AWS hashes the body as received; moto re-encodes the
 * parsed form this way before checking the signature, so any other
 * spelling would fail there. */
static int form_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int r;

		if (*s == ' ') {
			r = buf_puts(b, "+");
		} else {
			r = sigv4_uri_encode(b, s, 1, false);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void put(struct aws_query *q, const char *key, const char *value)
{
	int r;

	if (q->err)
		return;
	r = buf_puts(&q->body, "&");
	if (r >= 0)
		r = form_encode(&q->body, key);
	if (r >= 0)
		r = buf_puts(&q->body, "=");
	if (r >= 0)
		r = form_encode(&q->body, value);
	if (r < 0)
		q->err = r;
}

void aws_query_init(struct aws_query *q, const char *action, const char *version)
{
	q->body = (struct buf)BUF_INIT(QUERY_BODY_CAP);
	q->err = 0;
	if (buf_puts(&q->body, "Action=") < 0 || form_encode(&q->body, action) < 0)
		q->err = -ENOMEM;
	put(q, "Version", version);
}

void aws_query_add(struct aws_query *q, const char *key, const char *value)
{
	if (value)
		put(q, key, value);
}

void aws_query_addf(struct aws_query *q, const char *value, const char *key_fmt, ...)
{
	char key[256];
	va_list ap;

	if (!value)
		return;
	va_start(ap, key_fmt);
	if (str_vformat_trunc(key, sizeof(key), key_fmt, ap) < 0)
		q->err = q->err ? q->err : -ENAMETOOLONG;
	va_end(ap);
	put(q, key, value);
}

void aws_query_add_long(struct aws_query *q, const char *key, long value)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", value);
	put(q, key, v);
}

void aws_query_release(struct aws_query *q)
{
	buf_release(&q->body);
}

int aws_query_call(struct aws_client *c, enum aws_op op, struct aws_query *q, bool unsigned_request,
		   const struct aws_credentials *creds, xmlDoc **ret_doc, xmlNode **ret_result, struct op_err *err)
{
	struct aws_http_response resp;
	struct aws_call call = {
		.op = op,
		.method = "POST",
		.path = "/",
		.content_type = AWS_QUERY_CONTENT_TYPE,
		.body = q->body.data,
		.body_len = q->body.len,
		.unsigned_request = unsigned_request,
		.credentials = creds,
	};
	const char *name = aws_op_info(op)->name;
	xmlDoc *doc;
	xmlNode *root, *result;
	char rname[128];
	int r;

	if (q->err)
		return op_err_set(err, q->err, "%s: cannot build the request", name);
	aws_http_response_init(&resp);
	r = aws_client_call(c, &call, &resp, err);
	if (r < 0) {
		aws_http_response_release(&resp);
		return r;
	}
	doc = aws_xml_parse(resp.body.data, resp.body.len);
	root = aws_xml_root(doc);
	snprintf(rname, sizeof(rname), "%sResponse", name);
	if (!root || strcmp((const char *)root->name, rname) != 0) {
		r = op_err_set(err, -EPROTO, "%s: answer (HTTP %ld) is not a <%s> document", name, resp.status, rname);
		if (err) {
			err->http_status = (int)resp.status;
			str_copy(err->request_id, sizeof(err->request_id), resp.request_id);
		}
		if (doc)
			xmlFreeDoc(doc);
		aws_http_response_release(&resp);
		return r;
	}
	snprintf(rname, sizeof(rname), "%sResult", name);
	result = aws_xml_child(root, rname);
	*ret_doc = doc;
	*ret_result = result ? result : root;
	aws_http_response_release(&resp);
	return 0;
}

void aws_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int aws_xml_members_text(const xmlNode *list, const char *subpath, char ***ret, size_t *ret_n)
{
	size_t n = 0;
	char **v;
	xmlNode *m;

	for (m = aws_xml_child(list, "member"); m; m = aws_xml_next_same(m))
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (m = aws_xml_child(list, "member"); m; m = aws_xml_next_same(m)) {
		bool oom = false;
		char *t = aws_xml_text(m, subpath, &oom);

		if (oom) {
			aws_strv_free(v);
			return -ENOMEM;
		}
		if (t)
			v[n++] = t;
	}
	*ret = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}
