/* test_aws_fake.h: an in-memory AWS transport, a recorded sleep and an
 * injected environment for the aws unit tests (header-only: each test
 * binary is one .c file plus support.c).
 *
 *     struct fake f = FAKE_INIT;
 *     fake_push(&f, 200, body);                     // answers, in order
 *     fake_push_err(&f, -ECONNRESET);               // a transport failure
 *     struct aws_client *c = fake_client(&f, env);  // manual clock, recorded sleeps
 *     ... f.n_seen, f.seen[i].method/url/body/headers ...
 */
#ifndef KEYLESS_TEST_AWS_FAKE_H
#define KEYLESS_TEST_AWS_FAKE_H

#include "support.h"

#include "aws/client.h"
#include "aws/http.h"
#include "base/clock.h"
#include "base/str.h"

#define FAKE_MAX 64

struct fake_resp {
	long status;
	char *body;
	char error_type[160];
	char request_id[64];
	int transport_rc;
};

struct fake_seen {
	char method[8];
	char url[2048];
	char *body;
	char headers[8192]; /* "Name: value\n" lines */
};

struct fake {
	struct fake_resp script[FAKE_MAX];
	size_t n, next;
	struct fake_seen seen[FAKE_MAX];
	size_t n_seen;
	struct manual_clock clock;
	int64_t sleeps[FAKE_MAX];
	size_t n_sleeps;
	/* environment: "NAME=value" pairs */
	const char *env[64];
	struct aws_env aws_env;
};

static inline const char *fake_getenv(const char *name, void *ctx)
{
	struct fake *f = ctx;
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(f->env) && f->env[i]; i++)
		if (strncmp(f->env[i], name, n) == 0 && f->env[i][n] == '=')
			return f->env[i] + n + 1;
	return NULL;
}

static inline void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	/* 2026-11-28T17:00:00Z */
	manual_clock_init(&f->clock, 1000 * NSEC_PER_SEC, INT64_C(1795885200) * NSEC_PER_SEC);
	f->aws_env.getenv = fake_getenv;
	f->aws_env.ctx = f;
}

static inline void fake_setenv(struct fake *f, const char *kv)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->env); i++)
		if (!f->env[i]) {
			f->env[i] = kv;
			return;
		}
	fail_msg("fake env full");
}

static inline struct fake_resp *fake_push(struct fake *f, long status, const char *body)
{
	assert_true(f->n < FAKE_MAX);
	f->script[f->n] = (struct fake_resp){ .status = status, .body = strdup(body ? body : "") };
	return &f->script[f->n++];
}

static inline void fake_push_err(struct fake *f, int rc)
{
	assert_true(f->n < FAKE_MAX);
	f->script[f->n++] = (struct fake_resp){ .transport_rc = rc };
}

/* Answer with a test data file. */
static inline struct fake_resp *fake_push_file(struct fake *f, long status, const char *rel)
{
	_cleanup_free_ char *b = test_read_file(rel, NULL);

	return fake_push(f, status, b);
}

static inline int fake_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
			    struct op_err *err)
{
	struct fake *f = ctx;
	struct fake_seen *s;
	struct fake_resp *a;
	struct strfmt hf;

	assert_true(f->n_seen < FAKE_MAX);
	s = &f->seen[f->n_seen++];
	str_copy(s->method, sizeof(s->method), req->method);
	str_copy(s->url, sizeof(s->url), req->url);
	s->body = req->body ? strndup(req->body, req->body_len) : NULL;
	hf = (struct strfmt)STRFMT_INIT(s->headers, sizeof(s->headers));
	for (size_t i = 0; i < req->n_headers; i++)
		strfmt_add(&hf, "%s: %s\n", req->headers[i].name, req->headers[i].value);
	if (f->next >= f->n)
		fail_msg("fake transport: unexpected request %zu: %s %s", f->n_seen, req->method, req->url);
	a = &f->script[f->next++];
	if (a->transport_rc)
		return op_err_set(err, a->transport_rc, "fake transport error %d", a->transport_rc);
	resp->status = a->status;
	str_copy(resp->error_type, sizeof(resp->error_type), a->error_type);
	str_copy(resp->request_id, sizeof(resp->request_id), a->request_id);
	assert_int_equal(buf_puts(&resp->body, a->body), 0);
	return 0;
}

static inline void fake_sleep(void *ctx, int64_t ns)
{
	struct fake *f = ctx;

	if (f->n_sleeps < FAKE_MAX)
		f->sleeps[f->n_sleeps++] = ns;
	manual_clock_advance(&f->clock, ns);
}

static inline void fake_release(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->script[i].body);
	for (size_t i = 0; i < f->n_seen; i++)
		free(f->seen[i].body);
}

/* A header's value in a seen request, or NULL. */
static inline const char *fake_seen_header(const struct fake_seen *s, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = s->headers; *p;) {
		const char *eol = strchr(p, '\n');

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			size_t vl = (size_t)((eol ? eol : p + strlen(p)) - (p + n + 2));

			if (vl >= size)
				vl = size - 1;
			memcpy(buf, p + n + 2, vl);
			buf[vl] = '\0';
			return buf;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

/* Static test credentials, the fake transport, manual clock, recorded sleeps;
 * IAM rate limit off unless the test sets a rate, an initial rate or a mode. */
static inline struct aws_client *fake_client_opts(struct fake *f, struct aws_client_opts *o)
{
	struct aws_client *c = NULL;
	struct aws_credentials *cr = NULL;
	struct op_err e;

	if (!o->credentials && !o->anonymous && !fake_getenv("FAKE_USE_CHAIN", f)) {
		assert_int_equal(aws_credentials_new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0,
						     &cr),
				 0);
		o->credentials = cr;
	}
	o->env = &f->aws_env;
	o->transport = (struct aws_transport){ .send = fake_send, .ctx = f };
	o->clock = &f->clock.clock;
	o->sleep = fake_sleep;
	o->sleep_ctx = f;
	if (!o->iam_rate && !o->iam_rate_initial && o->iam_rate_mode == AWS_RATE_ADAPTIVE)
		o->iam_rate = -1;
	op_err_clear(&e);
	if (aws_client_new(o, &c, &e) < 0)
		fail_msg("aws_client_new: %s", e.message);
	aws_credentials_unref(cr);
	return c;
}

static inline struct aws_client *fake_client(struct fake *f)
{
	struct aws_client_opts o = { 0 };

	return fake_client_opts(f, &o);
}

#endif
