/* Unit tests for aws/endpoint and aws/config: partitions, endpoints and
 * overrides, URL splitting, shared config files and the region. */
#include "support.h"

#include <sys/stat.h>
#include <unistd.h>

#include "aws/config.h"
#include "aws/endpoint.h"
#include "test_aws_fake.h"

static void test_endpoint__partitions_and_defaults(void **state)
{
	static const struct {
		enum aws_service svc;
		const char *region;
		const char *url;
		const char *signing;
	} cases[] = {
		{ AWS_SERVICE_IAM, "us-east-1", "https://iam.amazonaws.com", "us-east-1" },
		{ AWS_SERVICE_IAM, "eu-west-1", "https://iam.amazonaws.com", "us-east-1" },
		{ AWS_SERVICE_IAM, NULL, "https://iam.amazonaws.com", "us-east-1" },
		{ AWS_SERVICE_IAM, "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
		{ AWS_SERVICE_IAM, "us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1" },
		{ AWS_SERVICE_STS, "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "eu-west-1" },
		{ AWS_SERVICE_STS, "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1" },
		{ AWS_SERVICE_STS, "us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
		{ AWS_SERVICE_STS, NULL, "https://sts.amazonaws.com", "us-east-1" },
		{ AWS_SERVICE_EKS, "ap-southeast-2", "https://eks.ap-southeast-2.amazonaws.com", "ap-southeast-2" },
		{ AWS_SERVICE_EKS, "cn-north-1", "https://eks.cn-north-1.amazonaws.com.cn", "cn-north-1" },
	};
	struct fake f;

	(void)state;
	fake_init(&f);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aws_endpoint ep;

		assert_int_equal(aws_endpoint_resolve(cases[i].svc, cases[i].region, &f.aws_env, &ep, NULL), 0);
		assert_string_equal(ep.url, cases[i].url);
		assert_string_equal(ep.signing_region, cases[i].signing);
		assert_false(ep.overridden);
	}
	assert_string_equal(aws_partition_of("cn-north-1")->name, "aws-cn");
	assert_string_equal(aws_partition_of("us-gov-west-1")->name, "aws-us-gov");
	assert_string_equal(aws_partition_of("me-central-1")->name, "aws");
}

static void test_endpoint__sts_legacy_global(void **state)
{
	struct fake f;
	struct aws_endpoint ep;

	(void)state;
	fake_init(&f);
	fake_setenv(&f, "AWS_STS_REGIONAL_ENDPOINTS=legacy");
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_STS, "eu-west-1", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "https://sts.amazonaws.com");
	assert_string_equal(ep.signing_region, "us-east-1");
	/* regions outside botocore's legacy list stay regional */
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_STS, "me-central-1", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "https://sts.me-central-1.amazonaws.com");
	assert_string_equal(ep.signing_region, "me-central-1");
}

static void test_endpoint__overrides_service_specific_wins(void **state)
{
	struct fake f;
	struct aws_endpoint ep;
	struct op_err e;

	(void)state;
	fake_init(&f);
	fake_setenv(&f, "AWS_ENDPOINT_URL=http://127.0.0.1:5000/");
	fake_setenv(&f, "AWS_ENDPOINT_URL_STS=http://127.0.0.1:5001");
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_IAM, "eu-west-1", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "http://127.0.0.1:5000");
	assert_string_equal(ep.signing_region, "us-east-1"); /* IAM signs for its partition's region */
	assert_true(ep.overridden);
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_STS, "eu-west-1", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "http://127.0.0.1:5001");
	assert_string_equal(ep.signing_region, "eu-west-1");
	/* EKS with an override works even without a region */
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_EKS, NULL, &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "http://127.0.0.1:5000");

	fake_init(&f);
	fake_setenv(&f, "AWS_ENDPOINT_URL=http://127.0.0.1:5000");
	fake_setenv(&f, "AWS_ENDPOINT_URL_EKS=https://eks.example.test/base/");
	fake_setenv(&f, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false");
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_EKS, "us-west-2", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "https://eks.example.test/base");
	assert_string_equal(ep.signing_region, "us-west-2");

	fake_init(&f);
	fake_setenv(&f, "AWS_ENDPOINT_URL=http://127.0.0.1:5000");
	fake_setenv(&f, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true");
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_IAM, "us-west-2", &f.aws_env, &ep, NULL), 0);
	assert_string_equal(ep.url, "https://iam.amazonaws.com");

	fake_init(&f);
	fake_setenv(&f, "AWS_ENDPOINT_URL_IAM=ftp://nope");
	op_err_clear(&e);
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_IAM, NULL, &f.aws_env, &ep, &e), -EINVAL);
	assert_true(strstr(e.message, "AWS_ENDPOINT_URL_IAM") != NULL);
}

static void test_endpoint__errors(void **state)
{
	struct fake f;
	struct aws_endpoint ep;
	struct op_err e;

	(void)state;
	fake_init(&f);
	op_err_clear(&e);
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_EKS, NULL, &f.aws_env, &ep, &e), -EINVAL);
	assert_true(strstr(e.message, "no AWS region") != NULL);
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_STS, "us-east-1.evil.com/", &f.aws_env, &ep, NULL), -EINVAL);
	assert_int_equal(aws_endpoint_resolve(AWS_SERVICE_STS, "US-EAST-1", &f.aws_env, &ep, NULL), -EINVAL);
}

static void test_endpoint__url_parse_table(void **state)
{
	static const struct {
		const char *url;
		int rc;
		const char *host, *host_header, *path, *query;
		int port;
	} cases[] = {
		{ "https://IAM.amazonaws.com", 0, "iam.amazonaws.com", "iam.amazonaws.com", "/", "", 0 },
		{ "https://iam.amazonaws.com:443/", 0, "iam.amazonaws.com", "iam.amazonaws.com", "/", "", 443 },
		{ "http://127.0.0.1:80/x", 0, "127.0.0.1", "127.0.0.1", "/x", "", 80 },
		{ "http://127.0.0.1:5000/a%20b/c?x=1&y=%2F", 0, "127.0.0.1", "127.0.0.1:5000", "/a%20b/c", "x=1&y=%2F",
		  5000 },
		{ "https://h:8443?q", 0, "h", "h:8443", "/", "q", 8443 },
		{ "http://[::1]:8080/p", 0, "::1", "[::1]:8080", "/p", "", 8080 },
		{ "http://[fd00:ec2::254]", 0, "fd00:ec2::254", "[fd00:ec2::254]", "/", "", 0 },
		{ "ftp://h/", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http://user:pw@h/", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http://h:0/", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http://h:99999/", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http://h:/", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http:///x", -EINVAL, NULL, NULL, NULL, NULL, 0 },
		{ "http://h/#frag", -EINVAL, NULL, NULL, NULL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aws_url u;
		int rc = aws_url_parse(cases[i].url, &u);

		if (rc != cases[i].rc)
			fail_msg("%s: rc %d", cases[i].url, rc);
		if (rc < 0)
			continue;
		assert_string_equal(u.host, cases[i].host);
		assert_string_equal(u.host_header, cases[i].host_header);
		assert_string_equal(u.path, cases[i].path);
		assert_string_equal(u.query, cases[i].query);
		assert_int_equal(u.port, cases[i].port);
	}
}

/* --- shared config files ----------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config__profiles_precedence_and_region(void **state)
{
	char dir[] = "/tmp/keyless-test-aws-XXXXXX", cfg[256], cred[256];
	struct aws_shared_config *c = NULL;
	struct op_err e;
	struct fake f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cfg, sizeof(cfg), "%s/config", dir);
	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	write_file(cfg, "# comment\n"
			"[default]\n"
			"region = eu-west-1\n"
			"aws_access_key_id = FROMCONFIG\n"
			"s3 =\n"
			"    max_concurrent_requests = 5\n"
			"output=json\n"
			"\n"
			"[profile dev]\n"
			"region=us-west-2\n"
			"  ; indented comment\n"
			"[sso-session corp]\n"
			"sso_region = us-east-1\n"
			"[profile  spaced ]\n"
			"region = ap-south-1\n");
	write_file(cred, "[default]\n"
			 "aws_access_key_id = FROMCREDS\n"
			 "aws_secret_access_key = secret\n"
			 "[dev]\n"
			 "aws_access_key_id=DEVKEY\r\n");
	op_err_clear(&e);
	assert_int_equal(aws_shared_config_load_files(cfg, cred, &c, &e), 0);
	assert_string_equal(aws_shared_config_get(c, "default", "aws_access_key_id"), "FROMCREDS");
	assert_string_equal(aws_shared_config_get(c, "default", "region"), "eu-west-1");
	assert_string_equal(aws_shared_config_get(c, "default", "output"), "json");
	assert_null(aws_shared_config_get(c, "default", "max_concurrent_requests"));
	assert_string_equal(aws_shared_config_get(c, "dev", "aws_access_key_id"), "DEVKEY");
	assert_string_equal(aws_shared_config_get(c, "dev", "region"), "us-west-2");
	assert_string_equal(aws_shared_config_get(c, "spaced", "region"), "ap-south-1");
	assert_null(aws_shared_config_get(c, "corp", "sso_region"));
	assert_false(aws_shared_config_has_profile(c, "corp"));
	assert_true(aws_shared_config_has_profile(c, "dev"));

	/* region: AWS_REGION > AWS_DEFAULT_REGION > profile */
	fake_init(&f);
	assert_string_equal(aws_region_resolve(&f.aws_env, c, NULL), "eu-west-1");
	fake_setenv(&f, "AWS_PROFILE=dev");
	assert_string_equal(aws_region_resolve(&f.aws_env, c, NULL), "us-west-2");
	fake_setenv(&f, "AWS_DEFAULT_REGION=ca-central-1");
	assert_string_equal(aws_region_resolve(&f.aws_env, c, NULL), "ca-central-1");
	fake_setenv(&f, "AWS_REGION=sa-east-1");
	assert_string_equal(aws_region_resolve(&f.aws_env, c, NULL), "sa-east-1");
	aws_shared_config_free(c);

	/* files found through the environment; missing files are fine */
	fake_init(&f);
	{
		char kv1[300], kv2[300];

		snprintf(kv1, sizeof(kv1), "AWS_CONFIG_FILE=%s", cfg);
		snprintf(kv2, sizeof(kv2), "AWS_SHARED_CREDENTIALS_FILE=%s/missing", dir);
		fake_setenv(&f, kv1);
		fake_setenv(&f, kv2);
		assert_int_equal(aws_shared_config_load(&f.aws_env, &c, &e), 0);
		assert_string_equal(aws_shared_config_get(c, "default", "aws_access_key_id"), "FROMCONFIG");
		aws_shared_config_free(c);
	}

	/* malformed lines name file and line */
	write_file(cfg, "[default]\nregion eu-west-1\n");
	op_err_clear(&e);
	assert_int_equal(aws_shared_config_load_files(cfg, NULL, &c, &e), -EINVAL);
	assert_true(strstr(e.message, ":2:") != NULL);
	write_file(cfg, "region = x\n");
	assert_int_equal(aws_shared_config_load_files(cfg, NULL, &c, &e), -EINVAL);
	write_file(cfg, "[default\n");
	assert_int_equal(aws_shared_config_load_files(cfg, NULL, &c, &e), -EINVAL);

	unlink(cfg);
	unlink(cred);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint__partitions_and_defaults),
		cmocka_unit_test(test_endpoint__sts_legacy_global),
		cmocka_unit_test(test_endpoint__overrides_service_specific_wins),
		cmocka_unit_test(test_endpoint__errors),
		cmocka_unit_test(test_endpoint__url_parse_table),
		cmocka_unit_test(test_config__profiles_precedence_and_region),
	};

	return cmocka_run_group_tests_name("aws_endpoint", tests, NULL, NULL);
}
