/* fuzz_kubeconfig: a kubeconfig file (base/yamljson.c YAML -> JSON, then
 * kube/config.c: merge, contexts, clusters, users, exec, *-data base64).
 * Input: one byte picks the context (current-context or a named one), the
 * rest is the file. */
#include "fuzz.h"

#include "kube/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	char path[64];
	const char *paths[2];
	struct kube_config *cfg = NULL;
	struct op_err err;
	int fd = fuzz_memfile(in.p, in.n, path);

	op_err_clear(&err);
	paths[0] = paths[1] = path;
	if (kube_config_from_files(paths, (sel & 1) + 1, (sel & 2) ? "ctx" : NULL, &cfg, &err) == 0) {
		FUZZ_ASSERT(cfg->server && cfg->namespace);
		kube_config_free(cfg);
	}
	close(fd);
	return 0;
}
