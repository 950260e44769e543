/* fingerprint.h: what a drift sweep compares of an IAM role (pure).
 *
 * A full verification of a role (reconcile/role.c) reads it with four calls
 * and makes it match the desired state; the reconciler then remembers two
 * 64-bit fingerprints of that state (reconcile/memo.c). A periodic sweep
 * reads many roles per call (driftDetection: bulk reads
 * GetAccountAuthorizationDetails, roles reads ListRoles), computes the same
 * fingerprints from what IAM returned and reconciles only the identities
 * whose fingerprints differ.
 *
 *   role_fingerprint(): what GetAccountAuthorizationDetails returns of a
 *     role and keyless manages: the trust policy, the permissions boundary,
 *     the tags (keys without regard to case, as IAM compares them), the
 *     inline policy names and the document of "keyless", the attached
 *     managed policy ARNs. Not the path (IAM cannot move a role, keyless
 *     does not repair it), the description or the maximum session duration
 *     (the call does not return them).
 *   role_list_fingerprint(): what ListRoles returns: the trust policy, the
 *     description and the maximum session duration.
 *
 * Documents are fingerprinted by aws_policy_canonical(), so two documents
 * aws_policy_equal() calls equal have equal fingerprints; sets (tags,
 * names, ARNs) do not depend on order. FNV-1a, 64-bit: a collision could
 * hide one drift from one sweep; the next change of the role or its
 * WorkloadIdentity verifies it in full.
 */
#ifndef KEYLESS_IDENTITY_FINGERPRINT_H
#define KEYLESS_IDENTITY_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "identity/spec.h"

struct role_state {
	const char *trust_policy;       /* decoded JSON */
	const char *boundary_arn;       /* NULL or "": none */
	const struct wi_tag *tags;
	size_t n_tags;
	const char *const *inline_names;
	size_t n_inline;
	const char *keyless_policy;     /* the inline policy "keyless", decoded; NULL: none */
	const char *const *attached;    /* managed policy ARNs */
	size_t n_attached;
	const char *description;        /* role_list_fingerprint only */
	int max_session_duration;       /* role_list_fingerprint only */
};

/* 0 when a document is not JSON or memory ran out (0 is never a valid
 * fingerprint, so it matches nothing). */
uint64_t role_fingerprint(const struct role_state *s);
uint64_t role_list_fingerprint(const struct role_state *s);

#endif
