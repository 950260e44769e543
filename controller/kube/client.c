#include "kube/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"
#include "kube/auth.h"
#include "kube/status.h"

#ifndef KEYLESS_VERSION
#define KEYLESS_VERSION "0.0.0"
#endif

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_BODY_CAP ((size_t)64 << 20)
#define MAX_THROTTLE_RETRIES 3
#define MAX_RETRY_AFTER_NS (30 * NSEC_PER_SEC)

const struct kube_resource KUBE_PODS = { "", "v1", "pods", "Pod", true };
const struct kube_resource KUBE_SERVICEACCOUNTS = { "", "v1", "serviceaccounts", "ServiceAccount", true };
const struct kube_resource KUBE_NAMESPACES = { "", "v1", "namespaces", "Namespace", false };
const struct kube_resource KUBE_CONFIGMAPS = { "", "v1", "configmaps", "ConfigMap", true };
const struct kube_resource KUBE_NODES = { "", "v1", "nodes", "Node", false };
const struct kube_resource KUBE_EVENTS = { "events.k8s.io", "v1", "events", "Event", true };
const struct kube_resource KUBE_LEASES = { "coordination.k8s.io", "v1", "leases", "Lease", true };
const struct kube_resource KUBE_DEPLOYMENTS = { "apps", "v1", "deployments", "Deployment", true };
const struct kube_resource KUBE_STATEFULSETS = { "apps", "v1", "statefulsets", "StatefulSet", true };
const struct kube_resource KUBE_DAEMONSETS = { "apps", "v1", "daemonsets", "DaemonSet", true };
const struct kube_resource KUBE_REPLICASETS = { "apps", "v1", "replicasets", "ReplicaSet", true };
const struct kube_resource KUBE_JOBS = { "batch", "v1", "jobs", "Job", true };
const struct kube_resource KUBE_WORKLOADIDENTITIES = { "keyless.dev", "v1alpha1", "workloadidentities",
						       "WorkloadIdentity", true };

struct handle {
	CURL *curl;
	struct curl_slist *connect_to; /* must outlive the handle's requests */
	struct kube_client *client;
	struct handle *next;
};

struct kube_client {
	const struct kube_config *cfg;
	struct kube_auth *auth;
	const struct clock *clock;
	const struct write_fence *fence;
	struct token_bucket bucket;
	long timeout_ms;
	char *user_agent;
	char *base_url;   /* scheme://host:port[/prefix] used in request URLs */
	char *connect_to; /* for tls-server-name: "name:port:host:port" */
	pthread_key_t key;
	pthread_mutex_t lock;
	struct handle *handles;
	kube_request_observer_fn observer;
	void *observer_ctx;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void handle_destroy(void *p)
{
	struct handle *h = p, **pp;

	if (!h)
		return;
	pthread_mutex_lock(&h->client->lock);
	for (pp = &h->client->handles; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	pthread_mutex_unlock(&h->client->lock);
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->connect_to);
	free(h);
}

/* With tls-server-name, requests go to https://<name>:<port> and CONNECT_TO
 * maps that to the real host, so curl sends SNI and verifies the certificate
 * for <name> (libcurl has no separate SNI option). */
static int prepare_urls(struct kube_client *c, struct op_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	struct buf b = BUF_INIT(0);
	int r = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, c->cfg->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		r = op_err_set(err, -EINVAL, "%s: server '%s' is not a valid URL", c->cfg->source, c->cfg->server);
		goto out;
	}
	if (streq(path, "/"))
		path[0] = '\0';
	if (c->cfg->tls_server_name) {
		if (buf_printf(&b, "%s://%s:%s%s", scheme, c->cfg->tls_server_name, port, path) < 0) {
			r = -ENOMEM;
			goto out;
		}
		c->base_url = buf_detach(&b);
		if (buf_printf(&b, "%s:%s:%s:%s", c->cfg->tls_server_name, port, host, port) < 0) {
			r = -ENOMEM;
			goto out;
		}
		c->connect_to = buf_detach(&b);
	} else if (!(c->base_url = strdup(c->cfg->server))) {
		r = -ENOMEM;
	}
out:
	buf_release(&b);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

int kube_client_new(const struct kube_config *cfg, const struct kube_client_opts *opts, struct kube_client **ret,
		    struct op_err *err)
{
	static const struct kube_client_opts defaults = { 0 };
	struct kube_client *c;
	struct buf ua = BUF_INIT(0);
	int r;

	pthread_once(&curl_once, curl_init_once);
	if (!opts)
		opts = &defaults;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->clock = opts->clock;
	c->fence = opts->write_fence;
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	tb_init(&c->bucket, opts->qps, opts->burst > 0 ? opts->burst : 10, opts->clock);
	pthread_mutex_init(&c->lock, NULL);
	if (pthread_key_create(&c->key, handle_destroy) != 0) {
		pthread_mutex_destroy(&c->lock);
		tb_release(&c->bucket);
		free(c);
		return -EAGAIN;
	}
	if (opts->user_agent)
		r = buf_puts(&ua, opts->user_agent);
	else
		r = buf_printf(&ua, "keyless/%s", KEYLESS_VERSION);
	c->user_agent = r < 0 ? NULL : buf_detach(&ua);
	if (!c->user_agent) {
		kube_client_free(c);
		return -ENOMEM;
	}
	r = prepare_urls(c, err);
	if (r >= 0)
		r = kube_auth_new(cfg, opts->clock, &c->auth, err);
	if (r < 0) {
		kube_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	struct handle *h;

	if (!c)
		return;
	pthread_key_delete(c->key);
	while ((h = c->handles)) {
		c->handles = h->next;
		curl_easy_cleanup(h->curl);
		curl_slist_free_all(h->connect_to);
		free(h);
	}
	kube_auth_free(c->auth);
	tb_release(&c->bucket);
	pthread_mutex_destroy(&c->lock);
	free(c->user_agent);
	free(c->base_url);
	free(c->connect_to);
	free(c);
}

const struct kube_config *kube_client_config(const struct kube_client *c)
{
	return c->cfg;
}

void kube_client_thread_done(struct kube_client *c)
{
	struct handle *h = pthread_getspecific(c->key);

	if (h) {
		pthread_setspecific(c->key, NULL);
		handle_destroy(h);
	}
}

static CURL *thread_handle(struct kube_client *c, struct op_err *err)
{
	struct handle *h = pthread_getspecific(c->key);
	const struct kube_config *cfg = c->cfg;
	CURL *curl;

	if (h)
		return h->curl;
	curl = curl_easy_init();
	h = calloc(1, sizeof(*h));
	if (!curl || !h) {
		curl_easy_cleanup(curl);
		free(h);
		op_err_set(err, -ENOMEM, "cannot create an HTTP handle");
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	if (cfg->insecure_skip_tls_verify) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->ca_pem) {
		struct curl_blob blob = { .data = cfg->ca_pem, .len = cfg->ca_pem_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
	} else if (cfg->ca_file) {
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->ca_file);
	}
	if (cfg->client_cert_pem) {
		struct curl_blob cb = { .data = cfg->client_cert_pem, .len = cfg->client_cert_pem_len, .flags = CURL_BLOB_COPY };
		struct curl_blob kb = { .data = cfg->client_key_pem, .len = cfg->client_key_pem_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
		if (cfg->client_key_pem)
			curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &kb);
	} else if (cfg->client_cert_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cfg->client_cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, cfg->client_key_file);
	}
	if (cfg->client_key_file && cfg->client_cert_pem)
		curl_easy_setopt(curl, CURLOPT_SSLKEY, cfg->client_key_file);
	if (c->connect_to) {
		h->connect_to = curl_slist_append(NULL, c->connect_to);
		curl_easy_setopt(curl, CURLOPT_CONNECT_TO, h->connect_to);
	}
	h->curl = curl;
	h->client = c;
	pthread_mutex_lock(&c->lock);
	h->next = c->handles;
	c->handles = h;
	pthread_mutex_unlock(&c->lock);
	pthread_setspecific(c->key, h);
	return curl;
}

/* --- one HTTP exchange ---------------------------------------------------- */

struct xfer {
	const struct kube_request *req;
	struct kube_response *resp;
	CURL *curl;
	size_t cap;
	bool streaming_ok; /* status known to be 2xx */
	bool stopped;      /* on_data returned false */
	bool overflow;
	long retry_after_s;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	long status = 0;

	if (x->req->on_data) {
		if (!x->streaming_ok) {
			curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
			x->streaming_ok = status >= 200 && status < 300;
		}
		if (x->streaming_ok) {
			if (!x->req->on_data(ptr, n, x->req->ctx)) {
				x->stopped = true;
				return 0;
			}
			return n;
		}
	}
	if (buf_append(&x->resp->body, ptr, n) < 0) {
		x->overflow = true;
		return 0;
	}
	return n;
}

static size_t on_header(char *buffer, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;

	if (n > 12 && strncasecmp(buffer, "Retry-After:", 12) == 0) {
		char v[32];
		size_t len = n - 12 < sizeof(v) - 1 ? n - 12 : sizeof(v) - 1;
		long s;

		memcpy(v, buffer + 12, len);
		v[len] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		if (str_to_long(v + strspn(v, " \t"), 0, 3600, &s) == 0)
			x->retry_after_s = s;
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return x->req->cancel && atomic_load(x->req->cancel) ? 1 : 0;
}

static int curl_code_to_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_ABORTED_BY_CALLBACK: return -ECANCELED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE: return -EPROTO;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

/* The list holds the Authorization header: wipe libcurl's copies of our lines
 * before freeing them. */
static void headers_free(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static int perform(struct kube_client *c, CURL *curl, const struct kube_request *req, const struct kube_creds *creds,
		   int64_t left_ns, struct kube_response *resp, long *ret_retry_after_s, struct op_err *err)
{
	struct xfer x = { .req = req, .resp = resp, .curl = curl, .retry_after_s = -1 };
	struct curl_slist *hdrs = NULL;
	struct buf url = BUF_INIT(0), line = BUF_INIT(0);
	char errbuf[CURL_ERROR_SIZE] = "";
	long timeout = req->timeout_ms ? req->timeout_ms : (req->on_data ? 0 : c->timeout_ms);
	CURLcode cc;
	int r = 0;

	if (left_ns < INT64_MAX) {
		long left_ms = (long)((left_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);

		if (timeout == 0 || left_ms < timeout)
			timeout = left_ms;
	}
	x.cap = req->max_body ? req->max_body : DEFAULT_BODY_CAP;
	resp->body.cap = x.cap;
	buf_reset(&resp->body);
	resp->status = 0;

	if (buf_printf(&url, "%s%s", c->base_url, req->path) < 0)
		return -ENOMEM;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (req->content_type) {
		if (buf_printf(&line, "Content-Type: %s", req->content_type) < 0) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, line.data);
		buf_reset(&line);
	}
	if (creds->token) {
		if (buf_printf(&line, "Authorization: Bearer %s", creds->token) < 0) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, line.data);
		explicit_bzero(line.data, line.len);
	}
	if (creds->cert_pem && creds->key_pem) {
		struct curl_blob cb = { .data = creds->cert_pem, .len = strlen(creds->cert_pem), .flags = CURL_BLOB_COPY };
		struct curl_blob kb = { .data = creds->key_pem, .len = strlen(creds->key_pem), .flags = CURL_BLOB_COPY };

		curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &kb);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, req->cancel ? 0L : 1L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &x);
	if (streq(req->method, "GET")) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, streq(req->method, "POST") ? NULL : req->method);
		if (!req->body && streq(req->method, "DELETE")) {
			curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
		}
	}
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	/* Do not keep per-request pointers on the reused handle. */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	if (creds->cert_pem && c->cfg->client_cert_pem == NULL && c->cfg->client_cert_file == NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, NULL);
		curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, NULL);
	}
	*ret_retry_after_s = x.retry_after_s;
	if (x.stopped) {
		r = -ECANCELED;
		goto out;
	}
	if (x.overflow) {
		r = op_err_set(err, -E2BIG, "%s %s: response larger than %zu bytes", req->method, req->path, x.cap);
		goto out;
	}
	if (cc != CURLE_OK) {
		r = curl_code_to_errno(cc);
		if (r == -ECANCELED)
			op_err_set(err, r, "%s %s: cancelled", req->method, req->path);
		else
			op_err_set(err, r, "%s %s%s: %s", req->method, c->base_url, req->path,
				   errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
out:
	headers_free(hdrs);
	buf_release(&url);
	buf_release(&line);
	return r;
}

/* Time left for this request in *ret_left: its deadline and, for writes,
 * the fence (INT64_MAX = unbounded). -ENOLCK (fence closed) or -ETIMEDOUT
 * (deadline reached) when none is left. */
static int time_left(struct kube_client *c, const struct kube_request *req, int64_t *ret_left, struct op_err *err)
{
	int64_t left = INT64_MAX;

	if (!streq(req->method, "GET") && c->fence) {
		left = write_fence_left(c->fence);
		if (left <= 0)
			return op_err_set(err, -ENOLCK, "%s %s: not sent: this replica may no longer be the leader",
					  req->method, req->path);
	}
	if (req->deadline_ns) {
		int64_t d = req->deadline_ns - clock_mono_ns(c->clock);

		if (d <= 0)
			return op_err_set(err, -ETIMEDOUT, "%s %s: deadline reached", req->method, req->path);
		if (d < left)
			left = d;
	}
	*ret_left = left;
	return 0;
}

void kube_client_set_observer(struct kube_client *c, kube_request_observer_fn fn, void *ctx)
{
	c->observer = fn;
	c->observer_ctx = ctx;
}

int kube_do(struct kube_client *c, const struct kube_request *req, struct kube_response *resp, struct op_err *err)
{
	bool retried_auth = false;
	unsigned throttled = 0;
	CURL *curl = thread_handle(c, err);

	if (!curl)
		return -ENOMEM;
	for (;;) {
		struct kube_creds creds;
		long retry_after_s = -1, detail_retry = 0;
		int64_t left, wait;
		int r;

		r = time_left(c, req, &left, err);
		if (r < 0)
			return r;
		wait = tb_reserve(&c->bucket);
		if (wait >= left)
			return op_err_set(err, -ETIMEDOUT, "%s %s: the client's rate limit would wait past the deadline",
					  req->method, req->path);
		if (wait > 0) {
			sleep_ns(wait);
			r = time_left(c, req, &left, err);
			if (r < 0)
				return r;
		}
		r = kube_auth_get_until(c->auth, left < INT64_MAX ? clock_mono_ns(NULL) + left : 0, &creds, err);
		if (r < 0)
			return r;
		{
			int64_t t0 = clock_mono_ns(NULL);

			r = perform(c, curl, req, &creds, left, resp, &retry_after_s, err);
			if (c->observer)
				c->observer(c->observer_ctx,
					    req->on_data && strstr(req->path, "watch=") ? "WATCH" : req->method,
					    r < 0 && resp->status == 0 ? 0 : (int)resp->status, clock_mono_ns(NULL) - t0);
		}
		kube_creds_release(&creds);
		if (r < 0)
			return r;
		if (resp->status >= 200 && resp->status < 300)
			return 0;
		r = kube_status_to_err(resp->status, resp->body.data, resp->body.len, &detail_retry, err);
		if (resp->status == 401 && !retried_auth && kube_auth_invalidate(c->auth, creds.generation)) {
			retried_auth = true;
			continue;
		}
		if (retry_after_s < 0)
			retry_after_s = detail_retry;
		if (!req->on_data && !req->no_retry_429 && throttled < MAX_THROTTLE_RETRIES &&
		    (resp->status == 429 || (resp->status >= 500 && retry_after_s > 0))) {
			int64_t d = (retry_after_s > 0 ? retry_after_s : 1) * NSEC_PER_SEC;

			if (d > MAX_RETRY_AFTER_NS)
				d = MAX_RETRY_AFTER_NS;
			/* never sleep past the deadline (or the fence): answer now */
			if (time_left(c, req, &left, NULL) < 0 || d >= left)
				return r;
			throttled++;
			sleep_ns(d);
			continue;
		}
		return r;
	}
}

void kube_response_release(struct kube_response *r)
{
	buf_release(&r->body);
}

/* --- paths ------------------------------------------------------------------ */

static int add_escaped(struct buf *out, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	int r;

	if (!e)
		return -ENOMEM;
	r = buf_puts(out, e);
	curl_free(e);
	return r;
}

int kube_path(struct buf *out, const struct kube_resource *r, const char *ns, const char *name, const char *sub)
{
	int rc;

	if (r->group[0])
		rc = buf_printf(out, "/apis/%s/%s", r->group, r->version);
	else
		rc = buf_printf(out, "/api/%s", r->version);
	if (rc >= 0 && r->namespaced && ns && *ns) {
		rc = buf_puts(out, "/namespaces/");
		if (rc >= 0)
			rc = add_escaped(out, ns);
	}
	if (rc >= 0)
		rc = buf_printf(out, "/%s", r->plural);
	if (rc >= 0 && name) {
		rc = buf_puts(out, "/");
		if (rc >= 0)
			rc = add_escaped(out, name);
		if (rc >= 0 && sub)
			rc = buf_printf(out, "/%s", sub);
	}
	return rc;
}

int kube_query_add(struct buf *path, const char *key, const char *value)
{
	int r;

	if (!value)
		return 0;
	r = buf_puts(path, path->data && strchr(path->data, '?') ? "&" : "?");
	if (r >= 0)
		r = buf_puts(path, key);
	if (r >= 0)
		r = buf_puts(path, "=");
	if (r >= 0)
		r = add_escaped(path, value);
	return r;
}

/* --- JSON conveniences -------------------------------------------------------- */

static int parse_body(const struct kube_response *resp, json_t **ret, const char *what, struct op_err *err)
{
	json_error_t jerr;
	json_t *v;

	if (!ret)
		return 0;
	v = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
	if (!v)
		return op_err_set(err, -EPROTO, "%s: invalid JSON in response: %s", what, jerr.text);
	*ret = v;
	return 0;
}

static int send_json(struct kube_client *c, const char *method, const char *path, const char *ctype,
		     const char *body, int64_t deadline_ns, json_t **ret, struct op_err *err)
{
	struct kube_request req = { .method = method, .path = path, .content_type = ctype, .body = body,
				    .body_len = body ? strlen(body) : 0, .deadline_ns = deadline_ns };
	struct kube_response resp = { .body = BUF_INIT(0) };
	int r = kube_do(c, &req, &resp, err);

	if (r >= 0)
		r = parse_body(&resp, ret, path, err);
	kube_response_release(&resp);
	return r;
}

int kube_get(struct kube_client *c, const char *path, json_t **ret, struct op_err *err)
{
	return send_json(c, "GET", path, NULL, NULL, 0, ret, err);
}

int kube_get_until(struct kube_client *c, const char *path, int64_t deadline_ns, json_t **ret, struct op_err *err)
{
	return send_json(c, "GET", path, NULL, NULL, deadline_ns, ret, err);
}

static int send_obj(struct kube_client *c, const char *method, const char *path, json_t *obj, int64_t deadline_ns,
		    json_t **ret, struct op_err *err)
{
	_cleanup_free_ char *body = json_dumps(obj, JSON_COMPACT);

	if (!body)
		return -ENOMEM;
	return send_json(c, method, path, "application/json", body, deadline_ns, ret, err);
}

int kube_create(struct kube_client *c, const char *collection_path, json_t *obj, json_t **ret, struct op_err *err)
{
	return send_obj(c, "POST", collection_path, obj, 0, ret, err);
}

int kube_create_until(struct kube_client *c, const char *collection_path, json_t *obj, int64_t deadline_ns,
		      json_t **ret, struct op_err *err)
{
	return send_obj(c, "POST", collection_path, obj, deadline_ns, ret, err);
}

int kube_update(struct kube_client *c, const char *path, json_t *obj, json_t **ret, struct op_err *err)
{
	return send_obj(c, "PUT", path, obj, 0, ret, err);
}

int kube_update_until(struct kube_client *c, const char *path, json_t *obj, int64_t deadline_ns, json_t **ret,
		      struct op_err *err)
{
	return send_obj(c, "PUT", path, obj, deadline_ns, ret, err);
}

int kube_patch(struct kube_client *c, const char *path, enum kube_patch_type type, const char *patch,
	       const char *field_manager, bool force, json_t **ret, struct op_err *err)
{
	static const char *const ctypes[] = {
		[KUBE_PATCH_MERGE] = "application/merge-patch+json",
		[KUBE_PATCH_JSON] = "application/json-patch+json",
		[KUBE_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
		[KUBE_PATCH_APPLY] = "application/apply-patch+yaml",
	};
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	int r;

	if (type == KUBE_PATCH_APPLY && (!field_manager || !*field_manager))
		return op_err_set(err, -EINVAL, "server-side apply needs a field manager");
	r = buf_puts(&p, path);
	if (r >= 0 && field_manager)
		r = kube_query_add(&p, "fieldManager", field_manager);
	if (r >= 0 && type == KUBE_PATCH_APPLY && force)
		r = kube_query_add(&p, "force", "true");
	if (r < 0)
		return r;
	return send_json(c, "PATCH", p.data, ctypes[type], patch, 0, ret, err);
}

int kube_service_account_token(struct kube_client *c, const char *ns, const char *sa, const char *audience,
			       int seconds, char **ret, struct op_err *err)
{
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	json_auto_t *body = json_pack("{s:s, s:s, s:{s:[s], s:i}}", "apiVersion", "authentication.k8s.io/v1", "kind",
				      "TokenRequest", "spec", "audiences", audience, "expirationSeconds", seconds);
	json_auto_t *resp = NULL;
	const char *tok;
	int r;

	if (!body || kube_path(&p, &KUBE_SERVICEACCOUNTS, ns, sa, "token") < 0)
		return -ENOMEM;
	r = kube_create(c, p.data, body, &resp, err);
	if (r < 0)
		return r;
	tok = json_string_value(json_object_get(json_object_get(resp, "status"), "token"));
	if (!tok)
		return op_err_setr(err, -EPROTO, "TokenRequest", "the TokenRequest answer has no token");
	*ret = strdup(tok);
	return *ret ? 0 : -ENOMEM;
}

int kube_evict(struct kube_client *c, const char *ns, const char *name, const char *uid, struct op_err *err)
{
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	json_auto_t *body = NULL;
	_cleanup_free_ char *text = NULL;
	struct kube_request req = { .method = "POST", .content_type = "application/json", .no_retry_429 = true };
	struct kube_response resp = { .body = BUF_INIT(0) };
	int r;

	if (kube_path(&p, &KUBE_PODS, ns, name, "eviction") < 0)
		return -ENOMEM;
	body = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction", "metadata", "name",
			 name, "namespace", ns);
	if (!body)
		return -ENOMEM;
	if (uid)
		json_object_set_new(body, "deleteOptions", json_pack("{s:{s:s}}", "preconditions", "uid", uid));
	text = json_dumps(body, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	req.path = p.data;
	req.body = text;
	req.body_len = strlen(text);
	r = kube_do(c, &req, &resp, err);
	kube_response_release(&resp);
	return r;
}

int kube_delete(struct kube_client *c, const char *path, const struct kube_delete_opts *opts, struct op_err *err)
{
	json_auto_t *body = NULL;
	_cleanup_free_ char *text = NULL;

	if (opts && (opts->uid || opts->resource_version || opts->propagation)) {
		body = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
		if (!body)
			return -ENOMEM;
		if (opts->uid || opts->resource_version) {
			json_t *pre = json_object();

			if (opts->uid)
				json_object_set_new(pre, "uid", json_string(opts->uid));
			if (opts->resource_version)
				json_object_set_new(pre, "resourceVersion", json_string(opts->resource_version));
			json_object_set_new(body, "preconditions", pre);
		}
		if (opts->propagation)
			json_object_set_new(body, "propagationPolicy", json_string(opts->propagation));
		text = json_dumps(body, JSON_COMPACT);
		if (!text)
			return -ENOMEM;
	}
	return send_json(c, "DELETE", path, text ? "application/json" : NULL, text, 0, NULL, err);
}

int kube_list(struct kube_client *c, const char *collection_path, const struct kube_list_opts *opts,
	      int (*each)(json_t *item, void *ctx), void *ctx, char **ret_rv, unsigned *ret_pages, struct op_err *err)
{
	_cleanup_free_ char *cont = NULL, *rv = NULL;
	char limit[24];
	unsigned pages = 0;

	snprintf(limit, sizeof(limit), "%ld", opts && opts->limit > 0 ? opts->limit : 500);
	do {
		_cleanup_buf_ struct buf p = BUF_INIT(0);
		json_auto_t *list = NULL;
		json_t *items, *item, *meta;
		const char *next;
		size_t i;
		int r;

		r = buf_puts(&p, collection_path);
		if (r >= 0)
			r = kube_query_add(&p, "limit", limit);
		if (r >= 0 && opts)
			r = kube_query_add(&p, "labelSelector", opts->label_selector);
		if (r >= 0 && opts)
			r = kube_query_add(&p, "fieldSelector", opts->field_selector);
		if (r >= 0 && cont)
			r = kube_query_add(&p, "continue", cont);
		else if (r >= 0 && opts && opts->resource_version && *opts->resource_version)
			r = kube_query_add(&p, "resourceVersion", opts->resource_version);
		if (r < 0)
			return r;
		r = kube_get(c, p.data, &list, err);
		if (r < 0)
			return r;
		pages++;
		meta = json_object_get(list, "metadata");
		if (!rv) {
			const char *v = json_string_value(json_object_get(meta, "resourceVersion"));

			if (!(rv = strdup(v ? v : "")))
				return -ENOMEM;
		}
		items = json_object_get(list, "items");
		if (items && !json_is_array(items))
			return op_err_set(err, -EPROTO, "LIST %s: 'items' is not a list", collection_path);
		json_array_foreach(items, i, item) {
			r = each(item, ctx);
			if (r < 0)
				return r;
		}
		next = json_string_value(json_object_get(meta, "continue"));
		free(cont);
		cont = next && *next ? strdup(next) : NULL;
		if (next && *next && !cont)
			return -ENOMEM;
	} while (cont);
	if (ret_rv)
		*ret_rv = TAKE_PTR(rv);
	if (ret_pages)
		*ret_pages = pages;
	return 0;
}
