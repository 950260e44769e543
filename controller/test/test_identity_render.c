/* Golden tests of `keyless render` (identity/render.h, cli/render.c): each
 * testdata/render/<case>.yaml rendered with testdata/render/settings.yaml
 * must equal <case>.json byte for byte, and the command's exit code says
 * whether one was refused. KEYLESS_UPDATE_GOLDEN=1 rewrites the golden
 * files (then read them before committing). */
#include "support.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include "base/yamljson.h"
#include "cli/cli.h"
#include "identity/render.h"

#define TD "controller/test/testdata/render/"

static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len;
	struct op_err err;

	op_err_clear(&err);
	if (yaml_read_file(path, &text, &len, &err) < 0)
		return NULL;
	return text;
}

/* Run `keyless render ARGS` in-process; its stdout into *out. */
static int run_cli(char **out, const char *const *args, size_t n)
{
	char path[] = "/tmp/keyless-render-XXXXXX", *argv[16];
	int fd = mkstemp(path), saved, rc;

	assert_true(fd >= 0 && n < 15);
	argv[0] = (char *)"render";
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = cli_render((int)n + 1, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	*out = slurp(path);
	unlink(path);
	return rc;
}

static void golden(const char *name, int want_rc)
{
	char in[256], gold[256], *got = NULL, *want;
	const char *args[] = { "-f", in, "--settings", TD "settings.yaml", "-n", "payments" };
	int rc;

	snprintf(in, sizeof(in), TD "%s.yaml", name);
	snprintf(gold, sizeof(gold), TD "%s.json", name);
	rc = run_cli(&got, args, ARRAY_SIZE(args));
	assert_non_null(got);
	if (getenv("KEYLESS_UPDATE_GOLDEN")) {
		FILE *f = fopen(gold, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = slurp(gold);
	assert_non_null(want);
	if (strcmp(got, want) != 0)
		fail_msg("%s: the rendering differs from %s:\n%s", name, gold, got);
	assert_int_equal(rc, want_rc);
	free(got);
	free(want);
}

static void test_render__irsa(void **state)
{
	(void)state;
	golden("irsa", 0);
}

static void test_render__pod_identity(void **state)
{
	(void)state;
	golden("podidentity", 0);
}

static void test_render__refusals(void **state)
{
	(void)state;
	golden("refused", 1);
}

/* What the controller computes, the rendering shows: the role name, the
 * trust's sub and the annotation agree with the documented naming. */
static void test_render__agrees_with_the_controller_naming(void **state)
{
	char *out = NULL;
	const char *args[] = { "-f", TD "irsa.yaml", "--settings", TD "settings.yaml" };
	json_auto_t *doc = NULL;
	json_t *first;

	(void)state;
	assert_int_equal(run_cli(&out, args, ARRAY_SIZE(args)), 0);
	doc = json_loads(out, 0, NULL);
	free(out);
	assert_int_equal(json_array_size(doc), 3);
	first = json_array_get(doc, 0);
	{
		/* identity/naming.h's formula, computed here */
		static const char input[] = "keyless-role/v1\nhttps://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"
					    "\n\n/keyless/\nprod\nlogging\ns3-reader";
		unsigned char d[SHA256_DIGEST_LENGTH];
		char want[64];

		SHA256((const unsigned char *)input, strlen(input), d);
		snprintf(want, sizeof(want), "prod+logging+s3-reader@%02x%02x%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2],
			 d[3], d[4], d[5], d[6], d[7]);
		assert_string_equal(json_string_value(json_object_get(json_object_get(first, "role"), "name")), want);
	}
}

static void test_render__usage_and_file_errors(void **state)
{
	char *out = NULL;
	const char *none[] = { "--settings", TD "settings.yaml" };
	const char *missing[] = { "-f", TD "does-not-exist.yaml" };
	const char *no_wi[] = { "-f", TD "settings.yaml" };
	const char *bad[] = { "-f", TD "irsa.yaml", "--bogus", "x" };

	(void)state;
	assert_int_equal(run_cli(&out, none, ARRAY_SIZE(none)), 2);
	free(out);
	assert_int_equal(run_cli(&out, missing, ARRAY_SIZE(missing)), 2);
	free(out);
	assert_int_equal(run_cli(&out, no_wi, ARRAY_SIZE(no_wi)), 2);
	free(out);
	assert_int_equal(run_cli(&out, bad, ARRAY_SIZE(bad)), 2);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__irsa),
		cmocka_unit_test(test_render__pod_identity),
		cmocka_unit_test(test_render__refusals),
		cmocka_unit_test(test_render__agrees_with_the_controller_naming),
		cmocka_unit_test(test_render__usage_and_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
