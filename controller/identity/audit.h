/* audit.h: CloudWatch Logs Insights queries over CloudTrail, scoped to the
 * roles keyless manages for one cluster (pure): `keyless audit queries`.
 *
 * The roles are matched by name: every role keyless makes for this cluster
 * is <roleNamePrefix><cluster>+... (roleScope Account: <roleNamePrefix>,
 * shared with the account's other keyless clusters) under rolePath
 * (identity/naming.h), so a regular expression on the role ARN scopes each
 * query without listing roles.
 */
#ifndef KEYLESS_IDENTITY_AUDIT_H
#define KEYLESS_IDENTITY_AUDIT_H

#include <stddef.h>

#include "identity/settings.h"

struct audit_query {
	const char *name;   /* kebab-case */
	const char *title;  /* one line */
	char query[1500];   /* Logs Insights query language */
};

#define AUDIT_QUERIES 5

/* The regular expression (Logs Insights /.../ syntax, without slashes)
 * matching the ARNs of keyless' roles for this cluster: ":role<path><prefix>"
 * with regex metacharacters escaped. out: >= 512 bytes. */
void audit_role_regex(const struct settings *s, char *out, size_t size);

/* The same as a CloudWatch metric-filter wildcard ("*:role/keyless/prod+*"). */
void audit_role_arn_glob(const struct settings *s, char *out, size_t size);

/* Fill q[AUDIT_QUERIES]; keyless_role: the name of keyless' own IAM role
 * (its sessions are keyless' calls). */
void audit_queries(const struct settings *s, const char *keyless_role, struct audit_query q[AUDIT_QUERIES]);

#endif
