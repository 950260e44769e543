/* Unit tests for kube/linesplit (watch stream splitting) and kube/status. */
#include "support.h"

#include "kube/linesplit.h"
#include "kube/status.h"

struct collected {
	char lines[16][64];
	size_t n;
};

static int collect(const char *line, size_t len, void *ctx)
{
	struct collected *c = ctx;

	assert_true(c->n < 16);
	assert_true(len < 64);
	memcpy(c->lines[c->n], line, len);
	c->lines[c->n][len] = '\0';
	c->n++;
	return 0;
}

/* Every way of cutting the stream into two or three chunks gives the same lines. */
static void test_linesplit__every_chunk_boundary(void **state)
{
	static const char stream[] = "{\"a\":1}\n{\"b\":22}\r\n\n{\"c\":333}\n{\"partial\":";
	const size_t n = sizeof(stream) - 1;

	(void)state;
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct collected c = { .n = 0 };
			struct linesplit ls;

			ls_init(&ls, 64);
			assert_int_equal(ls_feed(&ls, stream, i, collect, &c), 0);
			assert_int_equal(ls_feed(&ls, stream + i, j - i, collect, &c), 0);
			assert_int_equal(ls_feed(&ls, stream + j, n - j, collect, &c), 0);
			assert_int_equal(c.n, 3);
			assert_string_equal(c.lines[0], "{\"a\":1}");
			assert_string_equal(c.lines[1], "{\"b\":22}");
			assert_string_equal(c.lines[2], "{\"c\":333}");
			assert_int_equal(ls_pending(&ls), strlen("{\"partial\":"));
			ls_release(&ls);
		}
	}
}

static void test_linesplit__byte_by_byte(void **state)
{
	static const char stream[] = "one\ntwo\nthree\n";
	struct collected c = { .n = 0 };
	struct linesplit ls;

	(void)state;
	ls_init(&ls, 64);
	for (size_t i = 0; i < sizeof(stream) - 1; i++)
		assert_int_equal(ls_feed(&ls, stream + i, 1, collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.lines[2], "three");
	assert_int_equal(ls_pending(&ls), 0);
	ls_release(&ls);
}

static void test_linesplit__line_cap(void **state)
{
	struct collected c = { .n = 0 };
	struct linesplit ls;
	char big[40];

	(void)state;
	memset(big, 'x', sizeof(big));
	ls_init(&ls, 16);
	/* a line within one chunk, too long */
	assert_int_equal(ls_feed(&ls, "0123456789abcdefg\n", 18, collect, &c), -E2BIG);
	ls_release(&ls);
	/* a line growing across chunks past the cap, with no newline yet */
	ls_init(&ls, 16);
	assert_int_equal(ls_feed(&ls, big, 10, collect, &c), 0);
	assert_int_equal(ls_feed(&ls, big, 10, collect, &c), -E2BIG);
	ls_release(&ls);
	/* exactly at the cap is fine */
	ls_init(&ls, 16);
	assert_int_equal(ls_feed(&ls, "0123456789abcdef\n", 17, collect, &c), 0);
	assert_int_equal(c.n, 1);
	ls_release(&ls);
}

static int stop_at_second(const char *line, size_t len, void *ctx)
{
	int *n = ctx;

	(void)line, (void)len;
	return ++*n == 2 ? -ECANCELED : 0;
}

static void test_linesplit__callback_stops(void **state)
{
	struct linesplit ls;
	int n = 0;

	(void)state;
	ls_init(&ls, 64);
	assert_int_equal(ls_feed(&ls, "a\nb\nc\n", 6, stop_at_second, &n), -ECANCELED);
	assert_int_equal(n, 2);
	ls_release(&ls);
}

static void check_status(const char *file, long http, int want_code, const char *want_reason, const char *want_msg)
{
	size_t len;
	char *body = test_read_file(file, &len);
	struct op_err e;
	long retry = -1;

	assert_int_equal(kube_status_to_err(http, body, len, &retry, &e), want_code);
	assert_int_equal(e.code, want_code);
	assert_int_equal(e.http_status, http);
	assert_string_equal(e.reason, want_reason);
	assert_non_null(strstr(e.message, want_msg));
	assert_int_equal(retry, 0);
	free(body);
}

/* Captured from the local kube-apiserver (v1.37.2). */
static void test_status__captured_errors(void **state)
{
	(void)state;
	check_status("kube/status-notfound.json", 404, -ENOENT, "NotFound", "pods \"nope\" not found");
	check_status("kube/status-alreadyexists.json", 409, -EEXIST, "AlreadyExists", "already exists");
	check_status("kube/status-conflict.json", 409, -ESTALE, "Conflict", "the object has been modified");
	check_status("kube/status-invalid.json", 422, -EINVAL, "Invalid", "metadata.name: Invalid value");
	check_status("kube/status-forbidden.json", 403, -EACCES, "Forbidden", "cannot list resource \"pods\"");
}

static void test_status__retry_after_and_non_json(void **state)
{
	static const char tmr[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"too many "
				  "requests, please try again later\",\"reason\":\"TooManyRequests\",\"details\":"
				  "{\"retryAfterSeconds\":3},\"code\":429}";
	static const char html[] = "<html>502 Bad Gateway</html>\nmore";
	struct op_err e;
	long retry = -1;

	(void)state;
	assert_int_equal(kube_status_to_err(429, tmr, strlen(tmr), &retry, &e), -EAGAIN);
	assert_int_equal(retry, 3);
	assert_string_equal(e.reason, "TooManyRequests");
	assert_int_equal(kube_status_to_err(502, html, strlen(html), NULL, &e), -EIO);
	assert_string_equal(e.message, "HTTP 502: <html>502 Bad Gateway</html>");
	assert_int_equal(kube_status_to_err(410, NULL, 0, NULL, &e), -EIDRM);
	assert_string_equal(e.reason, "Gone");
	assert_int_equal(kube_status_to_err(401, "", 0, NULL, NULL), -EPERM);
	assert_int_equal(kube_reason_to_errno("Expired"), -EIDRM);
	assert_int_equal(kube_reason_to_errno("NoSuchReason"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linesplit__every_chunk_boundary),
		cmocka_unit_test(test_linesplit__byte_by_byte),
		cmocka_unit_test(test_linesplit__line_cap),
		cmocka_unit_test(test_linesplit__callback_stops),
		cmocka_unit_test(test_status__captured_errors),
		cmocka_unit_test(test_status__retry_after_and_non_json),
	};

	return cmocka_run_group_tests_name("kube_stream", tests, NULL, NULL);
}
