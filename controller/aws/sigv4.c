#include "aws/sigv4.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/macros.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.' || c == '~';
}

int sigv4_uri_encode(struct buf *out, const char *s, size_t len, bool keep_slash)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (unreserved(c) || (keep_slash && c == '/')) {
			r = buf_append(out, &s[i], 1);
		} else {
			char e[3] = { '%', hexu[c >> 4], hexu[c & 15] };

			r = buf_append(out, e, 3);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sigv4_uri_decode(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int r;

		if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		}
		r = buf_append(out, &c, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

void sigv4_sha256_hex(const void *data, size_t len, char ret_hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *)"", len, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		ret_hex[2 * i] = hexl[md[i] >> 4];
		ret_hex[2 * i + 1] = hexl[md[i] & 15];
	}
	ret_hex[64] = '\0';
}

void sigv4_amz_date(int64_t time_ns, char ret[17])
{
	time_t t = (time_t)(time_ns / NSEC_PER_SEC);
	struct tm tm;

	if (time_ns < 0 && time_ns % NSEC_PER_SEC)
		t -= 1;
	gmtime_r(&t, &tm);
	strftime(ret, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* --- canonical URI -------------------------------------------------------- */

/* botocore's remove_dot_segments: drop empty and "." segments, ".." pops;
 * keep the leading '/', and a trailing '/' when anything is left. */
static int normalize_path(const char *path, struct buf *out)
{
	size_t n = strlen(path), nseg = 0;
	_cleanup_free_ size_t *starts = calloc(n + 1, sizeof(size_t));
	_cleanup_free_ size_t *lens = calloc(n + 1, sizeof(size_t));
	size_t i = 0;
	int r;

	if (!starts || !lens)
		return -ENOMEM;
	while (i <= n) {
		size_t j = i;

		while (j < n && path[j] != '/')
			j++;
		if (j > i && !(j - i == 1 && path[i] == '.')) {
			if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
				if (nseg)
					nseg--;
			} else {
				starts[nseg] = i;
				lens[nseg] = j - i;
				nseg++;
			}
		}
		i = j + 1;
	}
	if (path[0] == '/' && (r = buf_puts(out, "/")) < 0)
		return r;
	for (size_t k = 0; k < nseg; k++) {
		if (k && (r = buf_puts(out, "/")) < 0)
			return r;
		if ((r = buf_append(out, path + starts[k], lens[k])) < 0)
			return r;
	}
	if (n && path[n - 1] == '/' && nseg && (r = buf_puts(out, "/")) < 0)
		return r;
	return 0;
}

static int canonical_uri(const char *path, bool normalize, struct buf *out)
{
	_cleanup_buf_ struct buf norm = BUF_INIT(0);
	int r;

	if (!path || !*path)
		path = "/";
	if (normalize) {
		r = normalize_path(path, &norm);
		if (r < 0)
			return r;
		if (norm.len == 0 && (r = buf_puts(&norm, "/")) < 0)
			return r;
		return sigv4_uri_encode(out, norm.data, norm.len, true);
	}
	return sigv4_uri_encode(out, path, strlen(path), true);
}

/* --- canonical query ------------------------------------------------------ */

struct qpair {
	char *key;
	char *value;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static int reencode(const char *s, size_t len, char **ret)
{
	_cleanup_buf_ struct buf dec = BUF_INIT(0), enc = BUF_INIT(0);
	int r;

	r = sigv4_uri_decode(&dec, s, len);
	if (r >= 0)
		r = sigv4_uri_encode(&enc, dec.data ? dec.data : "", dec.len, false);
	if (r >= 0 && enc.len == 0)
		r = buf_puts(&enc, "");
	if (r < 0)
		return r;
	*ret = buf_detach(&enc);
	return *ret ? 0 : -ENOMEM;
}

static int canonical_query(const char *query, struct buf *out)
{
	size_t n = 0, cap = 0, qlen;
	struct qpair *pairs = NULL;
	int r = 0;

	if (!query || !*query)
		return 0;
	qlen = strlen(query);
	for (size_t i = 0; i <= qlen;) {
		size_t j = i, eq;

		while (j < qlen && query[j] != '&')
			j++;
		if (j > i) {
			if (n == cap) {
				struct qpair *np;

				cap = cap ? cap * 2 : 8;
				np = realloc(pairs, cap * sizeof(*pairs));
				if (!np) {
					r = -ENOMEM;
					goto out;
				}
				pairs = np;
			}
			for (eq = i; eq < j && query[eq] != '='; eq++)
				;
			pairs[n].key = pairs[n].value = NULL;
			r = reencode(query + i, eq - i, &pairs[n].key);
			if (r >= 0)
				r = reencode(eq < j ? query + eq + 1 : "", eq < j ? j - eq - 1 : 0, &pairs[n].value);
			n++;
			if (r < 0)
				goto out;
		}
		i = j + 1;
	}
	if (n) /* a query of only '&'s has no pair (and qsort wants an array) */
		qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	for (size_t k = 0; k < n && r >= 0; k++)
		r = buf_printf(out, "%s%s=%s", k ? "&" : "", pairs[k].key, pairs[k].value);
out:
	for (size_t k = 0; k < n; k++) {
		free(pairs[k].key);
		free(pairs[k].value);
	}
	free(pairs);
	return r;
}

/* --- canonical headers ---------------------------------------------------- */

struct hentry {
	char *name;  /* lower-case */
	char *value; /* trimmed, whitespace collapsed */
	size_t order;
};

static int hentry_cmp(const void *a, const void *b)
{
	const struct hentry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* A value may be folded over several lines (obs-fold, RFC 9112 5.2: a line
 * break, CRLF or LF, followed by a space or tab), as the test suite's
 * get-header-value-multiline; any other CR or LF is refused. */
static bool bad_value(const char *s)
{
	for (const char *p = s; (p = strpbrk(p, "\r\n")); ) {
		if (p[0] == '\r' && p[1] == '\n')
			p++;
		if (p[0] != '\n' || (p[1] != ' ' && p[1] != '\t'))
			return true;
		p++;
	}
	return false;
}

/* Headers the signer writes itself: a caller's copy is replaced, as botocore
 * does (requests in the older test suite carry X-Amz-Date). */
static bool signer_header(const char *name)
{
	return strcasecmp(name, "x-amz-date") == 0 || strcasecmp(name, "authorization") == 0;
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static char *collapse_dup(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(n + 1);
	bool space = false;

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space)
			d[o++] = ' ';
		space = false;
		d[o++] = c;
	}
	d[o] = '\0';
	return d;
}

static void hentries_free(struct hentry *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Build "name:value\n..." and "name;name" from the request's headers plus
 * the ones the signer adds. */
static int canonical_headers(const struct sigv4_request *req, const struct sigv4_params *p, const char *amz_date,
			     const char *content_sha256, struct buf *ch, struct buf *sh)
{
	size_t n = 0, total = req->n_headers + 3;
	struct hentry *h = calloc(total, sizeof(*h));
	const char *token = p->creds->session_token;
	bool have_host = false;
	int r = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct sigv4_header *x = &req->headers[i];

		if (!x->name || !*x->name || !x->value || has_crlf(x->name) || bad_value(x->value)) {
			r = -EINVAL;
			goto out;
		}
		if (signer_header(x->name))
			continue;
		h[n].name = lower_dup(x->name);
		h[n].value = collapse_dup(x->value);
		h[n].order = n;
		if (!h[n].name || !h[n].value) {
			n++;
			r = -ENOMEM;
			goto out;
		}
		if (streq(h[n].name, "host"))
			have_host = true;
		n++;
	}
	if (!have_host) {
		r = -EINVAL;
		goto out;
	}
	h[n].name = strdup("x-amz-date");
	h[n].value = strdup(amz_date);
	h[n].order = n;
	n++;
	if (token && *token && !(p->flags & SIGV4_OMIT_SESSION_TOKEN)) {
		h[n].name = strdup("x-amz-security-token");
		h[n].value = collapse_dup(token);
		h[n].order = n;
		n++;
	}
	if (p->flags & SIGV4_CONTENT_SHA256_HEADER) {
		h[n].name = strdup("x-amz-content-sha256");
		h[n].value = strdup(content_sha256);
		h[n].order = n;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (!h[i].name || !h[i].value) {
			r = -ENOMEM;
			goto out;
		}
	qsort(h, n, sizeof(*h), hentry_cmp);
	for (size_t i = 0; i < n && r >= 0; i++) {
		bool same = i > 0 && streq(h[i].name, h[i - 1].name);

		if (same) {
			r = buf_printf(ch, ",%s", h[i].value);
		} else {
			if (i > 0)
				r = buf_puts(ch, "\n");
			if (r >= 0)
				r = buf_printf(ch, "%s:%s", h[i].name, h[i].value);
			if (r >= 0)
				r = buf_printf(sh, "%s%s", sh->len ? ";" : "", h[i].name);
		}
	}
	if (r >= 0)
		r = buf_puts(ch, "\n");
out:
	hentries_free(h, n);
	return r;
}

/* --- the steps ------------------------------------------------------------ */

static int check_params(const struct sigv4_params *p)
{
	if (!p || !p->creds || !p->creds->access_key_id || !*p->creds->access_key_id ||
	    !p->creds->secret_access_key || !p->region || !*p->region || !p->service || !*p->service)
		return -EINVAL;
	return 0;
}

int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p, struct buf *ret_cr,
			    struct buf *ret_signed_headers)
{
	_cleanup_buf_ struct buf cr = BUF_INIT(0), ch = BUF_INIT(0), sh = BUF_INIT(0);
	char amz_date[17], payload[65];
	int r;

	if (check_params(p) < 0 || !req || !req->method || !*req->method)
		return -EINVAL;
	sigv4_amz_date(p->time_ns, amz_date);
	sigv4_sha256_hex(req->body, req->body ? req->body_len : 0, payload);
	r = canonical_headers(req, p, amz_date, payload, &ch, &sh);
	if (r < 0)
		return r;
	r = buf_printf(&cr, "%s\n", req->method);
	if (r >= 0)
		r = canonical_uri(req->path, p->flags & SIGV4_NORMALIZE_PATH, &cr);
	if (r >= 0)
		r = buf_puts(&cr, "\n");
	if (r >= 0)
		r = canonical_query(req->query, &cr);
	if (r >= 0)
		r = buf_printf(&cr, "\n%s\n%s\n%s", ch.data, sh.data, payload);
	if (r < 0)
		return r;
	buf_release(ret_cr);
	*ret_cr = cr;
	cr = (struct buf)BUF_INIT(0);
	if (ret_signed_headers) {
		buf_release(ret_signed_headers);
		*ret_signed_headers = sh;
		sh = (struct buf)BUF_INIT(0);
	}
	return 0;
}

static void scope_date(const struct sigv4_params *p, char date[9])
{
	char amz[17];

	sigv4_amz_date(p->time_ns, amz);
	memcpy(date, amz, 8);
	date[8] = '\0';
}

int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_params *p, struct buf *ret)
{
	char amz[17], date[9], hash[65];
	_cleanup_buf_ struct buf s = BUF_INIT(0);
	int r;

	if (check_params(p) < 0 || !canonical_request)
		return -EINVAL;
	sigv4_amz_date(p->time_ns, amz);
	scope_date(p, date);
	sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
	r = buf_printf(&s, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", amz, date, p->region, p->service,
		       hash);
	if (r < 0)
		return r;
	buf_release(ret);
	*ret = s;
	s = (struct buf)BUF_INIT(0);
	return 0;
}

static int hmac(const void *key, size_t klen, const char *data, unsigned char out[32])
{
	unsigned int olen = 0;

	if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, strlen(data), out, &olen) || olen != 32)
		return -EIO;
	return 0;
}

int sigv4_signature(const char *string_to_sign, const struct sigv4_params *p, char ret_hex[65])
{
	unsigned char k1[32], k2[32];
	_cleanup_free_ char *secret = NULL;
	char date[9];
	int r;

	if (check_params(p) < 0 || !string_to_sign)
		return -EINVAL;
	scope_date(p, date);
	if (asprintf(&secret, "AWS4%s", p->creds->secret_access_key) < 0) {
		secret = NULL;
		return -ENOMEM;
	}
	r = hmac(secret, strlen(secret), date, k1);
	if (r >= 0)
		r = hmac(k1, 32, p->region, k2);
	if (r >= 0)
		r = hmac(k2, 32, p->service, k1);
	if (r >= 0)
		r = hmac(k1, 32, "aws4_request", k2);
	if (r >= 0)
		r = hmac(k2, 32, string_to_sign, k1);
	OPENSSL_cleanse(secret, strlen(secret));
	OPENSSL_cleanse(k2, sizeof(k2));
	if (r < 0)
		return r;
	for (size_t i = 0; i < 32; i++) {
		ret_hex[2 * i] = hexl[k1[i] >> 4];
		ret_hex[2 * i + 1] = hexl[k1[i] & 15];
	}
	ret_hex[64] = '\0';
	return 0;
}

void sigv4_signed_release(struct sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->signed_headers);
	free(s->authorization);
	memset(s, 0, sizeof(*s));
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p, struct sigv4_signed *ret)
{
	_cleanup_buf_ struct buf cr = BUF_INIT(0), sh = BUF_INIT(0), sts = BUF_INIT(0), auth = BUF_INIT(0);
	struct sigv4_signed out = { 0 };
	char date[9];
	int r;

	r = sigv4_canonical_request(req, p, &cr, &sh);
	if (r < 0)
		return r;
	r = sigv4_string_to_sign(cr.data, p, &sts);
	if (r < 0)
		return r;
	r = sigv4_signature(sts.data, p, out.signature);
	if (r < 0)
		return r;
	scope_date(p, date);
	r = buf_printf(&auth, SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		       p->creds->access_key_id, date, p->region, p->service, sh.data, out.signature);
	if (r < 0)
		return r;
	sigv4_amz_date(p->time_ns, out.amz_date);
	sigv4_sha256_hex(req->body, req->body ? req->body_len : 0, out.content_sha256);
	out.canonical_request = buf_detach(&cr);
	out.string_to_sign = buf_detach(&sts);
	out.signed_headers = buf_detach(&sh);
	out.authorization = buf_detach(&auth);
	if (!out.canonical_request || !out.string_to_sign || !out.signed_headers || !out.authorization) {
		sigv4_signed_release(&out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}
