/* verifyAssumeRole: after writing an IRSA role, keyless asks the API server
 * for a short-lived token of the service account (TokenRequest, the
 * identity's audience) and calls sts:AssumeRoleWithWebIdentity with it;
 * RoleReady becomes True (reason Verified) only once that works.
 *
 * IAM's changes take a few seconds to reach STS, so a refusal right after a
 * write is retried (RoleReady False, AssumeRolePending, with STS's error;
 * every VERIFY_RETRY_NS) for VERIFY_WINDOW_NS since the condition changed;
 * then RoleReady False, AssumeRoleFailed, with STS's error and keyless'
 * own diagnosis of the trust policy against the token (identity/diagnose.h).
 * A reconcile that wrote nothing to the role keeps an earlier verification
 * of this generation without calling anything. The token is never logged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jwt.h"
#include "base/str.h"
#include "identity/diagnose.h"
#include "identity/naming.h"
#include "reconcile/steps.h"

#define VERIFY_RETRY_NS (2 * NSEC_PER_SEC)
#define VERIFY_WINDOW_NS (45 * NSEC_PER_SEC)
#define TOKEN_SECONDS 600

/* sub and aud of a token the API server just issued (not verified here). */
static void token_claims(const char *token, char *sub, size_t sub_size, char *aud, size_t aud_size)
{
	json_t *c = jwt_payload(token);

	str_copy(sub, sub_size, json_string_value(json_object_get(c, "sub")) ?: "");
	str_copy(aud, aud_size, jwt_first_audience(c) ?: "");
	json_decref(c);
}

/* Still within the retry window since RoleReady became AssumeRolePending
 * (as the reconcile found it)? */
static bool within_window(struct rctx *x)
{
	int64_t since;

	if (!x->pending_since[0] || rfc3339_parse(x->pending_since, &since) < 0)
		return true;
	return x->now_ns - since < VERIFY_WINDOW_NS;
}

static void refused(struct rctx *x, const char *token, const struct op_err *err)
{
	struct trust_diagnosis d = { 0 };
	char msg[1000], sub[300], aud[300];
	const char *host = identity_issuer_host(x->r->issuer);
	struct web_identity_claims c = { x->provider_arn, host, sub, aud };
	struct strfmt f = STRFMT_INIT(msg, sizeof(msg));
	bool pending = within_window(x);

	token_claims(token, sub, sizeof(sub), aud, sizeof(aud));
	if (x->trust_doc)
		diagnose_web_identity(x->trust_doc, &c, &d);
	strfmt_add(&f, "a token of service account %s/%s %s assume IAM role %s: sts:AssumeRoleWithWebIdentity: %s: %s",
		   x->ns, x->spec->service_account, pending ? "could not yet" : "cannot", x->role_name,
		   err->reason[0] ? err->reason : "error", err->message);
	if (d.allowed)
		strfmt_add(&f, "; the trust policy allows the token, so IAM's change has %s reached STS",
			   pending ? "not yet" : "still not");
	for (size_t i = 0; i < d.n; i++)
		strfmt_add(&f, "; %s", d.reasons[i]);
	if (pending) {
		strfmt_add(&f, " (retried every %d s for %d s: IAM propagation)", (int)(VERIFY_RETRY_NS / NSEC_PER_SEC),
			   (int)(VERIFY_WINDOW_NS / NSEC_PER_SEC));
		/* pending since it first was (wi_ensure_role set True meanwhile) */
		conditions_set(&x->conds, COND_ROLE, "False", "AssumeRolePending", msg, x->generation,
			       x->pending_since[0] ? x->pending_since : x->now);
		x->requeue_after_ns = VERIFY_RETRY_NS;
	} else {
		conditions_set(&x->conds, COND_ROLE, "False", "AssumeRoleFailed", msg, x->generation, x->now);
		rctx_event(x, "Warning", "AssumeRoleFailed", "AssumeRoleWithWebIdentity", "%s", msg);
	}
}

bool wi_verify_assume(struct rctx *x)
{
	struct wi_reconciler *r = x->r;
	const struct condition *rc_before = conditions_get(&x->conds, COND_ROLE);
	_cleanup_(sts_assumed_role_freep) struct sts_assumed_role *out = NULL;
	char msg[1000], *token = NULL;
	struct op_err err;
	int rc;

	if (!r->settings->verify_assume_role || x->mode.mode != WI_MODE_IRSA || !rc_before ||
	    !streq(rc_before->status, "True") || !r->kube->token)
		return true;
	str_copy(msg, sizeof(msg), rc_before->message);
	if (x->verified_before && x->role_writes == 0) {
		conditions_set(&x->conds, COND_ROLE, "True", "Verified", msg, x->generation, x->now);
		return true;
	}
	op_err_clear(&err);
	rc = r->kube->token(r->kube->ctx, x->ns, x->spec->service_account, x->spec->audience, TOKEN_SECONDS, &token,
			    &err);
	if (rc < 0) {
		str_format(msg, sizeof(msg), "verifyAssumeRole: a token of service account %s/%s could not be had: %s "
			   "(keyless needs create on serviceaccounts/token: the chart grants it with verifyAssumeRole)",
			   x->ns, x->spec->service_account, err.message);
		conditions_set(&x->conds, COND_ROLE, "False", "AssumeRoleUnverified", msg, x->generation, x->now);
		x->transient = rc != -ENOENT && rc != -EPERM && rc != -EACCES;
		return false;
	}
	op_err_clear(&err);
	rc = r->aws->sts_assume_role_with_web_identity(x->acct->awsc,
						       &(struct sts_assume_role_input){
							       .role_arn = x->role_arn,
							       .role_session_name = "keyless-verify",
							       .web_identity_token = token,
							       .duration_seconds = 900,
						       },
						       &out, &err);
	if (rc < 0 && (streq(err.reason, "AccessDenied") || streq(err.reason, "InvalidIdentityToken"))) {
		refused(x, token, &err);
	} else if (rc < 0) {
		rctx_aws_failed(x, COND_ROLE, "sts:AssumeRoleWithWebIdentity", rc, &err);
	} else {
		strfmt_add(&(struct strfmt)STRFMT_INIT(msg + strlen(msg), sizeof(msg) - strlen(msg)),
			   "; verified: a token of the service account assumed it");
		conditions_set(&x->conds, COND_ROLE, "True", "Verified", msg, x->generation, x->now);
	}
	explicit_bzero(token, strlen(token));
	free(token);
	return rc >= 0;
}
