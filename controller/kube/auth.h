/* auth.h: credentials for requests to the Kubernetes API.
 *
 * Wraps what a struct kube_config says into "what to send now":
 *   - a static token;
 *   - a token file (in-cluster projected tokens, `tokenFile`): re-read when
 *     the file changes (inode, size or mtime), and on a 401;
 *   - an exec credential plugin (client.authentication.k8s.io v1/v1beta1
 *     ExecCredential, e.g. `aws eks get-token`): run on first use, cached until
 *     its expirationTimestamp (minus a small margin), re-run after a 401; it
 *     may return a token or a client certificate and key;
 *   - a client certificate from the kubeconfig (files or data), which needs no
 *     per-request work and is configured on the HTTP handle.
 * Thread-safe: one mutex, never held while a plugin runs. One thread runs the
 * plugin (a burst of 401s runs it once); the others keep using the cached
 * credential while it has not expired, or wait for the run, each no longer
 * than its own deadline (kube_auth_get_until). A run is killed after 60 s, or
 * at the deadline of the caller that started it; the wait for the plugin to
 * exit after it closed its output is bounded the same way.
 */
#ifndef KEYLESS_KUBE_AUTH_H
#define KEYLESS_KUBE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/err.h"
#include "kube/config.h"

struct kube_auth;

/* What to send with one request. Strings are owned by the struct (free with
 * kube_creds_release). generation identifies this credential for
 * kube_auth_invalidate(). */
struct kube_creds {
	char *token;           /* bearer token, or NULL */
	char *cert_pem;        /* client certificate from an exec plugin, or NULL */
	char *key_pem;
	uint64_t generation;
};

/* `cfg` is borrowed and must outlive the auth object. clock NULL = real. */
int kube_auth_new(const struct kube_config *cfg, const struct clock *clock, struct kube_auth **ret,
		  struct op_err *err);
void kube_auth_free(struct kube_auth *a);

/* Current credentials (running the plugin or re-reading the file if needed). */
int kube_auth_get(struct kube_auth *a, struct kube_creds *ret, struct op_err *err);

/* The same, waiting for (or running) the exec plugin no later than
 * deadline_ns (CLOCK_MONOTONIC ns; 0 = no deadline): -ETIMEDOUT then. */
int kube_auth_get_until(struct kube_auth *a, int64_t deadline_ns, struct kube_creds *ret, struct op_err *err);

/* The server answered 401 to a request made with `generation`: drop cached
 * credentials so the next kube_auth_get re-reads/re-runs (only once per
 * generation, whatever the number of concurrent 401s). Returns true if there
 * is something that may change (token file or plugin), i.e. a retry is worth it. */
bool kube_auth_invalidate(struct kube_auth *a, uint64_t generation);

/* How many times the exec plugin ran / the token file was read (tests). */
unsigned kube_auth_exec_runs(struct kube_auth *a);
unsigned kube_auth_file_reads(struct kube_auth *a);

void kube_creds_release(struct kube_creds *c);

/* Parse an ExecCredential (pure; exposed for tests). api_version is the one
 * the plugin was asked for; *ret_expiry_ns is 0 when none is given. */
int kube_exec_credential_parse(const char *json, size_t len, const char *api_version, struct kube_creds *ret,
			       int64_t *ret_expiry_ns, struct op_err *err);

#endif
