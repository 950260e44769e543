/* Unit tests for base/strmap. */
#include "support.h"

#include "base/strmap.h"

static void test_strmap__put_get_replace_remove(void **state)
{
	struct strmap m = STRMAP_INIT;
	void *old = NULL;
	int a = 1, b = 2;

	(void)state;
	assert_null(strmap_get(&m, "x"));
	assert_int_equal(strmap_put(&m, "x", &a, NULL), 1);
	assert_ptr_equal(strmap_get(&m, "x"), &a);
	assert_int_equal(strmap_put(&m, "x", &b, &old), 0);
	assert_ptr_equal(old, &a);
	assert_int_equal(m.len, 1);
	assert_ptr_equal(strmap_remove(&m, "x"), &b);
	assert_null(strmap_remove(&m, "x"));
	assert_false(strmap_contains(&m, "x"));
	assert_int_equal(m.len, 0);
	strmap_release(&m, NULL);
}

static void test_strmap__many_keys_with_churn(void **state)
{
	struct strmap m = STRMAP_INIT;
	char key[32];
	size_t it = 0, seen = 0;
	const char *k;
	void *v;

	(void)state;
	for (long i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "ns-%ld/pod-%ld", i % 7, i);
		assert_int_equal(strmap_put(&m, key, (void *)(i + 1), NULL), 1);
	}
	/* remove the odd ones, re-add some: tombstones must not break lookups */
	for (long i = 1; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "ns-%ld/pod-%ld", i % 7, i);
		assert_ptr_equal(strmap_remove(&m, key), (void *)(i + 1));
	}
	for (long i = 1; i < 2000; i += 2) {
		snprintf(key, sizeof(key), "ns-%ld/pod-%ld", i % 7, i);
		assert_int_equal(strmap_put(&m, key, (void *)(i + 1), NULL), 1);
	}
	assert_int_equal(m.len, 10000 + 1000);
	for (long i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "ns-%ld/pod-%ld", i % 7, i);
		if (i % 2 == 0 || i < 2000)
			assert_ptr_equal(strmap_get(&m, key), (void *)(i + 1));
		else
			assert_null(strmap_get(&m, key));
	}
	while (strmap_next(&m, &it, &k, &v)) {
		assert_ptr_equal(strmap_get(&m, k), v);
		seen++;
	}
	assert_int_equal(seen, m.len);
	strmap_release(&m, NULL);
}

static void test_strmap__release_frees_values(void **state)
{
	struct strmap m = STRMAP_INIT;

	(void)state;
	assert_int_equal(strmap_put(&m, "a", strdup("va"), NULL), 1);
	assert_int_equal(strmap_put(&m, "b", strdup("vb"), NULL), 1);
	strmap_release(&m, free); /* valgrind/ASan verify nothing leaks */
	assert_int_equal(m.len, 0);
	assert_null(m.slots);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strmap__put_get_replace_remove),
		cmocka_unit_test(test_strmap__many_keys_with_churn),
		cmocka_unit_test(test_strmap__release_frees_values),
	};

	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
