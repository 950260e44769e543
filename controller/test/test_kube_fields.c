/* Unit tests for kube/fields: who manages an annotation, from managedFields
 * in the API server's FieldsV1 format. */
#include "support.h"

#include <errno.h>
#include <jansson.h>

#include "kube/fields.h"

static json_t *load(void)
{
	size_t len;
	char *text = test_read_file("kube/sa-managed-fields.json", &len);
	json_t *o = json_loadb(text, len, 0, NULL);

	free(text);
	assert_non_null(o);
	return o;
}

static void test_fields__annotation_owners(void **state)
{
	json_t *o = load();
	struct field_owners fo;

	(void)state;
	kube_annotation_owners(o, "eks.amazonaws.com/role-arn", "keyless", &fo);
	assert_true(fo.ours);
	assert_false(fo.others);
	kube_annotation_owners(o, "eks.amazonaws.com/audience", "keyless", &fo);
	assert_false(fo.ours);
	assert_true(fo.others);
	assert_string_equal(fo.other, "kubectl-annotate");
	/* shared: keyless and helm both set it */
	kube_annotation_owners(o, "eks.amazonaws.com/sts-regional-endpoints", "keyless", &fo);
	assert_true(fo.ours);
	assert_true(fo.others);
	assert_string_equal(fo.other, "helm");
	/* absent and unclaimed: nobody */
	kube_annotation_owners(o, "keyless.dev/allow-takeover", "keyless", &fo);
	assert_false(fo.ours || fo.others);
	/* present but claimed by no entry (managedFields stripped): someone else's */
	json_object_del(json_object_get(o, "metadata"), "managedFields");
	kube_annotation_owners(o, "eks.amazonaws.com/role-arn", "keyless", &fo);
	assert_false(fo.ours);
	assert_true(fo.others);
	assert_string_equal(fo.other, "(no managedFields entry)");
	json_decref(o);
}

static void test_fields__annotation_time(void **state)
{
	json_t *o = load();
	int64_t ns = 0;

	(void)state;
	/* keyless' own entry, even though helm wrote later */
	assert_int_equal(kube_annotation_time(o, "eks.amazonaws.com/sts-regional-endpoints", "keyless", &ns), 0);
	assert_int_equal(ns / 1000000000LL, 1796193602LL); /* 2026-12-02T06:40:02Z */
	/* someone else's only: theirs */
	assert_int_equal(kube_annotation_time(o, "eks.amazonaws.com/audience", "keyless", &ns), 0);
	assert_int_equal(ns / 1000000000LL, 1796193601LL);
	assert_int_equal(kube_annotation_time(o, "keyless.dev/allow-takeover", "keyless", &ns), -ENOENT);
	json_decref(o);
}

static void test_fields__owner_uid(void **state)
{
	json_t *o = load();

	(void)state;
	assert_true(kube_has_owner_uid(o, "11111111-2222-3333-4444-555555555555"));
	assert_false(kube_has_owner_uid(o, "11111111-2222-3333-4444-000000000000"));
	assert_false(kube_has_owner_uid(o, NULL));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields__annotation_owners),
		cmocka_unit_test(test_fields__annotation_time),
		cmocka_unit_test(test_fields__owner_uid),
	};

	return cmocka_run_group_tests_name("kube_fields", tests, NULL, NULL);
}
