/* err.h: details of a failed operation (struct op_err).
 *
 * Functions return 0 (or a count) on success and -errno on failure. When the
 * caller passes a non-NULL `struct op_err *reterr`, the callee fills it with
 * what a human needs: the HTTP status, the remote reason/code (Kubernetes
 * `reason`, AWS error `Code`), the remote or local message, and the request id.
 * The struct has fixed-size fields so it never allocates and can live on the
 * stack; long messages are truncated (with "...").
 */
#ifndef KEYLESS_ERR_H
#define KEYLESS_ERR_H

#include "base/macros.h"

struct op_err {
	int code;          /* -errno, as returned */
	int http_status;   /* 0 when no HTTP exchange took place */
	char reason[64];   /* Kubernetes reason or AWS error code, "" if none */
	char message[512]; /* human-readable detail, "" if none */
	char request_id[64];
};

/* Reset all fields. */
void op_err_clear(struct op_err *e);

/* Set code and a printf-style message (reason/status untouched). Accepts
 * e == NULL, in which case it only returns `code`. Returns `code`. */
int op_err_set(struct op_err *e, int code, const char *fmt, ...) _printf_(3, 4);

/* Like op_err_set, also setting the reason. Returns `code`. */
int op_err_setr(struct op_err *e, int code, const char *reason, const char *fmt, ...)
	_printf_(4, 5);

/* Write "reason: message (HTTP n, request id x)" into buf (always terminated). */
void op_err_format(const struct op_err *e, char *buf, size_t size);

#endif
