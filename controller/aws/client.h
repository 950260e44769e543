/* client.h: the AWS client: configuration, credentials, endpoints, and the
 * call pipeline (rate limit, sign, send, parse errors, retry).
 *
 * One client serves every thread (keyless makes one at start-up). The typed
 * calls are in iam.h, sts.h and eks.h; they all go through aws_client_call().
 *
 *     struct aws_client *c;
 *     struct op_err e;
 *     if (aws_client_new(NULL, &c, &e) < 0) ... log e ...
 *     log_info("AWS credentials from %s", aws_client_credentials_source(c));
 *
 * Defaults: region from AWS_REGION / AWS_DEFAULT_REGION / the profile;
 * credentials from the chain in creds.h; the standard retry mode (retry.h);
 * IAM attempts (retries included) pass a client-side token bucket whose rate
 * adapts to IAM's answers (aws/rate.h: from 10 calls/s, up while IAM accepts,
 * cut on throttling; IAM throttles its control plane per account, shared with
 * every other tool in it) or is fixed. A caller waiting for a token holds no
 * lock and wakes as soon as one is there, sooner when the rate rises.
 */
#ifndef KEYLESS_AWS_CLIENT_H
#define KEYLESS_AWS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/creds.h"
#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/rate.h"
#include "aws/retry.h"
#include "aws/stats.h"
#include "base/clock.h"
#include "base/fence.h"
#include "base/err.h"

struct aws_client_opts {
	/* Environment; NULL = the process environment. Must outlive the client. */
	const struct aws_env *env;
	const char *region;  /* NULL = AWS_REGION, AWS_DEFAULT_REGION, the profile's */
	const char *profile; /* NULL = AWS_PROFILE or "default" */
	/* Credentials: explicit ones (skip the chain; a reference is taken), or
	 * anonymous (only unsigned calls work), or the chain. */
	struct aws_credentials *credentials;
	bool anonymous;
	/* HTTP; .send NULL = libcurl (with AWS_CA_BUNDLE as extra CA file). */
	struct aws_transport transport;
	/* Time and sleeping; NULL = real clock, nanosleep. */
	const struct clock *clock;
	void (*sleep)(void *ctx, int64_t ns);
	void *sleep_ctx;
	/* Retry policy; NULL = AWS_RETRY_POLICY_STANDARD. */
	const struct aws_retry_policy *retry;
	/* IAM send rate (aws/rate.h): adaptive (the default) or fixed. iam_rate
	 * is the adaptive ceiling (0 = none) or the fixed rate (0 = 10/s);
	 * < 0 = no limit at all. iam_rate_initial: where adaptive starts (0 =
	 * 10/s); iam_burst: the fixed bucket's size (0 = 1 token). */
	enum aws_rate_mode iam_rate_mode;
	double iam_rate;
	double iam_rate_initial;
	double iam_burst;
	/* Credential refresh margin before expiry; 0 = 5 min. */
	int64_t refresh_margin_ns;
	/* Set: the client's credentials are those of sts:AssumeRole on this
	 * role (session "keyless-<unix seconds>", 1 h, refreshed before
	 * expiry), signed with the credentials chosen above (another account's
	 * role: settings accounts). external_id: NULL for none. */
	const char *assume_role_arn;
	const char *assume_role_external_id;
};

struct aws_client;

/* Build a client: load the shared files, resolve region, endpoints and the
 * credential source (no network I/O). Returns 0, or -errno with err naming
 * the problem (bad override URL, half-configured credentials, ...). */
int aws_client_new(const struct aws_client_opts *opts, struct aws_client **ret, struct op_err *err);
void aws_client_free(struct aws_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct aws_client *, aws_client_free)

/* The region in use, or NULL. */
const char *aws_client_region(const struct aws_client *c);

/* Where credentials come from, for the caller to log once, e.g.
 * "web-identity: role arn:aws:iam::1:role/x, token file /var/run/..., from
 * environment". Never contains secrets. */
const char *aws_client_credentials_source(const struct aws_client *c);
enum aws_creds_source aws_client_credentials_kind(const struct aws_client *c);

/* The resolved endpoint of a service (NULL for EKS without region). */
const struct aws_endpoint *aws_client_endpoint(const struct aws_client *c, enum aws_service svc);

/* Current credentials (fetched or refreshed as needed); one reference for
 * the caller. */
int aws_client_credentials(struct aws_client *c, struct aws_credentials **ret, struct op_err *err);

/* Remaining retry quota of a service (tests, metrics). */
int aws_client_retry_quota(struct aws_client *c, enum aws_service svc);

/* --- the call pipeline ------------------------------------------------------ */

struct aws_call {
	enum aws_op op;           /* names the service, the stats slot */
	const char *method;       /* "POST" */
	const char *path;         /* wire path, "/" for Query */
	const char *query;        /* wire query or NULL */
	const char *content_type; /* signed; NULL = none */
	const char *body;         /* NULL = empty */
	size_t body_len;
	bool unsigned_request;    /* send without Authorization (AssumeRoleWithWebIdentity) */
	/* Sign with these instead of the client's (AssumeRole from a source
	 * profile); borrowed. */
	const struct aws_credentials *credentials;
};

/* Perform call with retries. On 2xx returns 0 with the answer in resp
 * (initialized by the caller; release it after). Otherwise returns -errno
 * (error.h mapping; -EAGAIN when throttling outlasted the retries) with err
 * = {code, HTTP status, AWS code in reason, message, request id}. */
int aws_client_call(struct aws_client *c, const struct aws_call *call, struct aws_http_response *resp,
		    struct op_err *err);

/* Refuse write operations (aws_op_info()->write) with -ENOLCK whenever
 * `fence` is closed, checked before every attempt (base/fence.h). Set it
 * before other threads use the client; the fence must outlive it. */
void aws_client_set_write_fence(struct aws_client *c, const struct write_fence *fence);

/* Called once per call that reached AWS (aws_stats' "calls"), when it ends,
 * with its operation, outcome and duration (retries and backoff included):
 * code is "OK" on success, else the AWS error code ("NoSuchEntity",
 * "Throttling", ...; only [A-Za-z0-9.] kept), "HTTP<status>" when the answer
 * had none, or "NetworkError" when no answer came. Runs on the calling
 * thread; must be quick and thread-safe. Set it before other threads use the
 * client. */
typedef void (*aws_call_observer_fn)(void *ctx, enum aws_op op, const char *code, int64_t duration_ns);
void aws_client_set_observer(struct aws_client *c, aws_call_observer_fn fn, void *ctx);

/* --- for credential providers (creds_providers.c) --------------------------- */

/* One exchange through the client's transport: no signing, no retry. */
int aws_client_http(struct aws_client *c, const struct aws_http_request *req, struct aws_http_response *resp,
		    struct op_err *err);
int64_t aws_client_now_ns(const struct aws_client *c); /* wall clock */
void aws_client_sleep(struct aws_client *c, int64_t ns);
const struct aws_env *aws_client_env(const struct aws_client *c);

#endif
