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
 *   - Resource "*" (or an ARN that is only wildcards) is rejected unless
 *     every action of the statement is covered by resourceWildcardActions;
 *   - managedPolicyArns must each match the managed-policy allowlist;
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
 * The first violation found is reported (statements, then actions, in order;
 * then managed policies). Call guardrails_check_namespace first. */

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
