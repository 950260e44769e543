/* redact.h: hide keyless' own AWS identity in text meant for tenants.
 *
 * AWS error messages name the caller: AccessDenied reads "User:
 * arn:aws:sts::123456789012:assumed-role/keyless-controller/keyless-1234 is
 * not authorized to perform: iam:CreateRole on resource:
 * arn:aws:iam::123456789012:role/keyless/x". Conditions and Events live in the
 * tenant's namespace; they must not reveal the controller's role and session
 * names. The controller's own log keeps the full text.
 *
 * Redacted, in any AWS partition (aws, aws-cn, aws-us-gov, ...):
 *   - principal ARNs: arn:<p>:sts::<acct>:assumed-role/..., federated-user/...,
 *     any other sts ARN, arn:<p>:iam::<acct>:user/... and :root;
 *   - any ARN right after "User: " (the principal of an AccessDenied);
 *   - an ARN cut short (fewer than six fields: a truncated message);
 *   - bare 12-digit account ids outside ARNs.
 * A principal becomes arn:<p>:<service>:<region>:<account>:<type>/<redacted>
 * (for example arn:aws:sts::<account>:assumed-role/<redacted>).
 * Kept verbatim: resource ARNs (the tenant's own role, OIDC providers,
 * policies), whose account id the tenant already sees in status.roleArn.
 * A '.', ',' or ':' ending an ARN is taken as punctuation and kept.
 */
#ifndef KEYLESS_AWS_REDACT_H
#define KEYLESS_AWS_REDACT_H

#include <stddef.h>

/* Write msg with principals redacted into dst (always NUL-terminated when
 * size > 0; truncation ends in "...", like strfmt). msg may be NULL (gives "").
 * dst must not overlap msg. Returns how many ARNs/account ids were redacted. */
int aws_redact_principals(char *dst, size_t size, const char *msg);

#endif
