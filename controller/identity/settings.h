/* settings.h: the operator's settings (a YAML file, rendered by the Helm
 * chart), parsed and validated (pure apart from reading the file).
 *
 * Invalid settings stop the controller at start with a message that names
 * the key ("settings /etc/keyless/settings.yaml: guardrails.deniedActions[2]:
 * 'iam' is not an action pattern (service:Action)").
 *
 *   clusterName: prod                  # required
 *   region: us-east-1                  # default: AWS_REGION / AWS_DEFAULT_REGION
 *   accountId: "123456789012"          # default: sts:GetCallerIdentity
 *   oidcIssuer: https://...            # default: eks:DescribeCluster(clusterName)
 *   manageOidcProvider: true
 *   roleNamePrefix: ""                 # role name: identity/naming.h (<prefix><cluster>+<ns>+<name>@hash)
 *   rolePath: /keyless/
 *   permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary
 *   permissionsBoundaryWaived: false   # true: allow no boundary (not recommended)
 *   defaultMaxSessionDuration: 3600
 *   defaultRestart: RolloutRestart     # RolloutRestart | DeletePods | None
 *   resyncPeriod: 10m
 *   extraTags: {owner: platform}      # always win over a WorkloadIdentity's spec.tags
 *   oidcIssuerCA: /etc/keyless/issuer-ca.pem  # verifies the issuer before its thumbprint is pinned
 *   guardrailEnforcement: revoke       # revoke | keep: what happens to the role of an identity the
 *                                      # guardrails reject after it was granted (see README)
 *   iamRateLimit:                      # keyless' IAM calls per second (retries included)
 *     mode: adaptive                   # adaptive: up while IAM accepts, cut on throttling; fixed
 *     maxPerSecond: 50                 # adaptive: the ceiling (default none); fixed: the rate (required)
 *     initialPerSecond: 10             # adaptive: where it starts (default 10, at most maxPerSecond)
 *   driftDetection: roles              # roles | bulk: how each resyncPeriod's sweep reads the roles
 *                                      # (reconcile/sweep.h; bulk needs an account-wide IAM read)
 *   defaultMode: IRSA                  # IRSA | PodIdentity | Auto: for identities without spec.mode
 *   roleScope: Cluster                 # Cluster | Account: Account shares one role per namespace/name
 *                                      # among the account's clusters (identity/naming.h)
 *   trustPolicySizeQuota: 2048         # the account's AssumeRolePolicySizeQuota (2048..8192);
 *                                      # default: read from iam:GetAccountSummary, else 2048
 *   verifyAssumeRole: false            # RoleReady only once a token of the service account assumes
 *                                      # the role (reconcile/verify.c; needs RBAC for serviceaccounts/token)
 *   accounts:                          # other accounts keyless may make IRSA roles in (spec.accountId)
 *     - accountId: "210987654321"
 *       roleArn: arn:aws:iam::210987654321:role/keyless   # assumed with sts:AssumeRole
 *       externalId: ...                # optional, passed to AssumeRole
 *       permissionsBoundaryArn: ...    # default: the boundary's ARN with this account id
 *       namespaces: [team-*]           # namespace patterns that may use it; empty: any
 *   guardrails:
 *     allowedActions: []               # empty: anything not denied
 *     deniedActions: ["iam:*", "sts:*", "organizations:*", "*"]
 *     resourceWildcardActions: [...]   # actions allowed with Resource "*"
 *     managedPolicyArns: []            # allowlist (exact ARNs or * patterns)
 *     includeNamespaces: []            # empty: all
 *     excludeNamespaces: [kube-system]
 *     allowControllerNamespace: false  # keyless' own namespace is excluded unless true
 *     allowedTagKeys: []               # spec.tags keys tenants may set (patterns); empty: none
 *     allowedAudiences: [sts.amazonaws.com]  # spec.audience values (added to the OIDC provider)
 *     resourceAccounts: []             # accounts a Resource ARN may name; empty: any
 *     allowDisableSessionTags: false   # spec.disableSessionTags (identity/mode.h)
 */
#ifndef KEYLESS_IDENTITY_SETTINGS_H
#define KEYLESS_IDENTITY_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "identity/spec.h"

struct str_array {
	char **items; /* n strings, NULL-terminated; never NULL after parsing */
	size_t n;
};

struct guardrails {
	struct str_array allowed_actions;
	struct str_array denied_actions;
	struct str_array resource_wildcard_actions;
	struct str_array managed_policy_arns;
	struct str_array include_namespaces;
	struct str_array exclude_namespaces;
	bool allow_controller_namespace;
	struct str_array allowed_tag_keys;   /* patterns; empty: tenants may set no tags */
	struct str_array allowed_audiences;  /* exact; default sts.amazonaws.com */
	struct str_array resource_accounts;  /* 12-digit ids or "aws"; empty: any account */
	bool allow_disable_session_tags;     /* spec.disableSessionTags may be true */
};

/* What happens to the role of an identity that the guardrails (or the spec's
 * validation) reject after keyless granted it: REVOKE removes its inline and
 * managed policies (the trust stays, so allowing it again is instant); KEEP
 * leaves the role as it was and only reports. */
enum guardrail_enforcement { ENFORCE_REVOKE, ENFORCE_KEEP };

/* IAM's send rate (aws/rate.h). max_per_second: the adaptive ceiling (0 =
 * none) or the fixed rate; initial_per_second: adaptive only (0 = 10). */
enum iam_rate_mode { IAM_RATE_ADAPTIVE, IAM_RATE_FIXED };

/* Who shares a role (identity/naming.h). */
enum role_scope { ROLE_SCOPE_CLUSTER, ROLE_SCOPE_ACCOUNT };

/* The periodic drift sweep (reconcile/sweep.h). */
enum drift_detection { DRIFT_ROLES, DRIFT_BULK };

/* Another account keyless manages roles in (identity/accounts.h). */
struct account_setting {
	char *account_id;
	char *role_arn;
	char *external_id;          /* NULL: none */
	char *boundary_arn;         /* NULL: derived from permissionsBoundaryArn (or none if waived) */
	struct str_array namespaces; /* patterns; empty: any namespace the guardrails admit */
};

struct iam_rate_limit {
	enum iam_rate_mode mode;
	double max_per_second;
	double initial_per_second;
};

struct settings {
	char *cluster_name;
	char *region;             /* NULL: from the environment */
	char *account_id;         /* NULL: GetCallerIdentity */
	char *oidc_issuer;        /* NULL: DescribeCluster; always https://... when set */
	bool manage_oidc_provider;
	char *role_name_prefix;   /* "" if unset */
	char *role_path;          /* "/keyless/" default */
	char *permissions_boundary_arn; /* NULL only if waived */
	bool permissions_boundary_waived;
	int default_max_session_duration;
	enum wi_restart default_restart;
	int64_t resync_ns;
	struct wi_tag *extra_tags;
	size_t n_extra_tags;
	char *oidc_issuer_ca;     /* PEM file; NULL: the system's trust store */
	enum guardrail_enforcement enforcement;
	struct iam_rate_limit iam_rate;
	enum drift_detection drift_detection;
	enum wi_mode default_mode;  /* IRSA unless set */
	enum role_scope role_scope;
	int trust_policy_size_quota; /* 0: ask IAM (GetAccountSummary) */
	struct account_setting *accounts;
	size_t n_accounts;
	bool verify_assume_role;
	struct guardrails guardrails;
};

/* Parse settings from a JSON value (the YAML document); `source` names the
 * file in messages. Defaults are applied for absent (or null) keys; an
 * explicit empty list is kept empty (deniedActions: [] denies nothing).
 * Unknown keys are errors with a did-you-mean. Errors: -EINVAL, reason
 * "InvalidSettings", message "settings <source>: <key path>: <problem>".
 * Limits: clusterName 1..100 ([A-Za-z0-9_-], as EKS); roleNamePrefix <= 32;
 * resyncPeriod 10s..24h; extraTags <= 5 (5 ownership + 40 WorkloadIdentity
 * tags + 5 = IAM's 50 per role); 256 entries per guardrail list; audiences
 * 1..255 characters of [A-Za-z0-9_.:/=+@-] (they are recorded in IAM tags);
 * iamRateLimit rates 0.5..1000 calls/s. */
int settings_parse(json_t *doc, const char *source, struct settings **ret, struct op_err *err);
/* Read and parse a YAML file (errors name the path). */
int settings_load(const char *path, struct settings **ret, struct op_err *err);
void settings_free(struct settings *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct settings *, settings_free)

#endif
