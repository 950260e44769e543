#include "kube/project.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/macros.h"

static int64_t timestamp_s(const char *v)
{
	int64_t ns = 0;

	if (v && rfc3339_parse(v, &ns) == 0)
		return ns / NSEC_PER_SEC;
	return 0;
}

/* intern an optional string; *ok set false on allocation failure */
static const struct istr *opt_intern(struct kube_cache *c, const char *s, bool *ok)
{
	const struct istr *r;

	if (!s)
		return NULL;
	r = kube_cache_intern(c, s, (size_t)-1);
	if (!r)
		*ok = false;
	return r;
}

#define F(i) (SAX_KIND_BASE + (i))

/* --- pods -------------------------------------------------------------------- */

enum {
	P_SA,
	P_OWNER_CONTROLLER,
	P_OWNER_KIND,
	P_OWNER_NAME,
	P_ENV_NAME,
	P_ENV_VALUE,
	P_INIT_ENV_NAME,
	P_INIT_ENV_VALUE,
	P_DELETION,
	P_PHASE,
	P_CREATED,
	P_FARGATE,
	P_COMPUTE,
	P_RESTARTED_AT,
	P_OS,
	P_COUNT,
};

static const struct sax_field pod_fields[P_COUNT] = {
	[P_SA] = { { "spec", "serviceAccountName" } },
	[P_OWNER_CONTROLLER] = { { "metadata", "ownerReferences", "[]", "controller" } },
	[P_OWNER_KIND] = { { "metadata", "ownerReferences", "[]", "kind" } },
	[P_OWNER_NAME] = { { "metadata", "ownerReferences", "[]", "name" } },
	[P_ENV_NAME] = { { "spec", "containers", "[]", "env", "[]", "name" } },
	[P_ENV_VALUE] = { { "spec", "containers", "[]", "env", "[]", "value" } },
	[P_INIT_ENV_NAME] = { { "spec", "initContainers", "[]", "env", "[]", "name" } },
	[P_INIT_ENV_VALUE] = { { "spec", "initContainers", "[]", "env", "[]", "value" } },
	[P_DELETION] = { { "metadata", "deletionTimestamp" } },
	[P_PHASE] = { { "status", "phase" } },
	[P_CREATED] = { { "metadata", "creationTimestamp" } },
	[P_FARGATE] = { { "metadata", "labels", "eks.amazonaws.com/fargate-profile" } },
	[P_COMPUTE] = { { "spec", "nodeSelector", "eks.amazonaws.com/compute-type" } },
	[P_RESTARTED_AT] = { { "metadata", "annotations", "keyless.dev/restartedAt" } },
	[P_OS] = { { "spec", "nodeSelector", "kubernetes.io/os" } },
};

static enum pod_phase parse_phase(const char *p)
{
	if (!p)
		return POD_PENDING;
	if (streq(p, "Pending"))
		return POD_PENDING;
	if (streq(p, "Running"))
		return POD_RUNNING;
	if (streq(p, "Succeeded"))
		return POD_SUCCEEDED;
	if (streq(p, "Failed"))
		return POD_FAILED;
	return POD_UNKNOWN;
}

enum pod_owner pod_owner_parse(const char *kind)
{
	static const struct {
		const char *kind;
		enum pod_owner owner;
	} kinds[] = {
		{ "ReplicaSet", POD_OWNER_REPLICASET }, { "StatefulSet", POD_OWNER_STATEFULSET },
		{ "DaemonSet", POD_OWNER_DAEMONSET },   { "Job", POD_OWNER_JOB },
		{ "CronJob", POD_OWNER_CRONJOB },
	};

	if (!kind)
		return POD_OWNER_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (streq(kind, kinds[i].kind))
			return kinds[i].owner;
	}
	return POD_OWNER_OTHER;
}

/* seconds since the epoch in 32 bits, clamped (creation times are after
 * 1970 and before 2106) */
static uint32_t u32_seconds(int64_t s)
{
	return s < 0 ? 0 : s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static enum compute_type parse_compute(const char *v)
{
	if (!v)
		return COMPUTE_UNKNOWN;
	if (streq(v, "fargate"))
		return COMPUTE_FARGATE;
	if (streq(v, "hybrid"))
		return COMPUTE_HYBRID;
	if (streq(v, "auto"))
		return COMPUTE_AUTO;
	if (streq(v, "ec2"))
		return COMPUTE_EC2;
	return COMPUTE_UNKNOWN;
}

/* The value of the field `want` at the same array indices as v, or NULL. */
static const char *sibling(const struct sax_capture *cap, const struct sax_value *v, unsigned want)
{
	for (size_t i = 0; i < cap->n; i++) {
		const struct sax_value *w = &cap->v[i];

		if (w->field == want && w->idx[0] == v->idx[0] && w->idx[1] == v->idx[1])
			return sax_str(cap, w);
	}
	return NULL;
}

static int pod_project(struct kube_cache *c, const struct sax_capture *cap, struct kobj *p)
{
	struct pod_proj *pod = (struct pod_proj *)p;
	const char *sa = sax_get(cap, F(P_SA), NULL), *arn_ctr = NULL, *arn_init = NULL, *o_kind = NULL, *o_name = NULL;
	bool ok = true;

	for (size_t i = 0; i < cap->n; i++) {
		const struct sax_value *v = &cap->v[i];
		const char *s = sax_str(cap, v);

		if (v->field == F(P_OWNER_CONTROLLER) && streq(s, "true") && !o_kind) {
			o_kind = sibling(cap, v, F(P_OWNER_KIND));
			o_name = sibling(cap, v, F(P_OWNER_NAME));
		} else if (v->field == F(P_ENV_NAME) || v->field == F(P_INIT_ENV_NAME)) {
			unsigned vf = v->field == F(P_ENV_NAME) ? F(P_ENV_VALUE) : F(P_INIT_ENV_VALUE);

			if (streq(s, "AWS_ROLE_ARN")) {
				const char **slot = v->field == F(P_ENV_NAME) ? &arn_ctr : &arn_init;

				pod->flags |= POD_HAS_ROLE_ARN;
				if (!*slot)
					*slot = sibling(cap, v, vf); /* the first container's value */
			} else if (streq(s, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
				pod->flags |= POD_HAS_CONTAINER_CREDS;
			}
		}
	}
	if (sax_get(cap, F(P_DELETION), NULL))
		pod->flags |= POD_TERMINATING;
	if (sax_get(cap, F(P_OS), NULL) && streq(sax_get(cap, F(P_OS), NULL), "windows"))
		pod->flags |= POD_WINDOWS;
	pod->phase = (uint8_t)parse_phase(sax_get(cap, F(P_PHASE), NULL));
	pod->created = u32_seconds(timestamp_s(sax_get(cap, F(P_CREATED), NULL)));
	pod->compute = (uint8_t)(sax_get(cap, F(P_FARGATE), NULL) ? COMPUTE_FARGATE
								  : parse_compute(sax_get(cap, F(P_COMPUTE), NULL)));
	p->idx = opt_intern(c, sa && *sa ? sa : "default", &ok);
	pod->owner_kind = (uint8_t)pod_owner_parse(o_kind);
	pod->owner_name = opt_intern(c, o_name, &ok);
	pod->role_arn = opt_intern(c, arn_ctr ? arn_ctr : arn_init, &ok);
	pod->restarted_at = opt_intern(c, sax_get(cap, F(P_RESTARTED_AT), NULL), &ok);
	return ok ? 0 : -ENOMEM;
}

static void pod_release(struct kube_cache *c, struct kobj *p)
{
	struct pod_proj *pod = (struct pod_proj *)p;

	kube_cache_unintern(c, pod->owner_name);
	kube_cache_unintern(c, pod->role_arn);
	kube_cache_unintern(c, pod->restarted_at);
}

static bool pod_equal(const struct kobj *a, const struct kobj *b)
{
	const struct pod_proj *x = (const struct pod_proj *)a, *y = (const struct pod_proj *)b;

	return x->owner_kind == y->owner_kind && x->owner_name == y->owner_name && x->role_arn == y->role_arn &&
	       x->restarted_at == y->restarted_at && x->created == y->created && x->phase == y->phase && x->flags == y->flags && x->compute == y->compute;
}

const struct kube_kind KUBE_KIND_POD = {
	.name = "pods",
	.size = sizeof(struct pod_proj),
	.fields = pod_fields,
	.nfields = P_COUNT,
	.project = pod_project,
	.release = pod_release,
	.equal = pod_equal,
};

/* --- service accounts ----------------------------------------------------------- */

enum { S_ROLE_ARN, S_AUDIENCE, S_REGIONAL, S_CREATED, S_COUNT };

static const struct sax_field sa_fields[S_COUNT] = {
	[S_ROLE_ARN] = { { "metadata", "annotations", "eks.amazonaws.com/role-arn" } },
	[S_AUDIENCE] = { { "metadata", "annotations", "eks.amazonaws.com/audience" } },
	[S_REGIONAL] = { { "metadata", "annotations", "eks.amazonaws.com/sts-regional-endpoints" } },
	[S_CREATED] = { { "metadata", "creationTimestamp" } },
};

static size_t sa_tail_size(const struct sax_capture *cap)
{
	const char *arn = sax_get(cap, F(S_ROLE_ARN), NULL);

	return arn ? strlen(arn) + 1 : 0;
}

static int sa_project(struct kube_cache *c, const struct sax_capture *cap, struct kobj *p)
{
	struct sa_proj *sa = (struct sa_proj *)p;
	const char *arn = sax_get(cap, F(S_ROLE_ARN), NULL);
	bool ok = true;

	if (arn) {
		char *tail = kobj_tail(c, p);

		memcpy(tail, arn, strlen(arn) + 1);
		sa->role_arn = tail;
	}
	sa->audience = opt_intern(c, sax_get(cap, F(S_AUDIENCE), NULL), &ok);
	sa->regional = opt_intern(c, sax_get(cap, F(S_REGIONAL), NULL), &ok);
	sa->created = timestamp_s(sax_get(cap, F(S_CREATED), NULL));
	return ok ? 0 : -ENOMEM;
}

static void sa_release(struct kube_cache *c, struct kobj *p)
{
	struct sa_proj *sa = (struct sa_proj *)p;

	kube_cache_unintern(c, sa->audience);
	kube_cache_unintern(c, sa->regional);
}

static bool sa_equal(const struct kobj *a, const struct kobj *b)
{
	const struct sa_proj *x = (const struct sa_proj *)a, *y = (const struct sa_proj *)b;

	return (x->role_arn && y->role_arn ? streq(x->role_arn, y->role_arn) : x->role_arn == y->role_arn) &&
	       x->audience == y->audience && x->regional == y->regional && x->created == y->created;
}

const struct kube_kind KUBE_KIND_SERVICEACCOUNT = {
	.name = "serviceaccounts",
	.size = sizeof(struct sa_proj),
	.fields = sa_fields,
	.nfields = S_COUNT,
	.tail_size = sa_tail_size,
	.project = sa_project,
	.release = sa_release,
	.equal = sa_equal,
};

/* --- workload identities ------------------------------------------------------ */

enum { W_SA, W_AUDIENCE, W_GENERATION, W_CREATED, W_DELETION, W_FINALIZER, W_COND_TYPE, W_COND_STATUS, W_STALE,
       W_COUNT };

static const struct sax_field wi_fields[W_COUNT] = {
	[W_SA] = { { "spec", "serviceAccountName" } },
	[W_AUDIENCE] = { { "spec", "audience" } },
	[W_GENERATION] = { { "metadata", "generation" } },
	[W_CREATED] = { { "metadata", "creationTimestamp" } },
	[W_DELETION] = { { "metadata", "deletionTimestamp" } },
	[W_FINALIZER] = { { "metadata", "finalizers", "[]" } },
	[W_COND_TYPE] = { { "status", "conditions", "[]", "type" } },
	[W_COND_STATUS] = { { "status", "conditions", "[]", "status" } },
	[W_STALE] = { { "status", "stalePods" } },
};

static int wi_project(struct kube_cache *c, const struct sax_capture *cap, struct kobj *p)
{
	struct wi_proj *w = (struct wi_proj *)p;
	const char *sa = sax_get(cap, F(W_SA), NULL), *gen = sax_get(cap, F(W_GENERATION), NULL);
	bool ok = true;

	const char *stale = sax_get(cap, F(W_STALE), NULL);

	for (size_t i = 0; i < cap->n; i++) {
		if (cap->v[i].field == F(W_FINALIZER) && w->finalizers < UINT8_MAX)
			w->finalizers++;
		/* the Ready condition's status: pair type and status by array index */
		if (cap->v[i].field == F(W_COND_TYPE) && streq(sax_str(cap, &cap->v[i]), "Ready")) {
			for (size_t j = 0; j < cap->n; j++) {
				if (cap->v[j].field == F(W_COND_STATUS) && cap->v[j].idx[0] == cap->v[i].idx[0])
					w->ready = streq(sax_str(cap, &cap->v[j]), "True")	 ? WI_READY_TRUE :
						   streq(sax_str(cap, &cap->v[j]), "False") ? WI_READY_FALSE :
											      WI_READY_UNKNOWN;
			}
		}
	}
	w->stale_pods = stale ? (int32_t)strtol(stale, NULL, 10) : 0;
	w->generation = gen ? strtoll(gen, NULL, 10) : 0;
	w->created = timestamp_s(sax_get(cap, F(W_CREATED), NULL));
	w->deleting = sax_get(cap, F(W_DELETION), NULL) != NULL;
	w->audience = opt_intern(c, sax_get(cap, F(W_AUDIENCE), NULL), &ok);
	p->idx = opt_intern(c, sa && *sa ? sa : NULL, &ok);
	return ok ? 0 : -ENOMEM;
}

static void wi_release(struct kube_cache *c, struct kobj *p)
{
	kube_cache_unintern(c, ((struct wi_proj *)p)->audience);
}

/* The status fields (ready, stale_pods; for metrics) are no change: keyless'
 * own status writes must not wake another reconcile. They are refreshed in
 * the cached object (a, kept when equal) instead; the cache calls this under
 * its write lock. */
static bool wi_equal(const struct kobj *a, const struct kobj *b)
{
	struct wi_proj *x = (struct wi_proj *)(uintptr_t)a;
	const struct wi_proj *y = (const struct wi_proj *)b;
	bool eq = x->generation == y->generation && x->created == y->created && x->deleting == y->deleting &&
		  x->finalizers == y->finalizers && x->audience == y->audience;

	if (eq) {
		x->ready = y->ready;
		x->stale_pods = y->stale_pods;
	}
	return eq;
}

const struct kube_kind KUBE_KIND_WORKLOADIDENTITY = {
	.name = "workloadidentities",
	.size = sizeof(struct wi_proj),
	.fields = wi_fields,
	.nfields = W_COUNT,
	.project = wi_project,
	.release = wi_release,
	.equal = wi_equal,
};

/* --- generic ----------------------------------------------------------------------- */

static int generic_project(struct kube_cache *c, const struct sax_capture *cap, struct kobj *p)
{
	struct generic_proj *g = (struct generic_proj *)p;
	const char *rv = sax_get(cap, SAX_F_RESOURCE_VERSION, NULL);

	(void)c;
	g->resource_version = strdup(rv ? rv : "");
	return g->resource_version ? 0 : -ENOMEM;
}

static void generic_release(struct kube_cache *c, struct kobj *p)
{
	(void)c;
	free(((struct generic_proj *)p)->resource_version);
}

static bool generic_equal(const struct kobj *a, const struct kobj *b)
{
	return streq(((const struct generic_proj *)a)->resource_version, ((const struct generic_proj *)b)->resource_version);
}

const struct kube_kind KUBE_KIND_GENERIC = {
	.name = "objects",
	.size = sizeof(struct generic_proj),
	.fields = NULL,
	.nfields = 0,
	.project = generic_project,
	.release = generic_release,
	.equal = generic_equal,
};

const char *pod_phase_name(enum pod_phase p)
{
	static const char *const names[] = { "Pending", "Running", "Succeeded", "Failed", "Unknown" };

	return p <= POD_UNKNOWN ? names[p] : "Unknown";
}

const char *compute_type_name(enum compute_type t)
{
	static const char *const names[] = { "unknown", "ec2", "fargate", "hybrid", "auto" };

	return t <= COMPUTE_AUTO ? names[t] : "unknown";
}
