/* fuzz_aws_error: AWS error answers (aws/error.c: Query XML, REST XML, JSON
 * bodies and the x-amzn-ErrorType header), directly and through the client
 * pipeline (which retries throttling and 5xx). Input: one byte picks the
 * HTTP status, a first line is the x-amzn-ErrorType header, the rest the
 * body. */
#include "fuzz.h"

#include "aws/error.h"
#include "aws/sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 400, 403, 404, 409, 429, 500, 503, 301 };
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	const uint8_t *nl = memchr(in.p, '\n', in.n);
	struct fuzz_in hdr = fuzz_take(&in, nl ? (size_t)(nl - in.p) : 0);
	struct aws_http_response resp = { .body = BUF_INIT(AWS_HTTP_BODY_CAP) };
	struct fuzz_aws f = { .status = statuses[sel & 7], .body = (const char *)in.p, .body_len = in.n };
	struct aws_client *c;
	struct sts_caller_identity *id = NULL;
	struct op_err e;
	int r;

	fuzz_byte(&in);
	f.body = (const char *)in.p;
	f.body_len = in.n;
	resp.status = f.status;
	snprintf(resp.error_type, sizeof(resp.error_type), "%.*s", (int)hdr.n, (const char *)hdr.p);
	str_copy(f.error_type, sizeof(f.error_type), resp.error_type);
	if (in.n && buf_append(&resp.body, in.p, in.n) < 0)
		abort();
	op_err_clear(&e);
	r = aws_error_parse(&resp, &e);
	FUZZ_ASSERT(r == 0 || r == -ENOMSG);
	FUZZ_ASSERT(strlen(e.reason) < sizeof(e.reason) && strlen(e.message) < sizeof(e.message));
	(void)aws_error_errno(e.reason, resp.status);
	buf_release(&resp.body);
	if (sel & 8) {
		c = fuzz_aws_client(&f);
		op_err_clear(&e);
		r = sts_get_caller_identity(c, &id, &e);
		FUZZ_ASSERT(r < 0 && e.code == r);
		aws_client_free(c);
	}
	return 0;
}
