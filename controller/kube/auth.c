#include "kube/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/str.h"

extern char **environ;

#define EXEC_OUTPUT_CAP ((size_t)1 << 20)
#define EXEC_TIMEOUT_NS (60 * NSEC_PER_SEC)
/* Re-run a plugin this long before its credential expires. */
#define EXEC_EXPIRY_MARGIN_NS (30 * NSEC_PER_SEC)
#define TOKEN_FILE_CAP ((size_t)64 << 10)

struct kube_auth {
	pthread_mutex_t lock;
	pthread_cond_t done;  /* a plugin run ended */
	bool running;         /* a thread runs the plugin (without the lock) */
	const struct kube_config *cfg;
	const struct clock *clock;
	uint64_t generation;
	/* cached current credentials */
	char *token;
	char *cert_pem, *key_pem;
	bool valid;
	int64_t expiry_ns; /* realtime; 0 = none */
	/* token file identity at last read */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned exec_runs, file_reads;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void kube_creds_release(struct kube_creds *c)
{
	wipe_free(c->token);
	wipe_free(c->key_pem);
	free(c->cert_pem);
	c->token = c->cert_pem = c->key_pem = NULL;
}

static void drop_cached(struct kube_auth *a)
{
	wipe_free(a->token);
	wipe_free(a->key_pem);
	free(a->cert_pem);
	a->token = a->cert_pem = a->key_pem = NULL;
	a->valid = false;
	a->expiry_ns = 0;
}

int kube_auth_new(const struct kube_config *cfg, const struct clock *clock, struct kube_auth **ret,
		  struct op_err *err)
{
	struct kube_auth *a = calloc(1, sizeof(*a));

	(void)err;
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	cond_init_monotonic(&a->done);
	a->cfg = cfg;
	a->clock = clock;
	a->generation = 1;
	*ret = a;
	return 0;
}

void kube_auth_free(struct kube_auth *a)
{
	if (!a)
		return;
	drop_cached(a);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* --- token file ---------------------------------------------------------- */

static int read_token_file(struct kube_auth *a, struct op_err *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TOKEN_FILE_CAP);
	_cleanup_close_ int fd = open(a->cfg->token_file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char chunk[4096];
	ssize_t n;

	if (fd < 0)
		return op_err_set(err, -errno, "%s: token file %s: %s", a->cfg->source, a->cfg->token_file,
				  strerror(errno));
	if (fstat(fd, &st) < 0)
		return op_err_set(err, -errno, "%s: token file %s: %s", a->cfg->source, a->cfg->token_file,
				  strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&b, chunk, (size_t)n) < 0)
			return op_err_set(err, -E2BIG, "%s: token file %s is larger than 64 KiB", a->cfg->source,
					  a->cfg->token_file);
	}
	if (n < 0)
		return op_err_set(err, -errno, "%s: token file %s: %s", a->cfg->source, a->cfg->token_file,
				  strerror(errno));
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	if (b.len == 0)
		return op_err_set(err, -EINVAL, "%s: token file %s is empty", a->cfg->source, a->cfg->token_file);
	drop_cached(a);
	a->token = buf_detach(&b);
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->size = st.st_size;
	a->mtime = st.st_mtim;
	a->valid = true;
	a->file_reads++;
	a->generation++;
	return 0;
}

static bool token_file_changed(struct kube_auth *a)
{
	struct stat st;

	if (stat(a->cfg->token_file, &st) < 0)
		return true;
	return st.st_dev != a->dev || st.st_ino != a->ino || st.st_size != a->size ||
	       st.st_mtim.tv_sec != a->mtime.tv_sec || st.st_mtim.tv_nsec != a->mtime.tv_nsec;
}

/* --- exec plugin ---------------------------------------------------------- */

/* A description of a JSON parse error that names no input: jansson's
 * jerr.text quotes the text being lexed, which in a credential document is
 * the token. */
static const char *json_error_kind(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_out_of_memory: return "out of memory";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_premature_end_of_input: return "unexpected end of input";
	case json_error_end_of_input_expected: return "trailing data";
	case json_error_null_character: return "NUL character";
	case json_error_null_byte_in_key: return "NUL byte in a key";
	case json_error_duplicate_key: return "duplicate key";
	case json_error_numeric_overflow: return "number out of range";
	default: return "syntax error";
	}
}

int kube_exec_credential_parse(const char *json, size_t len, const char *api_version, struct kube_creds *ret,
			       int64_t *ret_expiry_ns, struct op_err *err)
{
	json_error_t jerr;
	json_auto_t *doc = json_loadb(json, len, 0, &jerr);
	const char *kind, *apiv, *token, *cert, *key, *exp;
	json_t *status;
	int64_t expiry = 0;

	if (!doc)
		return op_err_set(err, -EPROTO, "exec plugin output is not valid JSON (line %d, column %d: %s)",
				  jerr.line, jerr.column, json_error_kind(&jerr));
	if (!json_is_object(doc))
		return op_err_set(err, -EPROTO, "exec plugin output is not a JSON object");
	kind = json_string_value(json_object_get(doc, "kind"));
	apiv = json_string_value(json_object_get(doc, "apiVersion"));
	if (!kind || !streq(kind, "ExecCredential"))
		return op_err_set(err, -EPROTO, "exec plugin output has kind '%s', want ExecCredential", kind ?: "");
	if (!apiv || !streq(apiv, api_version))
		return op_err_set(err, -EPROTO, "exec plugin answered apiVersion '%s', but %s was requested", apiv ?: "",
				  api_version);
	status = json_object_get(doc, "status");
	if (!json_is_object(status))
		return op_err_set(err, -EPROTO, "exec plugin output has no status");
	token = json_string_value(json_object_get(status, "token"));
	cert = json_string_value(json_object_get(status, "clientCertificateData"));
	key = json_string_value(json_object_get(status, "clientKeyData"));
	exp = json_string_value(json_object_get(status, "expirationTimestamp"));
	if (token && !*token)
		token = NULL;
	if (!token && !(cert && key))
		return op_err_set(err, -EPROTO,
				  "exec plugin status has neither a token nor clientCertificateData+clientKeyData");
	if ((cert && !key) || (key && !cert))
		return op_err_set(err, -EPROTO, "exec plugin status has only one of clientCertificateData/clientKeyData");
	if (exp && rfc3339_parse(exp, &expiry) < 0)
		return op_err_set(err, -EPROTO, "exec plugin expirationTimestamp '%s' is not RFC 3339", exp);
	memset(ret, 0, sizeof(*ret));
	if ((token && !(ret->token = strdup(token))) || (cert && !(ret->cert_pem = strdup(cert))) ||
	    (key && !(ret->key_pem = strdup(key)))) {
		kube_creds_release(ret);
		return -ENOMEM;
	}
	*ret_expiry_ns = expiry;
	return 0;
}

static char *exec_info(const struct kube_config *cfg)
{
	json_auto_t *info = json_pack("{s:s, s:s, s:{s:b}}", "kind", "ExecCredential", "apiVersion",
				      cfg->exec->api_version, "spec", "interactive", 0);

	if (!info)
		return NULL;
	if (cfg->exec->provide_cluster_info) {
		json_t *cluster = json_pack("{s:s, s:b}", "server", cfg->server, "insecure-skip-tls-verify",
					    cfg->insecure_skip_tls_verify);

		if (cfg->ca_pem) {
			_cleanup_free_ char *b = b64_encode(cfg->ca_pem, cfg->ca_pem_len, false);

			json_object_set_new(cluster, "certificate-authority-data", json_string(b ? b : ""));
		}
		if (cfg->tls_server_name)
			json_object_set_new(cluster, "tls-server-name", json_string(cfg->tls_server_name));
		json_object_set_new(json_object_get(info, "spec"), "cluster", cluster);
	}
	return json_dumps(info, JSON_COMPACT);
}

/* Wait for pid until deadline (monotonic), then kill it. Never blocks past
 * the deadline by more than the reaping of a killed process. Returns true
 * if it had to be killed. */
static bool reap(pid_t pid, int64_t deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return false;
		if (clock_mono_ns(NULL) >= deadline)
			break;
		sleep_ns(5 * NSEC_PER_MSEC);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return true;
}

/* Run the plugin (reads only the immutable configuration: called without
 * the lock) until it ends or `deadline` (monotonic ns), then kill it. */
static int run_plugin(const struct kube_auth *a, int64_t deadline, struct kube_creds *ret_creds, int64_t *ret_expiry,
		      bool *ret_spawned, struct op_err *err)
{
	const struct kube_exec_config *ex = a->cfg->exec;
	_cleanup_free_ char *info = exec_info(a->cfg);
	_cleanup_buf_ struct buf out = BUF_INIT(EXEC_OUTPUT_CAP);
	_cleanup_free_ char **envp = NULL;
	_cleanup_free_ char *info_env = NULL;
	_cleanup_free_ char **argv = NULL;
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = 0, r, nenv = 0, nargs = 0;
	int64_t expiry = 0;
	struct kube_creds creds;
	bool timed_out = false;
	pid_t pid;

	if (!info)
		return -ENOMEM;
	/* argv: command + args */
	while (ex->args && ex->args[nargs])
		nargs++;
	argv = calloc((size_t)nargs + 2, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	argv[0] = ex->command;
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = ex->args[i];
	/* envp: our environment + the kubeconfig's env + KUBERNETES_EXEC_INFO */
	for (char **e = environ; *e; e++)
		nenv++;
	for (char **e = ex->env; e && *e; e++)
		nenv++;
	envp = calloc((size_t)nenv + 2, sizeof(char *));
	if (!envp)
		return -ENOMEM;
	nenv = 0;
	for (char **e = environ; *e; e++) {
		if (!str_startswith(*e, "KUBERNETES_EXEC_INFO="))
			envp[nenv++] = *e;
	}
	for (char **e = ex->env; e && *e; e++)
		envp[nenv++] = *e;
	{
		struct buf b = BUF_INIT(0);

		if (buf_printf(&b, "KUBERNETES_EXEC_INFO=%s", info) < 0)
			return -ENOMEM;
		info_env = buf_detach(&b);
	}
	envp[nenv++] = info_env;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return op_err_set(err, -errno, "exec plugin: pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	r = posix_spawnp(&pid, ex->command, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return op_err_set(err, -r, "%s: exec plugin '%s' could not be started: %s", a->cfg->source, ex->command,
				  strerror(r));
	}
	*ret_spawned = true;
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		int64_t left = deadline - clock_mono_ns(NULL);
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		r = poll(&p, 1, (int)(left / NSEC_PER_MSEC) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&out, chunk, (size_t)n) < 0) {
			close(pipefd[0]);
			reap(pid, 0, &status);
			return op_err_set(err, -E2BIG, "exec plugin '%s' wrote more than 1 MiB", ex->command);
		}
	}
	close(pipefd[0]);
	/* it closed its output: give it until the deadline to exit */
	if (reap(pid, timed_out ? 0 : deadline, &status) || timed_out)
		return op_err_set(err, -ETIMEDOUT, "exec plugin '%s' did not finish in time (60 s, or the request's deadline)",
				  ex->command);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return op_err_set(err, -ENOENT, "%s: exec plugin '%s' could not be started (not found or not executable)",
				  a->cfg->source, ex->command);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return op_err_set(err, -EIO, "%s: exec plugin '%s' failed (%s %d); see its messages above", a->cfg->source,
				  ex->command, WIFEXITED(status) ? "exit status" : "signal",
				  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	r = kube_exec_credential_parse(out.data ? out.data : "", out.len, ex->api_version, &creds, &expiry, err);
	explicit_bzero(out.data, out.len);
	if (r < 0)
		return r;
	*ret_creds = creds;
	*ret_expiry = expiry;
	return 0;
}

/* --- public --------------------------------------------------------------- */

static int dup_creds(struct kube_auth *a, struct kube_creds *ret)
{
	memset(ret, 0, sizeof(*ret));
	if ((a->token && !(ret->token = strdup(a->token))) || (a->cert_pem && !(ret->cert_pem = strdup(a->cert_pem))) ||
	    (a->key_pem && !(ret->key_pem = strdup(a->key_pem)))) {
		kube_creds_release(ret);
		return -ENOMEM;
	}
	ret->generation = a->generation;
	return 0;
}

/* Exec plugin credentials. The plugin runs without the lock (a slow plugin
 * blocks no other caller beyond its own deadline); one thread runs it, the
 * others wait for its result until their deadline, or keep using the cached
 * credential while it is still valid. Called and returns with the lock held. */
static int exec_get(struct kube_auth *a, int64_t deadline, struct kube_creds *ret, struct op_err *err)
{
	for (;;) {
		int64_t now = clock_real_ns(a->clock), mono = clock_mono_ns(NULL), expiry = 0, until;
		struct kube_creds creds;
		bool spawned = false;
		int r;

		if (a->valid && (!a->expiry_ns || now < a->expiry_ns - EXEC_EXPIRY_MARGIN_NS))
			return dup_creds(a, ret);
		if (a->running) {
			struct timespec ts;

			if (a->valid && (!a->expiry_ns || now < a->expiry_ns))
				return dup_creds(a, ret); /* still valid while another thread refreshes it */
			if (deadline && mono >= deadline)
				return op_err_set(err, -ETIMEDOUT, "%s: waiting for the exec plugin '%s': deadline reached",
						  a->cfg->source, a->cfg->exec->command);
			ts = mono_deadline(deadline ? deadline : mono + NSEC_PER_SEC);
			pthread_cond_timedwait(&a->done, &a->lock, &ts);
			continue;
		}
		a->running = true;
		until = mono + EXEC_TIMEOUT_NS;
		if (deadline && deadline < until)
			until = deadline;
		pthread_mutex_unlock(&a->lock);
		r = run_plugin(a, until, &creds, &expiry, &spawned, err);
		pthread_mutex_lock(&a->lock);
		a->running = false;
		if (spawned)
			a->exec_runs++;
		if (r >= 0) {
			drop_cached(a);
			a->token = creds.token;
			a->cert_pem = creds.cert_pem;
			a->key_pem = creds.key_pem;
			a->expiry_ns = expiry;
			a->valid = true;
			a->generation++;
		}
		pthread_cond_broadcast(&a->done);
		return r < 0 ? r : dup_creds(a, ret);
	}
}

int kube_auth_get(struct kube_auth *a, struct kube_creds *ret, struct op_err *err)
{
	return kube_auth_get_until(a, 0, ret, err);
}

int kube_auth_get_until(struct kube_auth *a, int64_t deadline_ns, struct kube_creds *ret, struct op_err *err)
{
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (a->cfg->token) {
		memset(ret, 0, sizeof(*ret));
		ret->token = strdup(a->cfg->token);
		ret->generation = a->generation;
		r = ret->token ? 0 : -ENOMEM;
	} else if (a->cfg->token_file) {
		if (!a->valid || token_file_changed(a))
			r = read_token_file(a, err);
		if (r >= 0)
			r = dup_creds(a, ret);
	} else if (a->cfg->exec) {
		r = exec_get(a, deadline_ns, ret, err);
	} else {
		memset(ret, 0, sizeof(*ret)); /* client certificate only */
		ret->generation = a->generation;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

bool kube_auth_invalidate(struct kube_auth *a, uint64_t generation)
{
	bool can_change = a->cfg->token_file || a->cfg->exec;

	pthread_mutex_lock(&a->lock);
	if (can_change && generation == a->generation)
		a->valid = false;
	pthread_mutex_unlock(&a->lock);
	return can_change;
}

unsigned kube_auth_exec_runs(struct kube_auth *a)
{
	unsigned n;

	pthread_mutex_lock(&a->lock);
	n = a->exec_runs;
	pthread_mutex_unlock(&a->lock);
	return n;
}

unsigned kube_auth_file_reads(struct kube_auth *a)
{
	unsigned n;

	pthread_mutex_lock(&a->lock);
	n = a->file_reads;
	pthread_mutex_unlock(&a->lock);
	return n;
}
