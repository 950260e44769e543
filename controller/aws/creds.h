/* creds.h: AWS credentials, the SDK credential chain, and a refreshing cache.
 *
 * The chain (aws_creds_chain_select), in this order; the first source that is
 * *configured* is chosen (a configured source that then fails is an error, it
 * does not fall through), without any network access:
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *   2. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
 *      (+ AWS_ROLE_SESSION_NAME): the token file is read at each refresh and
 *      sent to sts:AssumeRoleWithWebIdentity, unsigned, at the STS endpoint
 *      (regional unless AWS_STS_REGIONAL_ENDPOINTS=legacy);
 *   3. container credentials (EKS Pod Identity, ECS):
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI (http only to loopback,
 *      169.254.170.2, 169.254.170.23 or fd00:ec2::23; https anywhere) or
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2<uri>),
 *      with the Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *      (re-read at each refresh) or AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *   4. the shared files' profile ($AWS_PROFILE or "default", see config.h):
 *      role_arn + web_identity_token_file (as 2.), role_arn + source_profile
 *      (sts:AssumeRole signed with the source profile's credentials, chains up
 *      to 4 deep) or role_arn + credential_source = Environment, static
 *      aws_access_key_id + aws_secret_access_key (+ aws_session_token).
 *      credential_process and SSO are refused with -EOPNOTSUPP;
 *   5. IMDSv2 (EC2 instance role) unless AWS_EC2_METADATA_DISABLED=true: token
 *      PUT, role name, credentials; endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT
 *      (default http://169.254.169.254), timeout AWS_METADATA_SERVICE_TIMEOUT
 *      (1 s) and AWS_METADATA_SERVICE_NUM_ATTEMPTS (1); falls back to IMDSv1
 *      when the token PUT answers 403/404/405, unless
 *      AWS_EC2_METADATA_V1_DISABLED=true.
 * An explicitly named AWS_PROFILE that exists in neither file is an error.
 * Nothing here logs: the client describes the chosen source (no secrets) and
 * its caller logs it once.
 */
#ifndef KEYLESS_AWS_CREDS_H
#define KEYLESS_AWS_CREDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/config.h"
#include "aws/endpoint.h"
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/err.h"

/* Immutable and reference-counted: threads share one set while it is valid. */
struct aws_credentials {
	char *access_key_id;
	char *secret_access_key; /* never log */
	char *session_token;     /* NULL for long-term keys; never log */
	int64_t expiration_ns;   /* 0 = does not expire */
	atomic_int refs;
};

/* New credentials with one reference. token may be NULL. */
int aws_credentials_new(const char *access_key_id, const char *secret_access_key, const char *session_token,
			int64_t expiration_ns, struct aws_credentials **ret);
struct aws_credentials *aws_credentials_ref(struct aws_credentials *c);
void aws_credentials_unref(struct aws_credentials *c); /* wipes secrets on the last unref */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct aws_credentials *, aws_credentials_unref)

/* A borrowed view for the signer. */
struct sigv4_credentials aws_credentials_sigv4(const struct aws_credentials *c);

enum aws_creds_source {
	AWS_CREDS_NONE,         /* anonymous: only unsigned calls */
	AWS_CREDS_STATIC,       /* given by the program */
	AWS_CREDS_ENV,
	AWS_CREDS_WEB_IDENTITY,
	AWS_CREDS_CONTAINER,
	AWS_CREDS_PROFILE,      /* static keys from a shared file */
	AWS_CREDS_ASSUME_ROLE,  /* profile role_arn */
	AWS_CREDS_IMDS,
};

const char *aws_creds_source_name(enum aws_creds_source s);

struct aws_client;

/* A credential source. fetch returns new credentials (one reference) or
 * -errno with err set; it may do network I/O through the client c. */
struct aws_creds_provider {
	enum aws_creds_source source;
	char description[512]; /* for the caller's log line; never secrets */
	int (*fetch)(struct aws_creds_provider *p, struct aws_client *c, struct aws_credentials **ret,
		     struct op_err *err);
	void (*destroy)(struct aws_creds_provider *p);
};

void aws_creds_provider_free(struct aws_creds_provider *p);

/* Choose the source as described above. cfg may be NULL (no shared files).
 * profile NULL = aws_profile_name(env). Returns 0, -ENOKEY (nothing
 * configured and IMDS disabled), -EINVAL (half-configured source),
 * -EOPNOTSUPP, -ENOENT (named profile missing). */
int aws_creds_chain_select(const struct aws_env *env, const struct aws_shared_config *cfg, const char *profile,
			   struct aws_creds_provider **ret, struct op_err *err);

/* A provider returning fixed credentials (takes a reference). */
int aws_creds_provider_static(struct aws_credentials *creds, enum aws_creds_source source, const char *description,
			      struct aws_creds_provider **ret);

/* The network-backed providers (creds_providers.c). Strings are copied. */

/* sts:AssumeRoleWithWebIdentity with the token read from token_file at each
 * fetch. session_name NULL = "keyless-<unix seconds>". */
int aws_creds_provider_web_identity(const char *role_arn, const char *token_file, const char *session_name,
				    const char *origin, struct aws_creds_provider **ret);

/* GET url with "Authorization: <token>" (token re-read from token_file at each
 * fetch when given, else the fixed token, else no header). */
int aws_creds_provider_container(const char *url, const char *token_file, const char *token,
				 struct aws_creds_provider **ret);

/* IMDS at endpoint (no trailing '/'), timeout per request, attempts >= 1. */
int aws_creds_provider_imds(const char *endpoint, long timeout_ms, int attempts, bool v1_disabled,
			    struct aws_creds_provider **ret);

/* sts:AssumeRole signed with the credentials of `source` (owned). */
int aws_creds_provider_assume_role(struct aws_creds_provider *source, const char *role_arn, const char *session_name,
				   const char *external_id, int duration_seconds, const char *origin,
				   struct aws_creds_provider **ret);

/* --- the cache ---------------------------------------------------------------
 * Holds the provider's current credentials. aws_creds_cache_get():
 *   - returns them while now < expiration - margin (or forever, for
 *     non-expiring ones);
 *   - inside the margin, exactly one caller refreshes (calls fetch) while
 *     every other caller keeps getting the old, still valid credentials
 *     without waiting; callers only wait when there is nothing valid to give
 *     (first fetch, or expired);
 *   - a failed refresh keeps the old credentials until they expire and is
 *     retried by the next caller after retry_after (30 s).
 * "Valid" means now < expiration - 10 s (a request signed later still has
 * time to arrive). Thread-safe. */
struct aws_creds_cache;

#define AWS_CREDS_REFRESH_MARGIN_DEFAULT (5 * 60 * NSEC_PER_SEC)
#define AWS_CREDS_EXPIRY_SAFETY (10 * NSEC_PER_SEC)
#define AWS_CREDS_RETRY_AFTER (30 * NSEC_PER_SEC)

/* Takes ownership of p. margin_ns 0 = 5 min. clock NULL = real. */
int aws_creds_cache_new(struct aws_creds_provider *p, const struct clock *clock, int64_t margin_ns,
			struct aws_creds_cache **ret);
void aws_creds_cache_free(struct aws_creds_cache *cc);

int aws_creds_cache_get(struct aws_creds_cache *cc, struct aws_client *c, struct aws_credentials **ret,
			struct op_err *err);

/* How many times fetch has been called (tests). */
unsigned aws_creds_cache_fetches(struct aws_creds_cache *cc);

const struct aws_creds_provider *aws_creds_cache_provider(const struct aws_creds_cache *cc);

/* Parse the JSON credentials document of IMDS and container endpoints
 * ({AccessKeyId, SecretAccessKey, Token, Expiration}; IMDS adds Code). */
int aws_creds_parse_json(const char *text, size_t len, struct aws_credentials **ret, struct op_err *err);

#endif
