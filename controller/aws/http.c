#include "aws/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "base/str.h"

#ifndef KEYLESS_VERSION
#define KEYLESS_VERSION "0.0.0"
#endif

void aws_http_response_init(struct aws_http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->body = (struct buf)BUF_INIT(AWS_HTTP_BODY_CAP);
}

void aws_http_response_reset(struct aws_http_response *r)
{
	r->status = 0;
	r->request_id[0] = r->error_type[0] = r->content_type[0] = '\0';
	buf_reset(&r->body);
}

void aws_http_response_release(struct aws_http_response *r)
{
	buf_release(&r->body);
}

bool aws_http_error_transient(int r)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ECONNRESET || r == -EHOSTUNREACH || r == -EPIPE;
}

/* --- signing -------------------------------------------------------------- */

int aws_http_sign(const struct aws_http_request *req, const struct sigv4_credentials *creds, const char *region,
		  const char *service, int64_t time_ns, struct sigv4_signed *ret)
{
	_cleanup_free_ struct sigv4_header *h = NULL;
	_cleanup_free_ struct aws_url *u = malloc(sizeof(*u));
	struct sigv4_request sr;
	struct sigv4_params p = {
		.creds = creds,
		.region = region,
		.service = service,
		.time_ns = time_ns,
		.flags = SIGV4_NORMALIZE_PATH,
	};
	int r;

	if (!u)
		return -ENOMEM;
	r = aws_url_parse(req->url, u);
	if (r < 0)
		return r;
	h = calloc(req->n_headers + 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h[0] = (struct sigv4_header){ "Host", u->host_header };
	for (size_t i = 0; i < req->n_headers; i++) {
		/* sent as they are: no line breaks, not even a fold the signer takes */
		if (req->headers[i].value && strpbrk(req->headers[i].value, "\r\n"))
			return -EINVAL;
		h[i + 1] = req->headers[i];
	}
	sr = (struct sigv4_request){
		.method = req->method,
		.path = u->path,
		.query = u->query[0] ? u->query : NULL,
		.headers = h,
		.n_headers = req->n_headers + 1,
		.body = req->body,
		.body_len = req->body ? req->body_len : 0,
	};
	return sigv4_sign(&sr, &p, ret);
}

/* --- libcurl transport ---------------------------------------------------- */

struct aws_curl_transport {
	pthread_mutex_t lock;
	CURL **idle;
	size_t n_idle, max_idle;
	char *ca_file;
	char *user_agent;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int aws_curl_transport_new(const struct aws_curl_opts *opts, struct aws_curl_transport **ret)
{
	struct aws_curl_transport *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_once(&curl_once, curl_init_once);
	pthread_mutex_init(&t->lock, NULL);
	t->max_idle = opts && opts->max_idle ? opts->max_idle : 4;
	t->idle = calloc(t->max_idle, sizeof(*t->idle));
	t->ca_file = opts && opts->ca_file ? strdup(opts->ca_file) : NULL;
	t->user_agent = strdup(opts && opts->user_agent ? opts->user_agent : "keyless/" KEYLESS_VERSION);
	if (!t->idle || !t->user_agent || (opts && opts->ca_file && !t->ca_file)) {
		aws_curl_transport_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void aws_curl_transport_free(struct aws_curl_transport *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_idle; i++)
		curl_easy_cleanup(t->idle[i]);
	free(t->idle);
	free(t->ca_file);
	free(t->user_agent);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static CURL *take_handle(struct aws_curl_transport *t)
{
	CURL *h = NULL;

	pthread_mutex_lock(&t->lock);
	if (t->n_idle)
		h = t->idle[--t->n_idle];
	pthread_mutex_unlock(&t->lock);
	if (h)
		curl_easy_reset(h);
	else
		h = curl_easy_init();
	return h;
}

static void give_handle(struct aws_curl_transport *t, CURL *h, bool reusable)
{
	if (reusable) {
		pthread_mutex_lock(&t->lock);
		if (t->n_idle < t->max_idle) {
			t->idle[t->n_idle++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&t->lock);
	}
	if (h)
		curl_easy_cleanup(h);
}

struct xfer {
	struct aws_http_response *resp;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;

	if (buf_append(&x->resp->body, p, size * n) < 0) {
		x->too_big = true;
		return 0;
	}
	return size * n;
}

static void header_value(const char *line, size_t len, size_t name_len, char *dst, size_t dsize)
{
	const char *v = line + name_len;
	size_t vl;

	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	vl = (size_t)(line + len - v);
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl >= dsize)
		vl = dsize - 1;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	/* a new status line (after 100 Continue, say) resets what we kept */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->resp->request_id[0] = x->resp->error_type[0] = x->resp->content_type[0] = '\0';
	} else if (len > 17 && strncasecmp(p, "x-amzn-RequestId:", 17) == 0) {
		header_value(p, len, 17, x->resp->request_id, sizeof(x->resp->request_id));
	} else if (len > 17 && strncasecmp(p, "x-amz-request-id:", 17) == 0 && !x->resp->request_id[0]) {
		header_value(p, len, 17, x->resp->request_id, sizeof(x->resp->request_id));
	} else if (len > 17 && strncasecmp(p, "x-amzn-ErrorType:", 17) == 0) {
		header_value(p, len, 17, x->resp->error_type, sizeof(x->resp->error_type));
	} else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		header_value(p, len, 13, x->resp->content_type, sizeof(x->resp->content_type));
	}
	return len;
}

static int map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -ECONNRESET;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	default:
		return -EPROTO;
	}
}

/* Header lines carry secrets (Authorization, X-Amz-Security-Token, the
 * container-credentials token): wipe our copies before freeing them. */
static void line_freep(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
	}
}

static void headers_free(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static int curl_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
		     struct op_err *err)
{
	struct aws_curl_transport *t = ctx;
	struct curl_slist *hdrs = NULL;
	struct xfer x = { .resp = resp };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode c = CURLE_OK;
	int r = 0;

	h = take_handle(t);
	if (!h)
		return op_err_set(err, -ENOMEM, "curl_easy_init failed");
	for (size_t i = 0; i < req->n_headers; i++) {
		_cleanup_(line_freep) char *line = NULL;
		struct curl_slist *n;

		if (asprintf(&line, "%s: %s", req->headers[i].name, req->headers[i].value) < 0) {
			line = NULL;
			r = -ENOMEM;
			goto out;
		}
		n = curl_slist_append(hdrs, line);
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = n;
	}
	/* no "Expect: 100-continue" round trip, no default Accept */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs) {
		r = -ENOMEM;
		goto out;
	}

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, t->user_agent);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (t->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
	if (streq(req->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (streq(req->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		} else if (streq(req->method, "HEAD")) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		}
	}

	c = curl_easy_perform(h);
	if (c == CURLE_WRITE_ERROR && x.too_big) {
		r = op_err_set(err, -E2BIG, "response body from %s exceeds %zu bytes", req->url,
			       (size_t)AWS_HTTP_BODY_CAP);
	} else if (c != CURLE_OK) {
		r = op_err_set(err, map_curl(c), "%s %s: %s%s%s", req->method, req->url, curl_easy_strerror(c),
			       errbuf[0] ? ": " : "", errbuf);
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		if (resp->body.len == 0 && buf_puts(&resp->body, "") < 0)
			r = -ENOMEM;
	}
out:
	headers_free(hdrs);
	give_handle(t, h, r == 0 || c == CURLE_OK);
	return r;
}

struct aws_transport aws_curl_transport_get(struct aws_curl_transport *t)
{
	return (struct aws_transport){ .send = curl_send, .ctx = t };
}
