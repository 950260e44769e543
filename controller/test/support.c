#include "support.h"

#include "base/yamljson.h"
#include "identity/settings.h"

#ifndef TESTDATA_DIR
#define TESTDATA_DIR "controller/test/testdata"
#endif

char *test_read_file(const char *rel, size_t *ret_len)
{
	char path[1024];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", TESTDATA_DIR, rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open test data %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)n;
	return data;
}

char test_tmpdir[64];

int test_tmpdir_setup(void **state)
{
	(void)state;
	snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/keyless-test-XXXXXX");
	return mkdtemp(test_tmpdir) ? 0 : -1;
}

int test_tmpdir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

const char *test_write_file(const char *name, const char *content)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", test_tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return p;
}

/* JSON text written with ' for " (readable tables); returns a new value. */
json_t *test_sq_json(const char *sq)
{
	char *text = strdup(sq);
	json_error_t jerr;
	json_t *v;

	assert_non_null(text);
	for (char *p = text; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("bad test JSON (%s): %s", jerr.text, text);
	free(text);
	return v;
}

/* A WorkloadIdentity in namespace "ns" whose spec is `spec_sq`. */
json_t *test_wi_with_spec(const char *spec_sq)
{
	json_t *obj = json_pack("{s:{s:s, s:s, s:s, s:i}}", "metadata", "namespace", "ns", "name", "wi", "uid",
				"0b9c6a3e-51d2-4c1f-9a8e-2f7d7f0c3b11", "generation", 1);

	assert_non_null(obj);
	assert_int_equal(json_object_set_new(obj, "spec", test_sq_json(spec_sq)), 0);
	return obj;
}

struct settings *test_settings(const char *yaml)
{
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;

	op_err_clear(&err);
	if (yaml_to_json(yaml, strlen(yaml), &doc, &err) < 0 || settings_parse(doc, "test", &s, &err) < 0)
		fail_msg("bad test settings: %s", err.message);
	return s;
}
