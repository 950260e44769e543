/* http.h: one HTTP exchange with AWS (the transport), and request signing.
 *
 * A transport is a function pointer + context so tests can answer requests
 * from memory (captured responses) and the real one uses libcurl. A transport
 * performs exactly one exchange: no retries, no signing, no redirects.
 *
 * Transport errors (no HTTP response) are -errno:
 *   -ECONNREFUSED  could not connect          -ETIMEDOUT  timed out
 *   -ECONNRESET    connection dropped (send/recv error, empty reply, partial body)
 *   -EHOSTUNREACH  name resolution failed     -E2BIG      body over the cap
 *   -EPROTO        TLS verification or other protocol failure
 * aws_http_error_transient() says which of these the retry logic retries.
 */
#ifndef KEYLESS_AWS_HTTP_H
#define KEYLESS_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/err.h"

#define AWS_HTTP_BODY_CAP ((size_t)4 << 20)

struct aws_http_request {
	const char *method;
	const char *url;                    /* absolute, wire-encoded */
	const struct sigv4_header *headers; /* sent as is; borrowed */
	size_t n_headers;
	const char *body; /* NULL = none */
	size_t body_len;
	long timeout_ms;         /* whole exchange; 0 = 30 s */
	long connect_timeout_ms; /* 0 = 10 s */
};

struct aws_http_response {
	long status;
	struct buf body;          /* capped at AWS_HTTP_BODY_CAP */
	char request_id[64];      /* x-amzn-RequestId or x-amz-request-id */
	char error_type[160];     /* x-amzn-ErrorType, "" if absent */
	char content_type[128];
};

void aws_http_response_init(struct aws_http_response *r);
/* Forget status and headers, empty the body (for a retry). */
void aws_http_response_reset(struct aws_http_response *r);
void aws_http_response_release(struct aws_http_response *r);

struct aws_transport {
	/* Perform req; fill resp (initialized by the caller) with any HTTP
	 * answer (any status) and return 0, or return a transport -errno with a
	 * message in err. */
	int (*send)(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
		    struct op_err *err);
	void *ctx;
};

/* True for transport errors worth retrying (all but -E2BIG, -EPROTO, -EINVAL, -ENOMEM). */
bool aws_http_error_transient(int r);

/* --- the libcurl transport --------------------------------------------------
 * Thread-safe: a small pool of easy handles (connection reuse), each used by
 * one thread at a time. */
struct aws_curl_transport;

struct aws_curl_opts {
	const char *ca_file;  /* extra CA bundle (AWS_CA_BUNDLE), or NULL */
	size_t max_idle;      /* pooled handles kept; 0 = 4 */
	const char *user_agent; /* NULL = "keyless/<version>" */
};

int aws_curl_transport_new(const struct aws_curl_opts *opts, struct aws_curl_transport **ret);
void aws_curl_transport_free(struct aws_curl_transport *t);
struct aws_transport aws_curl_transport_get(struct aws_curl_transport *t);

/* --- signing ---------------------------------------------------------------
 * Sign req as the SDKs do for IAM/STS/EKS: the headers signed are Host
 * (from the URL, without the scheme's default port), req's headers, and
 * the ones SigV4 adds; the path is normalized. The caller sends
 * X-Amz-Date, X-Amz-Security-Token (if any) and Authorization from *ret.
 * -EINVAL for a header value with CR or LF (these go on the wire as given). */
int aws_http_sign(const struct aws_http_request *req, const struct sigv4_credentials *creds, const char *region,
		  const char *service, int64_t time_ns, struct sigv4_signed *ret);

#endif
