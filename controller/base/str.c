#include "base/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static void mark_truncated(char *dst, size_t size)
{
	static const char dots[] = "...";

	if (size >= sizeof(dots))
		memcpy(dst + size - sizeof(dots), dots, sizeof(dots));
}

int str_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return -ENOSPC;
	n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -ENOSPC;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int str_vformat_trunc(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n;

	if (size == 0)
		return -ENOSPC;
	n = vsnprintf(dst, size, fmt, ap);
	if (n < 0) {
		dst[0] = '\0';
		return -EINVAL;
	}
	if ((size_t)n >= size) {
		mark_truncated(dst, size);
		return -ENOSPC;
	}
	return 0;
}

int str_format(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = str_vformat_trunc(dst, size, fmt, ap);
	va_end(ap);
	return r;
}

void strfmt_add(struct strfmt *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->truncated || f->size == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->buf + f->len, f->size - f->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		f->buf[f->len] = '\0';
		return;
	}
	if ((size_t)n >= f->size - f->len) {
		f->truncated = true;
		f->len = f->size - 1;
		mark_truncated(f->buf, f->size);
		return;
	}
	f->len += (size_t)n;
}

int str_to_long(const char *s, long min, long max, long *ret)
{
	char *end = NULL;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

bool str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int str_to_duration_ns(const char *s, int64_t *ret)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = { { "ms", 1000000 }, { "us", 1000 }, { "ns", 1 }, { "s", 1000000000 }, { "m", 60000000000LL },
		      { "h", 3600000000000LL } };
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		char *end;
		long long v;
		size_t i;

		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno || v < 0)
			return -EINVAL;
		if (*end == '\0') {
			if (p != s)
				return -EINVAL; /* "1m30" */
			if (__builtin_mul_overflow((int64_t)v, (int64_t)1000000000, &total))
				return -ERANGE;
			break;
		}
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			if (strncmp(end, units[i].unit, strlen(units[i].unit)) == 0)
				break;
		}
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		{
			int64_t part;

			if (__builtin_mul_overflow((int64_t)v, units[i].ns, &part) ||
			    __builtin_add_overflow(total, part, &total))
				return -ERANGE;
		}
		p = end + strlen(units[i].unit);
	}
	*ret = total;
	return 0;
}

size_t str_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), prev[80], cur[80];

	if (la >= 80 || lb >= 80)
		return cap;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb] < cap ? prev[lb] : cap;
}
