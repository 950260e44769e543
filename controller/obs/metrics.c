#include "obs/metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct series {
	char *values[METRICS_MAX_LABELS];
	double value;       /* counter, gauge */
	uint64_t *buckets;  /* histogram: per bucket (not cumulative), n_bounds + 1 (+Inf) */
	double sum;
	uint64_t count;
};

struct metric {
	struct metrics *reg;
	enum metric_type type;
	char *name, *help;
	char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double *bounds;
	size_t n_bounds;
	struct series *series;
	size_t n_series, cap_series;
};

struct collector {
	void (*fn)(void *ctx);
	void *ctx;
};

struct metrics {
	pthread_mutex_t lock;
	struct metric **fams;
	size_t n_fams;
	struct collector *collectors;
	size_t n_collectors;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void series_release(struct metric *f, struct series *s)
{
	for (size_t i = 0; i < f->n_labels; i++)
		free(s->values[i]);
	free(s->buckets);
}

static void family_free(struct metric *f)
{
	for (size_t i = 0; i < f->n_series; i++)
		series_release(f, &f->series[i]);
	free(f->series);
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_fams; i++)
		family_free(m->fams[i]);
	free(m->fams);
	free(m->collectors);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool valid_name(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
			  (p > s && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static int parse_labels(struct metric *f, const char *labels)
{
	const char *p = labels;

	if (!labels || !*labels)
		return 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (f->n_labels == METRICS_MAX_LABELS)
			return -EINVAL;
		f->labels[f->n_labels] = strndup(p, n);
		if (!f->labels[f->n_labels])
			return -ENOMEM;
		f->n_labels++;
		if (!valid_name(f->labels[f->n_labels - 1], false) || strncmp(f->labels[f->n_labels - 1], "__", 2) == 0 ||
		    (f->type == METRIC_HISTOGRAM && streq(f->labels[f->n_labels - 1], "le")))
			return -EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static struct metric *family_new(struct metrics *m, enum metric_type type, const char *name, const char *help,
				 const char *labels, const double *bounds, size_t n_bounds)
{
	struct metric *f, **nf;

	if (!m || !valid_name(name, true))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->reg = m;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help || parse_labels(f, labels) < 0)
		goto fail;
	if (type == METRIC_HISTOGRAM) {
		if (n_bounds == 0)
			goto fail;
		for (size_t i = 1; i < n_bounds; i++)
			if (!(bounds[i] > bounds[i - 1]))
				goto fail;
		f->bounds = malloc(n_bounds * sizeof(double));
		if (!f->bounds)
			goto fail;
		memcpy(f->bounds, bounds, n_bounds * sizeof(double));
		f->n_bounds = n_bounds;
	}
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_fams; i++) {
		if (streq(m->fams[i]->name, name)) {
			pthread_mutex_unlock(&m->lock);
			goto fail;
		}
	}
	nf = realloc(m->fams, (m->n_fams + 1) * sizeof(*nf));
	if (!nf) {
		pthread_mutex_unlock(&m->lock);
		goto fail;
	}
	m->fams = nf;
	m->fams[m->n_fams++] = f;
	pthread_mutex_unlock(&m->lock);
	return f;
fail:
	family_free(f);
	return NULL;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *help, const char *labels)
{
	return family_new(m, METRIC_COUNTER, name, help, labels, NULL, 0);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help, const char *labels)
{
	return family_new(m, METRIC_GAUGE, name, help, labels, NULL, 0);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *help, const char *labels,
				 const double *bounds, size_t n_bounds)
{
	return family_new(m, METRIC_HISTOGRAM, name, help, labels, bounds, n_bounds);
}

/* The series for the label values, created if missing (create). Called with
 * the lock held. NULL when absent (and not create), over the cap, or out of
 * memory. */
static struct series *lookup(struct metric *f, const char *const *values, bool create)
{
	struct series *s;

	for (size_t i = 0; i < f->n_series; i++) {
		size_t j = 0;

		for (; j < f->n_labels; j++)
			if (!streq(f->series[i].values[j], values[j]))
				break;
		if (j == f->n_labels)
			return &f->series[i];
	}
	if (!create || f->n_series >= METRICS_MAX_SERIES)
		return NULL;
	if (f->n_series == f->cap_series) {
		size_t ncap = f->cap_series ? f->cap_series * 2 : 8;
		struct series *n = realloc(f->series, ncap * sizeof(*n));

		if (!n)
			return NULL;
		f->series = n;
		f->cap_series = ncap;
	}
	s = &f->series[f->n_series];
	memset(s, 0, sizeof(*s));
	for (size_t j = 0; j < f->n_labels; j++) {
		s->values[j] = strdup(values[j] ? values[j] : "");
		if (!s->values[j])
			goto fail;
	}
	if (f->type == METRIC_HISTOGRAM) {
		s->buckets = calloc(f->n_bounds + 1, sizeof(uint64_t));
		if (!s->buckets)
			goto fail;
	}
	f->n_series++;
	return s;
fail:
	series_release(f, s);
	return NULL;
}

static void collect_values(struct metric *f, va_list ap, const char **values)
{
	for (size_t i = 0; i < f->n_labels; i++)
		values[i] = va_arg(ap, const char *);
}

enum update { UPDATE_ADD, UPDATE_SET, UPDATE_OBSERVE };

static void update(struct metric *f, enum update how, double v, const char *const *values)
{
	struct series *s;

	pthread_mutex_lock(&f->reg->lock);
	s = lookup(f, values, true);
	if (s) {
		switch (how) {
		case UPDATE_ADD:
			if (f->type != METRIC_COUNTER || v >= 0)
				s->value += v;
			break;
		case UPDATE_SET:
			s->value = v;
			break;
		case UPDATE_OBSERVE: {
			size_t b = 0;

			while (b < f->n_bounds && v > f->bounds[b])
				b++;
			s->buckets[b]++;
			s->sum += v;
			s->count++;
			break;
		}
		}
	}
	pthread_mutex_unlock(&f->reg->lock);
}

/* metric_add and metric_set: a counter or gauge, its label values in ap. */
static void update_scalar(struct metric *f, enum update how, double v, va_list ap)
{
	const char *values[METRICS_MAX_LABELS];

	if (!f || f->type == METRIC_HISTOGRAM)
		return;
	collect_values(f, ap, values);
	update(f, how, v, values);
}

void metric_add(struct metric *f, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update_scalar(f, UPDATE_ADD, v, ap);
	va_end(ap);
}

void metric_set(struct metric *f, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update_scalar(f, UPDATE_SET, v, ap);
	va_end(ap);
}

void metric_observe(struct metric *f, double v, ...)
{
	const char *values[METRICS_MAX_LABELS];
	va_list ap;

	if (!f || f->type != METRIC_HISTOGRAM)
		return;
	va_start(ap, v);
	collect_values(f, ap, values);
	va_end(ap);
	update(f, UPDATE_OBSERVE, v, values);
}

void metric_clear(struct metric *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->reg->lock);
	for (size_t i = 0; i < f->n_series; i++)
		series_release(f, &f->series[i]);
	f->n_series = 0;
	pthread_mutex_unlock(&f->reg->lock);
}

double metric_value(struct metric *f, ...)
{
	const char *values[METRICS_MAX_LABELS];
	struct series *s;
	double v = 0;
	va_list ap;

	if (!f)
		return 0;
	va_start(ap, f);
	collect_values(f, ap, values);
	va_end(ap);
	pthread_mutex_lock(&f->reg->lock);
	s = lookup(f, values, false);
	if (s)
		v = f->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&f->reg->lock);
	return v;
}

int metrics_add_collector(struct metrics *m, void (*fn)(void *ctx), void *ctx)
{
	struct collector *n;

	pthread_mutex_lock(&m->lock);
	n = realloc(m->collectors, (m->n_collectors + 1) * sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&m->lock);
		return -ENOMEM;
	}
	m->collectors = n;
	m->collectors[m->n_collectors++] = (struct collector){ fn, ctx };
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* --- rendering ---------------------------------------------------------------- */

static int put_escaped(struct buf *out, const char *s, bool quote)
{
	for (const char *p = s; *p; p++) {
		int r;

		if (*p == '\\')
			r = buf_puts(out, "\\\\");
		else if (*p == '\n')
			r = buf_puts(out, "\\n");
		else if (quote && *p == '"')
			r = buf_puts(out, "\\\"");
		else
			r = buf_append(out, p, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Go's and Python's clients print integral values without a fraction;
 * others with the shortest form that reads back the same. */
static int put_value(struct buf *out, double v)
{
	char tmp[64];

	if (isnan(v))
		return buf_puts(out, "NaN");
	if (isinf(v))
		return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return buf_printf(out, "%lld", (long long)v);
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return buf_puts(out, tmp);
}

/* name{l1="v1",...,extra="x"} */
static int put_series_name(struct buf *out, const struct metric *f, const char *suffix, const struct series *s,
			   const char *extra_name, const char *extra_value)
{
	bool any = f->n_labels > 0 || extra_name;
	int r;

	r = buf_printf(out, "%s%s", f->name, suffix);
	if (r < 0 || !any)
		return r;
	if ((r = buf_puts(out, "{")) < 0)
		return r;
	for (size_t i = 0; i < f->n_labels; i++) {
		if ((r = buf_printf(out, "%s%s=\"", i ? "," : "", f->labels[i])) < 0 ||
		    (r = put_escaped(out, s->values[i], true)) < 0 || (r = buf_puts(out, "\"")) < 0)
			return r;
	}
	if (extra_name) {
		if ((r = buf_printf(out, "%s%s=\"%s\"", f->n_labels ? "," : "", extra_name, extra_value)) < 0)
			return r;
	}
	return buf_puts(out, "}");
}

static int render_family(struct buf *out, const struct metric *f)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	int r;

	if ((r = buf_printf(out, "# HELP %s ", f->name)) < 0 || (r = put_escaped(out, f->help, false)) < 0 ||
	    (r = buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type])) < 0)
		return r;
	for (size_t i = 0; i < f->n_series; i++) {
		const struct series *s = &f->series[i];

		if (f->type != METRIC_HISTOGRAM) {
			if ((r = put_series_name(out, f, "", s, NULL, NULL)) < 0 || (r = buf_puts(out, " ")) < 0 ||
			    (r = put_value(out, s->value)) < 0 || (r = buf_puts(out, "\n")) < 0)
				return r;
			continue;
		}
		{
			uint64_t cum = 0;

			for (size_t b = 0; b <= f->n_bounds; b++) {
				char le[40];

				cum += s->buckets[b];
				if (b == f->n_bounds) {
					str_copy(le, sizeof(le), "+Inf");
				} else {
					struct buf lb = BUF_INIT(sizeof(le) - 1);

					if (put_value(&lb, f->bounds[b]) < 0) {
						buf_release(&lb);
						return -ENOMEM;
					}
					str_copy(le, sizeof(le), lb.data);
					buf_release(&lb);
				}
				if ((r = put_series_name(out, f, "_bucket", s, "le", le)) < 0 ||
				    (r = buf_printf(out, " %llu\n", (unsigned long long)cum)) < 0)
					return r;
			}
			if ((r = put_series_name(out, f, "_sum", s, NULL, NULL)) < 0 || (r = buf_puts(out, " ")) < 0 ||
			    (r = put_value(out, s->sum)) < 0 || (r = buf_puts(out, "\n")) < 0 ||
			    (r = put_series_name(out, f, "_count", s, NULL, NULL)) < 0 ||
			    (r = buf_printf(out, " %llu\n", (unsigned long long)s->count)) < 0)
				return r;
		}
	}
	return 0;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	struct collector *cs;
	size_t n;
	int r = 0;

	/* collectors take the lock themselves (metric_set): copy the list first */
	pthread_mutex_lock(&m->lock);
	n = m->n_collectors;
	cs = n ? malloc(n * sizeof(*cs)) : NULL;
	if (cs)
		memcpy(cs, m->collectors, n * sizeof(*cs));
	pthread_mutex_unlock(&m->lock);
	if (n && !cs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		cs[i].fn(cs[i].ctx);
	free(cs);

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_fams && r >= 0; i++)
		r = render_family(out, m->fams[i]);
	pthread_mutex_unlock(&m->lock);
	return r < 0 ? r : 0;
}
