/* fakes.h: in-memory AWS (IAM) and Kubernetes for the reconciler's unit
 * tests. They implement struct aws_api and struct kube_ops, keep the state a
 * test can inspect and tamper with (drift), and record every call. */
#ifndef KEYLESS_TEST_FAKES_H
#define KEYLESS_TEST_FAKES_H

#include <jansson.h>
#include <stdbool.h>

#include "aws/api.h"
#include "kube/cache.h"
#include "reconcile/kube_ops.h"

/* --- AWS --------------------------------------------------------------------- */

#define FAKE_MAX 32

struct fake_role {
	bool used;
	char name[128], arn[640], path[520], description[1024], boundary[256]; /* as long as IAM allows */
	char *trust;
	int max_session;
	struct aws_tag_list tags;
	char *inline_names[8];
	char *inline_docs[8];
	int n_inline;
	char *attached[8];
	int n_attached;
};

struct fake_association {
	bool used;
	char id[32], cluster[128], ns[128], sa[256], role_arn[640], target_role_arn[640];
	char *policy;
	bool disable_session_tags;
	struct aws_tag_list tags;
	int64_t created_ns;
};

struct fake_aws {
	struct fake_association assocs[8];
	int next_assoc;
	struct fake_role roles[FAKE_MAX];
	char provider_arn[512];
	char account[13];     /* "" : 123456789012 */
	char provider_url[512];
	char *client_ids[8];
	int n_client_ids;
	struct aws_tag_list provider_tags;
	bool have_provider;
	/* the call log: "GetRole", "CreateRole", ... */
	char calls[256][48];
	int n_calls;
	int writes, reads;
	/* make the next call named `fail_op` fail with fail_rc (AWS code fail_code) */
	char fail_op[48];
	int fail_rc;
	char fail_code[48];
	int fail_times; /* how many times (0 = not at all, -1 = always) */
};

extern const struct aws_api fake_aws_api;
extern struct fake_aws *fake_aws_current; /* the state the table works on */

void fake_aws_reset(struct fake_aws *f);
struct fake_role *fake_aws_role(struct fake_aws *f, const char *name);
/* Delete a role behind keyless' back (frees it; the slot is free again). */
void fake_aws_role_drop(struct fake_role *r);
/* Remove tags by key (no regard to case, as IAM). */
void fake_tags_remove(struct aws_tag_list *l, const char *const *keys, size_t n);
void fake_aws_clear_calls(struct fake_aws *f);
/* The association binding (ns, sa), or NULL. */
struct fake_association *fake_aws_association(struct fake_aws *f, const char *ns, const char *sa);
/* The calls made since the last clear, comma-separated. */
const char *fake_aws_call_list(struct fake_aws *f, char *buf, size_t size);

/* --- Kubernetes ---------------------------------------------------------------- */

struct fake_kube {
	json_t *objects; /* "resource/ns/name" -> object */
	/* caches fed on every write (what the informers would do) */
	struct kube_cache *pods, *sas, *wis;
	char calls[256][96];
	int n_calls;
	int writes;
	char events[128][160]; /* "Type Reason: message" */
	int n_events;
	int fail_writes_rc; /* != 0: every write fails with this */
	const struct kube_resource *fail_write_res; /* non-NULL: only writes of this type fail */
	/* the API server's clock (managedFields times); tests may set it apart
	 * from the controller's (clock skew) */
	int64_t now_ns;
	/* make GETs of one resource type fail with fail_get_rc (!= 0) */
	const struct kube_resource *fail_get_res;
	int fail_get_rc;
	/* evictions: every one fails with evict_rc (!= 0; -EAGAIN: a disruption
	 * budget blocks it), else the pod is deleted */
	int evict_rc;
	/* TokenRequest: tokens name this issuer; token_rc != 0 fails them */
	const char *token_issuer;
	int token_rc;
	int evictions; /* evictions that deleted a pod, since init */
	/* optional: every change a write made to a cache, as an informer would
	 * hand it to its handlers (after the cache lock is released) */
	void (*on_change)(void *ctx, const struct kube_resource *r, const struct kube_change *ch);
	void *on_change_ctx;
};

void fake_kube_init(struct fake_kube *k);
void fake_kube_release(struct fake_kube *k);
void fake_kube_put(struct fake_kube *k, const struct kube_resource *r, json_t *obj); /* steals obj */
json_t *fake_kube_obj(struct fake_kube *k, const struct kube_resource *r, const char *ns, const char *name);
void fake_kube_clear_calls(struct fake_kube *k);
/* How many calls since the last clear start with `prefix` ("evict pods/",
 * "patch deployments/web"). */
int fake_kube_count_calls(struct fake_kube *k, const char *prefix);
bool fake_kube_has_event(struct fake_kube *k, const char *reason);
struct kube_ops fake_kube_ops(struct fake_kube *k);
/* Set (value) or remove (NULL) an annotation as field manager `manager`
 * would with an update (kubectl annotate, a Helm upgrade): the field becomes
 * that manager's alone. Server-side applies by keyless (the ops' apply) keep
 * managedFields as the API server does for annotations and ownerReferences. */
void fake_kube_annotate(struct fake_kube *k, const struct kube_resource *r, const char *ns, const char *name,
			const char *key, const char *value, const char *manager);

#endif
