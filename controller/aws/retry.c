#include "aws/retry.h"

#include <errno.h>

#include "aws/error.h"
#include "aws/http.h"
#include "base/ratelimit.h"

enum aws_retry_class aws_retry_classify(int transport_rc, const char *code, long http_status)
{
	if (transport_rc < 0) {
		if (transport_rc == -ETIMEDOUT)
			return AWS_RETRY_TIMEOUT;
		return aws_http_error_transient(transport_rc) ? AWS_RETRY_TRANSIENT : AWS_RETRY_NONE;
	}
	if (http_status >= 200 && http_status < 300)
		return AWS_RETRY_NONE;
	if (aws_error_is_throttling(code, http_status))
		return AWS_RETRY_THROTTLED;
	if (aws_error_is_transient(code, http_status))
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NONE;
}

int64_t aws_retry_backoff_ns(const struct aws_retry_policy *p, unsigned retry)
{
	return backoff_full_jitter_ns(p->base_ns, p->cap_ns, retry ? retry - 1 : 0);
}

void aws_retry_quota_init(struct aws_retry_quota *q, int initial)
{
	pthread_mutex_init(&q->lock, NULL);
	q->available = q->max = initial;
}

void aws_retry_quota_release_all(struct aws_retry_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

bool aws_retry_quota_acquire(struct aws_retry_quota *q, int amount)
{
	bool ok = false;

	pthread_mutex_lock(&q->lock);
	if (amount <= q->available) {
		q->available -= amount;
		ok = true;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void aws_retry_quota_refund(struct aws_retry_quota *q, int amount)
{
	pthread_mutex_lock(&q->lock);
	q->available += amount;
	if (q->available > q->max)
		q->available = q->max;
	pthread_mutex_unlock(&q->lock);
}

int aws_retry_quota_available(struct aws_retry_quota *q)
{
	int v;

	pthread_mutex_lock(&q->lock);
	v = q->available;
	pthread_mutex_unlock(&q->lock);
	return v;
}
