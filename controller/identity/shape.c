#include "identity/shape.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"

struct quoted shape_quote(const char *s)
{
	struct quoted q;
	const size_t max = 120;
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		q.s[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	if (s[i]) {
		memcpy(q.s + i, "...", 3);
		i += 3;
	}
	q.s[i] = '\0';
	return q;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_ctl(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x20 || u == 0x7f;
}

/* True if every character of s[0..n) is in `set` or alphanumeric (only
 * lowercase letters with `lower_only`). */
static bool span_of(const char *s, size_t n, const char *set, bool lower_only)
{
	for (size_t i = 0; i < n; i++) {
		bool ok = lower_only ? is_lower_alnum(s[i]) : is_alnum(s[i]);

		if (!ok && (!s[i] || !strchr(set, s[i])))
			return false;
	}
	return true;
}

bool shape_dns_subdomain(const char *s)
{
	size_t n = strlen(s);
	const char *label = s;

	if (n == 0 || n > 253)
		return false;
	for (;;) {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);

		if (len == 0 || !is_lower_alnum(label[0]) || !is_lower_alnum(label[len - 1]) ||
		    !span_of(label, len, "-", true))
			return false;
		if (!dot)
			return true;
		label = dot + 1;
	}
}

bool shape_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (is_ctl(*s) || *s == ' ')
			return false;
	}
	return true;
}

bool shape_action(const char *s, bool service_wildcards)
{
	const char *colon;
	size_t n = strlen(s);

	if (streq(s, "*"))
		return true;
	if (n == 0 || n > SHAPE_MAX_ACTION_LEN)
		return false;
	colon = strchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return false;
	if (!span_of(s, (size_t)(colon - s), service_wildcards ? "-*?" : "-", true))
		return false;
	return span_of(colon + 1, strlen(colon + 1), "*?", false);
}

static const char *const partitions[] = { "aws", "aws-cn", "aws-us-gov" };

/* If s starts with "arn:<partition>:", return what follows, else NULL. */
static const char *after_partition(const char *s)
{
	if (!str_startswith(s, "arn:"))
		return NULL;
	s += 4;
	for (size_t i = 0; i < ARRAY_SIZE(partitions); i++) {
		size_t n = strlen(partitions[i]);

		if (strncmp(s, partitions[i], n) == 0 && s[n] == ':')
			return s + n + 1;
	}
	return NULL;
}

const char *shape_resource_problem(const char *s)
{
	const char *p, *parts[3];
	size_t lens[3];

	if (streq(s, "*"))
		return NULL;
	if (strlen(s) > SHAPE_MAX_ARN_LEN)
		return "is longer than 2048 characters";
	if (!str_startswith(s, "arn:"))
		return "is neither \"*\" nor an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)";
	p = after_partition(s);
	if (!p)
		return "has an unknown partition (aws, aws-cn or aws-us-gov)";
	/* service, region, account, each followed by ':' */
	for (int i = 0; i < 3; i++) {
		const char *colon = strchr(p, ':');

		if (!colon)
			return "is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)";
		parts[i] = p;
		lens[i] = (size_t)(colon - p);
		p = colon + 1;
	}
	if (lens[0] == 0 || !span_of(parts[0], lens[0], "-*?", true))
		return "has an invalid service (lowercase letters, digits, '-', wildcards)";
	if (!span_of(parts[1], lens[1], "-*?", true))
		return "has an invalid region (lowercase letters, digits, '-', wildcards)";
	if (!(lens[2] == 3 && strncmp(parts[2], "aws", 3) == 0)) {
		for (size_t i = 0; i < lens[2]; i++) {
			if (!strchr("0123456789*?", parts[2][i]))
				return "has an invalid account (12 digits, \"aws\", wildcards or empty)";
		}
	}
	if (!*p)
		return "has an empty resource part";
	for (; *p; p++) {
		if (is_ctl(*p))
			return "contains a control character";
	}
	return NULL;
}

/* Policy variables whose value a tenant cannot choose: the account and
 * organisation of the role, the principal type, aws:username (absent for
 * role sessions, so it matches nothing) and the keyless.dev/ role tags
 * (reserved: spec.tags cannot set them). Compared without case, as IAM
 * compares condition keys. */
static const char *const fixed_variables[] = { "aws:username", "aws:PrincipalAccount", "aws:PrincipalOrgID",
					       "aws:PrincipalType" };
#define KEYLESS_TAG_VARIABLE "aws:PrincipalTag/keyless.dev/"

/* v[0..n) is what is between "${" and "}": "key" or "key, 'default'". */
static bool variable_is_fixed(const char *v, size_t n)
{
	const char *comma = memchr(v, ',', n);
	size_t kn = comma ? (size_t)(comma - v) : n;

	if (comma && (memchr(comma, '*', n - kn) || memchr(comma, '?', n - kn)))
		return false; /* a default value that is itself a wildcard */
	while (kn > 0 && v[0] == ' ') {
		v++;
		kn--;
	}
	while (kn > 0 && v[kn - 1] == ' ')
		kn--;
	if (kn > strlen(KEYLESS_TAG_VARIABLE) && strncasecmp(v, KEYLESS_TAG_VARIABLE, strlen(KEYLESS_TAG_VARIABLE)) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(fixed_variables); i++) {
		if (kn == strlen(fixed_variables[i]) && strncasecmp(v, fixed_variables[i], kn) == 0)
			return true;
	}
	return false;
}

/* Copy s into out (at least strlen(s) + 1 bytes) with every policy variable
 * resolved for the wildcard test: the escapes ${*}, ${?} and ${$} (a literal
 * character) and fixed variables become the literal 'V', any other variable
 * becomes '*' (its value is the tenant's choice). An unterminated "${" is
 * copied as it is. The result is never longer than s. */
static void resolve_variables(const char *s, char *out)
{
	while (*s) {
		const char *end;

		if (s[0] == '$' && s[1] == '{' && (end = strchr(s + 2, '}'))) {
			size_t n = (size_t)(end - (s + 2));

			if (n == 1 && strchr("*?$", s[2]))
				*out++ = 'V';
			else
				*out++ = variable_is_fixed(s + 2, n) ? 'V' : '*';
			s = end + 1;
			continue;
		}
		*out++ = *s++;
	}
	*out = '\0';
}

/* Does the name s[0..n) pin down something smaller than "every name"? A
 * name without wildcards does; one with wildcards only if a letter or digit
 * comes before its first '*' ("app/db-*", "my?ucket"), not "*", "*-prod",
 * "?*", "/" "*" or a KMS key id made only of '?' and '-'. */
static bool name_anchored(const char *s, size_t n)
{
	if (!memchr(s, '*', n) && !memchr(s, '?', n))
		return true;
	for (size_t i = 0; i < n && s[i] != '*'; i++) {
		if (is_alnum(s[i]))
			return true;
	}
	return false;
}

/* Services whose resource part starts with the resource's name rather than
 * its type (S3 only for bucket and object ARNs, which have neither region
 * nor account). */
static const char *const name_first_services[] = { "sqs", "sns", "execute-api", "codecommit" };

static bool is_name_first(const char *svc, size_t n, bool no_region_account)
{
	if (no_region_account && n == 2 && strncmp(svc, "s3", 2) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(name_first_services); i++) {
		if (n == strlen(name_first_services[i]) && strncmp(svc, name_first_services[i], n) == 0)
			return true;
	}
	return false;
}

bool shape_resource_is_wildcard(const char *s)
{
	char buf[SHAPE_MAX_ARN_LEN + 1];
	const char *p, *c1, *c2, *c3, *res;
	size_t type_len;

	if (streq(s, "*"))
		return true;
	if (strlen(s) > SHAPE_MAX_ARN_LEN)
		return true; /* not a valid Resource: the cautious answer */
	resolve_variables(s, buf);
	if (streq(buf, "*"))
		return true;
	p = after_partition(buf);
	if (!p || !(c1 = strchr(p, ':')) || !(c2 = strchr(c1 + 1, ':')) || !(c3 = strchr(c2 + 1, ':')))
		return true;
	res = c3 + 1;
	/* a service with a wildcard reaches other services' resources */
	if (memchr(p, '*', (size_t)(c1 - p)) || memchr(p, '?', (size_t)(c1 - p)))
		return true;
	type_len = strcspn(res, "/:");
	if (type_len == 0 && res[0] == '/') {
		res++; /* "/restapis/x" (API Gateway): the type follows the slash */
		type_len = strcspn(res, "/:");
	}
	if (is_name_first(p, (size_t)(c1 - p), c2 == c1 + 1 && c3 == c2 + 1))
		return !name_anchored(res, type_len); /* an object path of one bucket is fine */
	if (!res[type_len])
		return !name_anchored(res, type_len); /* a resource part without a type */
	if (memchr(res, '*', type_len) || memchr(res, '?', type_len))
		return true; /* "*:x", "ta?le/x": the type is not pinned down */
	return !name_anchored(res + type_len + 1, strlen(res + type_len + 1));
}

int shape_resource_account(const char *s, const char **ret, size_t *ret_len)
{
	const char *p = after_partition(s), *c1, *c2, *c3;

	if (!p || !(c1 = strchr(p, ':')) || !(c2 = strchr(c1 + 1, ':')) || !(c3 = strchr(c2 + 1, ':')))
		return -EINVAL;
	*ret = c2 + 1;
	*ret_len = (size_t)(c3 - c2 - 1);
	return 0;
}

static bool policy_name_char(char c)
{
	return is_alnum(c) || (c && strchr("+=,.@_-", c));
}

/* arn:<partition>:iam::<account>:<kind>/<path/>name, names of [A-Za-z0-9+=,.@_-];
 * the account is 12 digits, or "aws" when aws_account. */
static bool iam_arn(const char *s, const char *kind, bool aws_account)
{
	const char *p = after_partition(s);
	bool prev_slash = true;

	if (!p || strlen(s) > SHAPE_MAX_ARN_LEN || !str_startswith(p, "iam::"))
		return false;
	p += 5;
	if (aws_account && str_startswith(p, "aws:")) {
		p += 4;
	} else {
		for (int i = 0; i < 12; i++, p++) {
			if (*p < '0' || *p > '9')
				return false;
		}
		if (*p++ != ':')
			return false;
	}
	if (!str_startswith(p, kind))
		return false;
	p += strlen(kind);
	if (*p++ != '/' || !*p)
		return false;
	for (; *p; p++) {
		if (*p == '/') {
			if (prev_slash)
				return false;
			prev_slash = true;
		} else if (policy_name_char(*p)) {
			prev_slash = false;
		} else {
			return false;
		}
	}
	return !prev_slash;
}

bool shape_policy_arn(const char *s)
{
	return iam_arn(s, "policy", true);
}

bool shape_role_arn(const char *s)
{
	const char *name = strrchr(s, '/');

	return iam_arn(s, "role", false) && strlen(name + 1) <= 64;
}

/* IAM's condition operators (IAM User Guide, "IAM JSON policy elements:
 * Condition operators"). */
static const char *const condition_operators[] = {
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
	"DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	"Null",
};

bool shape_condition_operator(const char *s)
{
	char base[64];
	size_t n;

	if (str_startswith(s, "ForAnyValue:"))
		s += strlen("ForAnyValue:");
	else if (str_startswith(s, "ForAllValues:"))
		s += strlen("ForAllValues:");
	if (str_copy(base, sizeof(base), s) < 0)
		return false;
	n = strlen(base);
	if (n > 8 && streq(base + n - 8, "IfExists")) {
		base[n - 8] = '\0';
		if (streq(base, "Null")) /* "...except the Null condition" */
			return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(condition_operators); i++) {
		if (streq(base, condition_operators[i]))
			return true;
	}
	return false;
}

static bool tag_chars(const char *s)
{
	return span_of(s, strlen(s), " _.:/=+-@", false);
}

bool shape_tag_key(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= SHAPE_MAX_TAG_KEY_LEN && tag_chars(s);
}

bool shape_tag_value(const char *s)
{
	return strlen(s) <= SHAPE_MAX_TAG_VALUE_LEN && tag_chars(s);
}

bool shape_tag_key_reserved(const char *s)
{
	return strncasecmp(s, "keyless.dev/", 12) == 0 || strncasecmp(s, "aws:", 4) == 0;
}

void shape_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	str_vformat_trunc(buf, size, fmt, ap);
	va_end(ap);
}

int shape_fail(const struct shape_ctx *c, const char *path, const char *fmt, ...)
{
	char problem[sizeof(c->err->message)];
	va_list ap;

	if (!c->err)
		return -EINVAL;
	va_start(ap, fmt);
	str_vformat_trunc(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	return op_err_setr(c->err, -EINVAL, c->reason, "%s%s%s%s", c->prefix, path, *path ? ": " : "", problem);
}

const char *shape_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

void shape_tags_free(struct wi_tag *tags, size_t n)
{
	for (size_t i = 0; tags && i < n; i++) {
		free(tags[i].key);
		free(tags[i].value);
	}
	free(tags);
}

int shape_parse_tags(const struct shape_ctx *c, const char *path, json_t *obj, size_t max, struct wi_tag **ret,
		     size_t *ret_n)
{
	struct wi_tag *tags = NULL;
	size_t n = 0, size;
	const char *key;
	json_t *val;
	int r = 0;

	if (!obj || json_is_null(obj)) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_is_object(obj))
		return shape_fail(c, path, "must be a map of tag key to value, not %s", shape_json_type(obj));
	size = json_object_size(obj);
	if (size > max)
		return shape_fail(c, path, "has %zu tags; at most %zu are allowed", size, max);
	if (size > 0) {
		tags = calloc(size, sizeof(*tags));
		if (!tags)
			return -ENOMEM;
	}
	json_object_foreach(obj, key, val) {
		char p[384];

		shape_path(p, sizeof(p), "%s[%s]", path, shape_quote(key).s);
		if (!shape_tag_key(key)) {
			r = shape_fail(c, p,
				       "tag key must be 1..128 characters of letters, digits, spaces and _.:/=+-@");
			goto out;
		}
		if (shape_tag_key_reserved(key)) {
			r = shape_fail(c, p, "tag keys starting with 'keyless.dev/' or 'aws:' are reserved");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcasecmp(tags[i].key, key) == 0) {
				r = shape_fail(c, p, "duplicates tag key '%s' (IAM tag keys are case-insensitive)",
					       shape_quote(tags[i].key).s);
				goto out;
			}
		}
		if (!json_is_string(val)) {
			r = shape_fail(c, p, "tag value must be a string, not %s (quote it)", shape_json_type(val));
			goto out;
		}
		if (!shape_tag_value(json_string_value(val))) {
			r = shape_fail(c, p,
				       "tag value must be at most 256 characters of letters, digits, spaces and _.:/=+-@");
			goto out;
		}
		tags[n].key = strdup(key);
		tags[n].value = strdup(json_string_value(val));
		n++;
		if (!tags[n - 1].key || !tags[n - 1].value) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret = TAKE_PTR(tags);
	*ret_n = n;
out:
	shape_tags_free(tags, n);
	return r;
}

void shape_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

int shape_dup(const char *s, char **ret)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}
