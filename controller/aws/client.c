#include "aws/client.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "aws/config.h"
#include "aws/error.h"
#include "base/buf.h"
#include "base/ratelimit.h"
#include "base/str.h"

struct svc_state {
	struct aws_endpoint ep;
	bool have_ep;
	struct op_err ep_err; /* why there is no endpoint */
	struct aws_retry_quota quota;
};

struct op_counters {
	atomic_uint_fast64_t calls, attempts, errors, throttled;
};

struct aws_client {
	const struct aws_env *env;
	char *region;
	char *profile;
	struct aws_shared_config *cfg;
	struct svc_state svc[AWS_SERVICE__COUNT];
	struct aws_curl_transport *curl; /* owned when the default transport */
	struct aws_transport transport;
	const struct clock *clock;
	void (*sleep)(void *ctx, int64_t ns);
	void *sleep_ctx;
	struct aws_retry_policy retry;
	/* the IAM send rate: under iam_lock; waiters wait on iam_cond (real
	 * clock) or through c->sleep (an injected one) */
	pthread_mutex_t iam_lock;
	pthread_cond_t iam_cond;
	struct aws_rate iam_rate;
	bool iam_rate_on;
	bool iam_cond_wait;
	struct aws_creds_cache *creds; /* NULL when anonymous */
	const struct write_fence *fence; /* NULL = writes always allowed */
	aws_call_observer_fn observer;
	void *observer_ctx;
	enum aws_creds_source creds_kind;
	char creds_desc[640];

	struct op_counters op[AWS_OP__COUNT];
	atomic_uint_fast64_t reads, writes, retries, quota_exhausted, rate_limited;
	atomic_int_fast64_t rate_limited_ns, backoff_ns;
};

static __thread struct aws_call_tally *thread_tally;

struct aws_call_tally *aws_call_tally_attach(struct aws_call_tally *t)
{
	struct aws_call_tally *old = thread_tally;

	thread_tally = t;
	return old;
}

static void real_sleep(void *ctx, int64_t ns)
{
	(void)ctx;
	sleep_ns(ns);
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	aws_creds_cache_free(c->creds);
	for (int i = 0; i < AWS_SERVICE__COUNT; i++)
		aws_retry_quota_release_all(&c->svc[i].quota);
	if (c->iam_rate_on) {
		pthread_cond_destroy(&c->iam_cond);
		pthread_mutex_destroy(&c->iam_lock);
	}
	aws_curl_transport_free(c->curl);
	aws_shared_config_free(c->cfg);
	free(c->region);
	free(c->profile);
	free(c);
}

int aws_client_new(const struct aws_client_opts *opts, struct aws_client **ret, struct op_err *err)
{
	static const struct aws_client_opts none = { 0 };
	static const struct aws_retry_policy standard = AWS_RETRY_POLICY_STANDARD;
	_cleanup_(aws_client_freep) struct aws_client *c = NULL;
	struct aws_creds_provider *p = NULL;
	const char *region;
	int r;

	if (!opts)
		opts = &none;
	c = calloc(1, sizeof(*c));
	if (!c)
		return op_err_set(err, -ENOMEM, "out of memory");
	c->env = opts->env;
	c->clock = opts->clock;
	c->sleep = opts->sleep ? opts->sleep : real_sleep;
	c->sleep_ctx = opts->sleep_ctx;
	c->retry = opts->retry ? *opts->retry : standard;
	if (c->retry.max_attempts < 1)
		c->retry.max_attempts = 1;
	for (int i = 0; i < AWS_SERVICE__COUNT; i++)
		aws_retry_quota_init(&c->svc[i].quota, c->retry.quota_initial);

	c->profile = strdup(opts->profile ? opts->profile : aws_profile_name(c->env));
	if (!c->profile)
		return op_err_set(err, -ENOMEM, "out of memory");
	r = aws_shared_config_load(c->env, &c->cfg, err);
	if (r < 0)
		return r;
	region = opts->region ? opts->region : aws_region_resolve(c->env, c->cfg, c->profile);
	if (region) {
		c->region = strdup(region);
		if (!c->region)
			return op_err_set(err, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < AWS_SERVICE__COUNT; i++) {
		struct svc_state *s = &c->svc[i];

		op_err_clear(&s->ep_err);
		r = aws_endpoint_resolve((enum aws_service)i, c->region, c->env, &s->ep, &s->ep_err);
		if (r >= 0)
			s->have_ep = true;
		else if (i != AWS_SERVICE_EKS || c->region)
			/* a bad override or region is a configuration error; only a
			 * missing region for EKS waits until EKS is called */
			return op_err_set(err, r, "%s", s->ep_err.message);
	}

	if (opts->transport.send) {
		c->transport = opts->transport;
	} else {
		struct aws_curl_opts co = { .ca_file = aws_env_get(c->env, "AWS_CA_BUNDLE") };

		r = aws_curl_transport_new(&co, &c->curl);
		if (r < 0)
			return op_err_set(err, r, "cannot set up libcurl");
		c->transport = aws_curl_transport_get(c->curl);
	}

	if (opts->iam_rate >= 0) {
		struct aws_rate_opts ro = {
			.mode = opts->iam_rate_mode,
			.max = opts->iam_rate,
			.initial = opts->iam_rate_initial,
			.burst = opts->iam_burst,
		};

		aws_rate_init(&c->iam_rate, &ro, clock_mono_ns(c->clock));
		pthread_mutex_init(&c->iam_lock, NULL);
		if (cond_init_monotonic(&c->iam_cond) != 0) {
			pthread_mutex_destroy(&c->iam_lock);
			return op_err_set(err, -ENOMEM, "cannot set up a condition variable");
		}
		c->iam_rate_on = true;
		/* waits on the real clock can be cut short when the rate rises;
		 * an injected clock or sleep (tests) sleeps instead */
		c->iam_cond_wait = !opts->clock && !opts->sleep;
	}

	if (opts->anonymous) {
		c->creds_kind = AWS_CREDS_NONE;
		str_copy(c->creds_desc, sizeof(c->creds_desc), "none (anonymous: unsigned calls only)");
	} else {
		if (opts->credentials)
			r = aws_creds_provider_static(opts->credentials, AWS_CREDS_STATIC, "given by the program",
						      &p);
		else
			r = aws_creds_chain_select(c->env, c->cfg, opts->profile, &p, err);
		if (r < 0)
			return r;
		if (opts->assume_role_arn) {
			struct aws_creds_provider *base = p;

			r = aws_creds_provider_assume_role(base, opts->assume_role_arn, NULL, opts->assume_role_external_id,
							   3600, "settings", &p);
			if (r < 0) {
				aws_creds_provider_free(base);
				return op_err_set(err, r, "out of memory");
			}
		}
		c->creds_kind = p->source;
		snprintf(c->creds_desc, sizeof(c->creds_desc), "%s: %s", aws_creds_source_name(p->source),
			 p->description);
		r = aws_creds_cache_new(p, c->clock, opts->refresh_margin_ns, &c->creds);
		if (r < 0) {
			aws_creds_provider_free(p);
			return op_err_set(err, r, "out of memory");
		}
	}
	*ret = TAKE_PTR(c);
	return 0;
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

const char *aws_client_credentials_source(const struct aws_client *c)
{
	return c->creds_desc;
}

enum aws_creds_source aws_client_credentials_kind(const struct aws_client *c)
{
	return c->creds_kind;
}

const struct aws_endpoint *aws_client_endpoint(const struct aws_client *c, enum aws_service svc)
{
	if (svc < 0 || svc >= AWS_SERVICE__COUNT || !c->svc[svc].have_ep)
		return NULL;
	return &c->svc[svc].ep;
}

int aws_client_credentials(struct aws_client *c, struct aws_credentials **ret, struct op_err *err)
{
	if (!c->creds)
		return op_err_set(err, -ENOKEY, "the client is anonymous (no credentials)");
	return aws_creds_cache_get(c->creds, c, ret, err);
}

int aws_client_retry_quota(struct aws_client *c, enum aws_service svc)
{
	return aws_retry_quota_available(&c->svc[svc].quota);
}

int aws_client_http(struct aws_client *c, const struct aws_http_request *req, struct aws_http_response *resp,
		    struct op_err *err)
{
	return c->transport.send(c->transport.ctx, req, resp, err);
}

int64_t aws_client_now_ns(const struct aws_client *c)
{
	return clock_real_ns(c->clock);
}

void aws_client_sleep(struct aws_client *c, int64_t ns)
{
	if (ns > 0)
		c->sleep(c->sleep_ctx, ns);
}

const struct aws_env *aws_client_env(const struct aws_client *c)
{
	return c->env;
}

void aws_stats_snapshot(const struct aws_client *c, struct aws_stats *ret)
{
	struct aws_client *m = (struct aws_client *)c;

	memset(ret, 0, sizeof(*ret));
	for (int i = 0; i < AWS_OP__COUNT; i++) {
		ret->op[i].calls = atomic_load(&m->op[i].calls);
		ret->op[i].attempts = atomic_load(&m->op[i].attempts);
		ret->op[i].errors = atomic_load(&m->op[i].errors);
		ret->op[i].throttled = atomic_load(&m->op[i].throttled);
	}
	ret->reads = atomic_load(&m->reads);
	ret->writes = atomic_load(&m->writes);
	ret->retries = atomic_load(&m->retries);
	ret->quota_exhausted = atomic_load(&m->quota_exhausted);
	ret->rate_limited = atomic_load(&m->rate_limited);
	ret->rate_limited_ns = atomic_load(&m->rate_limited_ns);
	ret->backoff_ns = atomic_load(&m->backoff_ns);
	if (m->iam_rate_on) {
		pthread_mutex_lock(&m->iam_lock);
		ret->iam_rate = aws_rate_current(&m->iam_rate);
		ret->iam_rate_measured = aws_rate_measured(&m->iam_rate);
		ret->iam_rate_cuts = m->iam_rate.throttles;
		pthread_mutex_unlock(&m->iam_lock);
	}
}

/* --- the pipeline --------------------------------------------------------- */

/* Take an IAM token, waiting without holding the lock (a condition wait
 * releases it): until the next token is due at the current rate, or sooner
 * when an answer raises the rate. Returns the ns waited. */
static int64_t iam_rate_take(struct aws_client *c)
{
	int64_t t0 = clock_mono_ns(c->clock), d;

	pthread_mutex_lock(&c->iam_lock);
	while ((d = aws_rate_acquire(&c->iam_rate, clock_mono_ns(c->clock))) > 0) {
		if (c->iam_cond_wait) {
			struct timespec deadline = mono_deadline(clock_mono_ns(NULL) + d);

			pthread_cond_timedwait(&c->iam_cond, &c->iam_lock, &deadline);
		} else {
			pthread_mutex_unlock(&c->iam_lock);
			c->sleep(c->sleep_ctx, d);
			pthread_mutex_lock(&c->iam_lock);
		}
	}
	pthread_mutex_unlock(&c->iam_lock);
	return clock_mono_ns(c->clock) - t0;
}

/* An IAM answer came: adapt the rate; wake the waiters if it rose. */
static void iam_rate_answer(struct aws_client *c, bool throttled)
{
	pthread_mutex_lock(&c->iam_lock);
	if (aws_rate_answer(&c->iam_rate, throttled, clock_mono_ns(c->clock)))
		pthread_cond_broadcast(&c->iam_cond);
	pthread_mutex_unlock(&c->iam_lock);
}

/* Sign and send one attempt. Returns the transport result; on a local
 * failure (signing, credentials) sets *local. */
static int attempt_once(struct aws_client *c, const struct aws_call *call, const char *url,
			const struct svc_state *s, enum aws_service svc, struct aws_http_response *resp,
			struct op_err *e, bool *local, unsigned *sent)
{
	_cleanup_(aws_credentials_unrefp) struct aws_credentials *own = NULL;
	const struct aws_credentials *creds = call->credentials;
	struct sigv4_header h[5];
	size_t n = 0;
	struct sigv4_signed sig = { 0 };
	struct aws_http_request req = {
		.method = call->method,
		.url = url,
		.body = call->body,
		.body_len = call->body ? call->body_len : 0,
	};
	int r;

	*local = false;
	if (call->content_type)
		h[n++] = (struct sigv4_header){ "Content-Type", call->content_type };
	if (!call->unsigned_request) {
		struct sigv4_credentials sc;

		if (!creds) {
			r = aws_client_credentials(c, &own, e);
			if (r < 0) {
				char msg[sizeof(e->message)];

				str_copy(msg, sizeof(msg), e->message);
				op_err_set(e, r, "credentials from %s: %s", c->creds_desc, msg);
				*local = true;
				return r;
			}
			creds = own;
		}
		sc = aws_credentials_sigv4(creds);
		req.headers = h;
		req.n_headers = n;
		r = aws_http_sign(&req, &sc, s->ep.signing_region, aws_service_name(svc), clock_real_ns(c->clock),
				  &sig);
		if (r < 0) {
			*local = true;
			return op_err_set(e, r, "cannot sign the request to %s", url);
		}
		h[n++] = (struct sigv4_header){ "X-Amz-Date", sig.amz_date };
		if (sc.session_token)
			h[n++] = (struct sigv4_header){ "X-Amz-Security-Token", sc.session_token };
		h[n++] = (struct sigv4_header){ "Authorization", sig.authorization };
	}
	req.headers = h;
	req.n_headers = n;
	aws_http_response_reset(resp);
	/* the stats count what reaches the wire */
	if ((*sent)++ == 0) {
		atomic_fetch_add(&c->op[call->op].calls, 1);
		atomic_fetch_add(aws_op_info(call->op)->write ? &c->writes : &c->reads, 1);
		if (thread_tally) {
			if (aws_op_info(call->op)->write)
				thread_tally->writes++;
			else
				thread_tally->reads++;
		}
	}
	atomic_fetch_add(&c->op[call->op].attempts, 1);
	if (*sent > 1)
		atomic_fetch_add(&c->retries, 1);
	r = c->transport.send(c->transport.ctx, &req, resp, e);
	sigv4_signed_release(&sig);
	return r;
}

void aws_client_set_write_fence(struct aws_client *c, const struct write_fence *fence)
{
	c->fence = fence;
}

void aws_client_set_observer(struct aws_client *c, aws_call_observer_fn fn, void *ctx)
{
	c->observer = fn;
	c->observer_ctx = ctx;
}

/* The metric label for a call's outcome (aws_call_observer_fn). */
static void outcome_code(int r, const struct aws_http_response *resp, const struct op_err *e, char *out, size_t size)
{
	size_t n = 0;

	if (r == 0 && resp->status >= 200 && resp->status < 300) {
		str_copy(out, size, "OK");
		return;
	}
	for (const char *p = e->reason; *p && n + 1 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.')
			out[n++] = *p;
	}
	out[n] = 0;
	if (n > 0)
		return;
	if (resp->status > 0)
		snprintf(out, size, "HTTP%d", (int)resp->status);
	else
		str_copy(out, size, "NetworkError");
}

static void observe_call(struct aws_client *c, const struct aws_call *call, int64_t t0, int r,
			 const struct aws_http_response *resp, const struct op_err *e)
{
	char code[64];

	if (!c->observer)
		return;
	outcome_code(r, resp, e, code, sizeof(code));
	c->observer(c->observer_ctx, call->op, code, clock_mono_ns(c->clock) - t0);
}

int aws_client_call(struct aws_client *c, const struct aws_call *call, struct aws_http_response *resp,
		    struct op_err *err)
{
	const struct aws_op_info *info = aws_op_info(call->op);
	enum aws_service svc = info->service;
	struct svc_state *s = &c->svc[svc];
	_cleanup_free_ char *url = NULL;
	struct op_err e;
	enum aws_retry_class cls = AWS_RETRY_NONE;
	unsigned attempt = 0, sent = 0;
	int acquired = 0, code;
	bool quota_out = false;
	int64_t t0 = clock_mono_ns(c->clock);
	int r = 0;

	if (call->op < 0 || call->op >= AWS_OP__COUNT)
		return op_err_set(err, -EINVAL, "unknown AWS operation %d", (int)call->op);
	if (!s->have_ep)
		return op_err_set(err, s->ep_err.code ? s->ep_err.code : -EINVAL, "%s: %s", info->name,
				  s->ep_err.message);
	if (!call->unsigned_request && !call->credentials && !c->creds)
		return op_err_set(err, -ENOKEY, "%s: the client has no credentials", info->name);
	if (asprintf(&url, "%s%s%s%s", s->ep.url, call->path ? call->path : "/", call->query && *call->query ? "?" : "",
		     call->query && *call->query ? call->query : "") < 0) {
		url = NULL;
		return op_err_set(err, -ENOMEM, "out of memory");
	}
	for (;;) {
		bool local = false;

		attempt++;
		if (svc == AWS_SERVICE_IAM && c->iam_rate_on) {
			int64_t d = iam_rate_take(c);

			if (d > 0) {
				atomic_fetch_add(&c->rate_limited, 1);
				atomic_fetch_add(&c->rate_limited_ns, d);
			}
		}
		op_err_clear(&e);
		if (info->write && write_fence_left(c->fence) == 0) {
			/* checked before every attempt: a retry never writes past it */
			r = op_err_set(&e, -ENOLCK, "not sent: this replica may no longer be the leader");
			break;
		}
		r = attempt_once(c, call, url, s, svc, resp, &e, &local, &sent);
		if (local)
			break;
		if (r == 0 && resp->status >= 200 && resp->status < 300) {
			if (svc == AWS_SERVICE_IAM && c->iam_rate_on)
				iam_rate_answer(c, false);
			aws_retry_quota_refund(&s->quota, acquired ? acquired : c->retry.success_increment);
			observe_call(c, call, t0, r, resp, &e);
			return 0;
		}
		if (r < 0) {
			cls = aws_retry_classify(r, NULL, 0);
		} else {
			aws_error_parse(resp, &e);
			cls = aws_retry_classify(0, e.reason, resp->status);
			if (cls == AWS_RETRY_THROTTLED)
				atomic_fetch_add(&c->op[call->op].throttled, 1);
			/* an answer adapts the IAM rate (a connection failure
			 * says nothing of IAM's capacity) */
			if (svc == AWS_SERVICE_IAM && c->iam_rate_on)
				iam_rate_answer(c, cls == AWS_RETRY_THROTTLED);
		}
		if (cls == AWS_RETRY_NONE || attempt >= c->retry.max_attempts)
			break;
		{
			int cost = cls == AWS_RETRY_TIMEOUT ? c->retry.timeout_cost : c->retry.retry_cost;

			if (!aws_retry_quota_acquire(&s->quota, cost)) {
				atomic_fetch_add(&c->quota_exhausted, 1);
				quota_out = true;
				break;
			}
			acquired = cost;
		}
		{
			int64_t d = aws_retry_backoff_ns(&c->retry, attempt);

			atomic_fetch_add(&c->backoff_ns, d);
			c->sleep(c->sleep_ctx, d);
		}
	}

	/* final error (counted when the call reached AWS) */
	if (sent) {
		atomic_fetch_add(&c->op[call->op].errors, 1);
		observe_call(c, call, t0, r, resp, &e);
	}
	if (r < 0)
		code = r;
	else
		code = aws_error_errno(e.reason, resp->status);
	if (err) {
		char msg[sizeof(e.message)];
		struct strfmt f = STRFMT_INIT(msg, sizeof(msg));

		strfmt_add(&f, "%s: %s", info->name, e.message[0] ? e.message : strerror(-code));
		if (attempt > 1 || quota_out)
			strfmt_add(&f, " (%u attempts%s)", attempt, quota_out ? ", retry quota exhausted" : "");
		*err = e;
		err->code = code;
		str_copy(err->message, sizeof(err->message), msg);
	}
	return code;
}
