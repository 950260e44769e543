#include "identity/accounts.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "identity/guardrails.h"

const struct account_setting *identity_account_find(const struct settings *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_accounts; i++) {
		if (streq(s->accounts[i].account_id, id))
			return &s->accounts[i];
	}
	return NULL;
}

void identity_account_boundary(const struct settings *s, const struct account_setting *e, char *out, size_t size)
{
	const char *b = s->permissions_boundary_arn, *acct;

	out[0] = '\0';
	if (e && e->boundary_arn) {
		str_copy(out, size, e->boundary_arn);
		return;
	}
	if (!b)
		return;
	/* arn:<partition>:iam::<account>:policy/<name>: the account follows "::" */
	acct = strstr(b, ":iam::");
	if (!e || !acct || str_startswith(acct + 6, "aws:")) {
		str_copy(out, size, b);
		return;
	}
	acct += 6;
	str_format(out, size, "%.*s%s%s", (int)(acct - b), b, e->account_id, strchr(acct, ':') ?: "");
}

static void list_accounts(const struct settings *s, char *out, size_t size)
{
	struct strfmt f = STRFMT_INIT(out, size);

	if (!s->n_accounts)
		strfmt_add(&f, "none");
	for (size_t i = 0; i < s->n_accounts; i++)
		strfmt_add(&f, "%s%s", i ? ", " : "", s->accounts[i].account_id);
}

void identity_account_choose(const struct settings *s, const char *home, const char *ns, const struct wi_spec *sp,
			     struct account_choice *out)
{
	const struct account_setting *e;
	char listed[400];

	memset(out, 0, sizeof(*out));
	out->account_id = home;
	if (!sp->account_id || (home && streq(sp->account_id, home))) {
		identity_account_boundary(s, NULL, out->boundary, sizeof(out->boundary));
		return;
	}
	e = identity_account_find(s, sp->account_id);
	if (!e) {
		list_accounts(s, listed, sizeof(listed));
		out->refused = true;
		str_format(out->message, sizeof(out->message),
			   "spec.accountId: keyless may not manage roles in account %s: it is not the cluster's account "
			   "(%s) and not in the operator's settings accounts (%s). Remove spec.accountId, or ask the "
			   "operator to add the account", sp->account_id, home ? home : "?", listed);
		return;
	}
	if (e->namespaces.n) {
		bool ok = false;

		for (size_t i = 0; i < e->namespaces.n && !ok; i++)
			ok = glob_match(e->namespaces.items[i], ns, false);
		if (!ok) {
			out->refused = true;
			str_format(out->message, sizeof(out->message),
				   "spec.accountId: namespace '%s' may not use account %s (the operator's settings accounts "
				   "entry for it lists the namespaces that may)", ns, e->account_id);
			return;
		}
	}
	out->entry = e;
	out->account_id = e->account_id;
	identity_account_boundary(s, e, out->boundary, sizeof(out->boundary));
}
