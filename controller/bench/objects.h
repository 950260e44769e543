/* objects.h: the benchmarks' Kubernetes objects: real ones captured or
 * written as the API server returns them (controller/test/testdata/kube/),
 * varied per index the way a real cluster varies, and list responses of
 * them. Run from the repository's root (the templates' paths are relative). */
#ifndef KEYLESS_BENCH_OBJECTS_H
#define KEYLESS_BENCH_OBJECTS_H

#include <jansson.h>

#include "base/buf.h"

#define BENCH_TESTDATA "controller/test/testdata/kube/"

/* The templates (owned here; NULL until bench_load_templates):
 *  - a Pod created by the ReplicaSet controller and mutated by the pod
 *    identity webhook (pod-injected.json, or the path given);
 *  - a Ready WorkloadIdentity as kubectl apply and keyless leave it
 *    (wi-ready.json: last-applied annotation, finalizer, managedFields of
 *    kubectl and of keyless' writes, five conditions);
 *  - the ServiceAccount keyless created for it (sa-wired.json: role-arn and
 *    sts-regional-endpoints annotations, ownerReference, keyless' Apply). */
extern json_t *bench_tpl_pod, *bench_tpl_wi, *bench_tpl_sa;

/* Load the three templates (pod_path NULL: pod-injected.json). 0, or -1
 * after a message on stderr. */
int bench_load_templates(const char *pod_path);
void bench_free_templates(void);

/* Pod i: 200 namespaces (team-NNN), 20 service accounts (app-sa-N) and 50
 * ReplicaSets per namespace. The caller owns the result. */
json_t *bench_make_pod(long i, const char *phase);
/* Pod i's namespace, name and service account. */
struct bench_pod_key {
	char ns[32], name[64], sa[32];
};
void bench_pod_key(long i, struct bench_pod_key *k);
json_t *bench_make_running_pod(long i);

/* Identity i: in the pods' 200 namespaces, named app-<i/200>, for service
 * account app-sa-<i/200> (the first 20 of a namespace are the pods' ones),
 * with a role named as keyless names them (identity/naming.h). */
struct bench_ident {
	char ns[32], name[32], uid[40], sa[32], role[96], arn[160], sa_uid[40];
};
void bench_ident(long i, struct bench_ident *id);
/* Identity i's WorkloadIdentity, and its ServiceAccount. */
json_t *bench_make_wi(long i);
json_t *bench_make_sa(long i);

/* Append a list response of n objects make(0..n-1) (compact JSON) to list.
 * 0 or -1. */
int bench_build_list(struct buf *list, const char *kind, const char *api_version, long n, json_t *(*make)(long i));

/* The length of o as compact JSON. */
size_t bench_json_len(const json_t *o);

#endif
