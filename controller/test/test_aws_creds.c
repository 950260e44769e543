/* Unit tests for aws/creds: the chain's precedence (injected environment,
 * temp files), each provider's exchange (fake transport), the cache's refresh
 * timing (manual clock) and that a refresh does not block other threads. */
#include "support.h"

#include <pthread.h>
#include <unistd.h>

#include "aws/client.h"
#include "aws/config.h"
#include "aws/creds.h"
#include "test_aws_fake.h"

/* Select with env (NULL-terminated "K=V" list) and optional config text. */
static int select_with(const char *const *env, const char *config, const char *credentials,
		       struct aws_creds_provider **ret, struct op_err *e)
{
	struct fake f;
	struct aws_shared_config *cfg = NULL;
	int r;

	fake_init(&f);
	for (size_t i = 0; env && env[i]; i++)
		fake_setenv(&f, env[i]);
	assert_int_equal(aws_shared_config_load_files(config ? test_write_file("config", config) : NULL,
						      credentials ? test_write_file("credentials", credentials) : NULL,
						      &cfg, NULL),
			 0);
	op_err_clear(e);
	r = aws_creds_chain_select(&f.aws_env, cfg, NULL, ret, e);
	aws_shared_config_free(cfg);
	return r;
}

static void test_creds__chain_precedence(void **state)
{
	static const char *const all[] = {
		"AWS_ACCESS_KEY_ID=AKIAENV",
		"AWS_SECRET_ACCESS_KEY=envsecret",
		"AWS_ROLE_ARN=arn:aws:iam::1:role/r",
		"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials",
		NULL,
	};
	static const char profile_keys[] = "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n";
	struct aws_creds_provider *p = NULL;
	struct op_err e;

	(void)state;
	/* 1. environment keys win over everything */
	assert_int_equal(select_with(all, NULL, profile_keys, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_ENV);
	assert_true(strstr(p->description, "AWS_ACCESS_KEY_ID=...AENV") != NULL);
	assert_null(strstr(p->description, "envsecret"));
	aws_creds_provider_free(p);
	/* 2. web identity next */
	assert_int_equal(select_with(all + 2, NULL, profile_keys, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_WEB_IDENTITY);
	assert_true(strstr(p->description, "arn:aws:iam::1:role/r") != NULL);
	assert_true(strstr(p->description, "/var/run/token") != NULL);
	aws_creds_provider_free(p);
	/* 3. container credentials */
	assert_int_equal(select_with(all + 4, NULL, profile_keys, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_CONTAINER);
	aws_creds_provider_free(p);
	/* 4. the profile */
	assert_int_equal(select_with(NULL, NULL, profile_keys, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_PROFILE);
	aws_creds_provider_free(p);
	/* 5. IMDS, unless disabled */
	assert_int_equal(select_with(NULL, NULL, NULL, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_IMDS);
	assert_true(strstr(p->description, "http://169.254.169.254") != NULL);
	aws_creds_provider_free(p);
	{
		static const char *const off[] = { "AWS_EC2_METADATA_DISABLED=true", NULL };

		assert_int_equal(select_with(off, NULL, NULL, &p, &e), -ENOKEY);
		assert_true(strstr(e.message, "no AWS credentials") != NULL);
	}
}

static void test_creds__chain_half_configured_and_unsupported(void **state)
{
	static const struct {
		const char *env[4];
		const char *config;
		int rc;
		const char *msg;
	} cases[] = {
		{ { "AWS_ACCESS_KEY_ID=A" }, NULL, -EINVAL, "AWS_SECRET_ACCESS_KEY is not" },
		{ { "AWS_SECRET_ACCESS_KEY=s" }, NULL, -EINVAL, "AWS_ACCESS_KEY_ID is not" },
		{ { "AWS_ROLE_ARN=arn" }, NULL, -EINVAL, "AWS_WEB_IDENTITY_TOKEN_FILE is not" },
		{ { "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.0.0.1/creds" }, NULL, -EINVAL, "only allowed to loopback" },
		{ { "AWS_PROFILE=nope" }, "[default]\nregion=x\n", -ENOENT, "profile nope" },
		{ { NULL }, "[default]\ncredential_process = /bin/creds\n", -EOPNOTSUPP, "credential_process" },
		{ { NULL }, "[default]\nsso_session = corp\n", -EOPNOTSUPP, "SSO" },
		{ { NULL }, "[default]\nrole_arn = arn:aws:iam::1:role/r\n", -EINVAL, "needs source_profile" },
		{ { NULL }, "[default]\nrole_arn = arn\nsource_profile = gone\n", -ENOENT, "source_profile gone" },
		{ { NULL }, "[default]\nrole_arn = arn\nsource_profile = a\n[profile a]\nrole_arn = arn\nsource_profile = default\n",
		  -ELOOP, "deeper than 4" },
		{ { NULL }, "[default]\nrole_arn = arn\ncredential_source = Ec2InstanceMetadata\n", -EOPNOTSUPP,
		  "credential_source" },
		{ { NULL }, "[default]\naws_access_key_id = A\n", -EINVAL, "must both be set" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aws_creds_provider *p = NULL;
		struct op_err e;
		int rc = select_with(cases[i].env, cases[i].config, NULL, &p, &e);

		if (rc != cases[i].rc || !strstr(e.message, cases[i].msg))
			fail_msg("case %zu: rc %d, message \"%s\"", i, rc, e.message);
		assert_null(p);
	}
}

static void test_creds__profile_kinds(void **state)
{
	static const char *const env_keys[] = { "AWS_PROFILE=ci", NULL };
	struct aws_creds_provider *p = NULL;
	struct op_err e;

	(void)state;
	/* role_arn + source_profile with static keys */
	assert_int_equal(select_with(env_keys,
				     "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\nsource_profile = base\n"
				     "role_session_name = ci-session\n",
				     "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = s\n", &p, &e),
			 0);
	assert_int_equal(p->source, AWS_CREDS_ASSUME_ROLE);
	assert_true(strstr(p->description, "arn:aws:iam::1:role/ci") != NULL);
	assert_true(strstr(p->description, "profile base static keys") != NULL);
	aws_creds_provider_free(p);
	/* role_arn + web_identity_token_file */
	assert_int_equal(select_with(env_keys,
				     "[profile ci]\nrole_arn = arn:aws:iam::1:role/wi\nweb_identity_token_file = /t\n",
				     NULL, &p, &e),
			 0);
	assert_int_equal(p->source, AWS_CREDS_WEB_IDENTITY);
	assert_true(strstr(p->description, "from profile ci") != NULL);
	aws_creds_provider_free(p);
	/* a profile without credentials falls through to IMDS */
	assert_int_equal(select_with(NULL, "[default]\nregion = eu-west-1\n", NULL, &p, &e), 0);
	assert_int_equal(p->source, AWS_CREDS_IMDS);
	aws_creds_provider_free(p);
}

/* --- providers through the fake transport ------------------------------------- */

static struct aws_client *chain_client(struct fake *f)
{
	struct aws_client_opts o = { 0 };

	fake_setenv(f, "FAKE_USE_CHAIN=1");
	return fake_client_opts(f, &o);
}

static void test_creds__web_identity_reads_token_and_calls_sts_unsigned(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_credentials *cr = NULL;
	char kv[300], h[256];
	struct op_err e;

	(void)state;
	fake_init(&f);
	snprintf(kv, sizeof(kv), "AWS_WEB_IDENTITY_TOKEN_FILE=%s", test_write_file("token", "eyJhbGciOi.payload.sig\n"));
	fake_setenv(&f, kv);
	fake_setenv(&f, "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/keyless-controller");
	fake_setenv(&f, "AWS_REGION=eu-west-1");
	fake_push_file(&f, 200, "aws-responses/aws-sts-assume-role-with-web-identity.xml");
	c = chain_client(&f);
	assert_int_equal(aws_client_credentials_kind(c), AWS_CREDS_WEB_IDENTITY);
	op_err_clear(&e);
	assert_int_equal(aws_client_credentials(c, &cr, &e), 0);
	assert_string_equal(cr->access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
	assert_string_equal(cr->session_token, "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
	assert_int_equal(cr->expiration_ns, INT64_C(1795888800) * NSEC_PER_SEC);
	aws_credentials_unref(cr);
	/* regional STS endpoint, unsigned, token from the file */
	assert_int_equal(f.n_seen, 1);
	assert_string_equal(f.seen[0].url, "https://sts.eu-west-1.amazonaws.com/");
	assert_null(fake_seen_header(&f.seen[0], "Authorization", h, sizeof(h)));
	assert_true(strstr(f.seen[0].body, "Action=AssumeRoleWithWebIdentity") != NULL);
	assert_true(strstr(f.seen[0].body, "WebIdentityToken=eyJhbGciOi.payload.sig&") != NULL ||
		    str_endswith(f.seen[0].body, "WebIdentityToken=eyJhbGciOi.payload.sig"));
	assert_true(strstr(f.seen[0].body, "RoleSessionName=keyless-1795885200") != NULL);
	aws_client_free(c);
	fake_release(&f);
}

static void test_creds__container_token_reread_each_time(void **state)
{
	struct fake f;
	struct aws_client *c;
	struct aws_credentials *cr = NULL;
	char kv[300], h[256];
	const char *tf;
	struct op_err e;

	(void)state;
	fake_init(&f);
	tf = test_write_file("pod-identity-token", "token-one\n");
	snprintf(kv, sizeof(kv), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s", tf);
	fake_setenv(&f, kv);
	fake_setenv(&f, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials");
	/* expires in 10 min: inside the 5 min margin after 5 min */
	fake_push(&f, 200,
		  "{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s1\",\"Token\":\"t1\",\"AccountId\":\"123456789012\","
		  "\"Expiration\":\"2026-11-28T17:10:00Z\"}");
	fake_push(&f, 200,
		  "{\"AccessKeyId\":\"ASIA2\",\"SecretAccessKey\":\"s2\",\"Token\":\"t2\","
		  "\"Expiration\":\"2026-11-28T18:10:00Z\"}");
	c = chain_client(&f);
	assert_int_equal(aws_client_credentials(c, &cr, &e), 0);
	assert_string_equal(cr->access_key_id, "ASIA1");
	aws_credentials_unref(cr);
	assert_string_equal(fake_seen_header(&f.seen[0], "Authorization", h, sizeof(h)), "token-one");
	assert_string_equal(f.seen[0].method, "GET");
	assert_string_equal(f.seen[0].url, "http://169.254.170.23/v1/credentials");
	/* the agent rotated the token; 6 minutes later the refresh sends the new one */
	test_write_file("pod-identity-token", "token-two");
	manual_clock_advance(&f.clock, 6 * 60 * NSEC_PER_SEC);
	assert_int_equal(aws_client_credentials(c, &cr, &e), 0);
	assert_string_equal(cr->access_key_id, "ASIA2");
	aws_credentials_unref(cr);
	assert_int_equal(f.n_seen, 2);
	assert_string_equal(fake_seen_header(&f.seen[1], "Authorization", h, sizeof(h)), "token-two");
	/* a token with a line break would inject headers: refused, nothing sent
	 * (18:11: ASIA2 expired at 18:10, so the failed refresh is an error) */
	test_write_file("pod-identity-token", "token-three\r\nX-Evil: 1\n");
	manual_clock_advance(&f.clock, 65 * 60 * NSEC_PER_SEC);
	op_err_clear(&e);
	assert_int_equal(aws_client_credentials(c, &cr, &e), -EINVAL);
	assert_true(strstr(e.message, "control characters") != NULL);
	assert_int_equal(f.n_seen, 2);
	aws_client_free(c);
	fake_release(&f);
}

static void test_creds__imds_v2_flow_and_v1_fallback(void **state)
{
	static const char creds_json[] = "{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-28T16:50:40Z\","
					 "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"x\","
					 "\"Token\":\"tok\",\"Expiration\":\"2026-11-28T23:00:00Z\"}";
	struct fake f;
	struct aws_client *c;
	struct aws_credentials *cr = NULL;
	char h[256];
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_setenv(&f, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338/");
	fake_push(&f, 200, "SESSIONTOKEN==");
	fake_push(&f, 200, "keyless-node-role\n");
	fake_push(&f, 200, creds_json);
	c = chain_client(&f);
	assert_int_equal(aws_client_credentials_kind(c), AWS_CREDS_IMDS);
	assert_int_equal(aws_client_credentials(c, &cr, &e), 0);
	assert_string_equal(cr->access_key_id, "ASIAIMDS");
	aws_credentials_unref(cr);
	assert_int_equal(f.n_seen, 3);
	assert_string_equal(f.seen[0].method, "PUT");
	assert_string_equal(f.seen[0].url, "http://127.0.0.1:1338/latest/api/token");
	assert_string_equal(fake_seen_header(&f.seen[0], "X-aws-ec2-metadata-token-ttl-seconds", h, sizeof(h)),
			    "21600");
	assert_string_equal(f.seen[1].url, "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/");
	assert_string_equal(fake_seen_header(&f.seen[1], "X-aws-ec2-metadata-token", h, sizeof(h)), "SESSIONTOKEN==");
	assert_string_equal(f.seen[2].url,
			    "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/keyless-node-role");
	assert_string_equal(fake_seen_header(&f.seen[2], "X-aws-ec2-metadata-token", h, sizeof(h)), "SESSIONTOKEN==");
	aws_client_free(c);
	fake_release(&f);

	/* token PUT refused with 403 -> IMDSv1 without the header */
	fake_init(&f);
	fake_setenv(&f, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338");
	fake_push(&f, 403, "");
	fake_push(&f, 200, "role");
	fake_push(&f, 200, creds_json);
	c = chain_client(&f);
	assert_int_equal(aws_client_credentials(c, &cr, &e), 0);
	aws_credentials_unref(cr);
	assert_null(fake_seen_header(&f.seen[1], "X-aws-ec2-metadata-token", h, sizeof(h)));
	aws_client_free(c);
	fake_release(&f);

	/* ... unless v1 is disabled; and a timeout is an error, not a fallback */
	fake_init(&f);
	fake_setenv(&f, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338");
	fake_setenv(&f, "AWS_EC2_METADATA_V1_DISABLED=true");
	fake_push(&f, 403, "");
	fake_push_err(&f, -ETIMEDOUT);
	c = chain_client(&f);
	op_err_clear(&e);
	assert_int_equal(aws_client_credentials(c, &cr, &e), -EACCES);
	/* a failed refresh is retried only after 30 s */
	manual_clock_advance(&f.clock, 31 * NSEC_PER_SEC);
	op_err_clear(&e);
	assert_int_equal(aws_client_credentials(c, &cr, &e), -ETIMEDOUT);
	assert_int_equal(f.n_seen, 2);
	aws_client_free(c);
	fake_release(&f);
}

/* --- the cache ------------------------------------------------------------------ */

struct scripted {
	struct aws_creds_provider base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int next_id;
	int64_t lifetime_ns;
	const struct clock *clock;
	bool block;   /* fetch waits until released */
	bool in_fetch;
	bool fail;
};

static int scripted_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
			  struct op_err *err)
{
	struct scripted *s = (struct scripted *)p;
	char id[32];
	int r;

	(void)c;
	pthread_mutex_lock(&s->lock);
	s->in_fetch = true;
	pthread_cond_broadcast(&s->cond);
	while (s->block)
		pthread_cond_wait(&s->cond, &s->lock);
	s->in_fetch = false;
	snprintf(id, sizeof(id), "AKID%d", ++s->next_id);
	r = s->fail ? op_err_set(err, -EIO, "scripted failure")
		    : aws_credentials_new(id, "secret", "token", clock_real_ns(s->clock) + s->lifetime_ns, ret);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void scripted_destroy(struct aws_creds_provider *p)
{
	(void)p; /* lives on the test's stack */
}

static void scripted_init(struct scripted *s, const struct clock *clock, int64_t lifetime)
{
	memset(s, 0, sizeof(*s));
	s->base.fetch = scripted_fetch;
	s->base.destroy = scripted_destroy;
	s->base.source = AWS_CREDS_STATIC;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->lifetime_ns = lifetime;
	s->clock = clock;
}

static const char *get_id(struct aws_creds_cache *cc, int *rc)
{
	static char id[32];
	struct aws_credentials *cr = NULL;

	*rc = aws_creds_cache_get(cc, NULL, &cr, NULL);
	if (*rc < 0)
		return NULL;
	snprintf(id, sizeof(id), "%s", cr->access_key_id);
	aws_credentials_unref(cr);
	return id;
}

static void test_creds__refresh_timing_with_margin(void **state)
{
	struct manual_clock mc;
	struct scripted s;
	struct aws_creds_cache *cc;
	int rc;

	(void)state;
	manual_clock_init(&mc, 0, INT64_C(1795885200) * NSEC_PER_SEC);
	scripted_init(&s, &mc.clock, 60 * 60 * NSEC_PER_SEC); /* 1 h credentials */
	assert_int_equal(aws_creds_cache_new(&s.base, &mc.clock, 0, &cc), 0);
	assert_string_equal(get_id(cc, &rc), "AKID1");
	/* reused until 5 minutes before expiry */
	manual_clock_advance(&mc, 55 * 60 * NSEC_PER_SEC - 1);
	assert_string_equal(get_id(cc, &rc), "AKID1");
	assert_int_equal(aws_creds_cache_fetches(cc), 1);
	manual_clock_advance(&mc, 1);
	assert_string_equal(get_id(cc, &rc), "AKID2");
	assert_int_equal(aws_creds_cache_fetches(cc), 2);

	/* a failing refresh keeps the old ones while valid, retries after 30 s */
	s.fail = true;
	manual_clock_advance(&mc, 56 * 60 * NSEC_PER_SEC); /* 4 min left */
	assert_string_equal(get_id(cc, &rc), "AKID2");
	assert_int_equal(aws_creds_cache_fetches(cc), 3);
	manual_clock_advance(&mc, 10 * NSEC_PER_SEC);
	assert_string_equal(get_id(cc, &rc), "AKID2");
	assert_int_equal(aws_creds_cache_fetches(cc), 3); /* no retry yet */
	manual_clock_advance(&mc, 21 * NSEC_PER_SEC);
	assert_string_equal(get_id(cc, &rc), "AKID2");
	assert_int_equal(aws_creds_cache_fetches(cc), 4);
	/* 10 s before expiry they are no longer handed out: error */
	manual_clock_advance(&mc, 3 * 60 * NSEC_PER_SEC + 19 * NSEC_PER_SEC);
	assert_null(get_id(cc, &rc));
	assert_int_equal(rc, -EIO);
	s.fail = false;
	assert_string_equal(get_id(cc, &rc), "AKID6");
	assert_int_equal(aws_creds_cache_fetches(cc), 6);
	aws_creds_cache_free(cc);
}

struct getter {
	struct aws_creds_cache *cc;
	char id[32];
	int rc;
};

static void *getter_thread(void *arg)
{
	struct getter *g = arg;
	struct aws_credentials *cr = NULL;

	g->rc = aws_creds_cache_get(g->cc, NULL, &cr, NULL);
	if (g->rc == 0) {
		snprintf(g->id, sizeof(g->id), "%s", cr->access_key_id);
		aws_credentials_unref(cr);
	}
	return NULL;
}

static void test_creds__refresh_does_not_block_other_threads(void **state)
{
	struct manual_clock mc;
	struct scripted s;
	struct aws_creds_cache *cc;
	struct getter g;
	pthread_t t;
	int rc;

	(void)state;
	manual_clock_init(&mc, 0, INT64_C(1795885200) * NSEC_PER_SEC);
	scripted_init(&s, &mc.clock, 60 * 60 * NSEC_PER_SEC);
	assert_int_equal(aws_creds_cache_new(&s.base, &mc.clock, 0, &cc), 0);
	assert_string_equal(get_id(cc, &rc), "AKID1");
	manual_clock_advance(&mc, 56 * 60 * NSEC_PER_SEC); /* inside the margin, still valid */

	/* thread A starts the refresh and hangs in it */
	s.block = true;
	g = (struct getter){ .cc = cc };
	assert_int_equal(pthread_create(&t, NULL, getter_thread, &g), 0);
	pthread_mutex_lock(&s.lock);
	while (!s.in_fetch)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);

	/* meanwhile every other caller gets the old credentials at once */
	for (int i = 0; i < 3; i++)
		assert_string_equal(get_id(cc, &rc), "AKID1");
	assert_int_equal(aws_creds_cache_fetches(cc), 2);

	pthread_mutex_lock(&s.lock);
	s.block = false;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	pthread_join(t, NULL);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.id, "AKID2");
	assert_string_equal(get_id(cc, &rc), "AKID2");
	aws_creds_cache_free(cc);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
}

static void test_creds__first_fetch_waiters_share_one_fetch(void **state)
{
	struct manual_clock mc;
	struct scripted s;
	struct aws_creds_cache *cc;
	struct getter g[3];
	pthread_t t[3];

	(void)state;
	manual_clock_init(&mc, 0, INT64_C(1795885200) * NSEC_PER_SEC);
	scripted_init(&s, &mc.clock, 60 * 60 * NSEC_PER_SEC);
	assert_int_equal(aws_creds_cache_new(&s.base, &mc.clock, 0, &cc), 0);
	s.block = true;
	for (int i = 0; i < 3; i++) {
		g[i] = (struct getter){ .cc = cc };
		assert_int_equal(pthread_create(&t[i], NULL, getter_thread, &g[i]), 0);
	}
	pthread_mutex_lock(&s.lock);
	while (!s.in_fetch)
		pthread_cond_wait(&s.cond, &s.lock);
	s.block = false;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(g[i].rc, 0);
		assert_string_equal(g[i].id, "AKID1");
	}
	/* nothing valid to hand out: they waited, and one fetch served all */
	assert_int_equal(aws_creds_cache_fetches(cc), 1);
	aws_creds_cache_free(cc);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
}

static int parse_doc(const char *doc, struct aws_credentials **ret, struct op_err *e)
{
	op_err_clear(e);
	return aws_creds_parse_json(doc, strlen(doc), ret, e);
}

static void test_creds__json_documents(void **state)
{
	struct aws_credentials *cr = NULL;
	struct op_err e;

	(void)state;
	assert_int_equal(parse_doc("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &cr, &e), 0);
	assert_null(cr->session_token);
	assert_int_equal(cr->expiration_ns, 0);
	aws_credentials_unref(cr);
	cr = NULL;
	assert_int_equal(parse_doc("{\"Code\":\"AssumeRoleUnauthorizedAccess\"}", &cr, &e), -EPROTO);
	assert_string_equal(e.reason, "AssumeRoleUnauthorizedAccess");
	assert_int_equal(parse_doc("{\"AccessKeyId\":\"A\"}", &cr, &e), -EPROTO);
	assert_int_equal(parse_doc("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}", &cr, &e),
			 -EPROTO);
	assert_int_equal(parse_doc("not json", &cr, &e), -EPROTO);
	/* a malformed document: the error quotes none of it */
	assert_int_equal(parse_doc("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRET\x01\"}", &cr, &e), -EPROTO);
	assert_null(strstr(e.message, "SECRET"));
	assert_int_equal(parse_doc("{\"AccessKeyId\":\"A\",\"Token\":\"SECRET\\q\"}", &cr, &e), -EPROTO);
	assert_null(strstr(e.message, "SECRET"));
	assert_null(cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creds__chain_precedence),
		cmocka_unit_test(test_creds__chain_half_configured_and_unsupported),
		cmocka_unit_test(test_creds__profile_kinds),
		cmocka_unit_test(test_creds__web_identity_reads_token_and_calls_sts_unsigned),
		cmocka_unit_test(test_creds__container_token_reread_each_time),
		cmocka_unit_test(test_creds__imds_v2_flow_and_v1_fallback),
		cmocka_unit_test(test_creds__refresh_timing_with_margin),
		cmocka_unit_test(test_creds__refresh_does_not_block_other_threads),
		cmocka_unit_test(test_creds__first_fetch_waiters_share_one_fetch),
		cmocka_unit_test(test_creds__json_documents),
	};

	return cmocka_run_group_tests_name("aws_creds", tests, test_tmpdir_setup, test_tmpdir_teardown);
}
