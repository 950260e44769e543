#include "identity/naming.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "identity/shape.h"

static bool role_chars_ok(const char *s, bool plus_ok)
{
	for (; *s; s++) {
		char c = *s;

		if (c == '+' && !plus_ok)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+=,.@_-", c)))
			return false;
	}
	return true;
}

int identity_role_name(const struct role_key *k, char *out, size_t size)
{
	const char *prefix = k->prefix ? k->prefix : "", *path = k->path ? k->path : "/";
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char input[2048], readable[512];
	int n;

	if (size < IAM_ROLE_NAME_MAX + 1)
		return -ENOSPC;
	if (!role_chars_ok(prefix, true) || !role_chars_ok(k->ns, false) || !role_chars_ok(k->name, false) ||
	    strchr(path, '\n') ||
	    (!k->account && (!role_chars_ok(k->cluster, false) || strchr(k->issuer, '\n'))))
		return -EINVAL;
	if (k->account)
		n = snprintf(input, sizeof(input), "keyless-role/account/v1\n%s\n%s\n%s\n%s", prefix, path, k->ns,
			     k->name);
	else
		n = snprintf(input, sizeof(input), "keyless-role/v1\n%s\n%s\n%s\n%s\n%s\n%s", k->issuer, prefix, path,
			     k->cluster, k->ns, k->name);
	if (n < 0 || (size_t)n >= sizeof(input))
		return -EINVAL;
	SHA256((const unsigned char *)input, (size_t)n, digest);
	if (k->account)
		n = snprintf(readable, sizeof(readable), "%s%s+%s", prefix, k->ns, k->name);
	else
		n = snprintf(readable, sizeof(readable), "%s%s+%s+%s", prefix, k->cluster, k->ns, k->name);
	if (n < 0 || (size_t)n >= sizeof(readable))
		return -EINVAL;
	readable[n > ROLE_NAME_READABLE_MAX ? ROLE_NAME_READABLE_MAX : n] = '\0';
	snprintf(out, size, "%s@%02x%02x%02x%02x%02x%02x%02x%02x", readable, digest[0], digest[1], digest[2], digest[3],
		 digest[4], digest[5], digest[6], digest[7]);
	return 0;
}

void identity_issuer_tag(const char *issuer, char *out, size_t size)
{
	const char *host = identity_issuer_host(issuer);
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct strfmt f = STRFMT_INIT(out, size);

	if (*host && shape_tag_value(host) && strlen(host) < size) {
		strfmt_add(&f, "%s", host);
		return;
	}
	SHA256((const unsigned char *)issuer, strlen(issuer), digest);
	strfmt_add(&f, "sha256:");
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		strfmt_add(&f, "%02x", digest[i]);
}

void identity_client_id_tag_key(const char *audience, char *out, size_t size)
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)audience, strlen(audience), d);
	snprintf(out, size, "%s%02x%02x%02x%02x%02x%02x%02x%02x", CLIENT_ID_TAG_PREFIX, d[0], d[1], d[2], d[3], d[4],
		 d[5], d[6], d[7]);
}

const char *identity_tag_get(const struct wi_tag *tags, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(tags[i].key, key) == 0)
			return tags[i].value;
	}
	return NULL;
}

static bool tag_is(const struct wi_tag *tags, size_t n, const char *key, const char *want)
{
	const char *v = identity_tag_get(tags, n, key);

	return v && want && streq(v, want);
}

void identity_owner_tag_key(const char *cluster, char *out, size_t size)
{
	snprintf(out, size, "%s%s", TAG_OWNER_PREFIX, cluster);
}

const char *identity_owner_tag_cluster(const char *key)
{
	size_t n = strlen(TAG_OWNER_PREFIX);

	return key && strncasecmp(key, TAG_OWNER_PREFIX, n) == 0 && key[n] ? key + n : NULL;
}

bool identity_role_shared(const struct wi_tag *tags, size_t n)
{
	return tag_is(tags, n, TAG_SCOPE, SCOPE_ACCOUNT);
}

size_t identity_other_owners(const struct wi_tag *tags, size_t n, const char *cluster)
{
	size_t others = 0;

	for (size_t i = 0; i < n; i++) {
		const char *c = identity_owner_tag_cluster(tags[i].key);

		others += c && strcasecmp(c, cluster) != 0;
	}
	return others;
}

enum role_owner identity_role_owner(const struct wi_tag *tags, size_t n, const struct owner_key *k)
{
	if (identity_role_shared(tags, n)) {
		char own[128];

		if (!tag_is(tags, n, TAG_NAMESPACE, k->ns) || !tag_is(tags, n, TAG_NAME, k->name) || !k->cluster)
			return ROLE_FOREIGN;
		identity_owner_tag_key(k->cluster, own, sizeof(own));
		if (!identity_tag_get(tags, n, own))
			return ROLE_SHARED;
		/* a cluster of the same name with another issuer (another
		 * region) holds that owner tag: not ours to take */
		return tag_is(tags, n, own, k->issuer_tag) ? ROLE_OWNED : ROLE_OTHER_CLUSTER;
	}
	if (!tag_is(tags, n, TAG_NAMESPACE, k->ns) || !tag_is(tags, n, TAG_NAME, k->name) ||
	    !identity_tag_get(tags, n, TAG_ISSUER))
		return ROLE_FOREIGN;
	if (!tag_is(tags, n, TAG_ISSUER, k->issuer_tag))
		return ROLE_OTHER_CLUSTER;
	if (!tag_is(tags, n, TAG_UID, k->uid))
		return ROLE_EARLIER_OBJECT;
	return ROLE_OWNED;
}

const char *identity_issuer_host(const char *issuer)
{
	if (str_startswith(issuer, "https://"))
		return issuer + 8;
	return issuer;
}
