#include "aws/creds.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"

/* --- credentials ---------------------------------------------------------- */

int aws_credentials_new(const char *access_key_id, const char *secret_access_key, const char *session_token,
			int64_t expiration_ns, struct aws_credentials **ret)
{
	struct aws_credentials *c;

	if (!access_key_id || !*access_key_id || !secret_access_key || !*secret_access_key)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->access_key_id = strdup(access_key_id);
	c->secret_access_key = strdup(secret_access_key);
	c->session_token = session_token && *session_token ? strdup(session_token) : NULL;
	c->expiration_ns = expiration_ns;
	atomic_init(&c->refs, 1);
	if (!c->access_key_id || !c->secret_access_key || (session_token && *session_token && !c->session_token)) {
		aws_credentials_unref(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct aws_credentials *aws_credentials_ref(struct aws_credentials *c)
{
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void aws_credentials_unref(struct aws_credentials *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c);
}

struct sigv4_credentials aws_credentials_sigv4(const struct aws_credentials *c)
{
	return (struct sigv4_credentials){
		.access_key_id = c->access_key_id,
		.secret_access_key = c->secret_access_key,
		.session_token = c->session_token,
	};
}

const char *aws_creds_source_name(enum aws_creds_source s)
{
	static const char *const names[] = {
		[AWS_CREDS_NONE] = "none",
		[AWS_CREDS_STATIC] = "static",
		[AWS_CREDS_ENV] = "environment",
		[AWS_CREDS_WEB_IDENTITY] = "web-identity",
		[AWS_CREDS_CONTAINER] = "container",
		[AWS_CREDS_PROFILE] = "shared-profile",
		[AWS_CREDS_ASSUME_ROLE] = "assume-role",
		[AWS_CREDS_IMDS] = "imds",
	};

	return s >= 0 && (size_t)s < ARRAY_SIZE(names) ? names[s] : "?";
}

int aws_creds_parse_json(const char *text, size_t len, struct aws_credentials **ret, struct op_err *err)
{
	json_t *j = json_loadb(text ? text : "", len, 0, NULL);
	const char *akid, *secret, *token, *exp, *code;
	int64_t exp_ns = 0;
	int r;

	if (!j || !json_is_object(j)) {
		json_decref(j);
		return op_err_set(err, -EPROTO, "credentials response is not a JSON object");
	}
	code = json_string_value(json_object_get(j, "Code"));
	if (code && !streq(code, "Success")) {
		r = op_err_setr(err, -EPROTO, code, "credentials endpoint answered Code=%s", code);
		json_decref(j);
		return r;
	}
	akid = json_string_value(json_object_get(j, "AccessKeyId"));
	secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	token = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (!akid || !*akid || !secret || !*secret) {
		json_decref(j);
		return op_err_set(err, -EPROTO, "credentials response lacks AccessKeyId or SecretAccessKey");
	}
	if (exp && rfc3339_parse(exp, &exp_ns) < 0) {
		r = op_err_set(err, -EPROTO, "credentials response has a malformed Expiration \"%s\"", exp);
		json_decref(j);
		return r;
	}
	r = aws_credentials_new(akid, secret, token, exp_ns, ret);
	json_decref(j);
	return r < 0 ? op_err_set(err, r, "cannot store credentials") : 0;
}

/* --- providers: common + static -------------------------------------------- */

void aws_creds_provider_free(struct aws_creds_provider *p)
{
	if (p && p->destroy)
		p->destroy(p);
}

struct static_provider {
	struct aws_creds_provider base;
	struct aws_credentials *creds;
};

static int static_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
			struct op_err *err)
{
	struct static_provider *s = (struct static_provider *)p;

	(void)c;
	(void)err;
	*ret = aws_credentials_ref(s->creds);
	return 0;
}

static void static_destroy(struct aws_creds_provider *p)
{
	struct static_provider *s = (struct static_provider *)p;

	aws_credentials_unref(s->creds);
	free(s);
}

int aws_creds_provider_static(struct aws_credentials *creds, enum aws_creds_source source, const char *description,
			      struct aws_creds_provider **ret)
{
	struct static_provider *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->base.source = source;
	str_copy(s->base.description, sizeof(s->base.description), description ? description : "static");
	s->base.fetch = static_fetch;
	s->base.destroy = static_destroy;
	s->creds = aws_credentials_ref(creds);
	*ret = &s->base;
	return 0;
}

/* --- chain selection ------------------------------------------------------ */

static int from_keys(const char *akid, const char *secret, const char *token, enum aws_creds_source src,
		     const char *desc, struct aws_creds_provider **ret, struct op_err *err)
{
	_cleanup_(aws_credentials_unrefp) struct aws_credentials *c = NULL;
	int r = aws_credentials_new(akid, secret, token, 0, &c);

	if (r < 0)
		return op_err_set(err, r, "%s: cannot use the access keys", desc);
	r = aws_creds_provider_static(c, src, desc, ret);
	return r < 0 ? op_err_set(err, r, "out of memory") : 0;
}

static bool container_host_allowed(const struct aws_url *u)
{
	static const char *const hosts[] = { "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost", "::1" };

	if (streq(u->scheme, "https"))
		return true;
	if (str_startswith(u->host, "127."))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++)
		if (strcasecmp(u->host, hosts[i]) == 0)
			return true;
	return false;
}

static int select_container(const struct aws_env *env, struct aws_creds_provider **ret, struct op_err *err)
{
	const char *full = aws_env_get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = aws_env_get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *tfile = aws_env_get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = aws_env_get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	_cleanup_free_ char *url = NULL;
	struct aws_url u;
	int r;

	if (rel) {
		if (asprintf(&url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel) < 0)
			return -ENOMEM;
	} else {
		url = strdup(full);
		if (!url)
			return -ENOMEM;
		if (aws_url_parse(url, &u) < 0)
			return op_err_set(err, -EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
		if (!container_host_allowed(&u))
			return op_err_set(err, -EINVAL,
					  "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to loopback, "
					  "169.254.170.2, 169.254.170.23 or fd00:ec2::23, not %s",
					  u.host);
	}
	r = aws_creds_provider_container(url, tfile, tfile ? NULL : tok, ret);
	return r < 0 ? op_err_set(err, r, "out of memory") : 0;
}

static int select_imds(const struct aws_env *env, struct aws_creds_provider **ret, struct op_err *err)
{
	const char *ep = aws_env_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = aws_env_get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *t = aws_env_get(env, "AWS_METADATA_SERVICE_TIMEOUT");
	const char *a = aws_env_get(env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS");
	char endpoint[512];
	long timeout_s = 1, attempts = 1;
	size_t n;
	int r;

	if (t && str_to_long(t, 1, 300, &timeout_s) < 0)
		return op_err_set(err, -EINVAL, "AWS_METADATA_SERVICE_TIMEOUT must be a number of seconds (1..300)");
	if (a && str_to_long(a, 1, 10, &attempts) < 0)
		return op_err_set(err, -EINVAL, "AWS_METADATA_SERVICE_NUM_ATTEMPTS must be 1..10");
	if (ep)
		str_copy(endpoint, sizeof(endpoint), ep);
	else if (mode && strcasecmp(mode, "IPv6") == 0)
		str_copy(endpoint, sizeof(endpoint), "http://[fd00:ec2::254]");
	else
		str_copy(endpoint, sizeof(endpoint), "http://169.254.169.254");
	n = strlen(endpoint);
	while (n && endpoint[n - 1] == '/')
		endpoint[--n] = '\0';
	r = aws_creds_provider_imds(endpoint, timeout_s * 1000, (int)attempts,
				    aws_env_true(env, "AWS_EC2_METADATA_V1_DISABLED"), ret);
	return r < 0 ? op_err_set(err, r, "out of memory") : 0;
}

static int select_profile(const struct aws_env *env, const struct aws_shared_config *cfg, const char *profile,
			  int depth, struct aws_creds_provider **ret, struct op_err *err)
{
	const char *role = aws_shared_config_get(cfg, profile, "role_arn");
	const char *akid = aws_shared_config_get(cfg, profile, "aws_access_key_id");
	const char *secret = aws_shared_config_get(cfg, profile, "aws_secret_access_key");
	const char *token = aws_shared_config_get(cfg, profile, "aws_session_token");
	char desc[512];
	int r;

	if (depth > 4)
		return op_err_set(err, -ELOOP, "profile %s: source_profile chain deeper than 4 (a cycle?)", profile);
	if (role) {
		const char *wif = aws_shared_config_get(cfg, profile, "web_identity_token_file");
		const char *src = aws_shared_config_get(cfg, profile, "source_profile");
		const char *csrc = aws_shared_config_get(cfg, profile, "credential_source");
		const char *sess = aws_shared_config_get(cfg, profile, "role_session_name");
		const char *ext = aws_shared_config_get(cfg, profile, "external_id");
		const char *dur = aws_shared_config_get(cfg, profile, "duration_seconds");
		struct aws_creds_provider *source = NULL;
		long duration = 0;

		if (wif) {
			str_format(desc, sizeof(desc), "profile %s", profile);
			r = aws_creds_provider_web_identity(role, wif, sess, desc, ret);
			return r < 0 ? op_err_set(err, r, "out of memory") : 0;
		}
		if (dur && str_to_long(dur, 900, 43200, &duration) < 0)
			return op_err_set(err, -EINVAL, "profile %s: duration_seconds must be 900..43200", profile);
		if (src && csrc)
			return op_err_set(err, -EINVAL, "profile %s: both source_profile and credential_source are set",
					  profile);
		if (src) {
			if (!aws_shared_config_has_profile(cfg, src))
				return op_err_set(err, -ENOENT, "profile %s: source_profile %s does not exist", profile,
						  src);
			/* a profile naming itself uses its own static keys */
			if (streq(src, profile)) {
				if (!akid || !secret)
					return op_err_set(err, -EINVAL,
							  "profile %s: source_profile is itself but has no static keys",
							  profile);
				str_format(desc, sizeof(desc), "profile %s static keys", profile);
				r = from_keys(akid, secret, token, AWS_CREDS_PROFILE, desc, &source, err);
			} else {
				r = select_profile(env, cfg, src, depth + 1, &source, err);
			}
			if (r < 0)
				return r;
		} else if (csrc) {
			if (strcasecmp(csrc, "Environment") != 0)
				return op_err_set(err, -EOPNOTSUPP,
						  "profile %s: credential_source = %s is not supported (only Environment)",
						  profile, csrc);
			if (!aws_env_get(env, "AWS_ACCESS_KEY_ID") || !aws_env_get(env, "AWS_SECRET_ACCESS_KEY"))
				return op_err_set(err, -EINVAL,
						  "profile %s: credential_source = Environment but AWS_ACCESS_KEY_ID / "
						  "AWS_SECRET_ACCESS_KEY are not set",
						  profile);
			r = from_keys(aws_env_get(env, "AWS_ACCESS_KEY_ID"), aws_env_get(env, "AWS_SECRET_ACCESS_KEY"),
				      aws_env_get(env, "AWS_SESSION_TOKEN"), AWS_CREDS_ENV,
				      "credential_source Environment", &source, err);
			if (r < 0)
				return r;
		} else {
			return op_err_set(err, -EINVAL,
					  "profile %s: role_arn needs source_profile, credential_source or "
					  "web_identity_token_file",
					  profile);
		}
		str_format(desc, sizeof(desc), "profile %s role_arn, source %s: %s", profile,
			  aws_creds_source_name(source->source), source->description);
		r = aws_creds_provider_assume_role(source, role, sess, ext, (int)duration, desc, ret);
		if (r < 0) {
			aws_creds_provider_free(source);
			return op_err_set(err, r, "out of memory");
		}
		return 0;
	}
	if (aws_shared_config_get(cfg, profile, "credential_process"))
		return op_err_set(err, -EOPNOTSUPP, "profile %s: credential_process is not supported by keyless",
				  profile);
	if (aws_shared_config_get(cfg, profile, "sso_session") || aws_shared_config_get(cfg, profile, "sso_start_url"))
		return op_err_set(err, -EOPNOTSUPP, "profile %s: SSO credentials are not supported by keyless", profile);
	if (akid || secret) {
		if (!akid || !secret)
			return op_err_set(err, -EINVAL,
					  "profile %s: aws_access_key_id and aws_secret_access_key must both be set",
					  profile);
		str_format(desc, sizeof(desc), "profile %s static keys", profile);
		return from_keys(akid, secret, token, AWS_CREDS_PROFILE, desc, ret, err);
	}
	return -ENODATA; /* the profile does not provide credentials */
}

int aws_creds_chain_select(const struct aws_env *env, const struct aws_shared_config *cfg, const char *profile,
			   struct aws_creds_provider **ret, struct op_err *err)
{
	const char *akid = aws_env_get(env, "AWS_ACCESS_KEY_ID");
	const char *secret = aws_env_get(env, "AWS_SECRET_ACCESS_KEY");
	const char *role = aws_env_get(env, "AWS_ROLE_ARN");
	const char *tokfile = aws_env_get(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
	bool named = aws_env_get(env, "AWS_PROFILE") != NULL || profile != NULL;
	char desc[512];
	int r;

	/* 1. environment */
	if (akid || secret) {
		if (!akid || !secret)
			return op_err_set(err, -EINVAL, "%s is set but %s is not",
					  akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
					  akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		str_format(desc, sizeof(desc), "AWS_ACCESS_KEY_ID=...%s%s",
			 strlen(akid) > 4 ? akid + strlen(akid) - 4 : "",
			 aws_env_get(env, "AWS_SESSION_TOKEN") ? " with AWS_SESSION_TOKEN" : "");
		return from_keys(akid, secret, aws_env_get(env, "AWS_SESSION_TOKEN"), AWS_CREDS_ENV, desc, ret, err);
	}
	/* 2. web identity */
	if (tokfile || role) {
		if (!tokfile || !role)
			return op_err_set(err, -EINVAL, "%s is set but %s is not",
					  tokfile ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
					  tokfile ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
		r = aws_creds_provider_web_identity(role, tokfile, aws_env_get(env, "AWS_ROLE_SESSION_NAME"),
						    "environment", ret);
		return r < 0 ? op_err_set(err, r, "out of memory") : 0;
	}
	/* 3. container */
	if (aws_env_get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") ||
	    aws_env_get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
		return select_container(env, ret, err);
	/* 4. shared files */
	if (!profile)
		profile = aws_profile_name(env);
	if (aws_shared_config_has_profile(cfg, profile)) {
		r = select_profile(env, cfg, profile, 0, ret, err);
		if (r != -ENODATA)
			return r;
	} else if (named) {
		return op_err_set(err, -ENOENT, "profile %s (AWS_PROFILE) is in neither the config nor the credentials file",
				  profile);
	}
	/* 5. IMDS */
	if (!aws_env_true(env, "AWS_EC2_METADATA_DISABLED"))
		return select_imds(env, ret, err);
	return op_err_set(err, -ENOKEY,
			  "no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID, AWS_ROLE_ARN + "
			  "AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_FULL_URI), profile %s has none, "
			  "and IMDS is disabled (AWS_EC2_METADATA_DISABLED)",
			  profile);
}

/* --- cache ---------------------------------------------------------------- */

struct aws_creds_cache {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct aws_creds_provider *provider;
	struct aws_credentials *current;
	bool refreshing;
	int64_t retry_at_ns; /* after a failed refresh: not before this (mono) */
	int64_t margin_ns;
	const struct clock *clock;
	unsigned fetches;
};

int aws_creds_cache_new(struct aws_creds_provider *p, const struct clock *clock, int64_t margin_ns,
			struct aws_creds_cache **ret)
{
	struct aws_creds_cache *cc = calloc(1, sizeof(*cc));

	if (!cc)
		return -ENOMEM;
	pthread_mutex_init(&cc->lock, NULL);
	pthread_cond_init(&cc->cond, NULL);
	cc->provider = p;
	cc->clock = clock;
	cc->margin_ns = margin_ns > 0 ? margin_ns : AWS_CREDS_REFRESH_MARGIN_DEFAULT;
	*ret = cc;
	return 0;
}

void aws_creds_cache_free(struct aws_creds_cache *cc)
{
	if (!cc)
		return;
	aws_credentials_unref(cc->current);
	aws_creds_provider_free(cc->provider);
	pthread_cond_destroy(&cc->cond);
	pthread_mutex_destroy(&cc->lock);
	free(cc);
}

unsigned aws_creds_cache_fetches(struct aws_creds_cache *cc)
{
	unsigned n;

	pthread_mutex_lock(&cc->lock);
	n = cc->fetches;
	pthread_mutex_unlock(&cc->lock);
	return n;
}

const struct aws_creds_provider *aws_creds_cache_provider(const struct aws_creds_cache *cc)
{
	return cc->provider;
}

static bool fresh(const struct aws_credentials *c, int64_t now, int64_t margin)
{
	return c && (c->expiration_ns == 0 || now < c->expiration_ns - margin);
}

static bool usable(const struct aws_credentials *c, int64_t now)
{
	return c && (c->expiration_ns == 0 || now < c->expiration_ns - AWS_CREDS_EXPIRY_SAFETY);
}

int aws_creds_cache_get(struct aws_creds_cache *cc, struct aws_client *c, struct aws_credentials **ret,
			struct op_err *err)
{
	struct aws_credentials *got = NULL;
	int r;

	pthread_mutex_lock(&cc->lock);
	for (;;) {
		int64_t now = clock_real_ns(cc->clock);

		if (fresh(cc->current, now, cc->margin_ns)) {
			*ret = aws_credentials_ref(cc->current);
			pthread_mutex_unlock(&cc->lock);
			return 0;
		}
		if (usable(cc->current, now) &&
		    (cc->refreshing || clock_mono_ns(cc->clock) < cc->retry_at_ns)) {
			/* someone refreshes, or a refresh failed recently: old ones still work */
			*ret = aws_credentials_ref(cc->current);
			pthread_mutex_unlock(&cc->lock);
			return 0;
		}
		if (!cc->refreshing)
			break;
		pthread_cond_wait(&cc->cond, &cc->lock);
	}
	cc->refreshing = true;
	cc->fetches++;
	pthread_mutex_unlock(&cc->lock);

	r = cc->provider->fetch(cc->provider, c, &got, err);

	pthread_mutex_lock(&cc->lock);
	cc->refreshing = false;
	if (r >= 0) {
		aws_credentials_unref(cc->current);
		cc->current = got;
		cc->retry_at_ns = 0;
		*ret = aws_credentials_ref(got);
		r = 0;
	} else {
		int64_t now = clock_real_ns(cc->clock);

		cc->retry_at_ns = clock_mono_ns(cc->clock) + AWS_CREDS_RETRY_AFTER;
		if (usable(cc->current, now)) {
			*ret = aws_credentials_ref(cc->current);
			r = 0;
		}
	}
	pthread_cond_broadcast(&cc->cond);
	pthread_mutex_unlock(&cc->lock);
	return r;
}
