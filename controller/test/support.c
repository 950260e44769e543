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
