/* config.h: where the Kubernetes API is and how to authenticate to it.
 *
 * Sources, in controller-runtime's order:
 *   1. --kubeconfig (opts->kubeconfig);
 *   2. $KUBECONFIG: a ':'-separated list, merged as kubectl does (the first
 *      file to define a cluster/user/context name or current-context wins);
 *   3. in-cluster: $KUBERNETES_SERVICE_HOST/_PORT and the service-account
 *      folder (token, ca.crt, namespace);
 *   4. ~/.kube/config.
 * From a kubeconfig: the context (opts->context or current-context), its
 * cluster (`server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`,
 * `tls-server-name`) and user (`client-certificate(-data)`/`client-key(-data)`,
 * `token`, `tokenFile`, `exec`). Relative paths are relative to the file that
 * names them. Errors name the file, the key and what is wrong.
 */
#ifndef KEYLESS_KUBE_CONFIG_H
#define KEYLESS_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* An exec credential plugin (client.authentication.k8s.io v1 / v1beta1). */
struct kube_exec_config {
	char *command;
	char **args;        /* NULL-terminated */
	char **env;         /* "NAME=value", NULL-terminated */
	char *api_version;  /* client.authentication.k8s.io/v1 or /v1beta1 */
	bool provide_cluster_info;
};

struct kube_config {
	char *source;          /* for messages: "kubeconfig /path" or "in-cluster" */
	char *context_name;    /* NULL in-cluster */
	char *cluster_name;
	char *user_name;
	char *server;          /* https://host:port[/path], no trailing slash */
	char *ca_file;         /* path, or NULL */
	char *ca_pem;          /* decoded certificate-authority-data, or NULL */
	size_t ca_pem_len;
	bool insecure_skip_tls_verify;
	char *tls_server_name;
	char *client_cert_file, *client_key_file;
	char *client_cert_pem, *client_key_pem; /* decoded *-data, or NULL */
	size_t client_cert_pem_len, client_key_pem_len;
	char *token;           /* static bearer token (never log it) */
	char *token_file;      /* bearer token read from a file, re-read when it changes */
	struct kube_exec_config *exec;
	char *namespace;       /* the context's (or pod's) namespace; "default" if unset */
	bool in_cluster;
};

struct kube_config_opts {
	const char *kubeconfig;     /* --kubeconfig, or NULL */
	const char *context;        /* --context, or NULL */
	/* Environment lookup; NULL = getenv. Tests inject their own. */
	const char *(*getenv)(const char *name, void *ctx);
	void *getenv_ctx;
	/* In-cluster service-account folder; NULL = /var/run/secrets/kubernetes.io/serviceaccount */
	const char *in_cluster_dir;
};

/* Load the configuration as described above. *ret is owned by the caller. */
int kube_config_load(const struct kube_config_opts *opts, struct kube_config **ret, struct op_err *err);

/* Load from one or more kubeconfig files (merged in order). */
int kube_config_from_files(const char *const *paths, size_t n, const char *context, struct kube_config **ret,
			   struct op_err *err);

/* In-cluster configuration from host, port and the service-account folder. */
int kube_config_in_cluster(const char *host, const char *port, const char *dir, struct kube_config **ret,
			   struct op_err *err);

void kube_config_free(struct kube_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kube_config *, kube_config_free)

#endif
