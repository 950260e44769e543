/* naming.h: deterministic IAM names and ownership tags for a WorkloadIdentity
 * (pure).
 *
 * Role name: <readable>@<hash>, at most 64 characters (IAM's limit):
 *   readable = <prefix><cluster>+<namespace>+<name>, cut to 47 characters;
 *   hash     = the first 8 bytes (16 lowercase hex digits) of the SHA-256 of
 *              "keyless-role/v1\n<issuer>\n<prefix>\n<path>\n<cluster>\n<namespace>\n<name>".
 * '+' cannot occur in a cluster, namespace or object name, so the readable
 * part alone tells two identities apart whenever it is not cut; the hash
 * covers everything else (long names, names that differ only in case - IAM
 * role names are case-insensitive -, two clusters of the same name with
 * different OIDC issuers, another role path): two distinct inputs share a
 * name only if they share 64 bits of SHA-256, which no tenant can arrange.
 * The role path is hashed too, so changing rolePath gives new names (IAM
 * cannot move a role to another path; keyless moves the identity instead).
 *
 * The name keyless created is recorded in the object's status, so a later
 * change of any input never orphans a role (reconcile/ retires the old one).
 */
#ifndef KEYLESS_IDENTITY_NAMING_H
#define KEYLESS_IDENTITY_NAMING_H

#include <stdbool.h>
#include <stddef.h>

#include "identity/spec.h"

#define IAM_ROLE_NAME_MAX 64
#define ROLE_NAME_READABLE_MAX 47 /* 64 - '@' - 16 hex digits */

/* What a role name is derived from (all borrowed).
 *
 * With roleScope Account (account = true) the role is shared by every
 * cluster whose keyless manages an identity of this namespace/name in the
 * account, so the cluster and its issuer are left out:
 *   readable = <prefix><namespace>+<name>, cut to 47 characters;
 *   hash     = SHA-256 of "keyless-role/account/v1\n<prefix>\n<path>\n<namespace>\n<name>".
 * The readable part has one '+' (a cluster-scoped name has two) and the
 * hash input differs, so the two scopes never share a name. */
struct role_key {
	const char *issuer;  /* https://... (unused with account) */
	const char *prefix;  /* roleNamePrefix, "" if none */
	const char *path;    /* rolePath, "/" if none */
	const char *cluster; /* unused with account */
	const char *ns;
	const char *name;
	bool account;        /* roleScope Account */
};

/* Write the role name into out (size >= IAM_ROLE_NAME_MAX + 1). Returns 0,
 * -ENOSPC if out is too small, or -EINVAL if prefix, cluster, namespace or
 * name contains a character IAM does not allow in role names
 * (alphanumerics and +=,.@_-), or cluster, namespace or name contains '+'. */
int identity_role_name(const struct role_key *k, char *out, size_t size);

/* The IAM tags that mark a role as keyless' own for one object of one
 * cluster. Tag keys are case-insensitive in IAM; look them up with
 * identity_tag_get. */
#define TAG_CLUSTER "keyless.dev/cluster"
#define TAG_ISSUER "keyless.dev/issuer"
#define TAG_NAMESPACE "keyless.dev/namespace"
#define TAG_NAME "keyless.dev/name"
#define TAG_UID "keyless.dev/uid"
#define OWNERSHIP_TAGS 5

/* A role shared by the clusters of an account (roleScope Account) carries,
 * instead of the cluster, issuer and uid tags:
 *   keyless.dev/scope = Account
 *   keyless.dev/namespace, keyless.dev/name (as above)
 *   keyless.dev/owner/<cluster> = identity_issuer_tag() of that cluster's
 *     issuer, one per cluster that uses the role.
 * Each cluster's keyless adds and removes only its own owner tag; the role
 * is deleted when the last owner lets go. A shared role is keyed by
 * namespace/name alone: no uid, so a new object of the same name uses it. */
#define TAG_SCOPE "keyless.dev/scope"
#define SCOPE_ACCOUNT "Account"
#define TAG_OWNER_PREFIX "keyless.dev/owner/"
#define SHARED_OWNERSHIP_TAGS 4 /* scope, namespace, name, this cluster's owner tag */
/* keyless.dev/owner/<cluster>; out must hold 128 bytes (IAM's key limit;
 * a cluster name has at most 100 characters). */
void identity_owner_tag_key(const char *cluster, char *out, size_t size);
/* The cluster of an owner tag key, or NULL if key is not one (no regard to
 * case, as IAM). */
const char *identity_owner_tag_cluster(const char *key);

/* The value of TAG_ISSUER for an issuer URL: its host and path
 * ("oidc.eks.us-east-1.amazonaws.com/id/ABC", as IAM names the provider)
 * when that is a valid tag value, else "sha256:" and the hex SHA-256 of the
 * URL. out must hold 257 bytes. */
void identity_issuer_tag(const char *issuer, char *out, size_t size);

/* The value of a tag, keys compared without regard to case (as IAM does);
 * NULL if absent. */
const char *identity_tag_get(const struct wi_tag *tags, size_t n, const char *key);

/* Whose role is it? Decided from the tags alone. */
enum role_owner {
	ROLE_OWNED,          /* keyless', this cluster, this object */
	ROLE_FOREIGN,        /* not keyless' for this object: no or other ownership tags */
	ROLE_OTHER_CLUSTER,  /* keyless' for this namespace/name, but another cluster's issuer */
	ROLE_EARLIER_OBJECT, /* keyless' for this cluster and namespace/name, another uid: an
			      * earlier object of the same name (deletionPolicy Retain) */
	ROLE_SHARED,         /* keyless' account-scoped role for this namespace/name, this
			      * cluster not (or no longer) among its owners */
};

struct owner_key {
	const char *issuer_tag; /* identity_issuer_tag() of this cluster's issuer */
	const char *cluster;    /* this cluster's name (owner tags) */
	const char *ns;
	const char *name;
	const char *uid;
};

/* Decided by the role's own tags, whatever the settings say today: a role
 * tagged keyless.dev/scope=Account is judged as shared (ROLE_OWNED when this
 * cluster's owner tag is on it, with this cluster's issuer; ROLE_SHARED
 * without it; ROLE_OTHER_CLUSTER when it names another issuer: a cluster
 * of the same name elsewhere), any other by the cluster-scoped tags. */

enum role_owner identity_role_owner(const struct wi_tag *tags, size_t n, const struct owner_key *k);

/* Is it an account-scoped role (keyless.dev/scope=Account)? */
bool identity_role_shared(const struct wi_tag *tags, size_t n);

/* How many owner tags of clusters other than `cluster` the role has. */
size_t identity_other_owners(const struct wi_tag *tags, size_t n, const char *cluster);

/* On the OIDC provider: one tag per client id (audience) keyless added,
 * "keyless.dev/client-id/<16 hex of SHA-256(audience)>" = audience, so the
 * client ids keyless may remove again are known after a restart. */
#define CLIENT_ID_TAG_PREFIX "keyless.dev/client-id/"
/* out must hold 64 bytes. */
void identity_client_id_tag_key(const char *audience, char *out, size_t size);

/* The OIDC provider host/path of an issuer URL ("https://oidc.eks.../id/X" ->
 * "oidc.eks.../id/X"): the prefix of the trust policy's condition keys and
 * the tail of the provider ARN. Returns a pointer into issuer. */
const char *identity_issuer_host(const char *issuer);

#endif
