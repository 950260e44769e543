/* Unit tests for server/http: addresses, and a real server on a loopback
 * port answered through libcurl. */
#include "support.h"

#include <curl/curl.h>

#include "server/http.h"

static void test_server_http__parse_addr(void **state)
{
	static const struct {
		const char *in, *host;
		int port, r;
	} cases[] = {
		{ ":8081", "", 8081, 0 },
		{ "127.0.0.1:0", "127.0.0.1", 0, 0 },
		{ "localhost:9000", "127.0.0.1", 9000, 0 },
		{ "[::1]:8080", "::1", 8080, 0 },
		{ "[::]:1", "::", 1, 0 },
		{ "0.0.0.0:65535", "0.0.0.0", 65535, 0 },
		{ "8081", NULL, 0, -EINVAL },
		{ ":65536", NULL, 0, -EINVAL },
		{ ":-1", NULL, 0, -EINVAL },
		{ ":", NULL, 0, -EINVAL },
		{ "::1:80", NULL, 0, -EINVAL },
		{ "example.com:80", NULL, 0, -EINVAL },
		{ "[::1]80", NULL, 0, -EINVAL },
		{ "1.2.3.4:8x", NULL, 0, -EINVAL },
	};
	char host[64];
	int port;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = http_parse_addr(cases[i].in, host, sizeof(host), &port);

		if (r != cases[i].r)
			fail_msg("%s: %d, want %d", cases[i].in, r, cases[i].r);
		if (r == 0) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		}
	}
}

static void handler(void *ctx, void *tag, const char *path, struct http_response *resp)
{
	int *calls = ctx;

	(*calls)++;
	if (streq(path, "/hello")) {
		assert_int_equal(buf_printf(&resp->body, "hello from %s\n", (const char *)tag), 0);
	} else if (streq(path, "/big")) {
		for (int i = 0; i < 20000; i++)
			assert_int_equal(buf_printf(&resp->body, "line %05d\n", i), 0);
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (streq(path, "/empty")) {
		resp->status = 503;
	} else {
		resp->status = 404;
		assert_int_equal(buf_puts(&resp->body, "not found\n"), 0);
	}
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	assert_int_equal(buf_append(b, p, size * n), 0);
	return size * n;
}

/* GET (or POST with post=true) url; returns the status, body into b */
static long fetch(CURL *h, const char *url, bool post, struct buf *b, char *ctype, size_t ctype_size)
{
	long status = 0;
	char *ct = NULL;

	buf_reset(b);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (post)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=1");
	else
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (getenv("TEST_CURL_VERBOSE"))
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	if (ctype)
		snprintf(ctype, ctype_size, "%s", ct ? ct : "");
	return status;
}

static void test_server_http__serves_two_listeners(void **state)
{
	struct http_listener l[] = { { "127.0.0.1:0", "health" }, { "localhost:0", "metrics" } };
	int calls = 0;
	struct http_server_opts o = { .listeners = l, .n_listeners = 2, .handler = handler, .ctx = &calls };
	struct http_server *s = NULL;
	struct op_err err;
	struct buf b = BUF_INIT(0);
	char url[128], ctype[128];
	CURL *h = curl_easy_init();

	(void)state;
	assert_non_null(h);
	assert_int_equal(http_server_start(&o, &s, &err), 0);
	assert_true(http_server_port(s, 0) > 0);
	assert_true(http_server_port(s, 1) > 0);
	assert_int_not_equal(http_server_port(s, 0), http_server_port(s, 1));

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello?x=y", http_server_port(s, 0));
	assert_int_equal(fetch(h, url, false, &b, ctype, sizeof(ctype)), 200);
	assert_string_equal(b.data, "hello from health\n");
	assert_string_equal(ctype, "text/plain; charset=utf-8");
	/* the same connection again (keep-alive), the other listener */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", http_server_port(s, 1));
	assert_int_equal(fetch(h, url, false, &b, NULL, 0), 200);
	assert_string_equal(b.data, "hello from metrics\n");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", http_server_port(s, 1));
	assert_int_equal(fetch(h, url, false, &b, ctype, sizeof(ctype)), 200);
	assert_int_equal(b.len, 20000 * 11);
	assert_memory_equal(b.data + b.len - 11, "line 19999\n", 11);
	assert_string_equal(ctype, "text/plain; version=0.0.4; charset=utf-8");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/empty", http_server_port(s, 0));
	assert_int_equal(fetch(h, url, false, &b, NULL, 0), 503);
	assert_int_equal(b.len, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nope", http_server_port(s, 0));
	assert_int_equal(fetch(h, url, false, &b, NULL, 0), 404);
	assert_int_equal(calls, 5);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", http_server_port(s, 0));
	assert_int_equal(fetch(h, url, true, &b, NULL, 0), 405);
	assert_int_equal(calls, 5); /* the handler only sees GET */

	curl_easy_cleanup(h);
	buf_release(&b);
	http_server_stop(s);
}

static void test_server_http__listen_errors(void **state)
{
	struct http_listener l[] = { { "127.0.0.1:0", NULL } }, bad[] = { { "nowhere", NULL } };
	int calls = 0;
	struct http_server_opts o = { .listeners = l, .n_listeners = 1, .handler = handler, .ctx = &calls };
	struct http_server *s = NULL, *s2 = NULL;
	struct op_err err;
	char addr[64];

	(void)state;
	assert_int_equal(http_server_start(&o, &s, &err), 0);
	/* the same port again: in use, and the message says where */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", http_server_port(s, 0));
	l[0].addr = addr;
	assert_int_equal(http_server_start(&o, &s2, &err), -EADDRINUSE);
	assert_non_null(strstr(err.message, addr));
	o.listeners = bad;
	assert_int_equal(http_server_start(&o, &s2, &err), -EINVAL);
	assert_non_null(strstr(err.message, "nowhere"));
	o.n_listeners = 0;
	assert_int_equal(http_server_start(&o, &s2, &err), -EINVAL);
	http_server_stop(s);
	http_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_http__parse_addr),
		cmocka_unit_test(test_server_http__serves_two_listeners),
		cmocka_unit_test(test_server_http__listen_errors),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests_name("server_http", tests, NULL, NULL);
}
