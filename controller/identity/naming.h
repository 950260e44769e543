/* naming.h: deterministic IAM names for a WorkloadIdentity (pure).
 *
 * Role name: <prefix><cluster>-<namespace>-<name>. IAM role names are at most
 * 64 characters; a longer name keeps its first 55 characters and ends with
 * "-" and 8 hex digits of the SHA-256 of the full name, so it is stable
 * across restarts and two identities that share a long prefix still get
 * different names.
 */
#ifndef KEYLESS_IDENTITY_NAMING_H
#define KEYLESS_IDENTITY_NAMING_H

#include <stdbool.h>
#include <stddef.h>

#define IAM_ROLE_NAME_MAX 64

/* Write the role name into out (size >= IAM_ROLE_NAME_MAX + 1). Returns 0,
 * or -EINVAL if a part contains a character IAM does not allow in role
 * names (alphanumerics and +=,.@_-). */
int identity_role_name(const char *prefix, const char *cluster, const char *ns, const char *name, char *out,
		       size_t size);

/* The IAM tags that mark a role as keyless' own. */
#define TAG_CLUSTER "keyless.dev/cluster"
#define TAG_NAMESPACE "keyless.dev/namespace"
#define TAG_NAME "keyless.dev/name"
#define TAG_UID "keyless.dev/uid"

/* The OIDC provider host/path of an issuer URL ("https://oidc.eks.../id/X" ->
 * "oidc.eks.../id/X"): the prefix of the trust policy's condition keys and
 * the tail of the provider ARN. Returns a pointer into issuer. */
const char *identity_issuer_host(const char *issuer);

#endif
