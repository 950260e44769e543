/* conditions.h: status conditions with Kubernetes' conventions (pure; the
 * clock is passed in as an RFC 3339 string).
 *
 * A condition has type, status (True/False/Unknown), reason, message,
 * observedGeneration and lastTransitionTime; lastTransitionTime changes only
 * when the status flips (apimachinery meta.SetStatusCondition). The list is
 * kept in a fixed order of types so the status is stable and a reconcile that
 * changes nothing produces an identical status (and so no write).
 */
#ifndef KEYLESS_IDENTITY_CONDITIONS_H
#define KEYLESS_IDENTITY_CONDITIONS_H

#include <jansson.h>
#include <stdbool.h>

#define COND_READY "Ready"
#define COND_OIDC "OIDCProviderReady"
#define COND_ROLE "RoleReady"
#define COND_SA "ServiceAccountReady"
#define COND_WORKLOADS "WorkloadsReady"
/* Not summarized into Ready: a migration between IRSA and EKS Pod Identity
 * keeps every pod's credentials working (identity/migration.h). */
#define COND_MIGRATING "Migrating"
/* Not summarized either: which mode is chosen and why (identity/mode.h). */
#define COND_MODE "ModeSelected"
#define COND_MAX 8

struct condition {
	char type[32];
	char status[8]; /* "True", "False", "Unknown" */
	char reason[64];
	char message[1024];
	long long observed_generation;
	char last_transition[40];
};

struct conditions {
	struct condition items[COND_MAX];
	int n;
};

/* Load from a status.conditions array (unknown or malformed entries are kept
 * as far as they fit). */
void conditions_from_json(json_t *arr, struct conditions *c);

/* Set one condition; returns true if anything changed. */
bool conditions_set(struct conditions *c, const char *type, const char *status, const char *reason,
		    const char *message, long long generation, const char *now);

const struct condition *conditions_get(const struct conditions *c, const char *type);

/* Ready summarizes the four others: True only if all are True; otherwise
 * False with the reason and message of the first that is not (in the order
 * OIDCProviderReady, RoleReady, ServiceAccountReady, WorkloadsReady). */
bool conditions_summarize(struct conditions *c, long long generation, const char *now);

/* A new array in the fixed order (Ready, OIDCProviderReady, RoleReady,
 * ServiceAccountReady, WorkloadsReady, then any others). */
json_t *conditions_to_json(const struct conditions *c);

#endif
