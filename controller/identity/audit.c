#include "identity/audit.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "identity/naming.h"

static void escape(struct strfmt *f, const char *s)
{
	for (; s && *s; s++) {
		if (strchr("\\.+*?()[]{}|^$/", *s))
			strfmt_add(f, "\\%c", *s);
		else
			strfmt_add(f, "%c", *s);
	}
}

/* The start of every role name keyless makes for this cluster. */
static void name_start(const struct settings *s, char *readable, size_t size)
{
	if (s->role_scope == ROLE_SCOPE_ACCOUNT)
		snprintf(readable, size, "%s", s->role_name_prefix ? s->role_name_prefix : "");
	else
		snprintf(readable, size, "%s%s+", s->role_name_prefix ? s->role_name_prefix : "", s->cluster_name);
	readable[ROLE_NAME_READABLE_MAX] = '\0'; /* the readable part is cut there */
}

void audit_role_arn_glob(const struct settings *s, char *out, size_t size)
{
	char readable[256];

	name_start(s, readable, sizeof(readable));
	str_format(out, size, "*:role%s%s*", s->role_path ? s->role_path : "/", readable);
}

void audit_role_regex(const struct settings *s, char *out, size_t size)
{
	struct strfmt f = STRFMT_INIT(out, size);
	char readable[256];

	name_start(s, readable, sizeof(readable));
	strfmt_add(&f, ":role");
	escape(&f, s->role_path ? s->role_path : "/");
	escape(&f, readable);
}

void audit_queries(const struct settings *s, const char *keyless_role, struct audit_query q[AUDIT_QUERIES])
{
	char re[512], name_re[512], readable[256];
	struct strfmt nf = STRFMT_INIT(name_re, sizeof(name_re));

	audit_role_regex(s, re, sizeof(re));
	name_start(s, readable, sizeof(readable));
	strfmt_add(&nf, "^");
	escape(&nf, readable);
	q[0] = (struct audit_query){ .name = "assumed-by-service-account",
				     .title = "which service accounts assumed which roles (IRSA), per day" };
	str_format(q[0].query, sizeof(q[0].query),
		   "fields @timestamp, requestParameters.roleArn as role, userIdentity.userName as serviceAccount\n"
		   "| filter eventSource = \"sts.amazonaws.com\" and eventName = \"AssumeRoleWithWebIdentity\"\n"
		   "| filter ispresent(requestParameters.roleArn) and requestParameters.roleArn like /%s/\n"
		   "| filter not ispresent(errorCode)\n"
		   "| stats count(*) as assumptions by role, serviceAccount, bin(1d)\n"
		   "| sort assumptions desc",
		   re);
	q[1] = (struct audit_query){ .name = "failed-web-identity",
				     .title = "failed AssumeRoleWithWebIdentity calls by error code (AccessDenied, "
				     "InvalidIdentityToken, ExpiredTokenException)" };
	str_format(q[1].query, sizeof(q[1].query),
		   "fields @timestamp, errorCode, errorMessage, requestParameters.roleArn as role, "
		   "userIdentity.userName as serviceAccount, sourceIPAddress\n"
		   "| filter eventSource = \"sts.amazonaws.com\" and eventName = \"AssumeRoleWithWebIdentity\"\n"
		   "| filter ispresent(errorCode) and requestParameters.roleArn like /%s/\n"
		   "| stats count(*) as failures by errorCode, role, serviceAccount\n"
		   "| sort failures desc",
		   re);
	q[2] = (struct audit_query){ .name = "pod-identity-sessions",
				     .title = "EKS Pod Identity sessions of keyless' roles (AssumeRole by pods.eks.amazonaws.com), "
				     "by namespace and service account" };
	str_format(q[2].query, sizeof(q[2].query),
		   "fields @timestamp, requestParameters.roleArn as role\n"
		   "| filter eventSource = \"sts.amazonaws.com\" and eventName in [\"AssumeRole\", \"TagSession\"]\n"
		   "| filter userIdentity.invokedBy = \"pods.eks.amazonaws.com\" and requestParameters.roleArn like /%s/\n"
		   "| parse @message /\"kubernetes-namespace\",\"value\":\"(?<namespace>[^\"]+)\"/\n"
		   "| parse @message /\"kubernetes-service-account\",\"value\":\"(?<serviceAccount>[^\"]+)\"/\n"
		   "| stats count(*) as sessions by role, namespace, serviceAccount, errorCode",
		   re);
	q[3] = (struct audit_query){ .name = "changed-outside-keyless",
				     .title = "changes to keyless' roles made by someone other than keyless (drift keyless "
				     "repairs, or tampering)" };
	str_format(q[3].query, sizeof(q[3].query),
		   "fields @timestamp, eventName, requestParameters.roleName as role, userIdentity.arn as who\n"
		   "| filter eventSource = \"iam.amazonaws.com\" and eventName in [\"UpdateAssumeRolePolicy\", "
		   "\"PutRolePolicy\", \"DeleteRolePolicy\", \"AttachRolePolicy\", \"DetachRolePolicy\", "
		   "\"PutRolePermissionsBoundary\", \"DeleteRolePermissionsBoundary\", \"TagRole\", \"UntagRole\", "
		   "\"UpdateRole\", \"DeleteRole\"]\n"
		   "| filter requestParameters.roleName like /%s/\n"
		   "| filter userIdentity.sessionContext.sessionIssuer.userName != \"%s\"\n"
		   "| sort @timestamp desc",
		   name_re, keyless_role);
	q[4] = (struct audit_query){ .name = "keyless-own-denials",
				     .title = "keyless' own calls IAM refused (its IAM policy, or the fence working)" };
	str_format(q[4].query, sizeof(q[4].query),
		   "fields @timestamp, eventName, errorCode, errorMessage, userIdentity.arn as who\n"
		   "| filter eventSource in [\"iam.amazonaws.com\", \"eks.amazonaws.com\"] and errorCode in "
		   "[\"AccessDenied\", \"AccessDeniedException\"]\n"
		   "| filter userIdentity.sessionContext.sessionIssuer.userName = \"%s\"\n"
		   "| stats count(*) as denials by eventName, errorCode\n"
		   "| sort denials desc",
		   keyless_role);
}
