#include "identity/diagnose.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "identity/documents.h"

#define ACTION "sts:AssumeRoleWithWebIdentity"
#define SA_PREFIX "system:serviceaccount:"

static void reason(struct trust_diagnosis *d, const char *fmt, ...) _printf_(2, 3);

static void reason(struct trust_diagnosis *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n >= DIAG_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(d->reasons[d->n++], sizeof(d->reasons[0]), fmt, ap);
	va_end(ap);
}

void diagnose_first_difference(const char *policy, const char *token, char *out, size_t size)
{
	size_t i = 0;

	while (policy[i] && token[i] && policy[i] == token[i])
		i++;
	if (!policy[i] && !token[i])
		str_format(out, size, "they are equal");
	else if (!policy[i])
		str_format(out, size, "the token's is longer: '%s' follows", token + i);
	else if (!token[i])
		str_format(out, size, "the policy's is longer: '%s' follows", policy + i);
	else
		str_format(out, size, "they differ at character %zu: '%c' in the policy, '%c' in the token", i + 1,
			   policy[i], token[i]);
}

static bool action_applies(json_t *st)
{
	json_t *a = json_object_get(st, "Action"), *na = json_object_get(st, "NotAction");

	if (a)
		return identity_policy_value_matches(a, ACTION, true, true);
	return na && !identity_policy_value_matches(na, ACTION, true, true);
}

static bool principal_applies(json_t *st, const char *provider)
{
	json_t *p = json_object_get(st, "Principal");

	if (json_is_string(p))
		return streq(json_string_value(p), "*");
	return json_is_object(p) && (identity_policy_value_matches(json_object_get(p, "AWS"), "*", false, false) ||
				     identity_policy_value_matches(json_object_get(p, "Federated"), provider, false, false));
}

/* Explain why value `want` (the policy's, one or a list) does not match the
 * token's `have` for a sub or aud key. */
static void explain_value(struct trust_diagnosis *d, int n, const char *which, json_t *want, const char *have,
			  const char *other_have, bool like)
{
	const char *w = json_is_string(want) ? json_string_value(want) : json_string_value(json_array_get(want, 0));
	char diff[200];

	if (!w) {
		reason(d, "statement %d: the %s condition has no string value", n, which);
		return;
	}
	if (!like && strpbrk(w, "*?")) {
		reason(d, "statement %d: %s '%s' has a wildcard inside StringEquals, where '*' and '?' are literal "
			  "characters; use StringLike to match a pattern", n, which, w);
		return;
	}
	if (strcasecmp(w, have) == 0) {
		reason(d, "statement %d: %s '%s' differs from the token's '%s' only in case (IAM compares values "
			  "case-sensitively)", n, which, w, have);
		return;
	}
	if (other_have && streq(w, other_have)) {
		reason(d, "statement %d: the %s condition holds the token's other claim ('%s'): sub and aud are "
			  "swapped in the trust policy", n, which, w);
		return;
	}
	if (streq(which, "sub") && str_startswith(w, SA_PREFIX) && str_startswith(have, SA_PREFIX)) {
		const char *wp = w + strlen(SA_PREFIX), *hp = have + strlen(SA_PREFIX);
		const char *wc = strchr(wp, ':'), *hc = strchr(hp, ':');

		if (wc && hc && ((size_t)(wc - wp) != (size_t)(hc - hp) || strncmp(wp, hp, (size_t)(wc - wp)) != 0)) {
			reason(d, "statement %d: sub names namespace '%.*s', the token is for namespace '%.*s' "
				  "(service account '%s')", n, (int)(wc - wp), wp, (int)(hc - hp), hp, hc + 1);
			return;
		}
		if (wc && hc) {
			diagnose_first_difference(wc + 1, hc + 1, diff, sizeof(diff));
			reason(d, "statement %d: sub names service account '%s', the token is for '%s' in the same "
				  "namespace (%s)", n, wc + 1, hc + 1, diff);
			return;
		}
	}
	diagnose_first_difference(w, have, diff, sizeof(diff));
	reason(d, "statement %d: %s '%s' does not match the token's '%s': %s", n, which, w, have, diff);
}

/* One condition block; returns whether it holds (d gets the reasons). */
static bool conditions_hold(struct trust_diagnosis *d, int n, json_t *cond, const struct web_identity_claims *c,
			    bool explain)
{
	const char *op, *key;
	json_t *block, *want;
	bool ok = true;

	json_object_foreach(cond, op, block) {
		bool neg = strstr(op, "Not") != NULL, like = strstr(op, "Like") != NULL,
		     nocase = strstr(op, "IgnoreCase") != NULL;
		bool known = str_startswith(op, "String") && !strchr(op, ':') && !strstr(op, "IfExists");

		json_object_foreach(block, key, want) {
			const char *colon = strrchr(key, ':'), *have = NULL, *other = NULL, *which = NULL;
			bool hold;

			if (colon && (size_t)(colon - key) == strlen(c->issuer_host) &&
			    strncasecmp(key, c->issuer_host, strlen(c->issuer_host)) == 0) {
				which = colon + 1;
				if (strcasecmp(which, "sub") == 0)
					have = c->sub, other = c->aud, which = "sub";
				else if (strcasecmp(which, "aud") == 0)
					have = c->aud, other = c->sub, which = "aud";
			} else if (colon && (str_endswith(key, ":sub") || str_endswith(key, ":aud"))) {
				ok = false;
				if (explain)
					reason(d, "statement %d: condition key '%s' is for another issuer than the token's "
						  "(%s)", n, key, c->issuer_host);
				continue;
			}
			if (!known || !have) {
				d->approximate = true;
				continue;
			}
			hold = identity_policy_value_matches(want, have, like, nocase) != neg;
			if (!hold) {
				ok = false;
				if (explain && !neg)
					explain_value(d, n, which, want, have, other, like);
				else if (explain)
					reason(d, "statement %d: %s %s excludes the token's %s '%s'", n, op, key, which, have);
			}
		}
	}
	return ok;
}

void diagnose_web_identity(const char *doc, const struct web_identity_claims *c, struct trust_diagnosis *out)
{
	json_t *stmts = identity_policy_statements(doc), *st;
	bool allow = false, deny = false, any_for_provider = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!stmts) {
		reason(out, "the trust policy is not a policy document");
		return;
	}
	json_array_foreach(stmts, i, st) {
		bool is_allow = streq(json_string_value(json_object_get(st, "Effect")) ?: "", "Allow");
		json_t *cond = json_object_get(st, "Condition");

		if (!action_applies(st) || !principal_applies(st, c->provider_arn))
			continue;
		any_for_provider = any_for_provider || is_allow;
		if (!cond || conditions_hold(out, (int)i + 1, cond, c, false)) {
			if (is_allow)
				allow = true;
			else
				deny = true;
		}
	}
	out->allowed = allow && !deny;
	if (out->allowed)
		goto done;
	if (deny) {
		reason(out, "a Deny statement applies to this token");
		goto done;
	}
	/* explain each Allow statement for this action: those naming the
	 * provider in full, the others by their principal */
	json_array_foreach(stmts, i, st) {
		json_t *p = json_object_get(json_object_get(st, "Principal"), "Federated");
		json_t *cond = json_object_get(st, "Condition");
		char diff[200];

		if (!streq(json_string_value(json_object_get(st, "Effect")) ?: "", "Allow") || !action_applies(st))
			continue;
		if (!principal_applies(st, c->provider_arn)) {
			if (any_for_provider)
				continue;
			if (json_is_string(p)) {
				diagnose_first_difference(json_string_value(p), c->provider_arn, diff, sizeof(diff));
				reason(out, "statement %zu: trusts provider %s, the token's issuer is provider %s: %s", i + 1,
				       json_string_value(p), c->provider_arn, diff);
			} else {
				reason(out, "statement %zu: its principal is not the token's OIDC provider %s", i + 1,
				       c->provider_arn);
			}
			continue;
		}
		if (cond)
			conditions_hold(out, (int)i + 1, cond, c, true);
	}
	if (!out->n)
		reason(out, "no statement allows %s", ACTION);
done:
	json_decref(stmts);
}

/* --- EKS Pod Identity ------------------------------------------------------------ */

static const char *session_tag(const struct pod_identity_session *s, const char *key)
{
	static const char prefix[] = "aws:RequestTag/";

	if (strncasecmp(key, prefix, strlen(prefix)) != 0)
		return NULL;
	key += strlen(prefix);
	if (!s->session_tags)
		return NULL;
	if (streq(key, "eks-cluster-arn"))
		return s->cluster_arn;
	if (streq(key, "eks-cluster-name"))
		return s->cluster_name;
	if (streq(key, "kubernetes-namespace"))
		return s->ns;
	if (streq(key, "kubernetes-service-account"))
		return s->sa;
	return NULL;
}

static bool pi_conditions(struct trust_diagnosis *d, int n, json_t *cond, const struct pod_identity_session *s,
			  bool explain)
{
	const char *op, *key;
	json_t *block, *want;
	bool ok = true;

	json_object_foreach(cond, op, block) {
		bool neg = strstr(op, "Not") != NULL, like = strstr(op, "Like") != NULL,
		     nocase = strstr(op, "IgnoreCase") != NULL;
		bool known = str_startswith(op, "String") && !strchr(op, ':') && !strstr(op, "IfExists");

		json_object_foreach(block, key, want) {
			const char *have = session_tag(s, key);
			char diff[200];

			if (!known || (!have && strncasecmp(key, "aws:RequestTag/", 15) != 0)) {
				d->approximate = true;
				continue;
			}
			if (!have) { /* a session tag EKS does not set (or sets none: disabled) */
				ok = ok && neg;
				if (explain && !neg)
					reason(d, "statement %d: condition %s needs a session tag EKS does not set%s", n, key,
					       s->session_tags ? "" : " (the association disables session tags)");
				continue;
			}
			if (identity_policy_value_matches(want, have, like, nocase) != neg)
				continue;
			ok = false;
			if (!explain)
				continue;
			{
				const char *w = json_is_string(want) ? json_string_value(want)
								     : json_string_value(json_array_get(want, 0));

				diagnose_first_difference(w ? w : "", have, diff, sizeof(diff));
				reason(d, "statement %d: %s is '%s' in the policy, the association's session has '%s' (%s)", n,
				       key, w ? w : "?", have, json_is_array(want) && json_array_size(want) > 1 ? "none of the "
				       "listed values" : diff);
			}
		}
	}
	return ok;
}

void diagnose_pod_identity(const char *doc, const struct pod_identity_session *s, struct trust_diagnosis *out)
{
	json_t *stmts = identity_policy_statements(doc), *st;
	bool allow = false, deny = false, any_for_service = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!stmts) {
		reason(out, "the trust policy is not a policy document");
		return;
	}
	json_array_foreach(stmts, i, st) {
		json_t *p = json_object_get(st, "Principal"), *a = json_object_get(st, "Action");
		bool is_allow = streq(json_string_value(json_object_get(st, "Effect")) ?: "", "Allow");
		bool svc = (json_is_string(p) && streq(json_string_value(p), "*")) ||
			   identity_policy_value_matches(json_object_get(p, "Service"), "pods.eks.amazonaws.com", false, false);
		bool act = identity_policy_value_matches(a, "sts:AssumeRole", true, true) &&
			   (!s->session_tags || identity_policy_value_matches(a, "sts:TagSession", true, true));
		json_t *cond = json_object_get(st, "Condition");

		if (!svc)
			continue;
		if (is_allow)
			any_for_service = true;
		if (!act) {
			if (is_allow)
				reason(out, "statement %zu: allows the Pod Identity service but not %s", i + 1,
				       identity_policy_value_matches(a, "sts:AssumeRole", true, true) ? "sts:TagSession (EKS tags every session unless "
									      "the association disables session tags)"
									    : "sts:AssumeRole");
			continue;
		}
		if (!cond || pi_conditions(out, (int)i + 1, cond, s, false)) {
			if (is_allow)
				allow = true;
			else
				deny = true;
		} else if (is_allow) {
			pi_conditions(out, (int)i + 1, cond, s, true);
		}
	}
	out->allowed = allow && !deny;
	if (out->allowed)
		out->n = 0;
	else if (deny)
		reason(out, "a Deny statement applies to this session");
	else if (!any_for_service)
		reason(out, "no statement trusts the service principal pods.eks.amazonaws.com");
	json_decref(stmts);
}
