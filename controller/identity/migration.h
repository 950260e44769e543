/* migration.h: moving an identity between IRSA and EKS Pod Identity without
 * an outage (pure).
 *
 * The role (and its ARN) stays the same; only the way pods reach it changes.
 * From way A to way B, in four phases, each a condition Migrating=True with
 * the phase in its message:
 *   1 AddTrust   the role trusts both ways; B's binding is made (the pod
 *                identity association, or the service-account annotation);
 *   2 Switch     A's binding goes, so new pods get B's credentials;
 *   3 Restart    the workloads are restarted; wait until no running pod of
 *                the identity still uses A (AWS_ROLE_ARN for IRSA, the
 *                container-credentials variables for Pod Identity);
 *   4 DropTrust  A's trust statement goes; then B is in effect (status.mode).
 * Every pod holds working credentials throughout: the trust policy names
 * both ways for as long as any binding or pod uses A.
 *
 * The phase is computed from what is observed each time (the role's trust
 * policy, the binding, the pods), never from a remembered phase, so a crash
 * anywhere resumes where it stopped, and changing spec.mode back in the
 * middle runs the same phases in the other direction. A new identity, or
 * one whose other way is unused, is simply in phase Steady.
 */
#ifndef KEYLESS_IDENTITY_MIGRATION_H
#define KEYLESS_IDENTITY_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "identity/spec.h"

enum mig_phase { MIG_STEADY, MIG_ADD_TRUST, MIG_SWITCH, MIG_RESTART, MIG_DROP_TRUST };

struct mig_facts {
	enum wi_mode from;  /* status.mode: the way in effect (WI_MODE_DEFAULT: none recorded yet) */
	enum wi_mode to;    /* the way chosen now (identity/mode.h): IRSA or POD_IDENTITY */
	int trust;          /* enum trust_kind mask of the role's trust policy (0: no role yet) */
	bool association;   /* keyless' pod identity association exists */
	bool annotation;    /* the service account carries keyless' role-arn annotation */
	size_t irsa_pods;   /* running pods of the identity with AWS_ROLE_ARN */
	size_t pi_pods;     /* running pods of the identity with the container-credentials variables */
};

struct mig_plan {
	enum mig_phase phase;
	bool trust_irsa;          /* statements the trust policy must hold */
	bool trust_pod_identity;
	bool association;         /* bindings that must exist (the others must not) */
	bool annotation;
	bool restart;             /* restart the workloads whose pods still use the old way */
	enum wi_mode in_effect;   /* status.mode to record */
	char message[256];        /* the Migrating condition's message (phase n of 4), "" when Steady */
};

void migration_plan(const struct mig_facts *f, struct mig_plan *ret);

/* "Steady", "AddTrust", "Switch", "Restart", "DropTrust". */
const char *mig_phase_name(enum mig_phase p);

#endif
