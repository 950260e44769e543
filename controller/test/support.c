#include "support.h"

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
