#include "identity/documents.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity/guardrails.h"
#include "identity/trust.h"

#define POLICY_VERSION "2012-10-17"

static char *dump(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(doc);
	return s;
}

char *identity_trust_policy(const char *provider_arn, const char *issuer, const char *ns, const char *sa,
			    const char *audience)
{
	const struct trust_irsa irsa = { .provider_arn = provider_arn, .issuer = issuer, .audience = audience };
	const struct trust_want w = { .ns = ns, .sa = sa, .irsa = &irsa, .n_irsa = 1 };

	return identity_trust_document(&w);
}

static json_t *string_array(char **items, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static json_t *conditions_json(const struct wi_statement *st)
{
	json_t *c = json_object();

	for (size_t i = 0; i < st->n_conditions; i++) {
		const struct wi_condition *w = &st->conditions[i];
		json_t *op = json_object_get(c, w->op);

		if (!op) {
			op = json_object();
			json_object_set_new(c, w->op, op);
		}
		json_object_set_new(op, w->key, string_array(w->values, w->n_values));
	}
	return c;
}

static char *statements_document(const struct wi_statement *v, size_t n)
{
	json_t *stmts = json_array(), *doc;

	for (size_t i = 0; i < n; i++) {
		const struct wi_statement *st = &v[i];
		json_t *s = json_object();

		if (st->sid && *st->sid)
			json_object_set_new(s, "Sid", json_string(st->sid));
		json_object_set_new(s, "Effect", json_string(st->effect == WI_DENY ? "Deny" : "Allow"));
		json_object_set_new(s, "Action", string_array(st->actions, st->n_actions));
		json_object_set_new(s, "Resource", string_array(st->resources, st->n_resources));
		if (st->n_conditions)
			json_object_set_new(s, "Condition", conditions_json(st));
		json_array_append_new(stmts, s);
	}
	doc = json_pack("{s:s, s:o}", "Version", POLICY_VERSION, "Statement", stmts);
	return dump(doc);
}

char *identity_permission_policy(const struct wi_spec *spec, int *ret_none)
{
	*ret_none = spec->n_statements == 0;
	return *ret_none ? NULL : statements_document(spec->statements, spec->n_statements);
}

char *identity_session_policy(const struct wi_spec *spec, int *ret_none)
{
	*ret_none = spec->n_session_statements == 0;
	return *ret_none ? NULL : statements_document(spec->session_statements, spec->n_session_statements);
}

size_t identity_policy_size(const char *doc)
{
	size_t n = 0;

	for (; *doc; doc++) {
		if (*doc != ' ' && *doc != '\n' && *doc != '\t' && *doc != '\r')
			n++;
	}
	return n;
}

json_t *identity_policy_statements(const char *doc)
{
	json_t *root = json_loads(doc ? doc : "", 0, NULL), *stmts = json_object_get(root, "Statement"), *out = NULL;

	if (json_is_array(stmts)) {
		out = json_incref(stmts);
	} else if (json_is_object(stmts)) {
		out = json_array();
		json_array_append(out, stmts);
	}
	json_decref(root);
	return out;
}

bool identity_policy_value_matches(json_t *v, const char *s, bool like, bool nocase)
{
	json_t *it;
	size_t i;

	if (json_is_string(v))
		return like ? glob_match(json_string_value(v), s, nocase)
			    : nocase ? strcasecmp(json_string_value(v), s) == 0 : streq(json_string_value(v), s);
	json_array_foreach(v, i, it) {
		if (json_is_string(it) && identity_policy_value_matches(it, s, like, nocase))
			return true;
	}
	return false;
}
