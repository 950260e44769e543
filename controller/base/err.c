#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "base/str.h"

void op_err_clear(struct op_err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

static void vset(struct op_err *e, int code, const char *reason, const char *fmt, va_list ap)
{
	e->code = code;
	if (reason)
		str_copy(e->reason, sizeof(e->reason), reason);
	str_vformat_trunc(e->message, sizeof(e->message), fmt, ap);
}

int op_err_set(struct op_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	vset(e, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int op_err_setr(struct op_err *e, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	vset(e, code, reason, fmt, ap);
	va_end(ap);
	return code;
}

void op_err_format(const struct op_err *e, char *buf, size_t size)
{
	struct strfmt f = STRFMT_INIT(buf, size);

	if (e->reason[0])
		strfmt_add(&f, "%s: ", e->reason);
	strfmt_add(&f, "%s", e->message[0] ? e->message : strerror(e->code < 0 ? -e->code : e->code));
	if (e->http_status && e->request_id[0])
		strfmt_add(&f, " (HTTP %d, request id %s)", e->http_status, e->request_id);
	else if (e->http_status)
		strfmt_add(&f, " (HTTP %d)", e->http_status);
	else if (e->request_id[0])
		strfmt_add(&f, " (request id %s)", e->request_id);
}
