/* guardrails.h: the operator's limits on what a WorkloadIdentity may ask for
 * (pure). Checked before anything is written to AWS; a rejection is terminal
 * until the object changes (reason PolicyRejected or NamespaceNotAllowed),
 * with a message naming the field and the rule.
 *
 * Action patterns are "*" or "service:Action" where Action may contain the
 * IAM wildcards * and ?. Only Allow statements are checked (a Deny cannot
 * grant anything):
 *   - an action is rejected when it can match an action a denied pattern
 *     matches (glob overlap: "s3:*" overlaps "s3:Delete*"; "*" overlaps all);
 *     a denied pattern "*" (or "*:*") denies the all-actions wildcard itself
 *     ("*", "*:*"; more precisely any action whose service part has a
 *     wildcard, which spec.c never lets through anyway), not every action;
 *   - when allowedActions is non-empty, every action must be covered by one
 *     of them (every action it can match is matched by the allowed pattern);
 *   - a Resource that stands for every resource of a kind ("*", a service
 *     wildcard, "table/" "*", "secret:*", "arn:aws:s3:::*", a name made
 *     from a variable the tenant chooses, ...: shape_resource_is_wildcard()
 *     in shape.h has the exact rule) is rejected unless every action of the
 *     statement is covered by resourceWildcardActions. A prefix after a
 *     literal ("secret:app/db-*") and every object of one named bucket
 *     ("arn:aws:s3:::b/" "*") are not wildcards;
 *   - when resourceAccounts is non-empty, the account part of every ARN
 *     Resource must be empty (S3 bucket and object ARNs carry none) or one
 *     of them exactly ("aws" for AWS-owned resources such as
 *     arn:aws:iam::aws:policy/...); a '*' or '?' in the account is rejected.
 *     A wildcard Resource that resourceWildcardActions allowed is not
 *     checked (it has no single account); other Resources of that statement
 *     are;
 *   - managedPolicyArns must each match the managed-policy allowlist (and
 *     only that: resourceAccounts does not apply to them);
 *   - every spec.tags key must match an allowedTagKeys pattern, without
 *     case as IAM compares tag keys; empty (the default): no tags. Role tags
 *     become aws:PrincipalTag/<key>, so only keys the operator lets tenants
 *     choose may reach them;
 *   - spec.audience (absent or empty: sts.amazonaws.com) must be exactly one
 *     of allowedAudiences: each audience is added to the cluster's OIDC
 *     provider, which every role trusting the issuer shares;
 *   - the namespace must match includeNamespaces (if set) and no pattern of
 *     excludeNamespaces.
 */
#ifndef KEYLESS_IDENTITY_GUARDRAILS_H
#define KEYLESS_IDENTITY_GUARDRAILS_H

#include <stdbool.h>

#include "base/err.h"
#include "identity/settings.h"
#include "identity/spec.h"

/* Messages name the field and the rule, e.g.
 *   spec.permissions.statements[0].actions[1]: 'iam:PassRole' is denied by
 *   the operator's guardrail 'iam:*' (guardrails.deniedActions)
 *   namespace 'kube-system' is excluded by guardrails.excludeNamespaces pattern 'kube-*'
 *   spec.tags[team]: tag key 'team' is not in guardrails.allowedTagKeys (...)
 *   spec.audience: 'x' is not in guardrails.allowedAudiences (...)
 * The first violation found is reported: statements in order (each: actions,
 * then the Resource wildcard, then accounts), then managed policies, then
 * tags (in spec order), then the audience. Call guardrails_check_namespace
 * first. */

/* Glob match with IAM's wildcards (* any run, ? one char), case-insensitive
 * when `nocase` (IAM action names are case-insensitive). */
bool glob_match(const char *pattern, const char *text, bool nocase);
/* Can some string match both patterns? Exact. (Patterns longer than a few
 * thousand characters, or no memory: true, the cautious answer for a deny
 * list.) */
bool glob_overlap(const char *a, const char *b, bool nocase);
/* Does every string matched by `inner` match `outer`? (sound, may say no
 * for some exotic true cases) */
bool glob_covers(const char *outer, const char *inner, bool nocase);

/* 0 if allowed; -EACCES with reason "NamespaceNotAllowed" otherwise. */
int guardrails_check_namespace(const struct guardrails *g, const char *ns, struct op_err *err);

/* 0 if the spec's permissions pass; -EACCES with reason "PolicyRejected" and a
 * message naming the field and the rule otherwise. */
int guardrails_check_spec(const struct guardrails *g, const struct wi_spec *spec, struct op_err *err);

#endif
