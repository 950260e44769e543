/* sts.h: AWS STS calls (Query protocol, version 2011-06-15).
 *
 * Results are malloc'd and owned by the caller (free with the _free
 * function, which accepts NULL and wipes secrets). Errors: see client.h.
 */
#ifndef KEYLESS_AWS_STS_H
#define KEYLESS_AWS_STS_H

#include <stdint.h>

#include "aws/client.h"
#include "base/err.h"

struct sts_caller_identity {
	char *account;
	char *arn;
	char *user_id;
};
void sts_caller_identity_free(struct sts_caller_identity *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sts_caller_identity *, sts_caller_identity_free)

int sts_get_caller_identity(struct aws_client *c, struct sts_caller_identity **ret, struct op_err *err);

struct sts_assume_role_input {
	const char *role_arn;          /* required */
	const char *role_session_name; /* required */
	const char *web_identity_token; /* AssumeRoleWithWebIdentity: required; never logged */
	const char *external_id;       /* AssumeRole: optional */
	int duration_seconds;          /* 0 = STS default (1 h) */
};

struct sts_assumed_role {
	char *access_key_id;
	char *secret_access_key; /* never log */
	char *session_token;     /* never log */
	int64_t expiration_ns;
	char *assumed_role_arn;  /* arn:aws:sts::<acct>:assumed-role/<role>/<session> */
	char *assumed_role_id;
	/* AssumeRoleWithWebIdentity only (NULL otherwise) */
	char *subject_from_web_identity_token;
	char *audience;
	char *provider;
};
void sts_assumed_role_free(struct sts_assumed_role *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sts_assumed_role *, sts_assumed_role_free)

/* Unsigned, as the SDKs send it (the token is the credential). */
int sts_assume_role_with_web_identity(struct aws_client *c, const struct sts_assume_role_input *in,
				      struct sts_assumed_role **ret, struct op_err *err);

/* Signed with `source` (NULL = the client's credentials). */
int sts_assume_role(struct aws_client *c, const struct aws_credentials *source, const struct sts_assume_role_input *in,
		    struct sts_assumed_role **ret, struct op_err *err);

#endif
