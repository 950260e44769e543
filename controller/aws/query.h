/* query.h: the AWS Query protocol (IAM, STS): form-encoded POST bodies and
 * XML answers.
 *
 *     struct aws_query q;
 *     aws_query_init(&q, "GetRole", AWS_IAM_VERSION);
 *     aws_query_add(&q, "RoleName", name);
 *     r = aws_query_call(c, AWS_OP_IAM_GET_ROLE, &q, false, NULL, &doc, &result, err);
 *     ... aws_xml_text(result, "Role/Arn") ...
 *
 * Values are form-encoded as botocore does (space as "+", other reserved
 * bytes %XX, see query.c); lists are
 * "Name.member.N" (1-based), maps of tags "Tags.member.N.Key/Value".
 */
#ifndef KEYLESS_AWS_QUERY_H
#define KEYLESS_AWS_QUERY_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "aws/client.h"
#include "aws/xml.h"
#include "base/buf.h"
#include "base/err.h"

#define AWS_IAM_VERSION "2010-05-08"
#define AWS_STS_VERSION "2011-06-15"
#define AWS_QUERY_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

struct aws_query {
	struct buf body;
	int err; /* first error while building (-ENOMEM, -E2BIG) */
};

void aws_query_init(struct aws_query *q, const char *action, const char *version);
/* Add key=value; a NULL value adds nothing. */
void aws_query_add(struct aws_query *q, const char *key, const char *value);
void aws_query_addf(struct aws_query *q, const char *value, const char *key_fmt, ...) _printf_(3, 4);
void aws_query_add_long(struct aws_query *q, const char *key, long value);
void aws_query_release(struct aws_query *q);

/* POST the form to the op's service. On success *ret_doc owns the parsed
 * answer and *ret_result points at <ActionResult> in it (or at the root if
 * the answer has none); free the doc with xmlFreeDoc. Unsigned with
 * unsigned_request; signed with `creds` when non-NULL. */
int aws_query_call(struct aws_client *c, enum aws_op op, struct aws_query *q, bool unsigned_request,
		   const struct aws_credentials *creds, xmlDoc **ret_doc, xmlNode **ret_result, struct op_err *err);

/* Collect the text of every <member> under `list` (a node, may be NULL) into
 * a NULL-terminated malloc'd array (*ret_n entries). */
int aws_xml_members_text(const xmlNode *list, const char *subpath, char ***ret, size_t *ret_n);

/* Free a NULL-terminated string array. */
void aws_strv_free(char **v);

#endif
