/* client.h: the Kubernetes REST client.
 *
 * One struct kube_client per API server, shared by all threads. Each thread
 * gets its own CURL easy handle (created on first use, kept alive, HTTP/2 when
 * the server offers it), so connections are reused without locking.
 * Authentication (kube/auth.h) is applied per request; a 401 invalidates the
 * cached credential and the request is retried once. 429 (and 5xx answers with
 * Retry-After) are retried honouring Retry-After, up to 3 times, but never
 * past a request's deadline (kube_request.deadline_ns): a request with a
 * deadline returns the 429 at once rather than sleep beyond it, and each
 * attempt's timeout is cut to the time left (the lease uses this so that a
 * renewal cannot outlast the renew deadline).
 * With a write fence (base/fence.h), every request but GET is refused with
 * -ENOLCK once the fence is closed, checked before each attempt.
 * Client-side rate limiting (a token bucket) is off by default, as in recent
 * controller-runtime, which relies on the server's API Priority and Fairness;
 * --kube-api-qps/--kube-api-burst turn it on.
 *
 * Errors: non-2xx answers become -errno + op_err via kube/status.h
 * (NotFound -ENOENT, Conflict -ESTALE, Gone -EIDRM, ...); transport errors
 * are -ECONNREFUSED, -ETIMEDOUT, -EIO with curl's message.
 */
#ifndef KEYLESS_KUBE_CLIENT_H
#define KEYLESS_KUBE_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fence.h"
#include "kube/config.h"

struct kube_client;

struct kube_client_opts {
	double qps;            /* <= 0: no client-side rate limit (default) */
	int burst;             /* bucket size when qps > 0 (default 10) */
	long timeout_ms;       /* per non-watch request; 0 = 30 s */
	const char *user_agent; /* default "keyless/<version>" */
	const struct clock *clock;
	/* Refuse writes (every method but GET) while closed; NULL = none.
	 * Borrowed: must outlive the client. */
	const struct write_fence *write_fence;
};

/* `cfg` is copied by reference: it must outlive the client. */
int kube_client_new(const struct kube_config *cfg, const struct kube_client_opts *opts, struct kube_client **ret,
		    struct op_err *err);
void kube_client_free(struct kube_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kube_client *, kube_client_free)

/* Called after every HTTP exchange (each attempt, retries included) with
 * the verb ("GET", "POST", ...; "WATCH" for a watch stream), the HTTP
 * status (0: no answer, a transport error) and how long it took (a stream:
 * until it ended: a watch is counted when it ends). Runs on the requesting thread; must be quick and
 * thread-safe (metrics). Set it before other threads use the client. */
typedef void (*kube_request_observer_fn)(void *ctx, const char *verb, int status, int64_t duration_ns);
void kube_client_set_observer(struct kube_client *c, kube_request_observer_fn fn, void *ctx);

/* The configuration the client was made from. */
const struct kube_config *kube_client_config(const struct kube_client *c);

/* Release the calling thread's HTTP handle (call before a thread exits). */
void kube_client_thread_done(struct kube_client *c);

/* One request. For a streaming request (on_data != NULL), 2xx body bytes go
 * to on_data as they arrive (return false to stop) and the call returns when
 * the server ends the stream, on a transport error, or when *cancel becomes
 * true (-ECANCELED, checked at least every second). Non-2xx bodies are always
 * collected and turned into an error. */
struct kube_request {
	const char *method;        /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;          /* absolute path with query: "/api/v1/pods?limit=1" */
	const char *content_type;  /* of body */
	const char *body;
	size_t body_len;
	bool (*on_data)(const char *data, size_t len, void *ctx);
	void *ctx;
	const atomic_bool *cancel; /* optional */
	long timeout_ms;           /* override; streaming requests default to none */
	int64_t deadline_ns;       /* monotonic (the client's clock); 0 = none. Nothing
				    * (attempt, retry sleep, credential wait) goes past it:
				    * -ETIMEDOUT, or the last error answer. */
	size_t max_body;           /* cap for collected bodies; 0 = 64 MiB */
	bool no_retry_429;         /* a 429 is an answer, not throttling (an eviction a
				    * PodDisruptionBudget blocks): returned at once */
};

struct kube_response {
	long status;
	struct buf body; /* collected body (non-streaming, or error bodies) */
};

int kube_do(struct kube_client *c, const struct kube_request *req, struct kube_response *resp, struct op_err *err);
void kube_response_release(struct kube_response *r);

/* --- paths ---------------------------------------------------------------- */

/* A resource type: core group is "" (served under /api/v1). */
struct kube_resource {
	const char *group;
	const char *version;
	const char *plural;
	const char *kind;
	bool namespaced;
};

extern const struct kube_resource KUBE_PODS, KUBE_SERVICEACCOUNTS, KUBE_NAMESPACES, KUBE_CONFIGMAPS,
	KUBE_EVENTS, KUBE_LEASES, KUBE_DEPLOYMENTS, KUBE_STATEFULSETS, KUBE_DAEMONSETS, KUBE_REPLICASETS,
	KUBE_NODES, KUBE_JOBS, KUBE_WORKLOADIDENTITIES;

/* Append the path of a collection (name NULL) or object, optionally a
 * subresource ("status"); ns NULL/"" for all namespaces or cluster-scoped.
 * Name and namespace are percent-escaped. */
int kube_path(struct buf *out, const struct kube_resource *r, const char *ns, const char *name, const char *sub);

/* Append "?k=v&k2=v2" (first call) or "&k=v" with escaping; NULL values skip. */
int kube_query_add(struct buf *path, const char *key, const char *value);

/* --- JSON conveniences (body in, parsed object out) ------------------------ */

/* GET path -> *ret (new reference). */
int kube_get(struct kube_client *c, const char *path, json_t **ret, struct op_err *err);

/* kube_get, kube_create, kube_update bounded by a deadline (monotonic ns on
 * the client's clock; see kube_request.deadline_ns). */
int kube_get_until(struct kube_client *c, const char *path, int64_t deadline_ns, json_t **ret, struct op_err *err);
int kube_create_until(struct kube_client *c, const char *collection_path, json_t *obj, int64_t deadline_ns,
		      json_t **ret, struct op_err *err);
int kube_update_until(struct kube_client *c, const char *path, json_t *obj, int64_t deadline_ns, json_t **ret,
		      struct op_err *err);

/* POST obj to a collection path. ret may be NULL. */
int kube_create(struct kube_client *c, const char *collection_path, json_t *obj, json_t **ret, struct op_err *err);

/* PUT obj to an object path (optimistic concurrency through
 * metadata.resourceVersion: a stale one fails with -ESTALE/Conflict). */
int kube_update(struct kube_client *c, const char *path, json_t *obj, json_t **ret, struct op_err *err);

enum kube_patch_type {
	KUBE_PATCH_MERGE,     /* application/merge-patch+json */
	KUBE_PATCH_JSON,      /* application/json-patch+json */
	KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
	KUBE_PATCH_APPLY,     /* server-side apply: application/apply-patch+yaml */
};

/* PATCH path. For KUBE_PATCH_APPLY, field_manager is required and force
 * takes ownership of conflicting fields. ret may be NULL. */
int kube_patch(struct kube_client *c, const char *path, enum kube_patch_type type, const char *patch,
	       const char *field_manager, bool force, json_t **ret, struct op_err *err);

/* Evict a pod: POST of a policy/v1 Eviction to pods/<name>/eviction, with
 * a uid precondition when uid is given, so PodDisruptionBudgets are
 * respected. 0 once the pod is being deleted; -EAGAIN (TooManyRequests, not
 * retried) when a disruption budget blocks it; -ENOENT if the pod is gone;
 * -ESTALE if the uid no longer matches. */
int kube_evict(struct kube_client *c, const char *ns, const char *name, const char *uid, struct op_err *err);

/* A token of a service account (TokenRequest) for one audience, valid
 * `seconds`; *ret malloc'd. Never log it. */
int kube_service_account_token(struct kube_client *c, const char *ns, const char *sa, const char *audience,
			       int seconds, char **ret, struct op_err *err);

/* DELETE with optional preconditions (uid, resourceVersion) and propagation
 * ("Foreground", "Background", "Orphan"; NULL = server default). */
struct kube_delete_opts {
	const char *uid;
	const char *resource_version;
	const char *propagation;
};
int kube_delete(struct kube_client *c, const char *path, const struct kube_delete_opts *opts, struct op_err *err);

/* LIST with pagination: calls each(item) for every item of every page (page
 * size `limit`, 0 = 500), following `continue`. *ret_rv (optional) gets the
 * list's resourceVersion (of the first page: the snapshot the pages belong to).
 * A `continue` token that expired (410) restarts is reported as -EIDRM.
 * *ret_pages (optional) counts the pages fetched. */
struct kube_list_opts {
	const char *label_selector;
	const char *field_selector;
	long limit;
	const char *resource_version; /* "" / NULL = most recent (quorum read) */
};
int kube_list(struct kube_client *c, const char *collection_path, const struct kube_list_opts *opts,
	      int (*each)(json_t *item, void *ctx), void *ctx, char **ret_rv, unsigned *ret_pages, struct op_err *err);

#endif
