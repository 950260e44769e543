/* desired.h: the tags and description of an identity's role (pure), as the
 * controller writes them and `keyless render` shows them.
 *
 * Tags, in this order (keys compared without case, as IAM): keyless'
 * ownership tags (identity/naming.h: cluster-scoped or, with roleScope
 * Account, shared), then the operator's extraTags, then spec.tags; a later
 * tag never overrides an earlier key, so a tenant cannot set keyless' or the
 * operator's tags (they may be what ABAC conditions on aws:PrincipalTag
 * trust). At most IAM's 50.
 */
#ifndef KEYLESS_IDENTITY_DESIRED_H
#define KEYLESS_IDENTITY_DESIRED_H

#include <stddef.h>

#include "identity/settings.h"
#include "identity/spec.h"

#define ROLE_TAGS_MAX 50

/* The service-account annotations of IRSA (AWS's pod identity webhook reads them). */
#define ANN_ROLE_ARN "eks.amazonaws.com/role-arn"
#define ANN_REGIONAL "eks.amazonaws.com/sts-regional-endpoints"
#define ANN_AUDIENCE "eks.amazonaws.com/audience"

/* Whose role (all borrowed). */
struct role_owner_id {
	const char *ns;
	const char *name;
	const char *uid;
	const char *issuer_tag; /* identity_issuer_tag() of the cluster's issuer */
};

struct role_tags {
	struct wi_tag tags[ROLE_TAGS_MAX + 8]; /* room for other owners' tags (reconcile/role.c) */
	size_t n;
	char owner_key[128];                   /* keyless.dev/owner/<cluster> (roleScope Account) */
};

/* Values point into s, who and sp (and out->owner_key). */
void identity_role_tags(const struct settings *s, const struct role_owner_id *who, const struct wi_spec *sp,
			struct role_tags *out);

/* The role's description (the same text in every cluster sharing a role). */
void identity_role_description(const struct settings *s, const char *ns, const char *name, const struct wi_spec *sp,
			       char *out, size_t size);

#endif
