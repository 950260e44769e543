#include "identity/conditions.h"

#include <string.h>

#include "base/macros.h"
#include "base/str.h"

static const char *const order[] = { COND_READY, COND_OIDC, COND_ROLE, COND_SA, COND_WORKLOADS };

static struct condition *find(struct conditions *c, const char *type)
{
	for (int i = 0; i < c->n; i++) {
		if (streq(c->items[i].type, type))
			return &c->items[i];
	}
	return NULL;
}

const struct condition *conditions_get(const struct conditions *c, const char *type)
{
	return find((struct conditions *)c, type);
}

void conditions_from_json(json_t *arr, struct conditions *c)
{
	json_t *it;
	size_t i;

	memset(c, 0, sizeof(*c));
	json_array_foreach(arr, i, it) {
		struct condition *x;
		const char *type = json_string_value(json_object_get(it, "type"));

		if (!type || c->n >= COND_MAX || find(c, type))
			continue;
		x = &c->items[c->n++];
		str_copy(x->type, sizeof(x->type), type);
		str_copy(x->status, sizeof(x->status), json_string_value(json_object_get(it, "status")) ?: "Unknown");
		str_copy(x->reason, sizeof(x->reason), json_string_value(json_object_get(it, "reason")) ?: "");
		str_copy(x->message, sizeof(x->message), json_string_value(json_object_get(it, "message")) ?: "");
		str_copy(x->last_transition, sizeof(x->last_transition),
			 json_string_value(json_object_get(it, "lastTransitionTime")) ?: "");
		x->observed_generation = json_integer_value(json_object_get(it, "observedGeneration"));
	}
}

bool conditions_set(struct conditions *c, const char *type, const char *status, const char *reason,
		    const char *message, long long generation, const char *now)
{
	struct condition *x = find(c, type), before;

	if (!x) {
		if (c->n >= COND_MAX)
			return false;
		x = &c->items[c->n++];
		memset(x, 0, sizeof(*x));
		str_copy(x->type, sizeof(x->type), type);
	}
	before = *x;
	if (!streq(x->status, status) || !x->last_transition[0])
		str_copy(x->last_transition, sizeof(x->last_transition), now);
	str_copy(x->status, sizeof(x->status), status);
	str_copy(x->reason, sizeof(x->reason), reason);
	str_copy(x->message, sizeof(x->message), message);
	x->observed_generation = generation;
	return memcmp(&before, x, sizeof(before)) != 0;
}

bool conditions_summarize(struct conditions *c, long long generation, const char *now)
{
	for (size_t i = 1; i < ARRAY_SIZE(order); i++) {
		const struct condition *x = find(c, order[i]);

		if (!x)
			return conditions_set(c, COND_READY, "Unknown", "Reconciling", "reconciliation has not finished",
					      generation, now);
		if (!streq(x->status, "True"))
			return conditions_set(c, COND_READY, "False", x->reason, x->message, generation, now);
	}
	return conditions_set(c, COND_READY, "True", "Ready",
			      "the IAM role exists, trusts only this service account, and its pods use it", generation,
			      now);
}

static json_t *one(const struct condition *x)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "type", x->type, "status", x->status, "reason",
			 x->reason[0] ? x->reason : "Unknown", "message", x->message, "observedGeneration",
			 (json_int_t)x->observed_generation, "lastTransitionTime", x->last_transition);
}

json_t *conditions_to_json(const struct conditions *c)
{
	json_t *arr = json_array();
	bool used[COND_MAX] = { false };

	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		for (int i = 0; i < c->n; i++) {
			if (!used[i] && streq(c->items[i].type, order[k])) {
				json_array_append_new(arr, one(&c->items[i]));
				used[i] = true;
			}
		}
	}
	for (int i = 0; i < c->n; i++) {
		if (!used[i])
			json_array_append_new(arr, one(&c->items[i]));
	}
	return arr;
}
