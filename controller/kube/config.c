#include "kube/config.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/strmap.h"
#include "base/yamljson.h"

#define DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define SMALL_FILE_CAP ((size_t)1 << 20)

/* One named entry (cluster, user or context) and the file that defined it. */
struct entry {
	json_t *obj;      /* the inner object ("cluster", "user", "context") */
	const char *file; /* borrowed from struct merged.files */
};

struct merged {
	struct strmap clusters, users, contexts; /* name -> struct entry* */
	char *current_context;
	const char *current_context_file;
	json_t *docs[16];
	char *files[16];
	size_t n;
};

static void entry_free(void *p)
{
	free(p);
}

static void merged_release(struct merged *m)
{
	strmap_release(&m->clusters, entry_free);
	strmap_release(&m->users, entry_free);
	strmap_release(&m->contexts, entry_free);
	free(m->current_context);
	for (size_t i = 0; i < m->n; i++) {
		json_decref(m->docs[i]);
		free(m->files[i]);
	}
}

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	free(c->source);
	free(c->context_name);
	free(c->cluster_name);
	free(c->user_name);
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->tls_server_name);
	free(c->client_cert_file);
	free(c->client_key_file);
	free(c->client_cert_pem);
	free(c->client_key_pem);
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->token_file);
	if (c->exec) {
		free(c->exec->command);
		for (char **a = c->exec->args; a && *a; a++)
			free(*a);
		free(c->exec->args);
		for (char **e = c->exec->env; e && *e; e++)
			free(*e);
		free(c->exec->env);
		free(c->exec->api_version);
		free(c->exec);
	}
	free(c->namespace);
	free(c);
}

/* Add the named entries of one list ("clusters") to map; first wins. */
static int merge_list(struct merged *m, json_t *doc, const char *list, const char *inner, struct strmap *map,
		      const char *file, struct op_err *err)
{
	json_t *arr = json_object_get(doc, list), *item;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return op_err_set(err, -EINVAL, "kubeconfig %s: '%s' must be a list", file, list);
	json_array_foreach(arr, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		json_t *obj = json_object_get(item, inner);
		struct entry *e;
		int r;

		if (!name || !*name)
			return op_err_set(err, -EINVAL, "kubeconfig %s: %s[%zu] has no name", file, list, i);
		if (!json_is_object(obj))
			return op_err_set(err, -EINVAL, "kubeconfig %s: %s '%s' has no '%s' map", file, list, name,
					  inner);
		if (strmap_contains(map, name))
			continue;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->obj = obj;
		e->file = file;
		r = strmap_put(map, name, e, NULL);
		if (r < 0) {
			free(e);
			return r;
		}
	}
	return 0;
}

static int merge_file(struct merged *m, const char *path, struct op_err *err)
{
	json_t *doc = NULL;
	const char *cc;
	int r;

	if (m->n >= ARRAY_SIZE(m->docs))
		return op_err_set(err, -E2BIG, "KUBECONFIG: more than %zu files", ARRAY_SIZE(m->docs));
	r = yaml_file_to_json(path, &doc, err);
	if (r < 0) {
		if (err && !str_startswith(err->message, "kubeconfig")) {
			char msg[sizeof(err->message)];

			memcpy(msg, err->message, sizeof(msg));
			op_err_set(err, r, "kubeconfig %s", msg);
		}
		return r;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		return op_err_set(err, -EINVAL, "kubeconfig %s: not a YAML map", path);
	}
	m->docs[m->n] = doc;
	m->files[m->n] = strdup(path);
	if (!m->files[m->n])
		return -ENOMEM;
	path = m->files[m->n++];
	r = merge_list(m, doc, "clusters", "cluster", &m->clusters, path, err);
	if (r >= 0)
		r = merge_list(m, doc, "users", "user", &m->users, path, err);
	if (r >= 0)
		r = merge_list(m, doc, "contexts", "context", &m->contexts, path, err);
	if (r < 0)
		return r;
	cc = json_string_value(json_object_get(doc, "current-context"));
	if (cc && *cc && !m->current_context) {
		m->current_context = strdup(cc);
		m->current_context_file = path;
		if (!m->current_context)
			return -ENOMEM;
	}
	return 0;
}

/* Optional string field; type errors are reported. */
static int get_str(json_t *obj, const char *key, const char **ret, const char *file, const char *what,
		   const char *name, struct op_err *err)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return op_err_set(err, -EINVAL, "kubeconfig %s: %s '%s': '%s' must be a string", file, what, name, key);
	*ret = json_string_value(v);
	if (!**ret)
		*ret = NULL;
	return 0;
}

/* Resolve a path relative to the directory of `file`. */
static char *resolve_path(const char *file, const char *p)
{
	_cleanup_free_ char *copy = NULL;
	struct buf b = BUF_INIT(4096);

	if (!p)
		return NULL;
	if (p[0] == '/' || !file)
		return strdup(p);
	copy = strdup(file);
	if (!copy)
		return NULL;
	if (buf_printf(&b, "%s/%s", dirname(copy), p) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static int decode_data(const char *b64, char **ret, size_t *ret_len, const char *file, const char *what,
		       const char *name, const char *key, struct op_err *err)
{
	unsigned char *out;
	size_t n;

	if (b64_decode(b64, strlen(b64), false, &out, &n) < 0)
		return op_err_set(err, -EINVAL, "kubeconfig %s: %s '%s': '%s' is not valid base64", file, what, name,
				  key);
	*ret = (char *)out;
	*ret_len = n;
	return 0;
}

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int load_exec(struct kube_config *c, json_t *exec, const char *file, const char *user, struct op_err *err)
{
	const char *cmd = NULL, *apiv = NULL;
	json_t *args, *env, *v;
	size_t i;
	int r;

	if (!json_is_object(exec))
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': 'exec' must be a map", file, user);
	if ((r = get_str(exec, "command", &cmd, file, "user", user, err)) < 0 ||
	    (r = get_str(exec, "apiVersion", &apiv, file, "user", user, err)) < 0)
		return r;
	if (!cmd)
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec has no 'command'", file, user);
	if (!apiv)
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec has no 'apiVersion'", file, user);
	if (!streq(apiv, "client.authentication.k8s.io/v1") && !streq(apiv, "client.authentication.k8s.io/v1beta1"))
		return op_err_set(err, -EINVAL,
				  "kubeconfig %s: user '%s': exec apiVersion '%s' is not supported "
				  "(use client.authentication.k8s.io/v1 or v1beta1)",
				  file, user, apiv);
	c->exec = calloc(1, sizeof(*c->exec));
	if (!c->exec)
		return -ENOMEM;
	/* A command with a slash is relative to the kubeconfig, like kubectl. */
	c->exec->command = strchr(cmd, '/') ? resolve_path(file, cmd) : strdup(cmd);
	c->exec->api_version = strdup(apiv);
	c->exec->provide_cluster_info = json_is_true(json_object_get(exec, "provideClusterInfo"));
	args = json_object_get(exec, "args");
	env = json_object_get(exec, "env");
	c->exec->args = calloc(json_array_size(args) + 1, sizeof(char *));
	c->exec->env = calloc(json_array_size(env) + 1, sizeof(char *));
	if (!c->exec->command || !c->exec->api_version || !c->exec->args || !c->exec->env)
		return -ENOMEM;
	if (args && !json_is_array(args) && !json_is_null(args))
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec 'args' must be a list", file, user);
	json_array_foreach(args, i, v) {
		if (!json_is_string(v))
			return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec args[%zu] must be a string",
					  file, user, i);
		if (!(c->exec->args[i] = strdup(json_string_value(v))))
			return -ENOMEM;
	}
	if (env && !json_is_array(env) && !json_is_null(env))
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec 'env' must be a list", file, user);
	json_array_foreach(env, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		const char *val = json_string_value(json_object_get(v, "value"));
		struct buf b = BUF_INIT(0);

		if (!n || !val)
			return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s': exec env[%zu] needs 'name' and 'value'",
					  file, user, i);
		if (buf_printf(&b, "%s=%s", n, val) < 0)
			return -ENOMEM;
		c->exec->env[i] = buf_detach(&b);
	}
	return 0;
}

static int load_cluster(struct kube_config *c, struct entry *e, const char *name, struct op_err *err)
{
	const char *server, *ca, *cad, *sni;
	json_t *insecure;
	size_t len;
	int r;

	if ((r = get_str(e->obj, "server", &server, e->file, "cluster", name, err)) < 0 ||
	    (r = get_str(e->obj, "certificate-authority", &ca, e->file, "cluster", name, err)) < 0 ||
	    (r = get_str(e->obj, "certificate-authority-data", &cad, e->file, "cluster", name, err)) < 0 ||
	    (r = get_str(e->obj, "tls-server-name", &sni, e->file, "cluster", name, err)) < 0)
		return r;
	if (!server)
		return op_err_set(err, -EINVAL, "kubeconfig %s: cluster '%s' has no 'server'", e->file, name);
	if (!str_startswith(server, "https://") && !str_startswith(server, "http://"))
		return op_err_set(err, -EINVAL, "kubeconfig %s: cluster '%s': server '%s' must start with https://",
				  e->file, name, server);
	if (!(c->server = strdup(server)))
		return -ENOMEM;
	len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	insecure = json_object_get(e->obj, "insecure-skip-tls-verify");
	if (insecure && !json_is_boolean(insecure) && !json_is_null(insecure))
		return op_err_set(err, -EINVAL, "kubeconfig %s: cluster '%s': 'insecure-skip-tls-verify' must be true or false",
				  e->file, name);
	c->insecure_skip_tls_verify = json_is_true(insecure);
	if (c->insecure_skip_tls_verify && (ca || cad))
		/* kubectl (client-go) refuses this too: the CA would silently not be used */
		return op_err_set(err, -EINVAL,
				  "kubeconfig %s: cluster '%s': specifying a root certificates file with the insecure flag "
				  "is not allowed ('%s' and 'insecure-skip-tls-verify: true')",
				  e->file, name, cad ? "certificate-authority-data" : "certificate-authority");
	if (cad) {
		r = decode_data(cad, &c->ca_pem, &c->ca_pem_len, e->file, "cluster", name, "certificate-authority-data", err);
		if (r < 0)
			return r;
	} else if (ca && !(c->ca_file = resolve_path(e->file, ca))) {
		return -ENOMEM;
	}
	return dup_opt(&c->tls_server_name, sni);
}

static int load_user(struct kube_config *c, struct entry *e, const char *name, struct op_err *err)
{
	const char *cert, *certd, *key, *keyd, *token, *tf;
	json_t *exec;
	int r;

	if ((r = get_str(e->obj, "client-certificate", &cert, e->file, "user", name, err)) < 0 ||
	    (r = get_str(e->obj, "client-certificate-data", &certd, e->file, "user", name, err)) < 0 ||
	    (r = get_str(e->obj, "client-key", &key, e->file, "user", name, err)) < 0 ||
	    (r = get_str(e->obj, "client-key-data", &keyd, e->file, "user", name, err)) < 0 ||
	    (r = get_str(e->obj, "token", &token, e->file, "user", name, err)) < 0 ||
	    (r = get_str(e->obj, "tokenFile", &tf, e->file, "user", name, err)) < 0)
		return r;
	exec = json_object_get(e->obj, "exec");
	if (json_is_null(exec))
		exec = NULL;
	if (json_object_get(e->obj, "auth-provider"))
		return op_err_set(err, -EINVAL,
				  "kubeconfig %s: user '%s': 'auth-provider' plugins are not supported; use an 'exec' "
				  "credential plugin (e.g. aws eks get-token)",
				  e->file, name);
	if ((cert || certd) != (key || keyd))
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s' has a client %s but no client %s", e->file, name,
				  (cert || certd) ? "certificate" : "key", (cert || certd) ? "key" : "certificate");
	if (!cert && !certd && !token && !tf && !exec) {
		if (json_object_get(e->obj, "username") || json_object_get(e->obj, "password"))
			return op_err_set(err, -EINVAL,
					  "kubeconfig %s: user '%s' uses username/password (basic auth), which "
					  "Kubernetes no longer supports; use a token, client certificate or exec",
					  e->file, name);
		return op_err_set(err, -EINVAL, "kubeconfig %s: user '%s' has neither token nor client certificate nor exec",
				  e->file, name);
	}
	if (certd) {
		r = decode_data(certd, &c->client_cert_pem, &c->client_cert_pem_len, e->file, "user", name,
				"client-certificate-data", err);
		if (r < 0)
			return r;
	} else if (cert && !(c->client_cert_file = resolve_path(e->file, cert))) {
		return -ENOMEM;
	}
	if (keyd) {
		r = decode_data(keyd, &c->client_key_pem, &c->client_key_pem_len, e->file, "user", name,
				"client-key-data", err);
		if (r < 0)
			return r;
	} else if (key && !(c->client_key_file = resolve_path(e->file, key))) {
		return -ENOMEM;
	}
	if ((r = dup_opt(&c->token, token)) < 0)
		return r;
	if (tf && !token && !(c->token_file = resolve_path(e->file, tf)))
		return -ENOMEM;
	if (exec)
		return load_exec(c, exec, e->file, name, err);
	return 0;
}

int kube_config_from_files(const char *const *paths, size_t n, const char *context, struct kube_config **ret,
			   struct op_err *err)
{
	struct merged m = { .clusters = STRMAP_INIT, .users = STRMAP_INIT, .contexts = STRMAP_INIT };
	_cleanup_(kube_config_freep) struct kube_config *c = NULL;
	struct entry *ctx, *cl, *us;
	const char *cluster, *user, *ns, *where;
	struct buf src = BUF_INIT(0);
	int r;

	for (size_t i = 0; i < n; i++) {
		r = merge_file(&m, paths[i], err);
		if (r < 0)
			goto out;
	}
	where = m.n == 1 ? m.files[0] : "(KUBECONFIG files)";
	if (!context)
		context = m.current_context;
	if (!context) {
		r = op_err_set(err, -EINVAL, "kubeconfig %s: no current-context is set and no --context was given", where);
		goto out;
	}
	ctx = strmap_get(&m.contexts, context);
	if (!ctx) {
		r = op_err_set(err, -ENOENT, "kubeconfig %s: context '%s' not found", where, context);
		goto out;
	}
	if ((r = get_str(ctx->obj, "cluster", &cluster, ctx->file, "context", context, err)) < 0 ||
	    (r = get_str(ctx->obj, "user", &user, ctx->file, "context", context, err)) < 0 ||
	    (r = get_str(ctx->obj, "namespace", &ns, ctx->file, "context", context, err)) < 0)
		goto out;
	if (!cluster || !(cl = strmap_get(&m.clusters, cluster))) {
		r = op_err_set(err, -ENOENT, "kubeconfig %s: context '%s' names cluster '%s', which is not defined",
			       ctx->file, context, cluster ? cluster : "");
		goto out;
	}
	if (!user || !(us = strmap_get(&m.users, user))) {
		r = op_err_set(err, -ENOENT, "kubeconfig %s: context '%s' names user '%s', which is not defined",
			       ctx->file, context, user ? user : "");
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = load_cluster(c, cl, cluster, err)) < 0 || (r = load_user(c, us, user, err)) < 0)
		goto out;
	if (buf_printf(&src, "kubeconfig %s (context %s)", where, context) < 0 ||
	    !(c->context_name = strdup(context)) || !(c->cluster_name = strdup(cluster)) ||
	    !(c->user_name = strdup(user)) || !(c->namespace = strdup(ns ? ns : "default"))) {
		r = -ENOMEM;
		goto out;
	}
	c->source = buf_detach(&src);
	*ret = TAKE_PTR(c);
	r = 0;
out:
	buf_release(&src);
	merged_release(&m);
	return r;
}

static int read_small_file(const char *path, char **ret, size_t *ret_len, struct op_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct buf b = BUF_INIT(SMALL_FILE_CAP);
	char chunk[4096];
	size_t n;

	if (!f)
		return op_err_set(err, -errno, "in-cluster: %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			buf_release(&b);
			return op_err_set(err, -E2BIG, "in-cluster: %s: larger than 1 MiB", path);
		}
	}
	if (ret_len)
		*ret_len = b.len;
	*ret = buf_detach(&b);
	return 0;
}

int kube_config_in_cluster(const char *host, const char *port, const char *dir, struct kube_config **ret,
			   struct op_err *err)
{
	_cleanup_(kube_config_freep) struct kube_config *c = calloc(1, sizeof(*c));
	_cleanup_free_ char *nsfile = NULL, *ns = NULL;
	struct buf b = BUF_INIT(0);
	int r;

	if (!c)
		return -ENOMEM;
	if (!host || !*host || !port || !*port)
		return op_err_set(err, -EINVAL, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	dir = dir ? dir : DEFAULT_SA_DIR;
	/* IPv6 literals need brackets in URLs. */
	if (buf_printf(&b, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0)
		return -ENOMEM;
	c->server = buf_detach(&b);
	if (buf_printf(&b, "%s/token", dir) < 0)
		return -ENOMEM;
	c->token_file = buf_detach(&b);
	if (access(c->token_file, R_OK) < 0)
		return op_err_set(err, -errno, "in-cluster: service-account token %s: %s", c->token_file, strerror(errno));
	if (buf_printf(&b, "%s/ca.crt", dir) < 0)
		return -ENOMEM;
	c->ca_file = buf_detach(&b);
	if (access(c->ca_file, R_OK) < 0)
		return op_err_set(err, -errno, "in-cluster: CA certificate %s: %s", c->ca_file, strerror(errno));
	if (buf_printf(&b, "%s/namespace", dir) < 0)
		return -ENOMEM;
	nsfile = buf_detach(&b);
	if (access(nsfile, R_OK) == 0) {
		r = read_small_file(nsfile, &ns, NULL, err);
		if (r < 0)
			return r;
		ns[strcspn(ns, "\r\n")] = '\0';
	}
	c->namespace = strdup(ns && *ns ? ns : "default");
	c->source = strdup("in-cluster");
	if (!c->namespace || !c->source)
		return -ENOMEM;
	c->in_cluster = true;
	*ret = TAKE_PTR(c);
	return 0;
}

static const char *default_getenv(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

int kube_config_load(const struct kube_config_opts *opts, struct kube_config **ret, struct op_err *err)
{
	const char *(*get)(const char *, void *) = opts->getenv ? opts->getenv : default_getenv;
	const char *kc = get("KUBECONFIG", opts->getenv_ctx);
	const char *host = get("KUBERNETES_SERVICE_HOST", opts->getenv_ctx);
	const char *home = get("HOME", opts->getenv_ctx);

	if (opts->kubeconfig && *opts->kubeconfig)
		return kube_config_from_files(&opts->kubeconfig, 1, opts->context, ret, err);
	if (kc && *kc) {
		_cleanup_free_ char *copy = strdup(kc);
		const char *paths[16];
		char *save = NULL, *tok;
		size_t n = 0;

		if (!copy)
			return -ENOMEM;
		for (tok = strtok_r(copy, ":", &save); tok && n < ARRAY_SIZE(paths); tok = strtok_r(NULL, ":", &save)) {
			/* kubectl ignores listed files that do not exist */
			if (*tok && access(tok, F_OK) == 0)
				paths[n++] = tok;
		}
		if (n == 0)
			return op_err_set(err, -ENOENT, "KUBECONFIG=%s: none of the listed files exists", kc);
		return kube_config_from_files(paths, n, opts->context, ret, err);
	}
	if (host && *host)
		return kube_config_in_cluster(host, get("KUBERNETES_SERVICE_PORT", opts->getenv_ctx),
					      opts->in_cluster_dir, ret, err);
	if (home && *home) {
		struct buf b = BUF_INIT(0);
		_cleanup_free_ char *path = NULL;
		const char *p;

		if (buf_printf(&b, "%s/.kube/config", home) < 0)
			return -ENOMEM;
		path = buf_detach(&b);
		if (access(path, F_OK) == 0) {
			p = path;
			return kube_config_from_files(&p, 1, opts->context, ret, err);
		}
	}
	return op_err_set(err, -ENOENT,
			  "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or create "
			  "~/.kube/config");
}
