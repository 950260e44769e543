#include "identity/naming.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"

static bool role_chars_ok(const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+=,.@_-", c)))
			return false;
	}
	return true;
}

int identity_role_name(const char *prefix, const char *cluster, const char *ns, const char *name, char *out,
		       size_t size)
{
	char full[1024];
	unsigned char digest[SHA256_DIGEST_LENGTH];
	int n;

	if (size < IAM_ROLE_NAME_MAX + 1)
		return -ENOSPC;
	if (!role_chars_ok(prefix) || !role_chars_ok(cluster) || !role_chars_ok(ns) || !role_chars_ok(name))
		return -EINVAL;
	n = snprintf(full, sizeof(full), "%s%s-%s-%s", prefix, cluster, ns, name);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -EINVAL;
	if (n <= IAM_ROLE_NAME_MAX) {
		memcpy(out, full, (size_t)n + 1);
		return 0;
	}
	SHA256((const unsigned char *)full, (size_t)n, digest);
	snprintf(out, size, "%.55s-%02x%02x%02x%02x", full, digest[0], digest[1], digest[2], digest[3]);
	return 0;
}

const char *identity_issuer_host(const char *issuer)
{
	if (str_startswith(issuer, "https://"))
		return issuer + 8;
	return issuer;
}
