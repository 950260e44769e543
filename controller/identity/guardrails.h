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
 *     a denied pattern "*" denies the all-actions wildcard itself ("*", "*:*");
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

/* Glob match with IAM's wildcards (* any run, ? one char), case-insensitive
 * when `nocase` (IAM action names are case-insensitive). */
bool glob_match(const char *pattern, const char *text, bool nocase);
/* Can some string match both patterns? */
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
