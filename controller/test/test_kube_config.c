/* Unit tests for kube/config (kubeconfig, in-cluster) and kube/auth. */
#include "support.h"

#include <pthread.h>

#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "kube/auth.h"
#include "kube/config.h"

static int load(const char *path, const char *ctx, struct kube_config **c, struct op_err *e)
{
	op_err_clear(e);
	return kube_config_from_files(&path, 1, ctx, c, e);
}

static void test_config__token_user_and_relative_ca(void **state)
{
	const char *p = test_write_file("kc-token", "apiVersion: v1\n"
					       "kind: Config\n"
					       "current-context: dev\n"
					       "clusters:\n"
					       "- name: c1\n"
					       "  cluster:\n"
					       "    server: https://10.0.0.1:6443/\n"
					       "    certificate-authority: pki/ca.crt\n"
					       "    tls-server-name: kubernetes.default\n"
					       "users:\n"
					       "- name: u1\n"
					       "  user:\n"
					       "    token: abc.def\n"
					       "contexts:\n"
					       "- name: dev\n"
					       "  context: {cluster: c1, user: u1, namespace: team-a}\n");
	struct kube_config *c = NULL;
	struct op_err e;
	char want[256];

	(void)state;
	assert_int_equal(load(p, NULL, &c, &e), 0);
	assert_string_equal(c->server, "https://10.0.0.1:6443");
	snprintf(want, sizeof(want), "%s/pki/ca.crt", test_tmpdir);
	assert_string_equal(c->ca_file, want);
	assert_string_equal(c->tls_server_name, "kubernetes.default");
	assert_string_equal(c->token, "abc.def");
	assert_string_equal(c->namespace, "team-a");
	assert_string_equal(c->user_name, "u1");
	assert_false(c->insecure_skip_tls_verify);
	assert_null(c->exec);
	kube_config_free(c);
}

static void test_config__data_fields_decode(void **state)
{
	/* "CA PEM" / "CERT" / "KEY" in base64 */
	const char *p = test_write_file("kc-data", "current-context: x\n"
					      "clusters: [{name: c, cluster: {server: 'https://h:1', "
					      "certificate-authority-data: Q0EgUEVN}}]\n"
					      "users: [{name: u, user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}}]\n"
					      "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	struct kube_config *c = NULL;
	struct op_err e;

	(void)state;
	assert_int_equal(load(p, NULL, &c, &e), 0);
	assert_int_equal(c->ca_pem_len, 6);
	assert_memory_equal(c->ca_pem, "CA PEM", 6);
	assert_string_equal(c->client_cert_pem, "CERT");
	assert_string_equal(c->client_key_pem, "KEY");
	assert_false(c->insecure_skip_tls_verify);
	assert_string_equal(c->namespace, "default");
	kube_config_free(c);
}

static void test_config__insecure_alone_or_never_with_a_ca(void **state)
{
	const char *p = test_write_file("kc-insecure", "current-context: x\n"
						  "clusters: [{name: c, cluster: {server: 'https://h:1', "
						  "insecure-skip-tls-verify: true}}]\n"
						  "users: [{name: u, user: {token: t}}]\n"
						  "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	struct kube_config *c = NULL;
	struct op_err e;

	(void)state;
	assert_int_equal(load(p, NULL, &c, &e), 0);
	assert_true(c->insecure_skip_tls_verify);
	assert_null(c->ca_file);
	assert_null(c->ca_pem);
	kube_config_free(c);
}

static void test_config__exec_plugin(void **state)
{
	const char *p = test_write_file("kc-exec", "current-context: eks\n"
					      "clusters: [{name: c, cluster: {server: 'https://eks:443'}}]\n"
					      "users:\n"
					      "- name: aws\n"
					      "  user:\n"
					      "    exec:\n"
					      "      apiVersion: client.authentication.k8s.io/v1beta1\n"
					      "      command: ./bin/get-token\n"
					      "      args: [eks, get-token, --cluster-name, prod]\n"
					      "      env: [{name: AWS_PROFILE, value: admin}]\n"
					      "      provideClusterInfo: true\n"
					      "contexts: [{name: eks, context: {cluster: c, user: aws}}]\n");
	struct kube_config *c = NULL;
	struct op_err e;
	char want[256];

	(void)state;
	assert_int_equal(load(p, NULL, &c, &e), 0);
	assert_non_null(c->exec);
	snprintf(want, sizeof(want), "%s/./bin/get-token", test_tmpdir);
	assert_string_equal(c->exec->command, want);
	assert_string_equal(c->exec->args[0], "eks");
	assert_string_equal(c->exec->args[3], "prod");
	assert_null(c->exec->args[4]);
	assert_string_equal(c->exec->env[0], "AWS_PROFILE=admin");
	assert_null(c->exec->env[1]);
	assert_true(c->exec->provide_cluster_info);
	assert_string_equal(c->exec->api_version, "client.authentication.k8s.io/v1beta1");
	kube_config_free(c);
}

static void expect_error(const char *yaml, const char *ctx, int code, const char *msg)
{
	const char *p = test_write_file("kc-bad", yaml);
	struct kube_config *c = NULL;
	struct op_err e;

	assert_int_equal(load(p, ctx, &c, &e), code);
	assert_null(c);
	if (!strstr(e.message, msg))
		fail_msg("message '%s' does not contain '%s'", e.message, msg);
	/* every error names the file */
	assert_non_null(strstr(e.message, p));
}

#define GOOD_CLUSTER "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
#define GOOD_CTX "contexts: [{name: x, context: {cluster: c, user: u}}]\n"

static void test_config__errors_name_file_key_and_problem(void **state)
{
	(void)state;
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {}}]\n" GOOD_CTX, NULL, -EINVAL,
		     "user 'u' has neither token nor client certificate nor exec");
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {token: t}}]\n" GOOD_CTX, "nope",
		     -ENOENT, "context 'nope' not found");
	expect_error(GOOD_CLUSTER "users: [{name: u, user: {token: t}}]\n" GOOD_CTX, NULL, -EINVAL,
		     "no current-context is set");
	expect_error("current-context: x\nclusters: [{name: c, cluster: {certificate-authority: ca}}]\n"
		     "users: [{name: u, user: {token: t}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "cluster 'c' has no 'server'");
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {client-certificate-data: '%%%'}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "user 'u' has a client certificate but no client key");
	expect_error("current-context: x\n" GOOD_CLUSTER
		     "users: [{name: u, user: {client-certificate-data: '%%%', client-key-data: 'a'}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "'client-certificate-data' is not valid base64");
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "'auth-provider' plugins are not supported");
	expect_error("current-context: x\n" GOOD_CLUSTER
		     "users: [{name: u, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "exec apiVersion 'client.authentication.k8s.io/v1alpha1' is not supported");
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {token: [1]}}]\n" GOOD_CTX, NULL,
		     -EINVAL, "user 'u': 'token' must be a string");
	expect_error("current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {token: t}}]\n"
		     "contexts: [{name: x, context: {cluster: c, user: missing}}]\n",
		     NULL, -ENOENT, "names user 'missing', which is not defined");
	expect_error("current-context: x\nclusters: {not: a list}\n", NULL, -EINVAL, "'clusters' must be a list");
	expect_error("a: [unclosed\n", NULL, -EINVAL, "line");
	/* kubectl: "specifying a root certificates file with the insecure flag is not allowed" */
	expect_error("current-context: x\nclusters: [{name: c, cluster: {server: 'https://h:1', "
		     "certificate-authority: ca.crt, insecure-skip-tls-verify: true}}]\n"
		     "users: [{name: u, user: {token: t}}]\n" GOOD_CTX,
		     NULL, -EINVAL,
		     "cluster 'c': specifying a root certificates file with the insecure flag is not allowed "
		     "('certificate-authority' and");
	expect_error("current-context: x\nclusters: [{name: c, cluster: {server: 'https://h:1', "
		     "certificate-authority-data: Q0EgUEVN, insecure-skip-tls-verify: true}}]\n"
		     "users: [{name: u, user: {token: t}}]\n" GOOD_CTX,
		     NULL, -EINVAL, "not allowed ('certificate-authority-data' and 'insecure-skip-tls-verify: true')");
}

static void test_config__merge_first_wins(void **state)
{
	const char *a = test_write_file("kc-a", "current-context: first\n"
					   "clusters: [{name: c, cluster: {server: 'https://first:1'}}]\n"
					   "contexts: [{name: first, context: {cluster: c, user: u}}]\n");
	const char *b = test_write_file("kc-b", "current-context: second\n"
					   "clusters: [{name: c, cluster: {server: 'https://second:1'}}]\n"
					   "users: [{name: u, user: {token: from-b}}]\n"
					   "contexts: [{name: second, context: {cluster: c, user: u}}]\n");
	const char *paths[] = { a, b };
	struct kube_config *c = NULL;
	struct op_err e;

	(void)state;
	assert_int_equal(kube_config_from_files(paths, 2, NULL, &c, &e), 0);
	assert_string_equal(c->context_name, "first");   /* first current-context */
	assert_string_equal(c->server, "https://first:1"); /* first definition of "c" */
	assert_string_equal(c->token, "from-b");           /* user only in b */
	kube_config_free(c);
}

struct fake_env {
	const char *kubeconfig, *host, *port, *home;
};

static const char *fake_getenv(const char *name, void *ctx)
{
	struct fake_env *f = ctx;

	if (streq(name, "KUBECONFIG"))
		return f->kubeconfig;
	if (streq(name, "KUBERNETES_SERVICE_HOST"))
		return f->host;
	if (streq(name, "KUBERNETES_SERVICE_PORT"))
		return f->port;
	if (streq(name, "HOME"))
		return f->home;
	return NULL;
}

static void test_config__load_order_and_in_cluster(void **state)
{
	char sadir[128], home[128], kubedir[256], missing[300];
	const char *flag = test_write_file("kc-flag", "current-context: x\n" GOOD_CLUSTER
						 "users: [{name: u, user: {token: flag}}]\n" GOOD_CTX);
	const char *envf = test_write_file("kc-env", "current-context: x\n" GOOD_CLUSTER
						"users: [{name: u, user: {token: env}}]\n" GOOD_CTX);
	struct fake_env fe = { .home = "/nonexistent" };
	struct kube_config_opts o = { .getenv = fake_getenv, .getenv_ctx = &fe };
	struct kube_config *c = NULL;
	struct op_err e;
	FILE *f;

	(void)state;
	snprintf(sadir, sizeof(sadir), "%s/sa", test_tmpdir);
	mkdir(sadir, 0700);
	test_write_file("sa/token", "in-cluster-token\n");
	test_write_file("sa/ca.crt", "CA");
	test_write_file("sa/namespace", "keyless-system\n");
	o.in_cluster_dir = sadir;

	/* 1. flag beats everything */
	o.kubeconfig = flag;
	fe.kubeconfig = envf;
	fe.host = "10.96.0.1";
	fe.port = "443";
	assert_int_equal(kube_config_load(&o, &c, &e), 0);
	assert_string_equal(c->token, "flag");
	kube_config_free(c);
	/* 2. then $KUBECONFIG (missing files in the list are skipped) */
	o.kubeconfig = NULL;
	snprintf(missing, sizeof(missing), "/nonexistent/x:%s", envf);
	fe.kubeconfig = missing;
	assert_int_equal(kube_config_load(&o, &c, &e), 0);
	assert_string_equal(c->token, "env");
	kube_config_free(c);
	/* 3. then in-cluster */
	fe.kubeconfig = NULL;
	assert_int_equal(kube_config_load(&o, &c, &e), 0);
	assert_true(c->in_cluster);
	assert_string_equal(c->server, "https://10.96.0.1:443");
	assert_string_equal(c->namespace, "keyless-system");
	assert_non_null(strstr(c->token_file, "/sa/token"));
	assert_null(c->token); /* read (and re-read) through kube/auth */
	kube_config_free(c);
	fe.host = "fd00::1";
	assert_int_equal(kube_config_load(&o, &c, &e), 0);
	assert_string_equal(c->server, "https://[fd00::1]:443");
	kube_config_free(c);
	/* 4. then ~/.kube/config */
	fe.host = NULL;
	snprintf(home, sizeof(home), "%s/home", test_tmpdir);
	snprintf(kubedir, sizeof(kubedir), "%s/.kube", home);
	mkdir(home, 0700);
	mkdir(kubedir, 0700);
	fe.home = home;
	test_write_file("home/.kube/config", "current-context: x\n" GOOD_CLUSTER "users: [{name: u, user: {token: home}}]\n" GOOD_CTX);
	assert_int_equal(kube_config_load(&o, &c, &e), 0);
	assert_string_equal(c->token, "home");
	kube_config_free(c);
	/* nothing at all */
	fe.home = "/nonexistent";
	assert_int_equal(kube_config_load(&o, &c, &e), -ENOENT);
	assert_non_null(strstr(e.message, "no Kubernetes configuration"));
	/* in-cluster without a token file */
	fe.host = "10.0.0.1";
	o.in_cluster_dir = "/nonexistent-sa";
	assert_int_equal(kube_config_load(&o, &c, &e), -ENOENT);
	assert_non_null(strstr(e.message, "service-account token /nonexistent-sa/token"));
	f = NULL;
	(void)f;
}

static void test_auth__exec_credential_parse(void **state)
{
	static const char v1[] = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
				 "\"spec\":{},\"status\":{\"token\":\"k8s-aws-v1.abc\",\"expirationTimestamp\":"
				 "\"2026-11-28T18:00:00Z\"}}";
	static const char cert[] = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
				   "\"status\":{\"clientCertificateData\":\"CERT\",\"clientKeyData\":\"KEY\"}}";
	static const char empty[] = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"a\",\"status\":{}}";
	struct kube_creds cr;
	struct op_err e;
	int64_t exp = -1;

	(void)state;
	assert_int_equal(kube_exec_credential_parse(v1, strlen(v1), "client.authentication.k8s.io/v1", &cr, &exp, &e), 0);
	assert_string_equal(cr.token, "k8s-aws-v1.abc");
	assert_int_equal(exp, INT64_C(1795888800) * NSEC_PER_SEC);
	kube_creds_release(&cr);
	assert_int_equal(kube_exec_credential_parse(cert, strlen(cert), "client.authentication.k8s.io/v1beta1", &cr,
						    &exp, &e), 0);
	assert_null(cr.token);
	assert_string_equal(cr.cert_pem, "CERT");
	assert_int_equal(exp, 0);
	kube_creds_release(&cr);
	assert_int_equal(kube_exec_credential_parse(v1, strlen(v1), "client.authentication.k8s.io/v1beta1", &cr, &exp,
						    &e), -EPROTO);
	assert_non_null(strstr(e.message, "answered apiVersion"));
	assert_int_equal(kube_exec_credential_parse(empty, strlen(empty), "a", &cr, &exp, &e), -EPROTO);
	assert_non_null(strstr(e.message, "neither a token"));
	assert_int_equal(kube_exec_credential_parse("nope", 4, "a", &cr, &exp, &e), -EPROTO);
}

/* A malformed credential document must not put the token into the error:
 * jansson's lexer text quotes the string being read. */
static void test_auth__exec_credential_parse_error_hides_token(void **state)
{
	static const char *const docs[] = {
		/* control character inside the token */
		"{\"kind\":\"ExecCredential\",\"apiVersion\":\"v\",\"status\":"
		"{\"token\":\"k8s-aws-v1.SECRET\x01rest\"}}",
		/* invalid escape inside the token */
		"{\"kind\":\"ExecCredential\",\"apiVersion\":\"v\",\"status\":"
		"{\"token\":\"k8s-aws-v1.SECRET\\q\"}}",
		/* truncated inside the token */
		"{\"kind\":\"ExecCredential\",\"apiVersion\":\"v\",\"status\":{\"token\":\"k8s-aws-v1.SECRET",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		struct kube_creds cr;
		struct op_err e;
		int64_t exp = -1;

		op_err_clear(&e);
		assert_int_equal(kube_exec_credential_parse(docs[i], strlen(docs[i]), "v", &cr, &exp, &e), -EPROTO);
		assert_null(strstr(e.message, "SECRET"));
		assert_null(strstr(e.message, "k8s-aws-v1"));
		assert_non_null(strstr(e.message, "line 1"));
		assert_int_equal(exp, -1);
	}
}

static void test_auth__token_file_reread_on_change(void **state)
{
	const char *tf = test_write_file("token", "first\n");
	struct kube_config cfg = { .source = (char *)"test", .token_file = (char *)tf };
	struct kube_auth *a;
	struct kube_creds cr;
	struct op_err e;
	uint64_t g1;

	(void)state;
	assert_int_equal(kube_auth_new(&cfg, NULL, &a, &e), 0);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	assert_string_equal(cr.token, "first");
	g1 = cr.generation;
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0); /* unchanged file: cached */
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_file_reads(a), 1);
	test_write_file("token", "second-token\n"); /* rotated (size differs) */
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	assert_string_equal(cr.token, "second-token");
	assert_true(cr.generation > g1);
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_file_reads(a), 2);
	/* a 401 forces a re-read, once per generation */
	assert_true(kube_auth_invalidate(a, g1 + 1));
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_file_reads(a), 3);
	assert_true(kube_auth_invalidate(a, g1)); /* stale generation: no effect */
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_file_reads(a), 3);
	kube_auth_free(a);
}

static void test_auth__exec_plugin_cached_until_expiry_and_401(void **state)
{
	char script[300];
	/* the plugin prints a token counting its runs and expiring at $EXPIRY;
	 * it checks the KUBERNETES_EXEC_INFO it was given */
	const char *body = "#!/bin/sh\n"
			   "case \"$KUBERNETES_EXEC_INFO\" in *'\"apiVersion\":\"client.authentication.k8s.io/v1\"'*) ;; "
			   "*) echo bad-exec-info >&2; exit 3;; esac\n"
			   "n=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"\n"
			   "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
			   "\"status\":{\"token\":\"tok-%s\",\"expirationTimestamp\":\"%s\"}}' \"$n\" \"$EXPIRY\"\n";
	char counter_env[300], *env[3];
	struct kube_exec_config ex = { .api_version = (char *)"client.authentication.k8s.io/v1", .env = env };
	struct kube_config cfg = { .source = (char *)"test", .server = (char *)"https://h:1", .exec = &ex };
	struct manual_clock mc;
	struct kube_auth *a;
	struct kube_creds cr;
	struct op_err e;
	char *args[] = { NULL };

	(void)state;
	snprintf(script, sizeof(script), "%s", test_write_file("plugin.sh", body));
	chmod(script, 0755);
	snprintf(counter_env, sizeof(counter_env), "COUNTER=%s/counter", test_tmpdir);
	env[0] = counter_env;
	env[1] = (char *)"EXPIRY=2026-11-28T18:00:00Z";
	env[2] = NULL;
	ex.command = script;
	ex.args = args;
	manual_clock_init(&mc, 0, INT64_C(1795888000) * NSEC_PER_SEC); /* 17:46:40, before expiry */
	assert_int_equal(kube_auth_new(&cfg, &mc.clock, &a, &e), 0);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	assert_string_equal(cr.token, "tok-1");
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0); /* cached */
	assert_string_equal(cr.token, "tok-1");
	assert_true(kube_auth_invalidate(a, cr.generation)); /* 401 */
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	assert_string_equal(cr.token, "tok-2");
	kube_creds_release(&cr);
	/* within 30 s of expiry the plugin runs again */
	manual_clock_advance(&mc, (1795888800 - 1795888000 - 20) * NSEC_PER_SEC);
	assert_int_equal(kube_auth_get(a, &cr, &e), 0);
	assert_string_equal(cr.token, "tok-3");
	kube_creds_release(&cr);
	assert_int_equal(kube_auth_exec_runs(a), 3);
	kube_auth_free(a);

	/* a failing plugin is a clear error */
	ex.api_version = (char *)"client.authentication.k8s.io/v1beta1";
	assert_int_equal(kube_auth_new(&cfg, &mc.clock, &a, &e), 0);
	assert_int_equal(kube_auth_get(a, &cr, &e), -EIO);
	assert_non_null(strstr(e.message, "failed (exit status 3)"));
	kube_auth_free(a);
	ex.command = (char *)"/nonexistent/plugin";
	assert_int_equal(kube_auth_new(&cfg, &mc.clock, &a, &e), 0);
	assert_int_equal(kube_auth_get(a, &cr, &e), -ENOENT);
	assert_non_null(strstr(e.message, "could not be started"));
	kube_auth_free(a);
}

struct auth_call {
	struct kube_auth *a;
	int rc;
	char token[32];
};

static void *auth_get_main(void *arg)
{
	struct auth_call *c = arg;
	struct kube_creds cr;
	struct op_err e;

	c->rc = kube_auth_get(c->a, &cr, &e);
	if (c->rc == 0) {
		snprintf(c->token, sizeof(c->token), "%s", cr.token);
		kube_creds_release(&cr);
	}
	return NULL;
}

static double secs_since(int64_t t0)
{
	return (double)(clock_mono_ns(NULL) - t0) / 1e9;
}

/* The plugin runs without the auth lock, and a caller with a deadline (the
 * lease's renewal) never waits past it: not for another thread's run, not
 * for its own, not for a plugin that closed its output but does not exit. */
static void test_auth__exec_plugin_runs_outside_the_lock_with_a_bounded_wait(void **state)
{
	const char *body = "#!/bin/sh\n"
			   "if [ \"$MODE\" = linger ]; then exec >&-; exec sleep 3; fi\n"
			   "sleep \"$DELAY\"\n"
			   "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
			   "\"status\":{\"token\":\"slow-tok\"}}'\n";
	char script[300], *env[3];
	struct kube_exec_config ex = { .api_version = (char *)"client.authentication.k8s.io/v1", .env = env };
	struct kube_config cfg = { .source = (char *)"test", .server = (char *)"https://h:1", .exec = &ex };
	char *args[] = { NULL };
	struct auth_call call = { 0 };
	struct kube_creds cr;
	struct op_err e;
	pthread_t t;
	int64_t t0;

	(void)state;
	snprintf(script, sizeof(script), "%s", test_write_file("slow-plugin.sh", body));
	chmod(script, 0755);
	env[0] = (char *)"DELAY=1";
	env[1] = (char *)"MODE=print";
	env[2] = NULL;
	ex.command = script;
	ex.args = args;

	/* another thread runs the plugin (1 s): the lock is free meanwhile, and a
	 * caller with a 200 ms deadline gives up at its deadline */
	assert_int_equal(kube_auth_new(&cfg, NULL, &call.a, &e), 0);
	assert_int_equal(pthread_create(&t, NULL, auth_get_main, &call), 0);
	sleep_ns(150 * NSEC_PER_MSEC);
	t0 = clock_mono_ns(NULL);
	assert_int_equal(kube_auth_exec_runs(call.a), 0); /* takes the lock: not blocked by the run */
	assert_true(secs_since(t0) < 0.1);
	assert_int_equal(kube_auth_get_until(call.a, clock_mono_ns(NULL) + 200 * NSEC_PER_MSEC, &cr, &e), -ETIMEDOUT);
	assert_true(secs_since(t0) < 0.4);
	pthread_join(t, NULL);
	assert_int_equal(call.rc, 0);
	assert_string_equal(call.token, "slow-tok");
	assert_int_equal(kube_auth_exec_runs(call.a), 1);
	/* cached now: a deadline does not matter */
	assert_int_equal(kube_auth_get_until(call.a, clock_mono_ns(NULL) + NSEC_PER_MSEC, &cr, &e), 0);
	kube_creds_release(&cr);
	kube_auth_free(call.a);

	/* the caller's own run is killed at its deadline (the plugin takes 3 s) */
	env[0] = (char *)"DELAY=3";
	assert_int_equal(kube_auth_new(&cfg, NULL, &call.a, &e), 0);
	t0 = clock_mono_ns(NULL);
	assert_int_equal(kube_auth_get_until(call.a, t0 + 300 * NSEC_PER_MSEC, &cr, &e), -ETIMEDOUT);
	assert_true(secs_since(t0) < 0.8);
	kube_auth_free(call.a);

	/* a plugin that closed its output but lingers is not waited for past the deadline */
	env[1] = (char *)"MODE=linger";
	assert_int_equal(kube_auth_new(&cfg, NULL, &call.a, &e), 0);
	t0 = clock_mono_ns(NULL);
	assert_int_equal(kube_auth_get_until(call.a, t0 + 300 * NSEC_PER_MSEC, &cr, &e), -ETIMEDOUT);
	assert_true(secs_since(t0) < 0.8);
	kube_auth_free(call.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__token_user_and_relative_ca),
		cmocka_unit_test(test_config__data_fields_decode),
		cmocka_unit_test(test_config__insecure_alone_or_never_with_a_ca),
		cmocka_unit_test(test_config__exec_plugin),
		cmocka_unit_test(test_config__errors_name_file_key_and_problem),
		cmocka_unit_test(test_config__merge_first_wins),
		cmocka_unit_test(test_config__load_order_and_in_cluster),
		cmocka_unit_test(test_auth__exec_credential_parse),
		cmocka_unit_test(test_auth__exec_credential_parse_error_hides_token),
		cmocka_unit_test(test_auth__token_file_reread_on_change),
		cmocka_unit_test(test_auth__exec_plugin_cached_until_expiry_and_401),
		cmocka_unit_test(test_auth__exec_plugin_runs_outside_the_lock_with_a_bounded_wait),
	};

	return cmocka_run_group_tests_name("kube_config", tests, test_tmpdir_setup, test_tmpdir_teardown);
}
