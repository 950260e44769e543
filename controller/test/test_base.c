/* Unit tests for base/: str, buf, err, log. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/str.h"

static void test_str__copy_fits_and_truncates(void **state)
{
	char small[4];
	char big[16];

	(void)state;
	assert_int_equal(str_copy(big, sizeof(big), "hello"), 0);
	assert_string_equal(big, "hello");
	assert_int_equal(str_copy(small, sizeof(small), "hello"), -ENOSPC);
	assert_string_equal(small, "hel");
	assert_int_equal(str_copy(small, sizeof(small), "abc"), 0);
	assert_string_equal(small, "abc");
}

static void test_str__strfmt_marks_truncation(void **state)
{
	char out[12];
	struct strfmt f = STRFMT_INIT(out, sizeof(out));

	(void)state;
	strfmt_add(&f, "%s", "abc");
	strfmt_add(&f, "-%d", 42);
	assert_false(f.truncated);
	assert_string_equal(out, "abc-42");
	strfmt_add(&f, "%s", "0123456789");
	assert_true(f.truncated);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_string_equal(out + sizeof(out) - 4, "...");
	strfmt_add(&f, "more");
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

static void test_str__to_long_table(void **state)
{
	static const struct {
		const char *in;
		long min, max;
		int rc;
		long want;
	} cases[] = {
		{ "42", 0, 100, 0, 42 },
		{ "-7", -10, 10, 0, -7 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "12x", 0, 100, -EINVAL, 0 },
		{ " 12", 0, 100, 0, 12 }, /* strtol skips leading space */
		{ "101", 0, 100, -ERANGE, 0 },
		{ "99999999999999999999999", 0, 100, -ERANGE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		long v = -12345;
		int rc = str_to_long(cases[i].in, cases[i].min, cases[i].max, &v);

		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_int_equal(v, cases[i].want);
		else
			assert_int_equal(v, -12345); /* untouched on failure */
	}
}

static void test_str__duration_table(void **state)
{
	static const struct {
		const char *in;
		int rc;
		int64_t ns;
	} cases[] = {
		{ "15s", 0, 15000000000LL }, { "500ms", 0, 500000000LL }, { "2m", 0, 120000000000LL },
		{ "1h", 0, 3600000000000LL }, { "1m30s", 0, 90000000000LL }, { "10", 0, 10000000000LL },
		{ "", -EINVAL, 0 }, { "5x", -EINVAL, 0 }, { "-1s", -EINVAL, 0 }, { "1m30", -EINVAL, 0 }, { "s", -EINVAL, 0 },
		/* review finding 21: overflow is an error, not undefined behaviour */
		{ "9999999999h", -ERANGE, 0 }, { "9223372037s", -ERANGE, 0 }, { "9223372036s", 0, 9223372036000000000LL },
		{ "9223372036s1s", -ERANGE, 0 }, { "99999999999999999999s", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t v = -1;

		assert_int_equal(str_to_duration_ns(cases[i].in, &v), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(v, cases[i].ns);
	}
}

static void test_str__prefix_suffix(void **state)
{
	(void)state;
	assert_true(str_startswith("https://x", "https://"));
	assert_false(str_startswith("http://x", "https://"));
	assert_true(str_endswith("role.json", ".json"));
	assert_false(str_endswith("on", ".json"));
}

static void test_buf__append_grows_and_terminates(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_puts(&b, "abcd"), 0);
	assert_int_equal(b.len, 4000);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 4005);
	assert_string_equal(b.data + 4000, "12345");
}

static void test_buf__cap_is_enforced(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT(10);

	(void)state;
	assert_int_equal(buf_puts(&b, "0123456789"), 0);
	assert_int_equal(buf_puts(&b, "x"), -E2BIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(buf_printf(&b, "%s", "y"), -E2BIG);
	buf_consume(&b, 4);
	assert_string_equal(b.data, "456789");
	assert_int_equal(buf_puts(&b, "abcd"), 0);
	assert_string_equal(b.data, "456789abcd");
	/* huge n must not overflow the check */
	assert_int_equal(buf_append(&b, "z", SIZE_MAX), -E2BIG);
}

static void test_buf__detach_gives_ownership(void **state)
{
	struct buf b = BUF_INIT(0);
	char *s;

	(void)state;
	s = buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_puts(&b, "owned"), 0);
	s = buf_detach(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(s, "owned");
	free(s);
}

static void test_err__format(void **state)
{
	struct op_err e;
	char out[256];

	(void)state;
	op_err_clear(&e);
	assert_int_equal(op_err_setr(&e, -EACCES, "AccessDenied", "not allowed: %s", "iam:CreateRole"),
			 -EACCES);
	e.http_status = 403;
	str_copy(e.request_id, sizeof(e.request_id), "abc-123");
	op_err_format(&e, out, sizeof(out));
	assert_string_equal(out, "AccessDenied: not allowed: iam:CreateRole (HTTP 403, request id abc-123)");

	op_err_clear(&e);
	e.code = -ENOENT;
	op_err_format(&e, out, sizeof(out));
	assert_string_equal(out, strerror(ENOENT));
	assert_int_equal(op_err_set(NULL, -EINVAL, "ignored"), -EINVAL);
}

static void test_log__levels_and_json(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	log_set_stream(f);
	log_set_level(LOG_LEVEL_WARN);
	log_info("hidden");
	log_warn("shown %d", 1);
	log_set_json(true);
	log_error("quote \" and \n newline");
	log_set_json(false);
	log_set_level(LOG_LEVEL_INFO);
	log_set_stream(NULL);
	fclose(f);

	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, "warn  shown 1\n"));
	assert_non_null(strstr(text, "\"level\": \"error\"") ? text : strstr(text, "\"level\":\"error\""));
	assert_non_null(strstr(text, "\"msg\":\"quote \\\" and \\n newline\""));
	free(text);
}

static void *log_other_thread(void *arg)
{
	(void)arg;
	log_info("from another thread");
	return NULL;
}

/* lines logged during a reconcile carry its key and id; other threads' not */
static void test_log__reconcile_context(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	pthread_t t;

	(void)state;
	assert_non_null(f);
	log_set_stream(f);
	log_set_context("ns/wi", "0a1b2c3d");
	log_info("in reconcile");
	assert_int_equal(pthread_create(&t, NULL, log_other_thread, NULL), 0);
	pthread_join(t, NULL);
	log_set_json(true);
	log_warn("as json");
	log_set_json(false);
	log_clear_context();
	log_info("after");
	log_set_stream(NULL);
	fclose(f);

	assert_non_null(strstr(text, "info  in reconcile key=ns/wi reconcile=0a1b2c3d\n"));
	assert_non_null(strstr(text, "info  from another thread\n"));
	assert_non_null(strstr(text, "\"msg\":\"as json\",\"key\":\"ns/wi\",\"reconcileID\":\"0a1b2c3d\"}"));
	assert_non_null(strstr(text, "info  after\n"));
	free(text);
}

static void test_log__level_parse(void **state)
{
	enum log_level l = LOG_LEVEL_INFO;

	(void)state;
	assert_int_equal(log_level_from_string("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_from_string("verbose", &l), -EINVAL);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
}

/* The payload of a token, unverified; anything else is NULL. */
static void test_jwt__payload(void **state)
{
	/* {"iss":"https://i","sub":"system:serviceaccount:ns:sa","aud":["sts.amazonaws.com"]} */
	json_t *p = jwt_payload("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2kiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EiLCJh"
				"dWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXX0.c2ln");

	(void)state;
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "sub")), "system:serviceaccount:ns:sa");
	assert_string_equal(jwt_first_audience(p), "sts.amazonaws.com");
	json_decref(p);
	assert_null(jwt_payload("no-dots"));
	assert_null(jwt_payload("a.!!!.c"));
	assert_null(jwt_payload("a.WzFd.c")); /* [1]: not an object */
	assert_null(jwt_payload(NULL));
	assert_int_equal(str_edit_distance("roleArn", "roleARN", 3), 2);
	assert_int_equal(str_edit_distance("kitten", "sitting", 9), 3);
	assert_int_equal(str_edit_distance("a", "abcdefgh", 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str__copy_fits_and_truncates),
		cmocka_unit_test(test_str__strfmt_marks_truncation),
		cmocka_unit_test(test_str__to_long_table),
		cmocka_unit_test(test_str__prefix_suffix),
		cmocka_unit_test(test_str__duration_table),
		cmocka_unit_test(test_buf__append_grows_and_terminates),
		cmocka_unit_test(test_buf__cap_is_enforced),
		cmocka_unit_test(test_buf__detach_gives_ownership),
		cmocka_unit_test(test_err__format),
		cmocka_unit_test(test_log__levels_and_json),
		cmocka_unit_test(test_log__reconcile_context),
		cmocka_unit_test(test_log__level_parse),
		cmocka_unit_test(test_jwt__payload),
	};

	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
