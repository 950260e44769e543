/* retry.h: the SDKs' "standard" retry mode.
 *
 *   - at most max_attempts attempts (3) per call;
 *   - retried: throttling codes (and HTTP 429), transient codes and HTTP
 *     500/502/503/504, transient transport errors (refused, reset, empty
 *     reply, timeout, DNS); never: auth failures (SignatureDoesNotMatch,
 *     InvalidClientTokenId, ExpiredToken, AccessDenied), validation errors,
 *     any other 4xx;
 *   - before retry n (1-based) sleep uniform[0, min(cap, base * 2^(n-1))]
 *     ("full jitter"; base 100 ms, cap 20 s);
 *   - a retry quota per client and service: starts at 500, a retry takes 5
 *     (10 after a timeout); when it cannot be taken the call fails with the
 *     last error instead of retrying; a success gives back what its retry
 *     took, or 1 when it needed no retry, up to the initial 500.
 * The numbers are the classic standard-mode values (Go v2, Java v2; see
 * docs/aws.md for what botocore 1.44 changed).
 */
#ifndef KEYLESS_AWS_RETRY_H
#define KEYLESS_AWS_RETRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct aws_retry_policy {
	unsigned max_attempts; /* >= 1 */
	int64_t base_ns;
	int64_t cap_ns;
	int quota_initial;
	int retry_cost;
	int timeout_cost;
	int success_increment;
};

#define AWS_RETRY_POLICY_STANDARD                                                                          \
	{                                                                                                  \
		.max_attempts = 3, .base_ns = 100 * INT64_C(1000000), .cap_ns = 20 * INT64_C(1000000000), \
		.quota_initial = 500, .retry_cost = 5, .timeout_cost = 10, .success_increment = 1,        \
	}

enum aws_retry_class {
	AWS_RETRY_NONE,      /* do not retry */
	AWS_RETRY_THROTTLED, /* throttling code or 429 */
	AWS_RETRY_TRANSIENT, /* 5xx, transient code, connection error */
	AWS_RETRY_TIMEOUT,   /* transport timeout (costs more quota) */
};

/* Classify an attempt: transport_rc < 0 is a transport error (no HTTP
 * response); otherwise code/status are the parsed error of a non-2xx answer. */
enum aws_retry_class aws_retry_classify(int transport_rc, const char *code, long http_status);

/* Sleep before retry number `retry` (1 = first retry). */
int64_t aws_retry_backoff_ns(const struct aws_retry_policy *p, unsigned retry);

struct aws_retry_quota {
	pthread_mutex_t lock;
	int available;
	int max;
};

void aws_retry_quota_init(struct aws_retry_quota *q, int initial);
void aws_retry_quota_release_all(struct aws_retry_quota *q); /* destroy the lock */
/* Take `amount` if available. */
bool aws_retry_quota_acquire(struct aws_retry_quota *q, int amount);
/* Give back `amount` (capped at max). */
void aws_retry_quota_refund(struct aws_retry_quota *q, int amount);
int aws_retry_quota_available(struct aws_retry_quota *q);

#endif
