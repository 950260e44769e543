/* The benchmarks' Kubernetes objects (objects.h). */
#include "bench/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_ARN_PREFIX "arn:aws:iam::123456789012:role/keyless/"

json_t *bench_tpl_pod, *bench_tpl_wi, *bench_tpl_sa;

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

static void pod_rs(long i, char *rs, size_t size)
{
	snprintf(rs, size, "web-%ld-6cccf4c497", (i / 200) % 50);
}

void bench_pod_key(long i, struct bench_pod_key *k)
{
	char rs[48];

	pod_rs(i, rs, sizeof(rs));
	snprintf(k->ns, sizeof(k->ns), "team-%03ld", i % 200);
	snprintf(k->name, sizeof(k->name), "%s-%05lx", rs, i);
	snprintf(k->sa, sizeof(k->sa), "app-sa-%ld", (i / 200) % 20);
}

json_t *bench_make_pod(long i, const char *phase)
{
	json_t *p = json_deep_copy(bench_tpl_pod), *meta = json_object_get(p, "metadata"), *spec = json_object_get(p, "spec");
	json_t *owner = json_array_get(json_object_get(meta, "ownerReferences"), 0), *env, *e;
	struct bench_pod_key k;
	char uid[40], rs[48], arn[128];
	size_t j;

	bench_pod_key(i, &k);
	pod_rs(i, rs, sizeof(rs));
	snprintf(uid, sizeof(uid), "%08lx-1854-4a73-a023-%012lx", i, i * 7919);
	snprintf(arn, sizeof(arn), "arn:aws:iam::123456789012:role/keyless-bench-%s-%s", k.ns, k.sa);
	set_str(meta, "namespace", k.ns);
	set_str(meta, "name", k.name);
	set_str(meta, "uid", uid);
	set_str(meta, "generateName", rs);
	set_str(owner, "name", rs);
	set_str(spec, "serviceAccountName", k.sa);
	set_str(spec, "serviceAccount", k.sa);
	set_str(json_object_get(p, "status"), "phase", phase);
	env = json_object_get(json_array_get(json_object_get(spec, "containers"), 0), "env");
	json_array_foreach(env, j, e) {
		if (strcmp(json_string_value(json_object_get(e, "name")), "AWS_ROLE_ARN") == 0)
			set_str(e, "value", arn);
	}
	return p;
}

json_t *bench_make_running_pod(long i)
{
	return bench_make_pod(i, "Running");
}

void bench_ident(long i, struct bench_ident *id)
{
	snprintf(id->ns, sizeof(id->ns), "team-%03ld", i % 200);
	snprintf(id->name, sizeof(id->name), "app-%ld", i / 200);
	snprintf(id->uid, sizeof(id->uid), "%08lx-5e1f-4c2a-9b3d-%012lx", i, i * 7919);
	snprintf(id->sa, sizeof(id->sa), "app-sa-%ld", i / 200);
	snprintf(id->role, sizeof(id->role), "prod+%s+%s@%016llx", id->ns, id->name,
		 (unsigned long long)i * 0x9e3779b97f4a7c15ULL);
	snprintf(id->arn, sizeof(id->arn), ROLE_ARN_PREFIX "%s", id->role);
	snprintf(id->sa_uid, sizeof(id->sa_uid), "%08lx-9a3b-4d6e-8f21-%012lx", i, i * 7919);
}

json_t *bench_make_wi(long i)
{
	json_t *w = json_deep_copy(bench_tpl_wi), *meta = json_object_get(w, "metadata");
	json_t *st = json_object_get(w, "status"), *conds = json_object_get(st, "conditions");
	struct bench_ident id;
	char msg[300];

	bench_ident(i, &id);
	set_str(meta, "namespace", id.ns);
	set_str(meta, "name", id.name);
	set_str(meta, "uid", id.uid);
	set_str(json_object_get(w, "spec"), "serviceAccountName", id.sa);
	set_str(st, "roleArn", id.arn);
	set_str(st, "roleName", id.role);
	set_str(st, "serviceAccount", id.sa);
	/* the conditions that name the role and the service account */
	snprintf(msg, sizeof(msg), "IAM role %s trusts only system:serviceaccount:%s:%s (audience sts.amazonaws.com)",
		 id.role, id.ns, id.sa);
	set_str(json_array_get(conds, 2), "message", msg);
	snprintf(msg, sizeof(msg), "service account %s is annotated with %s", id.sa, id.arn);
	set_str(json_array_get(conds, 3), "message", msg);
	snprintf(msg, sizeof(msg), "every running pod of service account %s has the role's credentials", id.sa);
	set_str(json_array_get(conds, 4), "message", msg);
	return w;
}

json_t *bench_make_sa(long i)
{
	json_t *s = json_deep_copy(bench_tpl_sa), *meta = json_object_get(s, "metadata");
	json_t *owner = json_array_get(json_object_get(meta, "ownerReferences"), 0);
	json_t *f = json_object_get(json_object_get(json_array_get(json_object_get(meta, "managedFields"), 0), "fieldsV1"),
				    "f:metadata");
	struct bench_ident id;
	char key[64];

	bench_ident(i, &id);
	set_str(meta, "namespace", id.ns);
	set_str(meta, "name", id.sa);
	set_str(meta, "uid", id.sa_uid);
	set_str(json_object_get(meta, "annotations"), "eks.amazonaws.com/role-arn", id.arn);
	set_str(owner, "name", id.name);
	set_str(owner, "uid", id.uid);
	snprintf(key, sizeof(key), "k:{\"uid\":\"%s\"}", id.uid);
	json_object_set_new(f, "f:ownerReferences", json_pack("{s:{}}", key));
	return s;
}

/* The list response: n objects from make(i), compact. */
int bench_build_list(struct buf *list, const char *kind, const char *api_version, long n, json_t *(*make)(long i))
{
	char head[160];

	snprintf(head, sizeof(head), "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[",
		 kind, api_version);
	if (buf_puts(list, head) < 0)
		return -1;
	for (long i = 0; i < n; i++) {
		json_t *o = make(i);
		char *s = json_dumps(o, JSON_COMPACT);
		int r = (i && buf_puts(list, ",") < 0) || !s || buf_puts(list, s) < 0;

		free(s);
		json_decref(o);
		if (r)
			return -1;
	}
	return buf_puts(list, "]}");
}

static json_t *load_template(const char *path)
{
	json_error_t jerr;
	json_t *t = json_load_file(path, 0, &jerr);

	if (!t)
		fprintf(stderr, "bench_kube: %s: %s\n", path, jerr.text);
	return t;
}

size_t bench_json_len(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t n = s ? strlen(s) : 0;

	free(s);
	return n;
}

int bench_load_templates(const char *pod_path)
{
	bench_tpl_pod = load_template(pod_path ? pod_path : BENCH_TESTDATA "pod-injected.json");
	bench_tpl_wi = load_template(BENCH_TESTDATA "wi-ready.json");
	bench_tpl_sa = load_template(BENCH_TESTDATA "sa-wired.json");
	return bench_tpl_pod && bench_tpl_wi && bench_tpl_sa ? 0 : -1;
}

void bench_free_templates(void)
{
	json_decref(bench_tpl_pod);
	json_decref(bench_tpl_wi);
	json_decref(bench_tpl_sa);
	bench_tpl_pod = bench_tpl_wi = bench_tpl_sa = NULL;
}
