/* Unit tests for kube/sax: streaming field capture. */
#include "support.h"

#include "base/str.h"
#include "kube/sax.h"

static const struct sax_field fields[] = {
	{ { "spec", "containers", "[]", "env", "[]", "name" } },
	{ { "spec", "containers", "[]", "env", "[]", "value" } },
	{ { "metadata", "labels", "eks.amazonaws.com/fargate-profile" } },
	{ { "spec", "flag" } },
	{ { "spec", "count" } },
};
#define ENV_NAME (SAX_KIND_BASE + 0)
#define ENV_VALUE (SAX_KIND_BASE + 1)
#define FARGATE (SAX_KIND_BASE + 2)

struct got {
	int objects;
	char names[4][32];
	char dump[512];
	char type[16];
	long code;
};

static int on_object(const struct sax_capture *cap, const struct sax_frame *fr, void *ctx)
{
	struct got *g = ctx;
	struct strfmt f = STRFMT_INIT(g->dump, sizeof(g->dump));
	const char *n = sax_get(cap, SAX_F_NAME, NULL);

	snprintf(g->names[g->objects % 4], 32, "%s", n ? n : "?");
	g->objects++;
	g->dump[0] = '\0';
	for (size_t i = 0; i < cap->n; i++)
		strfmt_add(&f, "%u[%u,%u]=%s;", cap->v[i].field, cap->v[i].idx[0], cap->v[i].idx[1], sax_str(cap, &cap->v[i]));
	snprintf(g->type, sizeof(g->type), "%s", fr->type);
	g->code = fr->status_code;
	return 0;
}

static const char pod[] =
	"{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\",\"resourceVersion\":\"7\","
	"\"labels\":{\"eks.amazonaws.com/fargate-profile\":\"fp\",\"other\":\"x\"},"
	"\"managedFields\":[{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:spec\":{\"f:containers\":{}}}}]},"
	"\"spec\":{\"flag\":true,\"count\":42,\"nothing\":null,\"containers\":["
	"{\"name\":\"a\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"x\\\"y\"}]},"
	"{\"name\":\"b\",\"env\":[{\"name\":\"AWS_ROLE_ARN\",\"value\":\"arn\"}]}]}}";

static const char *want_dump = "0[0,0]=p;1[0,0]=ns;2[0,0]=u;3[0,0]=7;6[0,0]=fp;7[0,0]=true;8[0,0]=42;"
			       "4[0,0]=A;5[0,0]=1;4[0,1]=B;5[0,1]=x\"y;4[1,0]=AWS_ROLE_ARN;5[1,0]=arn;";

static void test_sax__object_fields_and_indices(void **state)
{
	struct got g = { 0 };
	struct sax_parser *p = sax_new(SAX_OBJECT, fields, ARRAY_SIZE(fields), on_object, &g);
	struct op_err e;

	(void)state;
	assert_int_equal(sax_feed(p, pod, strlen(pod), &e), 0);
	assert_int_equal(sax_finish(p, &e), 0);
	assert_int_equal(g.objects, 1);
	assert_string_equal(g.dump, want_dump);
	sax_free(p);
}

/* Any chunking gives the same capture (the parser keeps its own state). */
static void test_sax__every_split_point(void **state)
{
	size_t n = strlen(pod);

	(void)state;
	for (size_t i = 0; i <= n; i += 3) {
		struct got g = { 0 };
		struct sax_parser *p = sax_new(SAX_OBJECT, fields, ARRAY_SIZE(fields), on_object, &g);
		struct op_err e;

		assert_int_equal(sax_feed(p, pod, i, &e), 0);
		assert_int_equal(sax_feed(p, pod + i, n - i, &e), 0);
		assert_int_equal(sax_finish(p, &e), 0);
		assert_string_equal(g.dump, want_dump);
		sax_free(p);
	}
}

static void test_sax__list_framing_and_continue(void **state)
{
	static const char list[] = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"99\",\"continue\":\"tok\"},"
				   "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}},"
				   "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"5\"}}]}";
	struct got g = { 0 };
	struct sax_parser *p = sax_new(SAX_LIST, fields, ARRAY_SIZE(fields), on_object, &g);
	struct op_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(list) - 1; i++)
		assert_int_equal(sax_feed(p, list + i, 1, &e), 0);
	assert_int_equal(sax_finish(p, &e), 0);
	assert_int_equal(g.objects, 3);
	assert_string_equal(g.names[0], "a");
	assert_string_equal(g.names[2], "c");
	assert_string_equal(g.dump, "0[0,0]=c;3[0,0]=5;"); /* the item's rv, not the list's */
	assert_string_equal(sax_frame(p)->resource_version, "99");
	assert_string_equal(sax_frame(p)->cont, "tok");
	sax_free(p);
}

static void test_sax__event_framing_type_after_object_and_errors(void **state)
{
	static const char ev[] = "{\"object\":{\"metadata\":{\"name\":\"x\"}},\"type\":\"MODIFIED\"}";
	static const char err[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}";
	struct got g = { 0 };
	struct sax_parser *p = sax_new(SAX_EVENT, fields, ARRAY_SIZE(fields), on_object, &g);
	struct op_err e;

	(void)state;
	assert_int_equal(sax_feed(p, ev, strlen(ev), &e), 0);
	assert_int_equal(sax_finish(p, &e), 0);
	assert_int_equal(g.objects, 1); /* emitted at the end of the event, type known */
	assert_string_equal(g.type, "MODIFIED");
	assert_string_equal(g.names[0], "x");
	assert_int_equal(sax_reset(p), 0);
	assert_int_equal(sax_feed(p, err, strlen(err), &e), 0);
	assert_int_equal(sax_finish(p, &e), 0);
	assert_string_equal(g.type, "ERROR");
	assert_int_equal(g.code, 410);
	assert_string_equal(sax_frame(p)->status_reason, "Expired");
	/* broken JSON */
	assert_int_equal(sax_reset(p), 0);
	assert_int_equal(sax_feed(p, "{\"type\":", 8, &e), 0);
	assert_int_equal(sax_feed(p, "}", 1, &e), -EPROTO);
	assert_non_null(strstr(e.message, "invalid JSON"));
	sax_free(p);
}

static void test_sax__deep_nesting_is_bounded(void **state)
{
	struct got g = { 0 };
	struct sax_parser *p = sax_new(SAX_OBJECT, fields, ARRAY_SIZE(fields), on_object, &g);
	struct buf b = BUF_INIT(0);
	struct op_err e;

	(void)state;
	assert_int_equal(buf_puts(&b, "{\"metadata\":{\"name\":\"deep\"},\"x\":"), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_puts(&b, "[{\"a\":"), 0);
	assert_int_equal(buf_puts(&b, "1"), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(buf_puts(&b, "}]"), 0);
	assert_int_equal(buf_puts(&b, "}"), 0);
	assert_int_equal(sax_feed(p, b.data, b.len, &e), 0);
	assert_int_equal(sax_finish(p, &e), 0);
	assert_int_equal(g.objects, 1);
	assert_string_equal(g.names[0], "deep");
	buf_release(&b);
	sax_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sax__object_fields_and_indices),
		cmocka_unit_test(test_sax__every_split_point),
		cmocka_unit_test(test_sax__list_framing_and_continue),
		cmocka_unit_test(test_sax__event_framing_type_after_object_and_errors),
		cmocka_unit_test(test_sax__deep_nesting_is_bounded),
	};

	return cmocka_run_group_tests_name("kube_sax", tests, NULL, NULL);
}
