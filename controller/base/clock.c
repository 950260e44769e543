#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "base/macros.h"

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t clock_mono_ns(const struct clock *c)
{
	return c ? c->monotonic_ns(c->ctx) : ts_ns(CLOCK_MONOTONIC);
}

int64_t clock_real_ns(const struct clock *c)
{
	return c ? c->realtime_ns(c->ctx) : ts_ns(CLOCK_REALTIME);
}

static int64_t manual_mono(void *ctx)
{
	return ((struct manual_clock *)ctx)->mono_ns;
}

static int64_t manual_real(void *ctx)
{
	struct manual_clock *m = ctx;

	return m->mono_ns + m->real_offset_ns;
}

void manual_clock_init(struct manual_clock *m, int64_t mono_ns, int64_t real_ns)
{
	m->clock.monotonic_ns = manual_mono;
	m->clock.realtime_ns = manual_real;
	m->clock.ctx = m;
	m->mono_ns = mono_ns;
	m->real_offset_ns = real_ns - mono_ns;
}

void manual_clock_advance(struct manual_clock *m, int64_t ns)
{
	m->mono_ns += ns;
}

int cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	return -r;
}

struct timespec mono_deadline(int64_t mono_ns)
{
	struct timespec ts = { .tv_sec = mono_ns / NSEC_PER_SEC, .tv_nsec = mono_ns % NSEC_PER_SEC };

	return ts;
}

void sleep_ns(int64_t ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = ns / NSEC_PER_SEC;
	ts.tv_nsec = ns % NSEC_PER_SEC;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

int rfc3339_parse(const char *s, int64_t *ret_ns)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = NSEC_PER_SEC;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	t -= (time_t)sign * (oh * 3600 + om * 60);
	if (t > INT64_MAX / NSEC_PER_SEC - 1 || t < INT64_MIN / NSEC_PER_SEC + 1)
		return -ERANGE; /* nanoseconds since 1970 fit in int64 until 2262 */
	*ret_ns = (int64_t)t * NSEC_PER_SEC + frac;
	return 0;
}

void rfc3339_format(int64_t ns, int frac_digits, char *buf, size_t size)
{
	time_t t = (time_t)(ns / NSEC_PER_SEC);
	int64_t rem = ns % NSEC_PER_SEC;
	struct tm tm;
	size_t n;

	if (rem < 0) {
		rem += NSEC_PER_SEC;
		t -= 1;
	}
	gmtime_r(&t, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac_digits == 3)
		snprintf(buf + n, size - n, ".%03dZ", (int)(rem / 1000000));
	else if (frac_digits == 6)
		snprintf(buf + n, size - n, ".%06dZ", (int)(rem / 1000));
	else
		snprintf(buf + n, size - n, "Z");
}
