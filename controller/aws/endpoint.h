/* endpoint.h: the environment, partitions, regions and service endpoints.
 *
 * Environment lookups go through struct aws_env (NULL = the process
 * environment) so tests never touch the real one. An empty variable counts
 * as unset, as in the SDKs.
 *
 * Partitions (from the region's prefix): "cn-" -> aws-cn (amazonaws.com.cn),
 * "us-gov-" -> aws-us-gov, anything else -> aws (amazonaws.com).
 *
 * Endpoints, without overrides:
 *   IAM  global per partition: https://iam.amazonaws.com (signed for us-east-1),
 *        https://iam.cn-north-1.amazonaws.com.cn (cn-north-1),
 *        https://iam.us-gov.amazonaws.com (us-gov-west-1);
 *   STS  regional https://sts.<region>.<suffix> (signed for the region); with
 *        AWS_STS_REGIONAL_ENDPOINTS=legacy and a region from the SDKs' legacy
 *        global list (or no region), https://sts.amazonaws.com for us-east-1;
 *   EKS  https://eks.<region>.<suffix>, signed for the region (a region is
 *        required).
 * Overrides (the SDKs' "service-specific endpoints"): AWS_ENDPOINT_URL_IAM /
 * _STS / _EKS, else AWS_ENDPOINT_URL; ignored when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. With an override the signing
 * region stays what it would be without it (IAM: the partition's IAM region;
 * STS, EKS: the configured region, us-east-1 if none).
 */
#ifndef KEYLESS_AWS_ENDPOINT_H
#define KEYLESS_AWS_ENDPOINT_H

#include <stdbool.h>

#include "base/err.h"

struct aws_env {
	const char *(*getenv)(const char *name, void *ctx); /* NULL = getenv(3) */
	void *ctx;
};

/* The value of `name`, or NULL when unset or empty. env may be NULL. The
 * pointer is borrowed from the environment source. */
const char *aws_env_get(const struct aws_env *env, const char *name);

/* True for "true"/"1"/"yes" (any case). */
bool aws_env_true(const struct aws_env *env, const char *name);

enum aws_service {
	AWS_SERVICE_IAM,
	AWS_SERVICE_STS,
	AWS_SERVICE_EKS,
	AWS_SERVICE__COUNT,
};

/* Signing name ("iam", "sts", "eks"). */
const char *aws_service_name(enum aws_service s);

struct aws_partition {
	const char *name;         /* "aws", "aws-cn", "aws-us-gov" */
	const char *dns_suffix;   /* "amazonaws.com", "amazonaws.com.cn" */
	const char *iam_host;     /* IAM's global endpoint host */
	const char *iam_region;   /* IAM's signing region */
};

/* The partition a region belongs to (NULL region -> aws). */
const struct aws_partition *aws_partition_of(const char *region);

/* A resolved endpoint. */
struct aws_endpoint {
	char url[512];            /* scheme://host[:port][/base], no trailing '/' */
	char signing_region[64];
	bool overridden;          /* from an AWS_ENDPOINT_URL* variable */
};

/* Resolve the endpoint of a service for `region` (may be NULL for IAM and
 * STS). Returns 0, or -EINVAL (EKS without region, malformed override URL,
 * region with characters outside [a-z0-9-]) with a message. */
int aws_endpoint_resolve(enum aws_service svc, const char *region, const struct aws_env *env,
			 struct aws_endpoint *ret, struct op_err *err);

/* A URL split for HTTP and signing. */
struct aws_url {
	char scheme[8];      /* "http" or "https" */
	char host[256];      /* lower-case; IPv6 without brackets */
	int port;            /* explicit port, or 0 */
	char path[1024];     /* "/..." (wire form), "/" when empty */
	char query[2048];    /* without '?', "" when none */
	char host_header[300]; /* host, [v6], plus ":port" unless the scheme's default */
};

/* Parse an absolute http(s) URL. Userinfo and fragments are rejected.
 * Returns 0 or -EINVAL / -ENAMETOOLONG. */
int aws_url_parse(const char *url, struct aws_url *ret);

#endif
