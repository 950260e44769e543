#include "aws/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"

#define ACCOUNT "<account>"
#define REDACTED "<redacted>"

/* An ARN: arn:partition:service:region:account:resource (the resource may
 * hold more ':'); fewer fields when it was cut short. */
struct arn {
	const char *f[6];
	size_t len[6];
	size_t n;
};

static bool word_char(char c)
{
	return c && (isalnum((unsigned char)c) || c == '_' || c == '-');
}

static bool arn_char(char c)
{
	return c && (isalnum((unsigned char)c) || strchr("+=,.@_/:-", c));
}

/* aws, aws-cn, aws-us-gov, aws-iso-b, ... */
static bool aws_partition(const char *p, size_t n)
{
	if (n < 3 || memcmp(p, "aws", 3) != 0 || (n > 3 && p[3] != '-'))
		return false;
	for (size_t i = 3; i < n; i++)
		if (!islower((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '-')
			return false;
	return true;
}

static bool field_is(const struct arn *a, size_t i, const char *s)
{
	return a->n > i && a->len[i] == strlen(s) && memcmp(a->f[i], s, a->len[i]) == 0;
}

/* Length of the ARN at p; a trailing '.', ',' or ':' is punctuation. */
static size_t arn_len(const char *p)
{
	size_t n = 0;

	while (arn_char(p[n]))
		n++;
	while (n > 4 && strchr(".,:", p[n - 1]))
		n--;
	return n;
}

static void arn_split(const char *p, size_t n, struct arn *a)
{
	size_t start = 0;

	a->n = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || (p[i] == ':' && a->n < 5)) {
			a->f[a->n] = p + start;
			a->len[a->n++] = i - start;
			start = i + 1;
		}
	}
}

static bool is_principal(const struct arn *a, bool after_user)
{
	const char *res = a->n == 6 ? a->f[5] : "";
	size_t rlen = a->n == 6 ? a->len[5] : 0;

	if (a->n < 6 || after_user || field_is(a, 2, "sts"))
		return true;
	return field_is(a, 2, "iam") && ((rlen > 5 && memcmp(res, "user/", 5) == 0) || field_is(a, 5, "root"));
}

static void emit_principal(struct strfmt *f, const struct arn *a)
{
	const char *slash;

	strfmt_add(f, "arn:%.*s:%.*s:%.*s:", (int)a->len[1], a->f[1], (int)a->len[2], a->f[2], (int)a->len[3],
		   a->f[3]);
	if (a->n >= 5 && a->len[4])
		strfmt_add(f, ACCOUNT);
	if (a->n < 6)
		return;
	strfmt_add(f, ":");
	slash = memchr(a->f[5], '/', a->len[5]);
	if (slash)
		strfmt_add(f, "%.*s/" REDACTED, (int)(slash - a->f[5]), a->f[5]);
	else if (field_is(a, 5, "root"))
		strfmt_add(f, "root");
	else if (a->len[5])
		strfmt_add(f, REDACTED);
}

static bool account_at(const char *msg, const char *p)
{
	if (p > msg && word_char(p[-1]))
		return false;
	for (size_t i = 0; i < 12; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return !word_char(p[12]);
}

int aws_redact_principals(char *dst, size_t size, const char *msg)
{
	struct strfmt f = STRFMT_INIT(dst, size);
	const char *p, *lit;
	int count = 0;

	if (size)
		dst[0] = '\0';
	if (!msg)
		return 0;
	for (p = lit = msg; *p;) {
		if (strncmp(p, "arn:", 4) == 0 && (p == msg || !word_char(p[-1]))) {
			bool after_user = p - msg >= 6 && strncasecmp(p - 6, "User: ", 6) == 0;
			size_t n = arn_len(p);
			struct arn a;

			arn_split(p, n, &a);
			if (a.n >= 4 && aws_partition(a.f[1], a.len[1]) && is_principal(&a, after_user)) {
				strfmt_add(&f, "%.*s", (int)(p - lit), lit);
				emit_principal(&f, &a);
				count++;
				lit = p + n;
			}
			p += n; /* a kept ARN stays whole, account id included */
		} else if (account_at(msg, p)) {
			strfmt_add(&f, "%.*s" ACCOUNT, (int)(p - lit), lit);
			count++;
			p += 12;
			lit = p;
		} else {
			p++;
		}
	}
	strfmt_add(&f, "%s", lit);
	return count;
}
