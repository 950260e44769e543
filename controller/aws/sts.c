#include "aws/sts.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "aws/query.h"
#include "aws/xml.h"
#include "base/clock.h"

void sts_caller_identity_free(struct sts_caller_identity *x)
{
	if (!x)
		return;
	free(x->account);
	free(x->arn);
	free(x->user_id);
	free(x);
}

int sts_get_caller_identity(struct aws_client *c, struct sts_caller_identity **ret, struct op_err *err)
{
	_cleanup_xml_ xmlDoc *doc = NULL;
	_cleanup_(sts_caller_identity_freep) struct sts_caller_identity *x = NULL;
	struct aws_query q;
	xmlNode *res;
	bool oom = false;
	int r;

	aws_query_init(&q, "GetCallerIdentity", AWS_STS_VERSION);
	r = aws_query_call(c, AWS_OP_STS_GET_CALLER_IDENTITY, &q, false, NULL, &doc, &res, err);
	aws_query_release(&q);
	if (r < 0)
		return r;
	x = calloc(1, sizeof(*x));
	if (!x)
		return op_err_set(err, -ENOMEM, "out of memory");
	x->account = aws_xml_text(res, "Account", &oom);
	x->arn = aws_xml_text(res, "Arn", &oom);
	x->user_id = aws_xml_text(res, "UserId", &oom);
	if (oom)
		return op_err_set(err, -ENOMEM, "out of memory");
	if (!x->arn || !x->account)
		return op_err_set(err, -EPROTO, "GetCallerIdentity: answer lacks Arn or Account");
	*ret = TAKE_PTR(x);
	return 0;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void sts_assumed_role_free(struct sts_assumed_role *x)
{
	if (!x)
		return;
	free(x->access_key_id);
	wipe_free(x->secret_access_key);
	wipe_free(x->session_token);
	free(x->assumed_role_arn);
	free(x->assumed_role_id);
	free(x->subject_from_web_identity_token);
	free(x->audience);
	free(x->provider);
	free(x);
}

static int parse_assumed(const char *op, xmlNode *res, struct sts_assumed_role **ret, struct op_err *err)
{
	_cleanup_(sts_assumed_role_freep) struct sts_assumed_role *x = calloc(1, sizeof(*x));
	_cleanup_free_ char *exp = NULL;
	bool oom = false;

	if (!x)
		return op_err_set(err, -ENOMEM, "out of memory");
	x->access_key_id = aws_xml_text(res, "Credentials/AccessKeyId", &oom);
	x->secret_access_key = aws_xml_text(res, "Credentials/SecretAccessKey", &oom);
	x->session_token = aws_xml_text(res, "Credentials/SessionToken", &oom);
	exp = aws_xml_text(res, "Credentials/Expiration", &oom);
	x->assumed_role_arn = aws_xml_text(res, "AssumedRoleUser/Arn", &oom);
	x->assumed_role_id = aws_xml_text(res, "AssumedRoleUser/AssumedRoleId", &oom);
	x->subject_from_web_identity_token = aws_xml_text(res, "SubjectFromWebIdentityToken", &oom);
	x->audience = aws_xml_text(res, "Audience", &oom);
	x->provider = aws_xml_text(res, "Provider", &oom);
	if (oom)
		return op_err_set(err, -ENOMEM, "out of memory");
	if (!x->access_key_id || !*x->access_key_id || !x->secret_access_key || !*x->secret_access_key ||
	    !x->session_token || !exp)
		return op_err_set(err, -EPROTO, "%s: answer lacks Credentials", op);
	if (rfc3339_parse(exp, &x->expiration_ns) < 0)
		return op_err_set(err, -EPROTO, "%s: malformed Credentials/Expiration \"%s\"", op, exp);
	*ret = TAKE_PTR(x);
	return 0;
}

static int assume(struct aws_client *c, enum aws_op op, const struct aws_credentials *source,
		  const struct sts_assume_role_input *in, struct sts_assumed_role **ret, struct op_err *err)
{
	bool web = op == AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY;
	const char *name = aws_op_info(op)->name;
	_cleanup_xml_ xmlDoc *doc = NULL;
	struct aws_query q;
	xmlNode *res;
	int r;

	if (!in || !in->role_arn || !*in->role_arn || !in->role_session_name || !*in->role_session_name ||
	    (web && (!in->web_identity_token || !*in->web_identity_token)))
		return op_err_set(err, -EINVAL, "%s: RoleArn, RoleSessionName%s are required", name,
				  web ? " and WebIdentityToken" : "");
	aws_query_init(&q, name, AWS_STS_VERSION);
	aws_query_add(&q, "RoleArn", in->role_arn);
	aws_query_add(&q, "RoleSessionName", in->role_session_name);
	if (web)
		aws_query_add(&q, "WebIdentityToken", in->web_identity_token);
	else
		aws_query_add(&q, "ExternalId", in->external_id);
	if (in->duration_seconds > 0)
		aws_query_add_long(&q, "DurationSeconds", in->duration_seconds);
	r = aws_query_call(c, op, &q, web, source, &doc, &res, err);
	/* the body held the token: wipe it */
	if (q.body.data)
		OPENSSL_cleanse(q.body.data, q.body.len);
	aws_query_release(&q);
	if (r < 0)
		return r;
	return parse_assumed(name, res, ret, err);
}

int sts_assume_role_with_web_identity(struct aws_client *c, const struct sts_assume_role_input *in,
				      struct sts_assumed_role **ret, struct op_err *err)
{
	return assume(c, AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY, NULL, in, ret, err);
}

int sts_assume_role(struct aws_client *c, const struct aws_credentials *source, const struct sts_assume_role_input *in,
		    struct sts_assumed_role **ret, struct op_err *err)
{
	return assume(c, AWS_OP_STS_ASSUME_ROLE, source, in, ret, err);
}
