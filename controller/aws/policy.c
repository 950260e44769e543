#include "aws/policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/macros.h"

int aws_policy_decode(const char *encoded, char **ret)
{
	struct buf b = BUF_INIT(0);
	int r;

	r = sigv4_uri_decode(&b, encoded, strlen(encoded));
	if (r >= 0 && !b.data)
		r = buf_puts(&b, "");
	if (r < 0) {
		buf_release(&b);
		return -ENOMEM;
	}
	*ret = buf_detach(&b);
	return *ret ? 0 : -ENOMEM;
}

static bool value_equal(const json_t *a, const json_t *b);

/* some element of `set` (an array, or a single value) equals x */
static bool contains(const json_t *set, const json_t *x)
{
	if (!json_is_array(set))
		return value_equal(set, x);
	for (size_t i = 0; i < json_array_size(set); i++)
		if (value_equal(json_array_get(set, i), x))
			return true;
	return false;
}

/* every element of `a` (an array, or a single value) is in `b` */
static bool covered(const json_t *a, const json_t *b)
{
	if (!json_is_array(a))
		return contains(b, a);
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!contains(b, json_array_get(a, i)))
			return false;
	return true;
}

static bool value_equal(const json_t *a, const json_t *b)
{
	if (json_is_array(a) || json_is_array(b)) {
		/* sets; an empty array equals nothing but another empty array */
		if (json_is_array(a) && json_is_array(b) && json_array_size(a) == 0)
			return json_array_size(b) == 0;
		if ((json_is_array(a) && json_array_size(a) == 0) || (json_is_array(b) && json_array_size(b) == 0))
			return false;
		return covered(a, b) && covered(b, a);
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, k, v)
		{
			json_t *w = json_object_get(b, k);

			if (!w || !value_equal(v, w))
				return false;
		}
		return true;
	}
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal((json_t *)a, (json_t *)b);
}

int aws_policy_equal(const char *a, const char *b)
{
	json_t *ja = a ? json_loads(a, JSON_DECODE_ANY, NULL) : NULL;
	json_t *jb = b ? json_loads(b, JSON_DECODE_ANY, NULL) : NULL;
	int r;

	if (!ja || !jb)
		r = -EINVAL;
	else
		r = value_equal(ja, jb) ? 1 : 0;
	json_decref(ja);
	json_decref(jb);
	return r;
}

/* --- canonical text ------------------------------------------------------------ */

static int canonical(const json_t *v, struct buf *out);

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the text of one value, malloc'd */
static char *canonical_dup(const json_t *v)
{
	struct buf b = BUF_INIT(0);

	if (canonical(v, &b) < 0 || (!b.data && buf_puts(&b, "") < 0)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* a set: the sorted, de-duplicated texts of its elements; one element alone
 * is written as that element (a single value equals a one-element array) */
static int canonical_set(const json_t *a, struct buf *out)
{
	size_t n = json_array_size(a), m = 0;
	char **v;
	int r = 0;

	if (n == 0)
		return buf_puts(out, "[]");
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = canonical_dup(json_array_get(a, i));
		if (!v[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || !streq(v[i], v[i - 1]))
			v[m++] = v[i];
		else
			free(v[i]);
	}
	n = m;
	if (n == 1) {
		r = buf_puts(out, v[0]);
		goto out;
	}
	r = buf_puts(out, "[");
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (i)
			r = buf_puts(out, ",");
		if (r >= 0)
			r = buf_puts(out, v[i]);
	}
	if (r >= 0)
		r = buf_puts(out, "]");
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return r;
}

static int canonical_object(const json_t *o, struct buf *out)
{
	size_t n = json_object_size(o), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *v;
	int r;

	if (!keys)
		return -ENOMEM;
	json_object_foreach((json_t *)o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	r = buf_puts(out, "{");
	for (i = 0; i < n && r >= 0; i++) {
		json_t *key = json_string(keys[i]);
		char *ks = key ? json_dumps(key, JSON_ENCODE_ANY) : NULL;

		json_decref(key);
		if (!ks) {
			r = -ENOMEM;
			break;
		}
		r = buf_printf(out, "%s%s:", i ? "," : "", ks);
		free(ks);
		if (r >= 0)
			r = canonical(json_object_get(o, keys[i]), out);
	}
	if (r >= 0)
		r = buf_puts(out, "}");
	free(keys);
	return r;
}

static int canonical(const json_t *v, struct buf *out)
{
	char *s;
	int r;

	if (json_is_array(v))
		return canonical_set(v, out);
	if (json_is_object(v))
		return canonical_object(v, out);
	if (json_is_number(v))
		return buf_printf(out, "%.17g", json_number_value(v));
	s = json_dumps(v, JSON_ENCODE_ANY);
	if (!s)
		return -ENOMEM;
	r = buf_puts(out, s);
	free(s);
	return r;
}

int aws_policy_canonical(const char *doc, char **ret)
{
	json_t *j = doc ? json_loads(doc, JSON_DECODE_ANY, NULL) : NULL;
	char *s;

	if (!j)
		return -EINVAL;
	s = canonical_dup(j);
	json_decref(j);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}
