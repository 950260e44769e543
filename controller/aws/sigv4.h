/* sigv4.h: AWS Signature Version 4 for header-signed requests, on OpenSSL.
 *
 * Pure functions (no I/O, no clock: the time is a parameter), testable step by
 * step against the AWS test vectors: canonical request -> string to sign ->
 * signature -> Authorization header. Why not libcurl's CURLOPT_AWS_SIGV4: it
 * fails the vectors we need on libcurl 7.88.1 (see docs/aws.md, measured by
 * controller/itest/aws_curl_sigv4.c).
 *
 * Request model (what the SDKs do for every service but S3):
 *   - `path` and `query` are what goes on the wire (already percent-encoded
 *     once, as the caller builds URLs with sigv4_uri_encode());
 *   - canonical URI = uri-encode(normalize(path)) with '/' kept: so the wire
 *     path is encoded a second time ("double encoding"); normalize (with
 *     SIGV4_NORMALIZE_PATH) removes "." and ".." segments and empty segments,
 *     keeping a trailing slash, as botocore's remove_dot_segments;
 *   - canonical query: each key and value percent-decoded then re-encoded with
 *     the unreserved set (A-Z a-z 0-9 - _ . ~), pairs sorted by key then value;
 *   - canonical headers: the headers passed in (they must include Host), names
 *     lower-cased, values trimmed with inner whitespace runs collapsed to one
 *     space, repeated names joined with ',' in order, sorted by name; plus the
 *     headers the signer adds: x-amz-date, x-amz-security-token (with a session
 *     token, unless SIGV4_OMIT_SESSION_TOKEN) and x-amz-content-sha256 (with
 *     SIGV4_CONTENT_SHA256_HEADER). Every header passed in is signed: pass only
 *     those the server must see unchanged (not User-Agent, not Expect); a
 *     passed X-Amz-Date or Authorization is left out (the signer's own
 *     replace it, as botocore does). A value folded over several lines
 *     (obs-fold: CRLF or LF followed by a space or tab) is signed with each
 *     fold as whitespace; any other CR or LF is refused.
 */
#ifndef KEYLESS_AWS_SIGV4_H
#define KEYLESS_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;                 /* "GET", "POST", ... */
	const char *path;                   /* wire path, "" or NULL = "/" */
	const char *query;                  /* wire query without '?', or NULL */
	const struct sigv4_header *headers; /* borrowed; must include Host */
	size_t n_headers;
	const void *body; /* NULL = empty */
	size_t body_len;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key; /* never logged */
	const char *session_token;     /* NULL or "" for long-term keys */
};

enum sigv4_flags {
	SIGV4_NORMALIZE_PATH = 1 << 0,        /* remove dot and empty segments */
	SIGV4_CONTENT_SHA256_HEADER = 1 << 1, /* add and sign x-amz-content-sha256 */
	SIGV4_OMIT_SESSION_TOKEN = 1 << 2,    /* add x-amz-security-token unsigned */
};

struct sigv4_params {
	const struct sigv4_credentials *creds;
	const char *region;  /* signing region, e.g. "us-east-1" */
	const char *service; /* signing name, e.g. "iam", "sts", "eks" */
	int64_t time_ns;     /* request time, ns since the epoch (UTC) */
	unsigned flags;      /* enum sigv4_flags */
};

/* The result of signing. Every string is owned by the struct; release it
 * with sigv4_signed_release(). The headers to add to the HTTP request are
 * amz_date (X-Amz-Date), authorization (Authorization), the session token
 * (X-Amz-Security-Token, from the credentials) and, with the flag,
 * content_sha256 (x-amz-content-sha256). Never log `authorization`. */
struct sigv4_signed {
	char amz_date[17];       /* "20150830T123600Z" */
	char content_sha256[65]; /* hex SHA-256 of the body */
	char signature[65];      /* hex */
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;    /* "host;x-amz-date" */
	char *authorization;     /* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
};

/* Sign. Returns 0, -EINVAL (missing Host, method, credentials, region or
 * service; a header name with CR/LF, a value with a CR/LF that is not a
 * fold), -ENOMEM. *ret is written only on success. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p, struct sigv4_signed *ret);

void sigv4_signed_release(struct sigv4_signed *s);

/* The steps, exposed for the vector tests. */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p, struct buf *ret_cr,
			    struct buf *ret_signed_headers);
/* string to sign for a canonical request (credential scope from p). */
int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_params *p, struct buf *ret);
/* hex signature of a string to sign (signing key derived from p). */
int sigv4_signature(const char *string_to_sign, const struct sigv4_params *p, char ret_hex[65]);

/* Append s[0..len) percent-encoded with the unreserved set (A-Z a-z 0-9 - _ . ~),
 * uppercase hex; with keep_slash, '/' is kept as is. Returns 0 or buf errors. */
int sigv4_uri_encode(struct buf *out, const char *s, size_t len, bool keep_slash);

/* Append s[0..len) percent-decoded ("%zz" kept literally; '+' kept). */
int sigv4_uri_decode(struct buf *out, const char *s, size_t len);

/* Lower-case hex SHA-256 of data. */
void sigv4_sha256_hex(const void *data, size_t len, char ret_hex[65]);

/* "YYYYMMDDTHHMMSSZ" for ns since the epoch. */
void sigv4_amz_date(int64_t time_ns, char ret[17]);

#endif
