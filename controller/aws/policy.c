#include "aws/policy.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/buf.h"

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
