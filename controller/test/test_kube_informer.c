/* Unit tests of kube/informer against a loopback HTTP server (fake_http):
 * watches that end at once without an event are re-opened with backoff, as
 * client-go's reflector does (review finding 22). */
#include "support.h"

#include <unistd.h>

#include "base/clock.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/project.h"
#include "fake_http.h"

struct server {
	int lists, watches;
	bool send_event; /* each watch carries one event before it ends */
};

static void handle(const char *method, const char *path, const char *body, struct fake_http_answer *a, void *ctx)
{
	struct server *s = ctx;

	(void)method;
	(void)body;
	a->status = 200;
	if (strstr(path, "watch=1")) {
		s->watches++;
		a->body = strdup(s->send_event
					 ? "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ServiceAccount\",\"apiVersion\":\"v1\","
					   "\"metadata\":{\"resourceVersion\":\"8\"}}}\n"
					 : "");
		return;
	}
	s->lists++;
	a->body = strdup("{\"kind\":\"ServiceAccountList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
			 "\"items\":[]}");
}

/* Runs an informer against the server for `ms` and returns its stats. */
static void run_for(struct server *s, long ms, struct kube_informer_stats *st, struct op_err *last)
{
	struct fake_http *srv = fake_http_start(handle, s);
	const char *paths[1] = { fake_http_kubeconfig(srv, NULL) };
	struct kube_config *cfg = NULL;
	struct kube_client *client = NULL;
	struct kube_informer *inf = NULL;
	struct op_err err;

	assert_non_null(srv);
	if (kube_config_from_files(paths, 1, NULL, &cfg, &err) < 0)
		fail_msg("kubeconfig: %s", err.message);
	assert_int_equal(kube_client_new(cfg, NULL, &client, &err), 0);
	struct kube_informer_opts o = { .client = client, .resource = &KUBE_SERVICEACCOUNTS,
					.kind = &KUBE_KIND_SERVICEACCOUNT, .backoff_base_ns = 50 * NSEC_PER_MSEC,
					.backoff_max_ns = 400 * NSEC_PER_MSEC };
	assert_int_equal(kube_informer_new(&o, &inf), 0);
	assert_int_equal(kube_informer_start(inf), 0);
	usleep((useconds_t)ms * 1000);
	kube_informer_stop(inf);
	kube_informer_get_stats(inf, st);
	kube_informer_last_error(inf, last);
	kube_informer_free(inf);
	fake_http_stop(srv);
	kube_client_thread_done(client);
	kube_client_free(client);
	kube_config_free(cfg);
}

static void test_informer__watch_ending_at_once_is_reopened_with_backoff(void **state)
{
	struct server s = { 0 };
	struct kube_informer_stats st;
	struct op_err last;

	(void)state;
	run_for(&s, 1500, &st, &last);
	/* 50, 100, 200, 400, 400 ... ms (jittered up to twice): a handful, not hundreds */
	assert_true(s.watches >= 2);
	assert_true(s.watches <= 12);
	assert_int_equal(s.lists, 1); /* no relist: the resourceVersion still holds */
	assert_true(st.errors >= 1);
	assert_non_null(strstr(last.message, "without an event"));
}

static void test_informer__watch_with_events_resumes_at_once(void **state)
{
	struct server s = { .send_event = true };
	struct kube_informer_stats st;
	struct op_err last;

	(void)state;
	run_for(&s, 1000, &st, &last);
	/* a watch that delivered something is healthy: re-opened without delay */
	assert_true(s.watches > 12);
	assert_int_equal(st.errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_informer__watch_ending_at_once_is_reopened_with_backoff),
		cmocka_unit_test(test_informer__watch_with_events_resumes_at_once),
	};

	return cmocka_run_group_tests_name("kube_informer", tests, NULL, NULL);
}
