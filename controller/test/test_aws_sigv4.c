/* Unit tests for aws/sigv4: the AWS SigV4 test vectors plus edge cases.
 *
 * The vector runner reads every case folder under $SIGV4_CASES (default
 * controller/test/testdata/aws-sigv4, the aws-c-auth suite; see its README)
 * and checks, for header signing: the canonical request, the string to sign,
 * the signature and the Authorization header of header-signed-request.txt.
 * Cases with "normalize": false are run without path normalization.
 * `make test-sigv4 SIGV4_CASES=dir` runs just this binary on another folder.
 */
#include "support.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/str.h"

#define DEFAULT_CASES "controller/test/testdata/aws-sigv4"

/* --- vector files --------------------------------------------------------- */

static char *slurp(const char *dir, const char *name, bool required)
{
	char path[4096];
	FILE *f;
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		if (required)
			fail_msg("cannot open %s", path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_detach(&b);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* A raw request as in request.txt: request line, "Name:value" lines, blank
 * line, body; lines end with LF or CRLF. The target may contain spaces
 * ("GET /a b/ HTTP/1.1", "POST /?f oo=b ar HTTP/1.1"); a line starting with
 * a space or tab continues the previous header's value (obs-fold, as in
 * get-header-value-multiline). */
struct raw_request {
	char *method;
	char *path;
	char *query;
	struct sigv4_header *headers;
	size_t n_headers;
	char *body;
	size_t body_len;
	char *storage;
};

static void raw_request_free(struct raw_request *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->body);
}

static void raw_request_parse(const char *text, struct raw_request *r)
{
	const char *eol = strchr(text, '\n'), *sp, *ver, *p;
	_cleanup_free_ char *target = NULL;
	char *q;

	memset(r, 0, sizeof(*r));
	assert_non_null(eol);
	sp = strchr(text, ' ');
	assert_non_null(sp);
	ver = eol;
	while (ver > sp && ver[-1] != ' ')
		ver--;
	r->method = strndup(text, (size_t)(sp - text));
	target = strndup(sp + 1, (size_t)(ver - 1 - (sp + 1)));
	q = strchr(target, '?');
	if (q) {
		r->query = strdup(q + 1);
		*q = '\0';
	}
	r->path = strdup(target);
	r->headers = calloc(64, sizeof(*r->headers));
	p = eol + 1;
	while (*p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		size_t len = strcspn(p, "\n");
		bool crlf = len && p[len - 1] == '\r';
		size_t clen = crlf ? len - 1 : len;
		const char *colon = memchr(p, ':', clen);

		if ((p[0] == ' ' || p[0] == '\t') && r->n_headers) {
			/* obs-fold: the line continues the previous value; the
			 * signer gets it folded, line break included */
			struct sigv4_header *h = &r->headers[r->n_headers - 1];
			char *v;

			assert_true(asprintf(&v, "%s%s%.*s", h->value, crlf ? "\r\n" : "\n", (int)clen, p) > 0);
			free((char *)h->value);
			h->value = v;
		} else {
			assert_non_null(colon);
			assert_true(r->n_headers < 64);
			r->headers[r->n_headers].name = strndup(p, (size_t)(colon - p));
			r->headers[r->n_headers].value = strndup(colon + 1, clen - (size_t)(colon + 1 - p));
			r->n_headers++;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	r->body_len = strlen(p);
	r->body = strdup(p);
}

static char *authorization_of(const char *signed_request)
{
	const char *a = strstr(signed_request, "\nAuthorization:");
	size_t len;

	if (!a)
		return NULL;
	a += strlen("\nAuthorization:");
	len = strcspn(a, "\r\n");
	return strndup(a, len);
}

static void run_vector(const char *dir)
{
	_cleanup_free_ char *ctxs = slurp(dir, "context.json", true);
	_cleanup_free_ char *reqs = slurp(dir, "request.txt", true);
	_cleanup_free_ char *exp_cr = slurp(dir, "header-canonical-request.txt", true);
	_cleanup_free_ char *exp_sts = slurp(dir, "header-string-to-sign.txt", true);
	_cleanup_free_ char *exp_sig = slurp(dir, "header-signature.txt", true);
	_cleanup_free_ char *exp_signed = slurp(dir, "header-signed-request.txt", false);
	_cleanup_free_ char *exp_auth = NULL;
	struct raw_request rr;
	struct sigv4_credentials creds;
	struct sigv4_params p = { 0 };
	struct sigv4_signed s;
	json_t *ctx, *c;
	json_error_t jerr;
	int64_t ts;

	ctx = json_loads(ctxs, 0, &jerr);
	if (!ctx)
		fail_msg("%s/context.json: %s", dir, jerr.text);
	c = json_object_get(ctx, "credentials");
	creds.access_key_id = json_string_value(json_object_get(c, "access_key_id"));
	creds.secret_access_key = json_string_value(json_object_get(c, "secret_access_key"));
	creds.session_token = json_string_value(json_object_get(c, "token"));
	p.creds = &creds;
	p.region = json_string_value(json_object_get(ctx, "region"));
	p.service = json_string_value(json_object_get(ctx, "service"));
	assert_int_equal(rfc3339_parse(json_string_value(json_object_get(ctx, "timestamp")), &ts), 0);
	p.time_ns = ts;
	if (!json_is_false(json_object_get(ctx, "normalize")))
		p.flags |= SIGV4_NORMALIZE_PATH;
	if (json_is_true(json_object_get(ctx, "sign_body")))
		p.flags |= SIGV4_CONTENT_SHA256_HEADER;
	if (json_is_true(json_object_get(ctx, "omit_session_token")))
		p.flags |= SIGV4_OMIT_SESSION_TOKEN;

	raw_request_parse(reqs, &rr);
	{
		struct sigv4_request req = {
			.method = rr.method,
			.path = rr.path,
			.query = rr.query,
			.headers = rr.headers,
			.n_headers = rr.n_headers,
			.body = rr.body,
			.body_len = rr.body_len,
		};

		assert_int_equal(sigv4_sign(&req, &p, &s), 0);
	}
	chomp(exp_cr);
	chomp(exp_sts);
	chomp(exp_sig);
	if (strcmp(s.canonical_request, exp_cr) != 0)
		print_error("%s: canonical request\n--- expected\n%s\n--- got\n%s\n", dir, exp_cr, s.canonical_request);
	assert_string_equal(s.canonical_request, exp_cr);
	assert_string_equal(s.string_to_sign, exp_sts);
	assert_string_equal(s.signature, exp_sig);
	if (exp_signed) {
		exp_auth = authorization_of(exp_signed);
		assert_non_null(exp_auth);
		assert_string_equal(s.authorization, exp_auth);
	}
	sigv4_signed_release(&s);
	raw_request_free(&rr);
	json_decref(ctx);
}

static void test_sigv4__vector(void **state)
{
	run_vector(*state);
}

/* --- hand-written cases --------------------------------------------------- */

static const struct sigv4_credentials test_creds = {
	.access_key_id = "AKIDEXAMPLE",
	.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static void test_sigv4__uri_encode_table(void **state)
{
	static const struct {
		const char *in;
		bool slash;
		const char *out;
	} cases[] = {
		{ "abcXYZ019-_.~", false, "abcXYZ019-_.~" },
		{ "a b", false, "a%20b" },
		{ "a/b", false, "a%2Fb" },
		{ "a/b", true, "a/b" },
		{ "a+b=c&d", false, "a%2Bb%3Dc%26d" },
		{ "%41", false, "%2541" },
		{ "\xe1\x88\xb4", false, "%E1%88%B4" },
		{ "*'()!", false, "%2A%27%28%29%21" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf b = BUF_INIT(0);

		assert_int_equal(sigv4_uri_encode(&b, cases[i].in, strlen(cases[i].in), cases[i].slash), 0);
		assert_string_equal(b.data ? b.data : "", cases[i].out);
		buf_release(&b);
	}
}

static void test_sigv4__uri_decode_keeps_bad_escapes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a%20b", "a b" }, { "%e1%88%B4", "\xe1\x88\xb4" }, { "100%", "100%" },
		{ "%zz", "%zz" },   { "%4", "%4" },                   { "a+b", "a+b" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf b = BUF_INIT(0);

		assert_int_equal(sigv4_uri_decode(&b, cases[i].in, strlen(cases[i].in)), 0);
		assert_string_equal(b.data, cases[i].out);
		buf_release(&b);
	}
}

static void canonical(const char *method, const char *path, const char *query, unsigned flags, struct buf *cr)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request req = { .method = method, .path = path, .query = query, .headers = h, .n_headers = 1 };
	struct sigv4_params p = { .creds = &test_creds, .region = "us-east-1", .service = "iam", .flags = flags };

	assert_int_equal(sigv4_canonical_request(&req, &p, cr, NULL), 0);
}

static void test_sigv4__path_double_encoded_and_normalized(void **state)
{
	struct buf cr = BUF_INIT(0);

	(void)state;
	/* the wire path is encoded once by the caller; SigV4 encodes again */
	canonical("GET", "/clusters/my%20cluster/a/./b/../c//", NULL, SIGV4_NORMALIZE_PATH, &cr);
	assert_true(str_startswith(cr.data, "GET\n/clusters/my%2520cluster/a/c/\n\n"));
	buf_reset(&cr);
	canonical("GET", "", NULL, SIGV4_NORMALIZE_PATH, &cr);
	assert_true(str_startswith(cr.data, "GET\n/\n\n"));
	buf_reset(&cr);
	canonical("GET", "/a/../..", NULL, SIGV4_NORMALIZE_PATH, &cr);
	assert_true(str_startswith(cr.data, "GET\n/\n\n"));
	buf_release(&cr);
}

static void test_sigv4__query_sorted_and_reencoded(void **state)
{
	struct buf cr = BUF_INIT(0);

	(void)state;
	canonical("GET", "/", "b=2&a=%7e&a=1&c&nextToken=x%2By%2F%3D&sp=a%20b", SIGV4_NORMALIZE_PATH, &cr);
	assert_true(str_startswith(cr.data, "GET\n/\na=1&a=~&b=2&c=&nextToken=x%2By%2F%3D&sp=a%20b\n"));
	buf_release(&cr);
}

/* Found by fuzz_sigv4: a query of only separators ("&") has no pair;
 * qsort was called with a NULL array (undefined behaviour, UBSan). */
static void test_sigv4__query_of_only_separators(void **state)
{
	static const char *const queries[] = { "&", "&&&", "" };
	struct buf cr = BUF_INIT(0);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(queries); i++) {
		canonical("GET", "/", queries[i], SIGV4_NORMALIZE_PATH, &cr);
		assert_true(str_startswith(cr.data, "GET\n/\n\nhost:"));
		buf_reset(&cr);
	}
	buf_release(&cr);
}

static void test_sigv4__headers_merged_trimmed_sorted(void **state)
{
	struct sigv4_header h[] = {
		{ "Host", "iam.amazonaws.com" },
		{ "X-B", "  two   words\t here " },
		{ "x-a", "1" },
		{ "X-A", "2" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct sigv4_credentials c = test_creds;
	struct sigv4_request req = { .method = "POST", .path = "/", .headers = h, .n_headers = ARRAY_SIZE(h),
				     .body = "Action=GetRole", .body_len = 14 };
	struct sigv4_params p = { .creds = &c, .region = "us-east-1", .service = "iam", .flags = SIGV4_NORMALIZE_PATH };
	struct sigv4_signed s;
	char hash[65];

	(void)state;
	c.session_token = "tok  en";
	assert_int_equal(sigv4_sign(&req, &p, &s), 0);
	sigv4_sha256_hex("Action=GetRole", 14, hash);
	{
		_cleanup_free_ char *want = NULL;

		assert_true(asprintf(&want,
				     "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
				     "host:iam.amazonaws.com\nx-a:1,2\nx-amz-date:19700101T000000Z\n"
				     "x-amz-security-token:tok en\nx-b:two words here\n\n"
				     "content-type;host;x-a;x-amz-date;x-amz-security-token;x-b\n%s",
				     hash) > 0);
		assert_string_equal(s.canonical_request, want);
	}
	assert_string_equal(s.amz_date, "19700101T000000Z");
	assert_string_equal(s.signed_headers, "content-type;host;x-a;x-amz-date;x-amz-security-token;x-b");
	assert_string_equal(s.content_sha256, hash);
	sigv4_signed_release(&s);
}

static void test_sigv4__rejects_bad_input(void **state)
{
	struct sigv4_header nohost[] = { { "X-A", "1" } };
	struct sigv4_header crlf[] = { { "Host", "h" }, { "X-A", "1\r\nX-Evil: 2" } };
	struct sigv4_request req = { .method = "GET", .path = "/", .headers = nohost, .n_headers = 1 };
	struct sigv4_params p = { .creds = &test_creds, .region = "us-east-1", .service = "iam" };
	struct sigv4_credentials nokey = { .access_key_id = "", .secret_access_key = "x" };
	struct sigv4_signed s = { 0 };

	(void)state;
	assert_int_equal(sigv4_sign(&req, &p, &s), -EINVAL);
	req.headers = crlf;
	req.n_headers = 2;
	assert_int_equal(sigv4_sign(&req, &p, &s), -EINVAL);
	req.n_headers = 1;
	p.region = "";
	assert_int_equal(sigv4_sign(&req, &p, &s), -EINVAL);
	p.region = "us-east-1";
	p.creds = &nokey;
	assert_int_equal(sigv4_sign(&req, &p, &s), -EINVAL);
	assert_null(s.authorization);
}

/* get-header-value-multiline: a value folded over lines (LF or CRLF, then
 * spaces or tabs) is signed with each fold as one space; a line break that
 * is not a fold stays refused (header injection). */
static void test_sigv4__folded_header_value(void **state)
{
	static const char *const bad[] = { "1\r\nX-Evil: 2", "1\nX-Evil: 2", "a\rb", "a\r", "a\n", "a\r\n" };
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" }, { "My-Header1", "value1\n  value2\r\n\tvalue3" } };
	struct sigv4_request req = { .method = "GET", .path = "/", .headers = h, .n_headers = 2 };
	struct sigv4_params p = { .creds = &test_creds, .region = "us-east-1", .service = "service" };
	struct sigv4_signed s;

	(void)state;
	assert_int_equal(sigv4_sign(&req, &p, &s), 0);
	assert_non_null(strstr(s.canonical_request, "\nmy-header1:value1 value2 value3\n"));
	sigv4_signed_release(&s);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		h[1].value = bad[i];
		assert_int_equal(sigv4_sign(&req, &p, &s), -EINVAL);
	}
}

/* Requests of the older suite carry X-Amz-Date: the signer's own replaces
 * it (and a stale Authorization) instead of signing both. */
static void test_sigv4__caller_date_replaced(void **state)
{
	struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "Authorization", "AWS4-HMAC-SHA256 old" },
	};
	struct sigv4_request req = { .method = "GET", .path = "/", .headers = h, .n_headers = 3 };
	struct sigv4_params p = { .creds = &test_creds, .region = "us-east-1", .service = "service",
				  .time_ns = INT64_C(1440938160) * NSEC_PER_SEC };
	struct sigv4_signed s;

	(void)state;
	assert_int_equal(sigv4_sign(&req, &p, &s), 0);
	assert_string_equal(s.signed_headers, "host;x-amz-date");
	assert_non_null(strstr(s.canonical_request, "\nx-amz-date:20150830T123600Z\n\n"));
	sigv4_signed_release(&s);
}

/* The HTTP layer sends header values as given: no fold reaches the wire. */
static void test_sigv4__http_sign_refuses_line_breaks(void **state)
{
	struct sigv4_header hh[] = { { "X-A", "1\n 2" } };
	struct aws_http_request hr = { .method = "GET", .url = "https://iam.amazonaws.com/", .headers = hh, .n_headers = 1 };
	struct sigv4_signed s;

	(void)state;
	assert_int_equal(aws_http_sign(&hr, &test_creds, "us-east-1", "iam", 0, &s), -EINVAL);
	hh[0].value = "1 2";
	assert_int_equal(aws_http_sign(&hr, &test_creds, "us-east-1", "iam", 0, &s), 0);
	sigv4_signed_release(&s);
}

static void test_sigv4__amz_date(void **state)
{
	char d[17];

	(void)state;
	sigv4_amz_date(INT64_C(1440938160) * NSEC_PER_SEC + 999999999, d);
	assert_string_equal(d, "20150830T123600Z");
	sigv4_amz_date(0, d);
	assert_string_equal(d, "19700101T000000Z");
}

/* --- main: static tests + one test per vector folder ---------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_sigv4__uri_encode_table),
		cmocka_unit_test(test_sigv4__uri_decode_keeps_bad_escapes),
		cmocka_unit_test(test_sigv4__path_double_encoded_and_normalized),
		cmocka_unit_test(test_sigv4__query_sorted_and_reencoded),
		cmocka_unit_test(test_sigv4__query_of_only_separators),
		cmocka_unit_test(test_sigv4__headers_merged_trimmed_sorted),
		cmocka_unit_test(test_sigv4__rejects_bad_input),
		cmocka_unit_test(test_sigv4__amz_date),
		cmocka_unit_test(test_sigv4__folded_header_value),
		cmocka_unit_test(test_sigv4__caller_date_replaced),
		cmocka_unit_test(test_sigv4__http_sign_refuses_line_breaks),
	};
	const char *root = getenv("SIGV4_CASES");
	char **dirs = NULL, **names = NULL;
	size_t n = 0, cap = 0;
	struct CMUnitTest *tests;
	DIR *d;
	struct dirent *e;
	int rc;

	if (!root || !*root)
		root = DEFAULT_CASES;
	d = opendir(root);
	if (!d) {
		fprintf(stderr, "test_aws_sigv4: cannot open SIGV4_CASES folder %s\n", root);
		return 1;
	}
	while ((e = readdir(d))) {
		char path[4096], ctx[4200];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		snprintf(ctx, sizeof(ctx), "%s/context.json", path);
		if (stat(ctx, &st) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			dirs = realloc(dirs, cap * sizeof(*dirs));
			if (!dirs)
				return 1;
		}
		dirs[n++] = strdup(path);
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "test_aws_sigv4: no case folders (with context.json) in %s\n", root);
		return 1;
	}
	qsort(dirs, n, sizeof(*dirs), name_cmp);
	tests = calloc(ARRAY_SIZE(fixed) + n, sizeof(*tests));
	names = calloc(n, sizeof(*names));
	if (!tests || !names)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(dirs[i], '/') ? strrchr(dirs[i], '/') + 1 : dirs[i];

		if (asprintf(&names[i], "test_sigv4__vector_%s", base) < 0)
			return 1;
		tests[ARRAY_SIZE(fixed) + i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = test_sigv4__vector,
			.initial_state = dirs[i],
		};
	}
	rc = _cmocka_run_group_tests("aws_sigv4", tests, ARRAY_SIZE(fixed) + n, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		free(dirs[i]);
		free(names[i]);
	}
	free(dirs);
	free(names);
	free(tests);
	return rc;
}
