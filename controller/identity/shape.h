/* shape.h: the shapes of IAM and Kubernetes strings that the spec, the
 * operator settings and the guardrails share (pure; internal to identity/).
 *
 * Each predicate mirrors a pattern of crds/keyless.dev_workloadidentities.yaml
 * (quoted in its comment), so the API server and keyless agree on what is
 * valid. Tag charsets are the ASCII subset of IAM's ([A-Za-z0-9 _.:/=+-@]).
 *
 * The error helpers build "<prefix><path>: <problem>" messages into a
 * struct op_err, with user input quoted through shape_quote() so a long or
 * hostile value can neither push the rule out of the (fixed-size) message nor
 * put control characters into it.
 */
#ifndef KEYLESS_IDENTITY_SHAPE_H
#define KEYLESS_IDENTITY_SHAPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "identity/spec.h"

/* Limits shared by the CRD and the parsers (see the CRD for the reasons). */
#define SHAPE_MAX_ACTION_LEN 128
#define SHAPE_MAX_ARN_LEN 2048
#define SHAPE_MAX_TAG_KEY_LEN 128
#define SHAPE_MAX_TAG_VALUE_LEN 256

/* User input made safe to quote: at most 120 characters (then "..."), control
 * characters and non-ASCII bytes shown as '?'. Use as shape_quote(s).s inside
 * one full expression (a printf argument list). */
struct quoted {
	char s[128];
};
/* *ret = strdup(s); 0 or -ENOMEM (*ret untouched on failure). */
int shape_dup(const char *s, char **ret);

struct quoted shape_quote(const char *s);

/* Kubernetes DNS-1123 subdomain: <= 253 characters, dot-separated labels of
 * [a-z0-9-] that start and end with [a-z0-9]
 * ("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"). */
bool shape_dns_subdomain(const char *s);

/* Non-empty, no whitespace, no control characters ("^\S+$"). */
bool shape_token(const char *s);

/* An IAM action: "*" or "service:Action" ("^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$",
 * <= 128 characters). With `service_wildcards` (operator patterns), the
 * service may also contain * and ? ("s3*:Get*", "*:*"). */
bool shape_action(const char *s, bool service_wildcards);

/* NULL if s is a valid Resource: "*" or
 * "arn:(aws|aws-cn|aws-us-gov):<service>:<region>:<account>:<resource>" with
 * service [a-z0-9*?-]+, region [a-z0-9*?-]*, account [0-9*?]* or "aws", and a
 * non-empty resource without control characters; <= 2048 characters.
 * Otherwise a short description of what is wrong. */
const char *shape_resource_problem(const char *s);

/* True if a (valid) Resource stands for every resource of a kind (or
 * more), which the guardrails allow only for resourceWildcardActions.
 * (Examples that a C comment cannot hold are split like C string
 * literals: "key/" "*" is the ARN resource "key/" followed by '*'.)
 *   - "*", or an ARN whose service part has a wildcard ("arn:aws:*:*:*:*",
 *     "arn:aws:*:*:*:*" "/" "*", "arn:aws:*:*:*:*:*", "arn:aws:s?s:...");
 *   - otherwise the resource part is "<type>/<name>" or "<type>:<name>"
 *     (split at the first '/' or ':'); it is a wildcard if <type> has a
 *     wildcard ("*:*", "*" "/" "*", "ta?le/x") or <name> is not anchored
 *     ("table/" "*", "secret:*", "key/" "*", "function:*", "log-group:*",
 *     "role/" "*" are wildcards);
 *   - services whose resource part starts with the resource's name: S3
 *     bucket and object ARNs (no region, no account), sqs, sns, execute-api
 *     and codecommit: only that first name must be anchored
 *     ("arn:aws:s3:::*", "arn:aws:s3:::*" "/" "*" and "arn:aws:sqs:r:a:*" are
 *     wildcards; "arn:aws:s3:::mybucket/" "*", every object of one named
 *     bucket, is not; S3 access point ARNs have a type, "accesspoint/x");
 *   - a resource part without '/' or ':' is a single name; one that starts
 *     with '/' has its type after that slash ("/restapis/" "*" is a wildcard).
 * A name is anchored when it has no wildcard, or when a letter or digit
 * comes before its first '*': "app/db-*", "mybucket*", "/aws/lambda/x*" and
 * "a?b" are; "*", "*-prod", "?*", "/" "*" and a name of only '?' and
 * punctuation (which can match every KMS key id) are not. Wildcards in the
 * region or account do not count here (guardrails.resourceAccounts governs
 * accounts).
 *
 * Policy variables are resolved first. The escapes ${*}, ${?} and ${$} are
 * literal characters. ${aws:PrincipalTag/keyless.dev/<key>} (role tags
 * keyless sets; spec.tags cannot use the prefix), ${aws:PrincipalAccount},
 * ${aws:PrincipalOrgID}, ${aws:PrincipalType} and ${aws:username} (absent
 * for role sessions) are fixed values, i.e. literals: keys compared without
 * case, with an optional default value that has no wildcard. Any other
 * variable counts as '*', because the tenant may choose its value
 * (${aws:PrincipalTag/team}, ${aws:userid} and ${sts:RoleSessionName} carry
 * a tenant-set tag or the caller's session name, ${aws:SourceIdentity}, ...).
 * A string that is not a valid Resource: true (the cautious answer). */
bool shape_resource_is_wildcard(const char *s);

/* The account part of an ARN Resource ("123456789012", "aws", "*", ""):
 * 0 with *ret pointing into s (not terminated) and *ret_len; -EINVAL for "*"
 * or a string that is not an ARN. */
int shape_resource_account(const char *s, const char **ret, size_t *ret_len);

/* A managed policy ARN:
 * "^arn:(aws|aws-cn|aws-us-gov):iam::(aws|[0-9]{12}):policy/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$",
 * <= 2048 characters. */
bool shape_policy_arn(const char *s);

/* A role ARN: "^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$",
 * <= 2048 characters. */
bool shape_role_arn(const char *s);

/* An IAM condition operator: one of IAM's (String*, Numeric*, Date*, Bool,
 * BinaryEquals, IpAddress, NotIpAddress, Arn*, Null), optionally prefixed by
 * "ForAnyValue:" or "ForAllValues:" and (except Null) suffixed by "IfExists". */
bool shape_condition_operator(const char *s);

/* Tag key: 1..128 characters of [A-Za-z0-9 _.:/=+\-@]. */
bool shape_tag_key(const char *s);
/* Tag value: 0..256 characters of the same set. */
bool shape_tag_value(const char *s);
/* Key reserved for keyless ("keyless.dev/...") or AWS ("aws:..."), compared
 * without regard to case (IAM role tag keys are case-insensitive). */
bool shape_tag_key_reserved(const char *s);

/* Where errors go: messages are "<prefix><path>: <problem>", with `reason`
 * ("InvalidSpec", "InvalidSettings") and code -EINVAL. */
struct shape_ctx {
	struct op_err *err; /* may be NULL */
	const char *prefix; /* "" or "settings /etc/keyless/settings.yaml: " */
	const char *reason;
};

/* Format a field path ("spec.tags[team]") into buf, truncating with "...". */
void shape_path(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/* Fill c->err and return -EINVAL. An empty path leaves out "<path>: ". */
int shape_fail(const struct shape_ctx *c, const char *path, const char *fmt, ...) _printf_(3, 4);

/* JSON type name for messages ("a string", "an object", ...). */
const char *shape_json_type(const json_t *v);

/* Parse a tag map (key -> string) at `path` into a new array of at most
 * `max` tags (*ret NULL and *ret_n 0 for an empty or absent map). Keys are
 * checked with shape_tag_key and shape_tag_key_reserved, values with
 * shape_tag_value, and two keys that differ only in case are rejected (IAM
 * would). Returns 0, -EINVAL (error in c) or -ENOMEM. */
int shape_parse_tags(const struct shape_ctx *c, const char *path, json_t *obj, size_t max, struct wi_tag **ret,
		     size_t *ret_n);
void shape_tags_free(struct wi_tag *tags, size_t n);

/* Free a NULL-terminated array of strings (NULL accepted). */
void shape_strv_free(char **v);

#endif
