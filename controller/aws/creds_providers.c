/* The credential providers that talk to the network: web identity (STS),
 * container credentials (EKS Pod Identity agent, ECS), IMDSv2, AssumeRole. */
#include <errno.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <string.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "aws/sts.h"
#include "base/buf.h"
#include "base/str.h"

#define TOKEN_FILE_CAP ((size_t)64 << 10)

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Read a small secret file (a token), trimming trailing whitespace. */
static int read_token_file(const char *path, char **ret, struct op_err *err)
{
	FILE *f = fopen(path, "re");
	struct buf b = BUF_INIT(TOKEN_FILE_CAP);
	char chunk[4096];
	size_t n;
	int r = 0;

	if (!f)
		return op_err_set(err, -errno, "cannot read token file %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		r = buf_append(&b, chunk, n);
		if (r < 0)
			break;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	fclose(f);
	if (r < 0) {
		if (b.data)
			OPENSSL_cleanse(b.data, b.len);
		buf_release(&b);
		return op_err_set(err, r, "token file %s is larger than %zu bytes", path, TOKEN_FILE_CAP);
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	if (b.len == 0) {
		buf_release(&b);
		return op_err_set(err, -ENODATA, "token file %s is empty", path);
	}
	/* it goes into an HTTP header or a form field: one line of printable text */
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f) {
			OPENSSL_cleanse(b.data, b.len);
			buf_release(&b);
			return op_err_set(err, -EINVAL, "token file %s holds control characters", path);
		}
	*ret = buf_detach(&b);
	return 0;
}

static int from_assumed(struct sts_assumed_role *a, struct aws_credentials **ret, struct op_err *err)
{
	int r = aws_credentials_new(a->access_key_id, a->secret_access_key, a->session_token, a->expiration_ns, ret);

	return r < 0 ? op_err_set(err, r, "cannot store credentials") : 0;
}

/* --- web identity ---------------------------------------------------------- */

struct web_identity {
	struct aws_creds_provider base;
	char *role_arn;
	char *token_file;
	char *session_name;
};

static int web_identity_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
			      struct op_err *err)
{
	struct web_identity *w = (struct web_identity *)p;
	_cleanup_(sts_assumed_role_freep) struct sts_assumed_role *a = NULL;
	char session[64];
	char *token = NULL;
	int r;

	r = read_token_file(w->token_file, &token, err);
	if (r < 0)
		return r;
	if (w->session_name)
		str_copy(session, sizeof(session), w->session_name);
	else
		snprintf(session, sizeof(session), "keyless-%lld", (long long)(aws_client_now_ns(c) / NSEC_PER_SEC));
	r = sts_assume_role_with_web_identity(c,
					      &(struct sts_assume_role_input){
						      .role_arn = w->role_arn,
						      .role_session_name = session,
						      .web_identity_token = token,
					      },
					      &a, err);
	wipe_free(token);
	if (r < 0)
		return r;
	return from_assumed(a, ret, err);
}

static void web_identity_destroy(struct aws_creds_provider *p)
{
	struct web_identity *w = (struct web_identity *)p;

	free(w->role_arn);
	free(w->token_file);
	free(w->session_name);
	free(w);
}

int aws_creds_provider_web_identity(const char *role_arn, const char *token_file, const char *session_name,
				    const char *origin, struct aws_creds_provider **ret)
{
	struct web_identity *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->base.source = AWS_CREDS_WEB_IDENTITY;
	w->base.fetch = web_identity_fetch;
	w->base.destroy = web_identity_destroy;
	w->role_arn = strdup(role_arn);
	w->token_file = strdup(token_file);
	w->session_name = session_name ? strdup(session_name) : NULL;
	if (!w->role_arn || !w->token_file || (session_name && !w->session_name)) {
		web_identity_destroy(&w->base);
		return -ENOMEM;
	}
	str_format(w->base.description, sizeof(w->base.description), "role %s, token file %s%s%s, from %s", role_arn,
		 token_file, session_name ? ", session " : "", session_name ? session_name : "",
		 origin ? origin : "environment");
	*ret = &w->base;
	return 0;
}

/* --- container credentials -------------------------------------------------- */

struct container {
	struct aws_creds_provider base;
	char *url;
	char *token_file;
	char *token;
};

#define CONTAINER_ATTEMPTS 3
#define CONTAINER_TIMEOUT_MS 2000

static int container_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
			   struct op_err *err)
{
	struct container *k = (struct container *)p;
	struct aws_http_response resp;
	char *token = NULL;
	int r = 0;

	aws_http_response_init(&resp);
	for (int attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++) {
		struct sigv4_header h[1];
		struct aws_http_request req = {
			.method = "GET",
			.url = k->url,
			.headers = h,
			.timeout_ms = CONTAINER_TIMEOUT_MS,
			.connect_timeout_ms = CONTAINER_TIMEOUT_MS,
		};

		/* the token is re-read every time: the agent's token rotates */
		if (k->token_file) {
			r = read_token_file(k->token_file, &token, err);
			if (r < 0)
				break;
		}
		if (token || k->token) {
			h[0] = (struct sigv4_header){ "Authorization", token ? token : k->token };
			req.n_headers = 1;
		}
		aws_http_response_reset(&resp);
		r = aws_client_http(c, &req, &resp, err);
		wipe_free(token);
		token = NULL;
		if (r == 0 && resp.status == 200) {
			r = aws_creds_parse_json(resp.body.data, resp.body.len, ret, err);
			break;
		}
		if (r == 0) {
			r = op_err_set(err, resp.status == 401 || resp.status == 403 ? -EACCES : -EIO,
				       "container credentials endpoint %s answered HTTP %ld", k->url, resp.status);
			if (err)
				err->http_status = (int)resp.status;
			if (resp.status < 500 && resp.status != 429)
				break;
		}
		if (attempt < CONTAINER_ATTEMPTS)
			aws_client_sleep(c, NSEC_PER_SEC / 2);
	}
	aws_http_response_release(&resp);
	return r;
}

static void container_destroy(struct aws_creds_provider *p)
{
	struct container *k = (struct container *)p;

	free(k->url);
	free(k->token_file);
	wipe_free(k->token);
	free(k);
}

int aws_creds_provider_container(const char *url, const char *token_file, const char *token,
				 struct aws_creds_provider **ret)
{
	struct container *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->base.source = AWS_CREDS_CONTAINER;
	k->base.fetch = container_fetch;
	k->base.destroy = container_destroy;
	k->url = strdup(url);
	k->token_file = token_file ? strdup(token_file) : NULL;
	k->token = token ? strdup(token) : NULL;
	if (!k->url || (token_file && !k->token_file) || (token && !k->token)) {
		container_destroy(&k->base);
		return -ENOMEM;
	}
	str_format(k->base.description, sizeof(k->base.description), "%s, authorization %s%s", url,
		 token_file ? "token file " : token ? "token from AWS_CONTAINER_AUTHORIZATION_TOKEN" : "none",
		 token_file ? token_file : "");
	*ret = &k->base;
	return 0;
}

/* --- IMDS ------------------------------------------------------------------- */

struct imds {
	struct aws_creds_provider base;
	char *endpoint;
	long timeout_ms;
	int attempts;
	bool v1_disabled;
};

/* One IMDS request with the provider's timeouts and attempts. */
static int imds_request(struct imds *m, struct aws_client *c, const char *method, const char *path,
			const struct sigv4_header *h, size_t nh, struct aws_http_response *resp, struct op_err *err)
{
	_cleanup_free_ char *url = NULL;
	int r = 0;

	if (asprintf(&url, "%s%s", m->endpoint, path) < 0) {
		url = NULL;
		return op_err_set(err, -ENOMEM, "out of memory");
	}
	for (int attempt = 1; attempt <= m->attempts; attempt++) {
		struct aws_http_request req = {
			.method = method,
			.url = url,
			.headers = h,
			.n_headers = nh,
			.body = streq(method, "PUT") ? "" : NULL,
			.timeout_ms = m->timeout_ms,
			.connect_timeout_ms = m->timeout_ms,
		};

		aws_http_response_reset(resp);
		r = aws_client_http(c, &req, resp, err);
		if (r == 0 && resp->status < 500)
			return 0;
		if (r == 0)
			r = op_err_set(err, -EIO, "IMDS %s %s answered HTTP %ld", method, path, resp->status);
	}
	return r;
}

static int imds_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
		      struct op_err *err)
{
	struct imds *m = (struct imds *)p;
	static const char creds_path[] = "/latest/meta-data/iam/security-credentials/";
	struct sigv4_header th[] = { { "X-aws-ec2-metadata-token-ttl-seconds", "21600" } };
	struct sigv4_header ah[1];
	size_t nah = 0;
	struct aws_http_response resp;
	_cleanup_free_ char *token = NULL, *path = NULL;
	char role[256];
	int r;

	aws_http_response_init(&resp);
	r = imds_request(m, c, "PUT", "/latest/api/token", th, 1, &resp, err);
	if (r < 0)
		goto out;
	if (resp.status == 200 && resp.body.len) {
		token = strndup(resp.body.data, resp.body.len);
		if (!token) {
			r = op_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		ah[0] = (struct sigv4_header){ "X-aws-ec2-metadata-token", token };
		nah = 1;
	} else if ((resp.status == 403 || resp.status == 404 || resp.status == 405) && !m->v1_disabled) {
		/* IMDSv1 fallback, as the SDKs do */
	} else {
		r = op_err_set(err, -EACCES, "IMDS token request answered HTTP %ld", resp.status);
		goto out;
	}
	r = imds_request(m, c, "GET", creds_path, ah, nah, &resp, err);
	if (r < 0)
		goto out;
	if (resp.status != 200 || resp.body.len == 0) {
		r = op_err_set(err, resp.status == 404 ? -ENOKEY : -EACCES,
			       "IMDS: no instance role (%s answered HTTP %ld)", creds_path, resp.status);
		goto out;
	}
	{
		size_t n = strcspn(resp.body.data, "\r\n");

		if (n == 0 || n >= sizeof(role)) {
			r = op_err_set(err, -EPROTO, "IMDS: malformed role name");
			goto out;
		}
		memcpy(role, resp.body.data, n);
		role[n] = '\0';
	}
	if (strchr(role, '/') || strchr(role, '?')) {
		r = op_err_set(err, -EPROTO, "IMDS: malformed role name");
		goto out;
	}
	if (asprintf(&path, "%s%s", creds_path, role) < 0) {
		path = NULL;
		r = op_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = imds_request(m, c, "GET", path, ah, nah, &resp, err);
	if (r < 0)
		goto out;
	if (resp.status != 200) {
		r = op_err_set(err, -EACCES, "IMDS: credentials of role %s answered HTTP %ld", role, resp.status);
		goto out;
	}
	r = aws_creds_parse_json(resp.body.data, resp.body.len, ret, err);
out:
	if (token)
		OPENSSL_cleanse(token, strlen(token));
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	aws_http_response_release(&resp);
	return r;
}

static void imds_destroy(struct aws_creds_provider *p)
{
	struct imds *m = (struct imds *)p;

	free(m->endpoint);
	free(m);
}

int aws_creds_provider_imds(const char *endpoint, long timeout_ms, int attempts, bool v1_disabled,
			    struct aws_creds_provider **ret)
{
	struct imds *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->base.source = AWS_CREDS_IMDS;
	m->base.fetch = imds_fetch;
	m->base.destroy = imds_destroy;
	m->endpoint = strdup(endpoint);
	m->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	m->attempts = attempts > 0 ? attempts : 1;
	m->v1_disabled = v1_disabled;
	if (!m->endpoint) {
		imds_destroy(&m->base);
		return -ENOMEM;
	}
	str_format(m->base.description, sizeof(m->base.description), "instance metadata %s (IMDSv2%s, %ld ms timeout)",
		 endpoint, v1_disabled ? " only" : ", v1 fallback", m->timeout_ms);
	*ret = &m->base;
	return 0;
}

/* --- AssumeRole (profile role_arn) ------------------------------------------ */

struct assume_role {
	struct aws_creds_provider base;
	struct aws_creds_provider *source;
	struct aws_creds_cache *source_cache;
	char *role_arn;
	char *session_name;
	char *external_id;
	int duration;
};

static int assume_role_fetch(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
			     struct op_err *err)
{
	struct assume_role *a = (struct assume_role *)p;
	_cleanup_(aws_credentials_unrefp) struct aws_credentials *src = NULL;
	_cleanup_(sts_assumed_role_freep) struct sts_assumed_role *out = NULL;
	char session[64];
	int r;

	r = aws_creds_cache_get(a->source_cache, c, &src, err);
	if (r < 0)
		return r;
	if (a->session_name)
		str_copy(session, sizeof(session), a->session_name);
	else
		snprintf(session, sizeof(session), "keyless-%lld", (long long)(aws_client_now_ns(c) / NSEC_PER_SEC));
	r = sts_assume_role(c, src,
			    &(struct sts_assume_role_input){
				    .role_arn = a->role_arn,
				    .role_session_name = session,
				    .external_id = a->external_id,
				    .duration_seconds = a->duration,
			    },
			    &out, err);
	if (r < 0)
		return r;
	return from_assumed(out, ret, err);
}

static void assume_role_destroy(struct aws_creds_provider *p)
{
	struct assume_role *a = (struct assume_role *)p;

	aws_creds_cache_free(a->source_cache); /* owns a->source */
	free(a->role_arn);
	free(a->session_name);
	free(a->external_id);
	free(a);
}

int aws_creds_provider_assume_role(struct aws_creds_provider *source, const char *role_arn, const char *session_name,
				   const char *external_id, int duration_seconds, const char *origin,
				   struct aws_creds_provider **ret)
{
	struct assume_role *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->base.source = AWS_CREDS_ASSUME_ROLE;
	a->base.fetch = assume_role_fetch;
	a->base.destroy = assume_role_destroy;
	a->role_arn = strdup(role_arn);
	a->session_name = session_name ? strdup(session_name) : NULL;
	a->external_id = external_id ? strdup(external_id) : NULL;
	a->duration = duration_seconds;
	if (!a->role_arn || (session_name && !a->session_name) || (external_id && !a->external_id) ||
	    aws_creds_cache_new(source, NULL, 0, &a->source_cache) < 0) {
		free(a->role_arn);
		free(a->session_name);
		free(a->external_id);
		free(a);
		return -ENOMEM;
	}
	a->source = source;
	str_format(a->base.description, sizeof(a->base.description), "role %s, %s", role_arn,
		 origin ? origin : "profile");
	*ret = &a->base;
	return 0;
}
