#include "identity/guardrails.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "base/str.h"
#include "identity/shape.h"

/* Largest glob_overlap table (bytes); patterns are short (actions <= 128). */
#define OVERLAP_MAX_CELLS ((size_t)1 << 22)

static bool same_char(char a, char b, bool nocase)
{
	if (nocase)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

/* Can pattern character p (not '*') stand for text symbol t? In symbolic
 * mode t may itself be a wildcard of another pattern: '?' in p stands for
 * any single character, so for t = '?' but not t = '*'; a literal only for
 * the same literal. */
static bool symbol_ok(char p, char t, bool nocase, bool symbolic)
{
	if (symbolic && t == '*')
		return false;
	if (p == '?')
		return true;
	return same_char(p, t, nocase); /* never true for t = '?' */
}

/* Greedy matching with one backtrack point (the last '*' seen): a '*' of
 * the pattern absorbs any run of text symbols, so retrying only the latest
 * star is enough whatever the per-symbol predicate. */
static bool match_core(const char *p, const char *t, bool nocase, bool symbolic)
{
	const char *star = NULL, *star_t = NULL;

	while (*t) {
		if (*p == '*') {
			star = p++;
			star_t = t;
		} else if (*p && symbol_ok(*p, *t, nocase, symbolic)) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++star_t;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool glob_match(const char *pattern, const char *text, bool nocase)
{
	return match_core(pattern, text, nocase, false);
}

bool glob_covers(const char *outer, const char *inner, bool nocase)
{
	return match_core(outer, inner, nocase, true);
}

/* Reachability over pairs (i, j) of positions in a and b while building a
 * common string: a '*' may match nothing (advance it alone) or absorb the
 * character the other pattern produces; '?' and literals each produce one
 * character, which must agree unless one of them is '?'. Every move advances
 * i or j, so one pass in row-major order settles the table. */
bool glob_overlap(const char *a, const char *b, bool nocase)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1;
	_cleanup_free_ bool *reach = NULL;

	if ((la + 1) > OVERLAP_MAX_CELLS / w)
		return true; /* too long to decide cheaply: the cautious answer for a deny list */
	reach = calloc((la + 1) * w, sizeof(bool));
	if (!reach)
		return true;
	reach[0] = true;
	for (size_t i = 0; i <= la; i++) {
		for (size_t j = 0; j <= lb; j++) {
			if (!reach[i * w + j])
				continue;
			if (i == la && j == lb)
				return true;
			if (i < la && a[i] == '*')
				reach[(i + 1) * w + j] = true;
			if (j < lb && b[j] == '*')
				reach[i * w + j + 1] = true;
			if (i == la || j == lb)
				continue;
			if (a[i] == '*' && b[j] != '*')
				reach[i * w + j + 1] = true;
			else if (b[j] == '*' && a[i] != '*')
				reach[(i + 1) * w + j] = true;
			else if (a[i] != '*' && (a[i] == '?' || b[j] == '?' || same_char(a[i], b[j], nocase)))
				reach[(i + 1) * w + j + 1] = true;
		}
	}
	return false;
}

/* Does any pattern of the list match text? */
static bool any_glob(const struct str_array *patterns, const char *text, bool nocase)
{
	for (size_t i = 0; i < patterns->n; i++) {
		if (glob_match(patterns->items[i], text, nocase))
			return true;
	}
	return false;
}

int guardrails_check_namespace(const struct guardrails *g, const char *ns, struct op_err *err)
{
	if (g->include_namespaces.n && !any_glob(&g->include_namespaces, ns, false))
		return op_err_setr(err, -EACCES, "NamespaceNotAllowed",
				   "namespace '%s' is not in guardrails.includeNamespaces", shape_quote(ns).s);
	for (size_t i = 0; i < g->exclude_namespaces.n; i++) {
		const char *pat = g->exclude_namespaces.items[i];

		if (glob_match(pat, ns, false))
			return op_err_setr(err, -EACCES, "NamespaceNotAllowed",
					   "namespace '%s' is excluded by guardrails.excludeNamespaces pattern '%s'",
					   shape_quote(ns).s, shape_quote(pat).s);
	}
	return 0;
}

/* Does the action reach across services ("*", "*:*", "s*:Get*")? */
static bool crosses_services(const char *action)
{
	const char *colon = strchr(action, ':');
	size_t n = colon ? (size_t)(colon - action) : strlen(action);

	return strcspn(action, "*?") < n;
}

/* The denied pattern that rejects `action`, or NULL. */
static const char *denied_by(const struct guardrails *g, const char *action)
{
	for (size_t i = 0; i < g->denied_actions.n; i++) {
		const char *d = g->denied_actions.items[i];

		/* "*" (or "*:*") denies the all-services wildcard itself; read as
		 * a glob it would deny every action and leave nothing allowed */
		if (glob_covers(d, "*:*", true)) {
			if (crosses_services(action))
				return d;
		} else if (glob_overlap(d, action, true)) {
			return d;
		}
	}
	return NULL;
}

static bool covered_by_any(const struct str_array *pats, const char *action)
{
	for (size_t i = 0; i < pats->n; i++) {
		if (glob_covers(pats->items[i], action, true))
			return true;
	}
	return false;
}

static int reject(struct op_err *err, const char *fmt, ...) _printf_(2, 3);
static int reject(struct op_err *err, const char *fmt, ...)
{
	char msg[sizeof(err->message)];
	va_list ap;

	if (!err)
		return -EACCES;
	va_start(ap, fmt);
	str_vformat_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return op_err_setr(err, -EACCES, "PolicyRejected", "%s", msg);
}

/* Is the account part a[0..n) of a Resource ARN in guardrails.resourceAccounts? */
static bool account_allowed(const struct guardrails *g, const char *a, size_t n)
{
	for (size_t i = 0; i < g->resource_accounts.n; i++) {
		const char *ok = g->resource_accounts.items[i];

		if (strlen(ok) == n && strncmp(ok, a, n) == 0)
			return true;
	}
	return false;
}

/* resourceAccounts: every ARN names an allowed account, or none (S3
 * buckets). A wildcard that resourceWildcardActions allowed is not checked. */
static int check_accounts(const struct guardrails *g, const char *field, const struct wi_statement *st, size_t si,
			  bool wild_allowed, struct op_err *err)
{
	if (g->resource_accounts.n == 0)
		return 0;
	for (size_t k = 0; k < st->n_resources; k++) {
		const char *res = st->resources[k], *acct;
		size_t n;
		char shown[16];

		if (wild_allowed && shape_resource_is_wildcard(res))
			continue;
		if (shape_resource_account(res, &acct, &n) < 0 || n == 0)
			continue; /* "*" (only reaches here as an allowed wildcard) or no account */
		(void)str_format(shown, sizeof(shown), "%.*s", (int)n, acct);
		if (memchr(acct, '*', n) || memchr(acct, '?', n))
			return reject(err,
				      "%s[%zu].resources[%zu]: '%s' has a wildcard account "
				      "'%s'; with guardrails.resourceAccounts set, a Resource must name one of those accounts "
				      "(write the account id)",
				      field, si, k, shape_quote(res).s, shape_quote(shown).s);
		if (!account_allowed(g, acct, n))
			return reject(err,
				      "%s[%zu].resources[%zu]: account '%s' of '%s' is not in "
				      "guardrails.resourceAccounts (name a resource in an allowed account, or ask the "
				      "operator to add it)",
				      field, si, k, shape_quote(shown).s, shape_quote(res).s);
	}
	return 0;
}

/* field: "spec.permissions.statements" or "spec.sessionPolicy.statements" */
static int check_statement(const struct guardrails *g, const char *field, const struct wi_statement *st, size_t si,
			   struct op_err *err)
{
	const char *wild = NULL;
	size_t wild_i = 0;

	if (st->effect != WI_ALLOW)
		return 0; /* a Deny grants nothing */
	for (size_t k = 0; k < st->n_actions; k++) {
		const char *a = st->actions[k], *d = denied_by(g, a);

		if (d)
			return reject(err,
				      "%s[%zu].actions[%zu]: '%s' is denied by the operator's "
				      "guardrail '%s' (guardrails.deniedActions)",
				      field, si, k, shape_quote(a).s, shape_quote(d).s);
		if (g->allowed_actions.n > 0 && !covered_by_any(&g->allowed_actions, a))
			return reject(err,
				      "%s[%zu].actions[%zu]: '%s' is not within the operator's "
				      "allowed actions (guardrails.allowedActions)",
				      field, si, k, shape_quote(a).s);
	}
	for (size_t k = 0; k < st->n_resources && !wild; k++) {
		if (shape_resource_is_wildcard(st->resources[k])) {
			wild = st->resources[k];
			wild_i = k;
		}
	}
	for (size_t k = 0; wild && k < st->n_actions; k++) {
		if (!covered_by_any(&g->resource_wildcard_actions, st->actions[k]))
			return reject(err,
				      "%s[%zu].resources[%zu]: Resource \"%s\" is only allowed "
				      "for actions in guardrails.resourceWildcardActions; '%s' is not",
				      field, si, wild_i, shape_quote(wild).s, shape_quote(st->actions[k]).s);
	}
	/* here a wildcard, if any, was allowed by resourceWildcardActions */
	return check_accounts(g, field, st, si, wild != NULL, err);
}

/* allowedTagKeys: every spec.tags key matches a pattern (without case, as
 * IAM compares tag keys). */
static int check_tags(const struct guardrails *g, const struct wi_spec *spec, struct op_err *err)
{
	for (size_t i = 0; i < spec->n_tags; i++) {
		const char *key = spec->tags[i].key;

		if (!any_glob(&g->allowed_tag_keys, key, true))
			return reject(err,
				      "spec.tags[%s]: tag key '%s' is not in guardrails.allowedTagKeys (%s); role tags "
				      "become aws:PrincipalTag/<key>, which policies may trust: remove the tag or ask the "
				      "operator to allow the key",
				      shape_quote(key).s, shape_quote(key).s,
				      g->allowed_tag_keys.n ? "the keys tenants may set" : "empty: tenants may set no tags");
	}
	return 0;
}

/* allowedAudiences: exact, as STS compares the token's aud. */
static int check_audience(const struct guardrails *g, const struct wi_spec *spec, struct op_err *err)
{
	const char *aud = spec->audience && *spec->audience ? spec->audience : WI_DEFAULT_AUDIENCE;

	for (size_t i = 0; i < g->allowed_audiences.n; i++) {
		if (streq(g->allowed_audiences.items[i], aud))
			return 0;
	}
	return reject(err,
		      "spec.audience: '%s' is not in guardrails.allowedAudiences (every audience is added to the "
		      "cluster's OIDC provider, which all roles trusting it share): use %s or ask the operator to "
		      "allow it",
		      shape_quote(aud).s,
		      g->allowed_audiences.n ? "an allowed audience (default " WI_DEFAULT_AUDIENCE ")"
					     : "none: the operator allows no audience");
}

int guardrails_check_spec(const struct guardrails *g, const struct wi_spec *spec, struct op_err *err)
{
	int r;

	for (size_t i = 0; i < spec->n_statements; i++) {
		r = check_statement(g, "spec.permissions.statements", &spec->statements[i], i, err);
		if (r < 0)
			return r;
	}
	/* a session policy only narrows the role's permissions, but what it
	 * names is held to the same rules, so nothing reads differently */
	for (size_t i = 0; i < spec->n_session_statements; i++) {
		r = check_statement(g, "spec.sessionPolicy.statements", &spec->session_statements[i], i, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < spec->n_managed_policy_arns; i++) {
		const char *arn = spec->managed_policy_arns[i];

		if (!any_glob(&g->managed_policy_arns, arn, false)) /* ARNs are case-sensitive */
			return reject(err,
				      "spec.permissions.managedPolicyArns[%zu]: '%s' is not in the operator's allowlist "
				      "(guardrails.managedPolicyArns)",
				      i, shape_quote(arn).s);
	}
	r = check_tags(g, spec, err);
	if (r < 0)
		return r;
	return check_audience(g, spec, err);
}
