/* render.h: what keyless would make for a WorkloadIdentity, offline (pure):
 * `keyless render` (cli/render.c), for code review of GitOps changes.
 *
 * The same decisions as the controller, in the same order, with the same
 * reasons: the spec (InvalidSpec), the namespace (NamespaceNotAllowed), the
 * guardrails (PolicyRejected), the account (AccountNotAllowed), the mode
 * (mode.h's refusals), the role name, then the documents and their sizes
 * (PolicyTooLarge, TrustPolicyTooLarge). What only the cluster or AWS can
 * say is assumed and listed under "notes": Auto picks Pod Identity as if
 * the agent ran and no pod were on Fargate or Windows; a missing
 * metadata.uid or namespace is filled in; a steady state (no migration).
 *
 * Result, JSON (keys in this order):
 *   {"workloadIdentity": "ns/name",
 *    "mode": "IRSA"|"PodIdentity", "modeReason": ...,
 *    "role": {"name", "arn", "path", "description", "maxSessionDuration",
 *             "permissionsBoundary" (null: none), "trustPolicy" {...},
 *             "permissionPolicy" {...} | null, "managedPolicyArns" [...],
 *             "tags" {...}},
 *    "serviceAccount": {"name", "annotations" {...}},
 *    "podIdentityAssociation": {...}             (Pod Identity only)
 *    "notes": [...]}
 * or, refused: {"workloadIdentity": ..., "error": {"reason", "message"}}.
 */
#ifndef KEYLESS_IDENTITY_RENDER_H
#define KEYLESS_IDENTITY_RENDER_H

#include <jansson.h>

#include "identity/settings.h"

struct render_in {
	const struct settings *settings;
	const char *issuer;               /* https://... */
	const char *account_id;           /* the cluster's account (12 digits) */
	const char *partition;            /* "aws" */
	const char *region;               /* the cluster's */
	const char *default_namespace;    /* for objects without metadata.namespace */
	const char *controller_namespace; /* keyless' own; NULL: not checked */
	long trust_policy_quota;          /* 0: settings' trustPolicySizeQuota, else 2048 */
};

/* A new reference, or NULL without memory. */
json_t *identity_render(const struct render_in *in, json_t *obj);

#endif
