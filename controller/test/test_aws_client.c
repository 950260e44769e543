/* Unit tests for the aws client pipeline (aws_client_call): signing and
 * headers, the standard retry mode (what is retried, attempts, backoff,
 * quota), the IAM token bucket, stats. A fake transport answers; the clock
 * is manual and sleeps are recorded (they advance the clock). */
#include "support.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "aws/client.h"
#include "aws/query.h"
#include "aws/stats.h"
#include "base/ratelimit.h"
#include "test_aws_fake.h"

static const char ok_body[] = "<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName><Arn>arn</Arn></Role>"
			      "</GetRoleResult></GetRoleResponse>";

static int get_role(struct aws_client *c, struct op_err *e)
{
	struct aws_call call = {
		.op = AWS_OP_IAM_GET_ROLE,
		.method = "POST",
		.path = "/",
		.content_type = AWS_QUERY_CONTENT_TYPE,
		.body = "Action=GetRole&Version=2010-05-08&RoleName=r",
		.body_len = 44,
	};
	struct aws_http_response resp;
	int r;

	aws_http_response_init(&resp);
	op_err_clear(e);
	r = aws_client_call(c, &call, &resp, e);
	aws_http_response_release(&resp);
	return r;
}

static void push_throttle(struct fake *f)
{
	fake_push_file(f, 400, "aws-responses/aws-iam-throttling.xml");
}

static void test_client__signed_request_shape(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct op_err e;
	char h[512];

	(void)state;
	fake_init(&f);
	fake_setenv(&f, "AWS_REGION=eu-west-1");
	fake_push(&f, 200, ok_body);
	c = fake_client(&f);
	assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(f.n_seen, 1);
	assert_string_equal(f.seen[0].method, "POST");
	assert_string_equal(f.seen[0].url, "https://iam.amazonaws.com/");
	assert_string_equal(f.seen[0].body, "Action=GetRole&Version=2010-05-08&RoleName=r");
	assert_string_equal(fake_seen_header(&f.seen[0], "X-Amz-Date", h, sizeof(h)), "20261128T170000Z");
	assert_string_equal(fake_seen_header(&f.seen[0], "Content-Type", h, sizeof(h)), AWS_QUERY_CONTENT_TYPE);
	assert_non_null(fake_seen_header(&f.seen[0], "Authorization", h, sizeof(h)));
	/* IAM signs for us-east-1 whatever the region */
	assert_true(str_startswith(h, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/iam/aws4_request, "
				      "SignedHeaders=content-type;host;x-amz-date, Signature="));
	assert_null(fake_seen_header(&f.seen[0], "X-Amz-Security-Token", h, sizeof(h)));
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__session_token_sent_and_signed(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_credentials *cr = NULL;
	struct aws_client_opts o = { 0 };
	struct op_err e;
	char h[512];

	(void)state;
	fake_init(&f);
	fake_push(&f, 200, ok_body);
	assert_int_equal(aws_credentials_new("ASIATEMP", "secret", "the-session-token", 0, &cr), 0);
	o.credentials = cr;
	c = fake_client_opts(&f, &o);
	aws_credentials_unref(cr);
	assert_int_equal(get_role(c, &e), 0);
	assert_string_equal(fake_seen_header(&f.seen[0], "X-Amz-Security-Token", h, sizeof(h)), "the-session-token");
	fake_seen_header(&f.seen[0], "Authorization", h, sizeof(h));
	assert_true(strstr(h, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,") != NULL);
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__throttling_retried_then_eagain(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_stats s;
	struct op_err e;

	(void)state;
	fake_init(&f);
	for (int i = 0; i < 3; i++)
		push_throttle(&f);
	c = fake_client(&f);
	assert_int_equal(get_role(c, &e), -EAGAIN);
	assert_int_equal(f.n_seen, 3);
	assert_int_equal(e.code, -EAGAIN);
	assert_int_equal(e.http_status, 400);
	assert_string_equal(e.reason, "Throttling");
	assert_string_equal(e.request_id, "8f6b4d3e-2c1a-4b7e-9f0d-5a6c7b8d9e01");
	assert_string_equal(e.message, "GetRole: Rate exceeded (3 attempts)");
	/* two backoffs: full jitter under 100 ms, then under 200 ms */
	assert_int_equal(f.n_sleeps, 2);
	assert_true(f.sleeps[0] >= 0 && f.sleeps[0] <= 100 * NSEC_PER_MSEC);
	assert_true(f.sleeps[1] >= 0 && f.sleeps[1] <= 200 * NSEC_PER_MSEC);
	/* each retry took 5 from the quota */
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 490);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_STS), 500);
	aws_stats_snapshot(c, &s);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].calls, 1);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].attempts, 3);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].throttled, 3);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].errors, 1);
	assert_int_equal(s.retries, 2);
	assert_int_equal(s.backoff_ns, f.sleeps[0] + f.sleeps[1]);

	/* a later success after one retry gives the 5 back; a clean one gives 1 */
	push_throttle(&f);
	fake_push(&f, 200, ok_body);
	assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 490);
	fake_push(&f, 200, ok_body);
	assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 491);
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__auth_and_validation_errors_not_retried(void **state)
{
	static const struct {
		const char *file;
		long status;
		int err;
	} cases[] = {
		{ "aws-responses/moto-iam-signaturedoesnotmatch.xml", 403, -EPERM },
		{ "aws-responses/moto-iam-invalidclienttokenid.xml", 403, -EPERM },
		{ "aws-responses/aws-sts-expiredtoken.xml", 400, -EPERM },
		{ "aws-responses/aws-iam-malformedpolicydocument.xml", 400, -EINVAL },
		{ "aws-responses/moto-iam-get-role-nosuchentity.xml", 404, -ENOENT },
		{ "aws-responses/aws-iam-limitexceeded.xml", 409, -EDQUOT },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake f;
		struct aws_client *c;
		struct op_err e;

		fake_init(&f);
		fake_push_file(&f, cases[i].status, cases[i].file);
		c = fake_client(&f);
		assert_int_equal(get_role(c, &e), cases[i].err);
		assert_int_equal(f.n_seen, 1);
		assert_int_equal(f.n_sleeps, 0);
		assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 500);
		assert_null(strstr(e.message, "attempts"));
		aws_client_free(c);
		fake_release(&f);
	}
}

static void test_client__5xx_and_transport_errors_retried(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_push_file(&f, 500, "aws-responses/aws-iam-servicefailure.xml");
	fake_push_err(&f, -ECONNRESET);
	fake_push(&f, 200, ok_body);
	c = fake_client(&f);
	assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(f.n_seen, 3);
	/* 5 for the 500, 5 for the reset; the success refunds the last 5 */
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 495);

	/* timeouts cost 10; three of them end in -ETIMEDOUT */
	fake_push_err(&f, -ETIMEDOUT);
	fake_push_err(&f, -ETIMEDOUT);
	fake_push_err(&f, -ETIMEDOUT);
	assert_int_equal(get_role(c, &e), -ETIMEDOUT);
	assert_int_equal(f.n_seen, 6);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 475);
	assert_true(strstr(e.message, "(3 attempts)") != NULL);
	assert_int_equal(e.http_status, 0);

	/* connection refused, then a 502 without a body, then 503: -EIO */
	fake_push_err(&f, -ECONNREFUSED);
	fake_push(&f, 502, "");
	fake_push(&f, 503, "<html>busy</html>");
	assert_int_equal(get_role(c, &e), -EIO);
	assert_int_equal(e.http_status, 503);
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__retry_quota_drains_then_no_retries(void **state)
{
	struct aws_retry_policy p = AWS_RETRY_POLICY_STANDARD;
	struct aws_client_opts o = { .retry = &p };
	struct fake f;
	struct aws_client *c;
	struct aws_stats s;
	struct op_err e;

	(void)state;
	p.quota_initial = 12;
	fake_init(&f);
	for (int i = 0; i < 3; i++)
		fake_push(&f, 503, "");
	c = fake_client_opts(&f, &o);
	assert_int_equal(get_role(c, &e), -EIO); /* 3 attempts, quota 12 -> 2 */
	assert_int_equal(f.n_seen, 3);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 2);
	fake_push(&f, 503, "");
	assert_int_equal(get_role(c, &e), -EIO); /* no quota: one attempt */
	assert_int_equal(f.n_seen, 4);
	assert_true(strstr(e.message, "(1 attempts, retry quota exhausted)") != NULL);
	aws_stats_snapshot(c, &s);
	assert_int_equal(s.quota_exhausted, 1);
	/* successes refill it one by one */
	for (int i = 0; i < 3; i++)
		fake_push(&f, 200, ok_body);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 5);
	fake_push(&f, 503, "");
	fake_push(&f, 200, ok_body);
	assert_int_equal(get_role(c, &e), 0); /* one retry possible again */
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__iam_token_bucket(void **state)
{
	struct aws_client_opts o = { .iam_rate_mode = AWS_RATE_FIXED, .iam_rate = 2, .iam_burst = 2 };
	struct fake f;
	struct aws_client *c;
	struct aws_stats s;
	struct op_err e;

	(void)state;
	fake_init(&f);
	for (int i = 0; i < 4; i++)
		fake_push(&f, 200, ok_body);
	c = fake_client_opts(&f, &o);
	for (int i = 0; i < 4; i++)
		assert_int_equal(get_role(c, &e), 0);
	/* burst of 2 free, then 500 ms per call (the recorded sleep advances the clock) */
	assert_int_equal(f.n_sleeps, 2);
	assert_int_equal(f.sleeps[0], 500 * NSEC_PER_MSEC);
	assert_int_equal(f.sleeps[1], 500 * NSEC_PER_MSEC);
	aws_stats_snapshot(c, &s);
	assert_int_equal(s.rate_limited, 2);
	assert_int_equal(s.rate_limited_ns, 1000 * NSEC_PER_MSEC);
	/* STS is not limited */
	for (int i = 0; i < 3; i++) {
		struct aws_query q;
		xmlDoc *doc = NULL;
		xmlNode *res;

		fake_push(&f, 200, "<GetCallerIdentityResponse><GetCallerIdentityResult/></GetCallerIdentityResponse>");
		aws_query_init(&q, "GetCallerIdentity", AWS_STS_VERSION);
		assert_int_equal(aws_query_call(c, AWS_OP_STS_GET_CALLER_IDENTITY, &q, false, NULL, &doc, &res, &e), 0);
		aws_query_release(&q);
		xmlFreeDoc(doc);
	}
	assert_int_equal(f.n_sleeps, 2);
	aws_client_free(c);
	fake_release(&f);

	/* the default: adaptive from 10/s, one second's worth in the bucket: 10
	 * free, the 11th waits 100 ms */
	fake_init(&f);
	for (int i = 0; i < 11; i++)
		fake_push(&f, 200, ok_body);
	c = fake_client_opts(&f, &(struct aws_client_opts){ .iam_rate_initial = AWS_RATE_INITIAL_DEFAULT });
	for (int i = 0; i < 11; i++)
		assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(f.n_sleeps, 1);
	assert_int_equal(f.sleeps[0], 100 * NSEC_PER_MSEC);
	aws_client_free(c);
	fake_release(&f);
}

static void test_client__unsigned_and_config_errors(void **state)
{
	struct aws_client_opts o = { .anonymous = true };
	struct aws_call call = { .op = AWS_OP_EKS_DESCRIBE_CLUSTER, .method = "GET", .path = "/clusters/x" };
	struct aws_http_response resp;
	struct fake f;
	struct aws_client *c;
	struct op_err e;
	char h[64];

	(void)state;
	fake_init(&f);
	c = fake_client_opts(&f, &o);
	aws_http_response_init(&resp);
	/* EKS without a region */
	op_err_clear(&e);
	assert_int_equal(aws_client_call(c, &call, &resp, &e), -EINVAL);
	assert_true(strstr(e.message, "DescribeCluster: no AWS region") != NULL);
	/* anonymous clients only send unsigned calls */
	call.op = AWS_OP_STS_GET_CALLER_IDENTITY;
	call.path = "/";
	assert_int_equal(aws_client_call(c, &call, &resp, &e), -ENOKEY);
	call.unsigned_request = true;
	fake_push(&f, 200, "ok");
	assert_int_equal(aws_client_call(c, &call, &resp, &e), 0);
	assert_null(fake_seen_header(&f.seen[0], "Authorization", h, sizeof(h)));
	assert_null(fake_seen_header(&f.seen[0], "X-Amz-Date", h, sizeof(h)));
	assert_string_equal(f.seen[0].url, "https://sts.amazonaws.com/");
	aws_http_response_release(&resp);
	assert_string_equal(aws_client_credentials_source(c), "none (anonymous: unsigned calls only)");
	aws_client_free(c);
	fake_release(&f);

	/* a bad override fails the client */
	fake_init(&f);
	fake_setenv(&f, "AWS_ENDPOINT_URL=notaurl");
	{
		struct aws_client_opts bad = {
			.env = &f.aws_env,
			.anonymous = true,
			.transport = { .send = fake_send, .ctx = &f },
		};

		op_err_clear(&e);
		assert_int_equal(aws_client_new(&bad, &c, &e), -EINVAL);
		assert_true(strstr(e.message, "AWS_ENDPOINT_URL") != NULL);
	}
}

static void test_client__stats_reads_writes_and_op_table(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_stats s;
	enum aws_op op;
	struct op_err e;
	struct aws_call w = { .op = AWS_OP_IAM_DELETE_ROLE, .method = "POST", .path = "/", .body = "x", .body_len = 1 };
	struct aws_http_response resp;

	(void)state;
	fake_init(&f);
	fake_push(&f, 200, ok_body);
	fake_push(&f, 200, "<DeleteRoleResponse/>");
	c = fake_client(&f);
	assert_int_equal(get_role(c, &e), 0);
	aws_http_response_init(&resp);
	assert_int_equal(aws_client_call(c, &w, &resp, &e), 0);
	aws_http_response_release(&resp);
	aws_stats_snapshot(c, &s);
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.writes, 1);
	assert_int_equal(s.op[AWS_OP_IAM_DELETE_ROLE].calls, 1);
	/* every op has a name that maps back, and Get/List/Describe are reads */
	for (int i = 0; i < AWS_OP__COUNT; i++) {
		const struct aws_op_info *in = aws_op_info((enum aws_op)i);
		bool read = str_startswith(in->name, "Get") || str_startswith(in->name, "List") ||
			    str_startswith(in->name, "Describe") || str_startswith(in->name, "Assume");

		assert_int_equal(aws_op_from_name(in->name, &op), 0);
		assert_int_equal(op, i);
		assert_int_equal(in->write, !read);
	}
	assert_int_equal(aws_op_from_name("Nope", &op), -ENOENT);
	aws_client_free(c);
	fake_release(&f);
}

/* A thread-safe transport: each thread's calls are throttled once, then answered. */
struct busy {
	atomic_uint n;
};

static __thread unsigned thread_attempts;

static int busy_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
		     struct op_err *err)
{
	struct busy *b = ctx;
	bool throttle = thread_attempts++ % 2 == 0;

	(void)req;
	(void)err;
	atomic_fetch_add(&b->n, 1);
	resp->status = throttle ? 400 : 200;
	return buf_puts(&resp->body, throttle ? "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"
					      : ok_body);
}

static void no_sleep(void *ctx, int64_t ns)
{
	(void)ctx;
	(void)ns;
}

struct worker {
	struct aws_client *c;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		struct op_err e;

		if (get_role(w->c, &e) == 0)
			w->ok++;
	}
	return NULL;
}

static void test_client__concurrent_calls_share_one_client(void **state)
{
	struct busy b = { 0 };
	struct aws_credentials *cr = NULL;
	struct aws_client_opts o = {
		.transport = { .send = busy_send, .ctx = &b },
		.sleep = no_sleep,
		.iam_rate = -1,
	};
	struct aws_client *c = NULL;
	struct worker w[4];
	pthread_t t[4];
	struct aws_stats s;
	struct fake f;
	int ok = 0;

	(void)state;
	fake_init(&f);
	o.env = &f.aws_env;
	assert_int_equal(aws_credentials_new("AKIDEXAMPLE", "secret", NULL, 0, &cr), 0);
	o.credentials = cr;
	assert_int_equal(aws_client_new(&o, &c, NULL), 0);
	aws_credentials_unref(cr);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = c };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
	}
	/* every call succeeds on its second attempt; the counters add up */
	assert_int_equal(ok, 800);
	aws_stats_snapshot(c, &s);
	assert_int_equal(atomic_load(&b.n), 1600);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].calls, 800);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].attempts, 1600);
	assert_int_equal(s.retries, 800);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].throttled, 800);
	assert_int_equal(s.op[AWS_OP_IAM_GET_ROLE].errors, 0);
	/* each retried call took 5 and gave 5 back; clean ones gave 1 to a full quota */
	assert_int_equal(aws_client_retry_quota(c, AWS_SERVICE_IAM), 500);
	aws_client_free(c);
}

/* The leader's write fence (base/fence.h): write operations are not sent once
 * it is closed, retries included; reads always are. */
static void test_client__write_fence_stops_writes_and_their_retries(void **state)
{
	static const char put_body[] = "Action=PutRolePolicy&Version=2010-05-08&RoleName=r&PolicyName=p&PolicyDocument=%7B%7D";
	struct aws_call put = { .op = AWS_OP_IAM_PUT_ROLE_POLICY, .method = "POST", .path = "/",
				.content_type = AWS_QUERY_CONTENT_TYPE, .body = put_body, .body_len = sizeof(put_body) - 1 };
	struct write_fence fence = { 0 };
	struct aws_http_response resp;
	struct fake f;
	struct aws_client *c;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fence.clock = &f.clock.clock;
	c = fake_client(&f);
	aws_client_set_write_fence(c, &fence);
	/* closed: the write is refused before it is sent; a read goes out */
	aws_http_response_init(&resp);
	assert_int_equal(aws_client_call(c, &put, &resp, &e), -ENOLCK);
	aws_http_response_release(&resp);
	assert_int_equal(f.n_seen, 0);
	assert_non_null(strstr(e.message, "PutRolePolicy: not sent"));
	fake_push(&f, 200, ok_body);
	assert_int_equal(get_role(c, &e), 0);
	assert_int_equal(f.n_seen, 1);
	/* open for 1 ns: the first attempt goes out, is throttled, and the retry
	 * (after a backoff that advances the clock) is not sent */
	write_fence_set(&fence, clock_mono_ns(&f.clock.clock) + 1);
	push_throttle(&f);
	fake_push(&f, 200, ok_body);
	aws_http_response_init(&resp);
	assert_int_equal(aws_client_call(c, &put, &resp, &e), -ENOLCK);
	aws_http_response_release(&resp);
	assert_int_equal(f.n_seen, 2);
	aws_client_free(c);
	fake_release(&f);
}

/* An IAM that answers Throttling above `rate` calls/s (its own token bucket,
 * one second deep), on the test's manual clock, each answer taking 5 ms. */
struct throttling_iam {
	struct manual_clock *clock;
	struct token_bucket tb;
	char *throttle_body;
	uint64_t accepted, throttled;
};

static int throttling_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
			   struct op_err *err)
{
	struct throttling_iam *t = ctx;

	(void)req;
	(void)err;
	manual_clock_advance(t->clock, 5 * NSEC_PER_MSEC);
	if (tb_try(&t->tb)) {
		t->accepted++;
		resp->status = 200;
		assert_int_equal(buf_puts(&resp->body, ok_body), 0);
	} else {
		t->throttled++;
		resp->status = 400;
		assert_int_equal(buf_puts(&resp->body, t->throttle_body), 0);
	}
	return 0;
}

static struct aws_client *throttled_client(struct fake *f, struct throttling_iam *t, double iam_rate,
					   struct aws_client_opts *o)
{
	struct aws_credentials *cr = NULL;
	struct aws_client *c = NULL;

	fake_init(f);
	*t = (struct throttling_iam){ .clock = &f->clock };
	tb_init(&t->tb, iam_rate, iam_rate, &f->clock.clock);
	t->throttle_body = test_read_file("aws-responses/aws-iam-throttling.xml", NULL);
	assert_int_equal(aws_credentials_new("AKIDEXAMPLE", "secret", NULL, 0, &cr), 0);
	o->credentials = cr;
	o->env = &f->aws_env;
	o->transport = (struct aws_transport){ .send = throttling_send, .ctx = t };
	o->clock = &f->clock.clock;
	o->sleep = fake_sleep;
	o->sleep_ctx = f;
	assert_int_equal(aws_client_new(o, &c, NULL), 0);
	aws_credentials_unref(cr);
	return c;
}

/* Calls as fast as the client lets them through for `secs` of manual time;
 * returns the accepted calls per second. */
static double run_for(struct aws_client *c, struct fake *f, struct throttling_iam *t, int secs)
{
	int64_t end = f->clock.mono_ns + secs * NSEC_PER_SEC;
	uint64_t acc0 = t->accepted;
	struct op_err e;

	while (f->clock.mono_ns < end)
		(void)get_role(c, &e);
	return (double)(t->accepted - acc0) / secs;
}

/* The default (adaptive) rate against an IAM throttling above 20 calls/s:
 * the accepted rate settles near 20/s, with few throttled answers; with a
 * ceiling of 12 it stays at 12 and IAM throttles nothing. */
static void test_client__adaptive_rate_settles_near_iam_limit(void **state)
{
	struct aws_client_opts o = { 0 };
	struct throttling_iam t;
	struct aws_client *c;
	struct aws_stats s;
	struct fake f;
	double rate;
	uint64_t thr0;

	(void)state;
	c = throttled_client(&f, &t, 20, &o);
	(void)run_for(c, &f, &t, 20); /* finding the limit */
	thr0 = t.throttled;
	rate = run_for(c, &f, &t, 60);
	aws_stats_snapshot(c, &s);
	print_message("adaptive client vs IAM at 20/s: %.1f accepted/s over 60 s (%.2f throttled/s), send rate now "
		      "%.1f/s, %llu cuts\n",
		      rate, (double)(t.throttled - thr0) / 60, s.iam_rate, (unsigned long long)s.iam_rate_cuts);
	assert_true(rate >= 16 && rate <= 20.5);
	assert_true((double)(t.throttled - thr0) / 60 < 2);
	assert_true(s.iam_rate_cuts > 0 && s.iam_rate > 10);
	aws_client_free(c);
	tb_release(&t.tb);
	free(t.throttle_body);

	/* a ceiling below IAM's limit holds, and nothing is throttled */
	o = (struct aws_client_opts){ .iam_rate = 12 };
	c = throttled_client(&f, &t, 20, &o);
	(void)run_for(c, &f, &t, 5);
	rate = run_for(c, &f, &t, 30);
	assert_true(rate >= 11.5 && rate <= 12.1);
	assert_int_equal(t.throttled, 0);
	aws_client_free(c);
	tb_release(&t.tb);
	free(t.throttle_body);
}

/* Two threads on the real clock share a fixed 40/s with no burst to speak
 * of: waiting (on the condition variable, holding no lock) costs no
 * throughput: together they send 40/s, not less. */
static int ok_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
		   struct op_err *err)
{
	(void)ctx;
	(void)req;
	(void)err;
	resp->status = 200;
	return buf_puts(&resp->body, ok_body);
}

struct paced {
	struct aws_client *c;
	int64_t until;
	int n;
};

static void *paced_main(void *arg)
{
	struct paced *p = arg;
	struct op_err e;

	while (clock_mono_ns(NULL) < p->until)
		if (get_role(p->c, &e) == 0)
			p->n++;
	return NULL;
}

static void test_client__waiting_threads_keep_the_rate(void **state)
{
	struct aws_credentials *cr = NULL;
	struct aws_client_opts o = {
		.transport = { .send = ok_send },
		.iam_rate_mode = AWS_RATE_FIXED,
		.iam_rate = 40,
		.iam_burst = 1,
	};
	struct aws_client *c = NULL;
	struct paced p[2];
	pthread_t th[2];
	struct aws_stats s;
	struct fake f;
	int64_t t0;

	(void)state;
	fake_init(&f);
	o.env = &f.aws_env;
	assert_int_equal(aws_credentials_new("AKIDEXAMPLE", "secret", NULL, 0, &cr), 0);
	o.credentials = cr;
	assert_int_equal(aws_client_new(&o, &c, NULL), 0);
	aws_credentials_unref(cr);
	t0 = clock_mono_ns(NULL);
	for (int i = 0; i < 2; i++) {
		p[i] = (struct paced){ .c = c, .until = t0 + NSEC_PER_SEC };
		assert_int_equal(pthread_create(&th[i], NULL, paced_main, &p[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	aws_stats_snapshot(c, &s);
	print_message("2 threads at a fixed 40/s for 1 s: %d + %d calls\n", p[0].n, p[1].n);
	/* 1 + 40 tokens in the second (the last call may end just after it) */
	assert_true(p[0].n + p[1].n >= 32 && p[0].n + p[1].n <= 42); /* 32: slack for a loaded machine */
	assert_true(p[0].n > 5 && p[1].n > 5);
	assert_true(s.rate_limited > 0);
	aws_client_free(c);
}

/* Two workers reconciling at once: each counts its own calls on its thread
 * (aws_call_tally), while the client's counters, which the per-reconcile log
 * line read before, hold both workers' calls. */
struct tallied {
	struct aws_client *c;
	int reads;
	pthread_barrier_t *go;
	struct aws_call_tally tally;
	uint64_t global_diff;
};

static void *tallied_main(void *arg)
{
	struct tallied *t = arg;
	struct aws_stats before, after;
	struct op_err e;

	pthread_barrier_wait(t->go);
	aws_call_tally_attach(&t->tally);
	aws_stats_snapshot(t->c, &before);
	for (int i = 0; i < t->reads; i++) {
		assert_int_equal(get_role(t->c, &e), 0);
		sched_yield();
	}
	aws_stats_snapshot(t->c, &after);
	assert_ptr_equal(aws_call_tally_attach(NULL), &t->tally);
	t->global_diff = after.reads + after.writes - before.reads - before.writes;
	return NULL;
}

static void test_client__per_thread_call_tally(void **state)
{
	struct aws_credentials *cr = NULL;
	struct aws_client_opts o = { .transport = { .send = ok_send }, .iam_rate = -1 };
	struct aws_client *c = NULL;
	pthread_barrier_t go;
	struct tallied t[2];
	pthread_t th[2];
	struct fake f;

	(void)state;
	fake_init(&f);
	o.env = &f.aws_env;
	assert_int_equal(aws_credentials_new("AKIDEXAMPLE", "secret", NULL, 0, &cr), 0);
	o.credentials = cr;
	assert_int_equal(aws_client_new(&o, &c, NULL), 0);
	aws_credentials_unref(cr);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		t[i] = (struct tallied){ .c = c, .reads = 3000 + 1000 * i, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, tallied_main, &t[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(t[i].tally.reads, (uint64_t)t[i].reads);
		assert_int_equal(t[i].tally.writes, 0);
	}
	/* the global difference counts the other worker's calls too */
	print_message("per-thread tallies %llu, %llu; global differences %llu, %llu\n",
		      (unsigned long long)t[0].tally.reads, (unsigned long long)t[1].tally.reads,
		      (unsigned long long)t[0].global_diff, (unsigned long long)t[1].global_diff);
	assert_true(t[0].global_diff > t[0].tally.reads || t[1].global_diff > t[1].tally.reads);
	/* no tally attached here: nothing counted anywhere but the client */
	assert_null(aws_call_tally_attach(NULL));
	aws_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client__signed_request_shape),
		cmocka_unit_test(test_client__session_token_sent_and_signed),
		cmocka_unit_test(test_client__throttling_retried_then_eagain),
		cmocka_unit_test(test_client__auth_and_validation_errors_not_retried),
		cmocka_unit_test(test_client__5xx_and_transport_errors_retried),
		cmocka_unit_test(test_client__retry_quota_drains_then_no_retries),
		cmocka_unit_test(test_client__iam_token_bucket),
		cmocka_unit_test(test_client__unsigned_and_config_errors),
		cmocka_unit_test(test_client__stats_reads_writes_and_op_table),
		cmocka_unit_test(test_client__concurrent_calls_share_one_client),
		cmocka_unit_test(test_client__write_fence_stops_writes_and_their_retries),
		cmocka_unit_test(test_client__adaptive_rate_settles_near_iam_limit),
		cmocka_unit_test(test_client__waiting_threads_keep_the_rate),
		cmocka_unit_test(test_client__per_thread_call_tally),
	};

	return cmocka_run_group_tests_name("aws_client", tests, NULL, NULL);
}
