/* policy.h: IAM policy documents as IAM returns them, compared as JSON.
 *
 * IAM returns policy documents (a role's AssumeRolePolicyDocument, an inline
 * policy's PolicyDocument) percent-encoded, and not necessarily with the
 * spacing or key order they were written with. Never compare them as text.
 *
 * aws_policy_equal() compares two documents by what they mean to IAM's
 * policy grammar, not by spelling:
 *   - whitespace and object key order are ignored;
 *   - every array is a set: element order and repetitions do not matter
 *     (Statement, Action, Resource, Principal values, Condition values are
 *     all unordered in IAM's evaluation);
 *   - a single value equals an array holding just that value ("Action":
 *     "sts:AssumeRoleWithWebIdentity" == ["sts:AssumeRoleWithWebIdentity"]),
 *     and likewise "Statement": {...} == [{...}];
 *   - everything else is exact: strings case-sensitive (IAM treats keys like
 *     "Effect" and action names case-insensitively in places; keyless
 *     writes them in one canonical case, so exactness here only ever causes
 *     a harmless rewrite), numbers by value, "1" != 1.
 */
#ifndef KEYLESS_AWS_POLICY_H
#define KEYLESS_AWS_POLICY_H

#include <stdbool.h>

/* Percent-decode a document ("%7B%22Version..." -> "{\"Version..."); '+'
 * stays '+' (IAM encodes spaces as %20). Text that is not encoded comes
 * back unchanged. *ret is malloc'd. Returns 0 or -ENOMEM. */
int aws_policy_decode(const char *encoded, char **ret);

/* 1 if equal as described above, 0 if not, -EINVAL if either is not JSON. */
int aws_policy_equal(const char *a, const char *b);

/* One spelling per meaning: documents that aws_policy_equal() calls equal
 * have the same canonical text (objects with sorted keys, every array as the
 * sorted set of its elements' canonical texts, a one-element set as that
 * element). For fingerprints (identity/fingerprint.h), not for sending to
 * IAM. *ret is malloc'd. 0, -EINVAL (not JSON) or -ENOMEM. */
int aws_policy_canonical(const char *doc, char **ret);

#endif
