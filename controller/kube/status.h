/* status.h: Kubernetes API errors (metav1.Status) as -errno + struct op_err.
 *
 * Mapping (reason -> return value):
 *   NotFound 404 -> -ENOENT        AlreadyExists 409 -> -EEXIST
 *   Conflict 409 -> -ESTALE        Gone/Expired 410 (resourceVersion too old) -> -EIDRM
 *   Forbidden 403 -> -EACCES       Unauthorized 401 -> -EPERM
 *   Invalid 422, BadRequest 400 -> -EINVAL
 *   TooManyRequests 429 -> -EAGAIN (retry_after_s from details or Retry-After)
 *   MethodNotAllowed 405 -> -EOPNOTSUPP   RequestEntityTooLarge 413 -> -EMSGSIZE
 *   UnsupportedMediaType 415 -> -EPROTO   Timeout 504 / ServerTimeout -> -ETIMEDOUT
 *   InternalError, ServiceUnavailable and other 5xx -> -EIO
 * op_err gets http_status, reason (the Status reason, or the HTTP reason if the
 * body is not a Status) and message; for Invalid, the field causes are appended
 * when the message does not already contain them.
 */
#ifndef KEYLESS_KUBE_STATUS_H
#define KEYLESS_KUBE_STATUS_H

#include <stddef.h>

#include "base/err.h"

/* Turn a non-2xx response into -errno and fill err. `body` may be NULL or not
 * JSON. *ret_retry_after_s (if non-NULL) gets details.retryAfterSeconds or 0. */
int kube_status_to_err(long http_status, const char *body, size_t len, long *ret_retry_after_s, struct op_err *err);

/* -errno for a Status reason string (e.g. "NotFound"), or 0 if unknown. */
int kube_reason_to_errno(const char *reason);

#endif
