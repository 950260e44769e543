#include "kube/status.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "base/str.h"

static const struct {
	const char *reason;
	int code;
} reasons[] = {
	{ "NotFound", -ENOENT },
	{ "AlreadyExists", -EEXIST },
	{ "Conflict", -ESTALE },
	{ "Gone", -EIDRM },
	{ "Expired", -EIDRM },
	{ "Forbidden", -EACCES },
	{ "Unauthorized", -EPERM },
	{ "Invalid", -EINVAL },
	{ "BadRequest", -EINVAL },
	{ "TooManyRequests", -EAGAIN },
	{ "MethodNotAllowed", -EOPNOTSUPP },
	{ "RequestEntityTooLarge", -EMSGSIZE },
	{ "UnsupportedMediaType", -EPROTO },
	{ "Timeout", -ETIMEDOUT },
	{ "ServerTimeout", -ETIMEDOUT },
	{ "InternalError", -EIO },
	{ "ServiceUnavailable", -EIO },
};

int kube_reason_to_errno(const char *reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
		if (streq(reasons[i].reason, reason))
			return reasons[i].code;
	}
	return 0;
}

static const char *http_reason(long status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "RequestEntityTooLarge";
	case 415: return "UnsupportedMediaType";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return status >= 500 ? "InternalError" : "Unknown";
	}
}

static int code_for_status(long status)
{
	int c = kube_reason_to_errno(http_reason(status));

	if (c)
		return c;
	return status >= 500 ? -EIO : -EPROTO;
}

int kube_status_to_err(long http_status, const char *body, size_t len, long *ret_retry_after_s, struct op_err *err)
{
	json_auto_t *st = NULL;
	const char *reason = NULL, *message = NULL;
	json_t *details, *causes, *cause;
	int code;
	size_t i;

	if (ret_retry_after_s)
		*ret_retry_after_s = 0;
	if (body && len)
		st = json_loadb(body, len, 0, NULL);
	if (st && json_is_object(st) && streq(json_string_value(json_object_get(st, "kind")) ?: "", "Status")) {
		reason = json_string_value(json_object_get(st, "reason"));
		message = json_string_value(json_object_get(st, "message"));
	}
	if (!reason || !*reason)
		reason = http_reason(http_status);
	code = kube_reason_to_errno(reason);
	if (!code)
		code = code_for_status(http_status);
	if (!err && !ret_retry_after_s)
		return code;

	details = st ? json_object_get(st, "details") : NULL;
	if (ret_retry_after_s && json_is_integer(json_object_get(details, "retryAfterSeconds")))
		*ret_retry_after_s = (long)json_integer_value(json_object_get(details, "retryAfterSeconds"));
	if (!err)
		return code;

	op_err_clear(err);
	err->code = code;
	err->http_status = (int)http_status;
	str_copy(err->reason, sizeof(err->reason), reason);
	if (message && *message) {
		struct strfmt f = STRFMT_INIT(err->message, sizeof(err->message));

		strfmt_add(&f, "%s", message);
		causes = json_object_get(details, "causes");
		json_array_foreach(causes, i, cause) {
			const char *field = json_string_value(json_object_get(cause, "field"));
			const char *cm = json_string_value(json_object_get(cause, "message"));

			if (cm && !strstr(message, cm))
				strfmt_add(&f, "; %s%s%s", field ? field : "", field ? ": " : "", cm);
		}
	} else if (body && len && !st) {
		/* not JSON (a proxy's HTML, a plain-text 503): keep the start */
		char snippet[200];
		size_t n = len < sizeof(snippet) - 1 ? len : sizeof(snippet) - 1;

		memcpy(snippet, body, n);
		snippet[n] = '\0';
		snippet[strcspn(snippet, "\r\n")] = '\0';
		op_err_set(err, code, "HTTP %ld: %s", http_status, snippet);
	} else {
		op_err_set(err, code, "HTTP %ld %s", http_status, reason);
	}
	return code;
}
