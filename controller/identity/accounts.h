/* accounts.h: which AWS account an identity's role lives in (pure).
 *
 * IRSA roles live in the cluster's account unless spec.accountId names
 * another one. keyless manages a role in another account only when the
 * operator listed that account in the settings (accounts: {accountId,
 * roleArn, externalId, permissionsBoundaryArn, namespaces}); keyless then
 * works there with the credentials of sts:AssumeRole on roleArn, registers
 * the cluster's OIDC issuer as a provider in that account, and gives each
 * role that account's boundary. The same guardrails apply to every account;
 * an entry's `namespaces` (patterns, empty: any) narrows which namespaces
 * may use it.
 *
 * Refusals (the identity is not Ready, nothing is written anywhere):
 *   AccountNotAllowed  spec.accountId is not the cluster's account and not
 *        in the settings' accounts, or the namespace does not match the
 *        entry's namespaces.
 * (spec.accountId with EKS Pod Identity is refused by mode.h: Pod Identity
 * roles live in the cluster's account, spec.targetRoleArn chains out.)
 */
#ifndef KEYLESS_IDENTITY_ACCOUNTS_H
#define KEYLESS_IDENTITY_ACCOUNTS_H

#include <stdbool.h>

#include "identity/settings.h"
#include "identity/spec.h"

struct account_choice {
	const struct account_setting *entry; /* NULL: the cluster's own account */
	const char *account_id;              /* the role's account (borrowed) */
	char boundary[2048];                 /* the boundary of roles there; "" for none */
	bool refused;
	char message[700];
};

/* home: the cluster's account id. */
void identity_account_choose(const struct settings *s, const char *home, const char *ns, const struct wi_spec *sp,
			     struct account_choice *out);

/* The settings' entry for an account id, NULL for none. */
const struct account_setting *identity_account_find(const struct settings *s, const char *id);

/* The boundary of roles in the entry's account: its permissionsBoundaryArn,
 * else the settings' with the account part replaced (an AWS-managed policy,
 * arn:...:iam::aws:policy/..., stays as is), else "" (waived). */
void identity_account_boundary(const struct settings *s, const struct account_setting *e, char *out, size_t size);

#endif
