/* world.h: a WorkloadIdentity reconciler wired to in-memory AWS and
 * Kubernetes (fakes.h), and the helpers the reconciler tests share. */
#ifndef KEYLESS_TEST_WORLD_H
#define KEYLESS_TEST_WORLD_H

#include <jansson.h>

#include "fakes.h"
#include "identity/settings.h"
#include "reconcile/workload.h"

#define WORLD_ISSUER "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
#define WORLD_ACCOUNT "123456789012"

#define WORLD_MAX_ACCOUNTS 2

struct world {
	struct fake_aws *aws;  /* shared by worlds made with world_new_sharing */
	struct fake_aws own_aws;
	/* the settings' other accounts (their IAM): other_aws[i] is accounts[i] */
	struct fake_aws other_aws[WORLD_MAX_ACCOUNTS];
	struct wi_account accounts[WORLD_MAX_ACCOUNTS];
	struct fake_kube kube;
	struct kube_ops ops;
	struct settings *settings;
	struct wi_reconciler r;
	struct clock clock;   /* wall clock frozen at now_ns (tests move it); monotonic real + mono_offset_ns */
	int64_t now_ns;       /* default WORLD_NOW */
	int64_t mono_offset_ns; /* tests move the monotonic clock forward (resync periods) */
	char buf[4096];
};

#define WORLD_NOW 1764547200000000000LL /* 2025-12-01T00:00:00Z */

/* settings: YAML (the operator settings file); issuer: the cluster's. */
struct world *world_new(const char *settings_yaml, const char *issuer);
/* Another cluster (its own Kubernetes) in the same AWS account as `other`. */
struct world *world_new_sharing(const char *settings_yaml, const char *issuer, struct world *other);
void world_free(struct world *w);
/* Replace the settings (the operator changed them; keyless restarted). */
void world_set_settings(struct world *w, const char *settings_yaml);

/* A WorkloadIdentity (generation 1, uid derived from uid_n) reading s3 logs;
 * extra_spec is spliced into spec ("" or ",\"tags\":{...}"). */
json_t *world_wi(const char *ns, const char *name, const char *sa, const char *created, int uid_n,
		 const char *extra_spec);
json_t *world_sa(const char *ns, const char *name);

/* Reconcile key after clearing the call logs; sets fake_aws_current. */
struct reconcile_result world_run(struct world *w, const char *key);
/* A reconcile of key that the periodic resync brought (a resync period
 * after the last verification of this object): it verifies AWS again. The
 * object's memo is forgotten, not the clock moved, so the provider's own
 * once-per-period check stays cached as in a run right after. */
struct reconcile_result world_resync(struct world *w, const char *key);
/* AWS calls since the last run, comma-separated. */
const char *world_calls(struct world *w);
/* A condition's field ("status", "reason", "message"), "" if absent. */
const char *world_cond(struct world *w, const char *ns, const char *name, const char *type, const char *field);
/* A status string field, NULL if absent. */
const char *world_status(struct world *w, const char *ns, const char *name, const char *field);
/* An annotation of a service account, NULL if absent. */
const char *world_sa_annotation(struct world *w, const char *ns, const char *name, const char *key);
/* The role name keyless gives ns/name under w's settings and issuer. */
const char *world_role_name(struct world *w, const char *ns, const char *name, char *out, size_t size);
/* Mark the object deleted (deletionTimestamp). */
void world_delete(struct world *w, const char *ns, const char *name);

#endif
