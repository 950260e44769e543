#include "aws/endpoint.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"

const char *aws_env_get(const struct aws_env *env, const char *name)
{
	const char *v = env && env->getenv ? env->getenv(name, env->ctx) : getenv(name);

	return v && *v ? v : NULL;
}

bool aws_env_true(const struct aws_env *env, const char *name)
{
	const char *v = aws_env_get(env, name);

	return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

const char *aws_service_name(enum aws_service s)
{
	switch (s) {
	case AWS_SERVICE_IAM:
		return "iam";
	case AWS_SERVICE_STS:
		return "sts";
	case AWS_SERVICE_EKS:
		return "eks";
	default:
		return "?";
	}
}

static const struct aws_partition partitions[] = {
	{ "aws", "amazonaws.com", "iam.amazonaws.com", "us-east-1" },
	{ "aws-cn", "amazonaws.com.cn", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	{ "aws-us-gov", "amazonaws.com", "iam.us-gov.amazonaws.com", "us-gov-west-1" },
};

const struct aws_partition *aws_partition_of(const char *region)
{
	if (region && str_startswith(region, "cn-"))
		return &partitions[1];
	if (region && str_startswith(region, "us-gov-"))
		return &partitions[2];
	return &partitions[0];
}

/* botocore's LEGACY_GLOBAL_STS_REGIONS (botocore/args.py). */
static const char *const sts_legacy_global[] = {
	"ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
	"eu-central-1",   "eu-north-1", "eu-west-1",      "eu-west-2",      "eu-west-3",  "sa-east-1",
	"us-east-1",      "us-east-2",  "us-west-1",      "us-west-2",
};

static bool sts_is_legacy_global(const char *region)
{
	for (size_t i = 0; i < ARRAY_SIZE(sts_legacy_global); i++)
		if (streq(region, sts_legacy_global[i]))
			return true;
	return false;
}

static bool region_valid(const char *r)
{
	if (!*r || strlen(r) >= 64)
		return false;
	for (const char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

static const char *override_var(enum aws_service svc)
{
	switch (svc) {
	case AWS_SERVICE_IAM:
		return "AWS_ENDPOINT_URL_IAM";
	case AWS_SERVICE_STS:
		return "AWS_ENDPOINT_URL_STS";
	default:
		return "AWS_ENDPOINT_URL_EKS";
	}
}

int aws_endpoint_resolve(enum aws_service svc, const char *region, const struct aws_env *env,
			 struct aws_endpoint *ret, struct op_err *err)
{
	const struct aws_partition *part;
	struct aws_endpoint ep = { 0 };
	const char *ovr = NULL, *ovr_name = NULL;

	if (svc < 0 || svc >= AWS_SERVICE__COUNT)
		return op_err_set(err, -EINVAL, "unknown service %d", (int)svc);
	if (region && !region_valid(region))
		return op_err_set(err, -EINVAL, "invalid region \"%s\"", region);
	part = aws_partition_of(region);
	if (!aws_env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		ovr_name = override_var(svc);
		ovr = aws_env_get(env, ovr_name);
		if (!ovr) {
			ovr_name = "AWS_ENDPOINT_URL";
			ovr = aws_env_get(env, ovr_name);
		}
	}

	switch (svc) {
	case AWS_SERVICE_IAM:
		snprintf(ep.url, sizeof(ep.url), "https://%s", part->iam_host);
		str_copy(ep.signing_region, sizeof(ep.signing_region), part->iam_region);
		break;
	case AWS_SERVICE_STS: {
		const char *mode = aws_env_get(env, "AWS_STS_REGIONAL_ENDPOINTS");

		if (!region || (mode && strcasecmp(mode, "legacy") == 0 && sts_is_legacy_global(region))) {
			snprintf(ep.url, sizeof(ep.url), "https://sts.amazonaws.com");
			str_copy(ep.signing_region, sizeof(ep.signing_region), "us-east-1");
		} else {
			snprintf(ep.url, sizeof(ep.url), "https://sts.%s.%s", region, part->dns_suffix);
			str_copy(ep.signing_region, sizeof(ep.signing_region), region);
		}
		break;
	}
	case AWS_SERVICE_EKS:
		if (!region && !ovr)
			return op_err_set(err, -EINVAL,
					  "no AWS region configured (AWS_REGION, AWS_DEFAULT_REGION or the profile's region): "
					  "EKS endpoints are regional");
		snprintf(ep.url, sizeof(ep.url), "https://eks.%s.%s", region ? region : "us-east-1",
			 part->dns_suffix);
		str_copy(ep.signing_region, sizeof(ep.signing_region), region ? region : "us-east-1");
		break;
	default:
		break;
	}

	if (ovr) {
		struct aws_url u;
		size_t n;

		if (aws_url_parse(ovr, &u) < 0 || u.query[0])
			return op_err_set(err, -EINVAL, "%s is not an http(s) URL without query: \"%s\"", ovr_name, ovr);
		if (str_copy(ep.url, sizeof(ep.url), ovr) < 0)
			return op_err_set(err, -EINVAL, "%s is too long", ovr_name);
		n = strlen(ep.url);
		while (n > 0 && ep.url[n - 1] == '/')
			ep.url[--n] = '\0';
		ep.overridden = true;
	}
	*ret = ep;
	return 0;
}

int aws_url_parse(const char *url, struct aws_url *ret)
{
	struct aws_url u = { 0 };
	const char *p, *auth, *auth_end, *host_end, *q;
	size_t n;

	if (!url)
		return -EINVAL;
	if (strncasecmp(url, "https://", 8) == 0) {
		str_copy(u.scheme, sizeof(u.scheme), "https");
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		str_copy(u.scheme, sizeof(u.scheme), "http");
		auth = url + 7;
	} else {
		return -EINVAL;
	}
	auth_end = auth + strcspn(auth, "/?#");
	if (auth_end == auth || memchr(auth, '@', (size_t)(auth_end - auth)) || strchr(auth_end, '#'))
		return -EINVAL;
	/* host */
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(auth_end - auth));
		if (!host_end)
			return -EINVAL;
		n = (size_t)(host_end - auth - 1);
		if (n == 0 || n >= sizeof(u.host))
			return -EINVAL;
		memcpy(u.host, auth + 1, n);
		p = host_end + 1;
	} else {
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (!host_end)
			host_end = auth_end;
		n = (size_t)(host_end - auth);
		if (n == 0 || n >= sizeof(u.host))
			return -EINVAL;
		memcpy(u.host, auth, n);
		p = host_end;
	}
	for (char *h = u.host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	if (p < auth_end) {
		long port;
		char pbuf[8];

		if (*p != ':' || (size_t)(auth_end - p - 1) >= sizeof(pbuf) || auth_end - p - 1 == 0)
			return -EINVAL;
		memcpy(pbuf, p + 1, (size_t)(auth_end - p - 1));
		pbuf[auth_end - p - 1] = '\0';
		if (str_to_long(pbuf, 1, 65535, &port) < 0)
			return -EINVAL;
		u.port = (int)port;
	}
	/* path and query */
	q = strchr(auth_end, '?');
	n = q ? (size_t)(q - auth_end) : strlen(auth_end);
	if (n == 0) {
		str_copy(u.path, sizeof(u.path), "/");
	} else {
		if (n >= sizeof(u.path))
			return -ENAMETOOLONG;
		memcpy(u.path, auth_end, n);
	}
	if (q && str_copy(u.query, sizeof(u.query), q + 1) < 0)
		return -ENAMETOOLONG;
	/* Host header as botocore's _host_from_url: no default port */
	{
		bool v6 = strchr(u.host, ':') != NULL;
		bool dflt = u.port == 0 || (streq(u.scheme, "http") && u.port == 80) ||
			    (streq(u.scheme, "https") && u.port == 443);
		char portbuf[8] = "";

		if (!dflt)
			snprintf(portbuf, sizeof(portbuf), ":%d", u.port);
		snprintf(u.host_header, sizeof(u.host_header), "%s%s%s%s", v6 ? "[" : "", u.host, v6 ? "]" : "",
			 portbuf);
	}
	*ret = u;
	return 0;
}
