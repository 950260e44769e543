/* project.h: the projections the cache keeps per kind (see cache.h).
 *
 * Pods (96 bytes each plus the name; see `make bench-kube`):
 * namespace, name, uid, serviceAccountName (the index), owner kind/name,
 * creation time, phase, whether a container carries AWS_ROLE_ARN (and its
 * value) or the EKS Pod Identity container-credentials variables, whether it
 * is terminating, its compute type when the pod says it (the Fargate
 * profile label, or a nodeSelector on eks.amazonaws.com/compute-type), and
 * whether it selects Windows nodes (nodeSelector kubernetes.io/os).
 * ServiceAccounts: the eks.amazonaws.com annotations keyless manages.
 * WorkloadIdentities: service account (the index), audience, generation,
 * creation time, deletion and finalizer count - so a status-only update is no
 * change.
 * Generic: namespace, name, uid and resourceVersion (any kind; used by tests).
 */
#ifndef KEYLESS_KUBE_PROJECT_H
#define KEYLESS_KUBE_PROJECT_H

#include <stdint.h>

#include "kube/cache.h"

enum pod_phase { POD_PENDING, POD_RUNNING, POD_SUCCEEDED, POD_FAILED, POD_UNKNOWN };
enum compute_type { COMPUTE_UNKNOWN, COMPUTE_EC2, COMPUTE_FARGATE, COMPUTE_HYBRID, COMPUTE_AUTO };

enum pod_flags {
	POD_HAS_ROLE_ARN = 1 << 0,        /* some container has AWS_ROLE_ARN */
	POD_HAS_CONTAINER_CREDS = 1 << 1, /* some container has AWS_CONTAINER_CREDENTIALS_FULL_URI */
	POD_TERMINATING = 1 << 2,         /* metadata.deletionTimestamp set */
	POD_WINDOWS = 1 << 3,             /* spec.nodeSelector kubernetes.io/os: windows */
};

/* The kind of a pod's controller owner: the kinds the restart logic tells
 * apart (reconcile/wiring.c); any other kind is POD_OWNER_OTHER. */
enum pod_owner {
	POD_OWNER_NONE,        /* no controller owner, or one without a kind */
	POD_OWNER_REPLICASET,
	POD_OWNER_STATEFULSET,
	POD_OWNER_DAEMONSET,
	POD_OWNER_JOB,
	POD_OWNER_CRONJOB,
	POD_OWNER_OTHER,
};

/* 96 bytes before the name (with a name of up to 23 characters, a 128-byte
 * malloc chunk). */
struct pod_proj {
	struct kobj h;                    /* h.idx = spec.serviceAccountName */
	const struct istr *owner_name;    /* controller owner's name, or NULL */
	const struct istr *role_arn;      /* AWS_ROLE_ARN value, or NULL */
	const struct istr *restarted_at;  /* annotation keyless.dev/restartedAt: the keyless restart that made it */
	uint32_t created;                 /* creationTimestamp, seconds since the epoch (until 2106) */
	uint8_t owner_kind;               /* enum pod_owner */
	uint8_t phase;                    /* enum pod_phase */
	uint8_t flags;                    /* enum pod_flags */
	uint8_t compute;                  /* enum compute_type */
};

/* The role ARN is one service account's own (interning it would share
 * nothing): it is kept after the name. */
struct sa_proj {
	struct kobj h;
	const char *role_arn;             /* eks.amazonaws.com/role-arn, or NULL */
	const struct istr *audience;      /* eks.amazonaws.com/audience */
	const struct istr *regional;      /* eks.amazonaws.com/sts-regional-endpoints */
	int64_t created;
};

/* WorkloadIdentities: what maps events to keys and decides service-account
 * conflicts (the reconciler reads the full object from the API server). */
struct wi_proj {
	struct kobj h;                    /* h.idx = spec.serviceAccountName */
	const struct istr *audience;      /* spec.audience, NULL if unset (the default) */
	int64_t created;                  /* creationTimestamp, seconds */
	long long generation;
	uint8_t deleting;                 /* deletionTimestamp set */
	uint8_t finalizers;               /* number of finalizers */
	uint8_t ready;                    /* status Ready condition: enum wi_ready (metrics) */
	int32_t stale_pods;               /* status.stalePods (metrics) */
};

enum wi_ready { WI_READY_UNKNOWN, WI_READY_TRUE, WI_READY_FALSE }; /* no condition = unknown */

struct generic_proj {
	struct kobj h;
	char *resource_version;
};

extern const struct kube_kind KUBE_KIND_POD, KUBE_KIND_SERVICEACCOUNT, KUBE_KIND_WORKLOADIDENTITY,
	KUBE_KIND_GENERIC;

const char *pod_phase_name(enum pod_phase p);
/* The owner kind of a controller ownerReference's kind (NULL: POD_OWNER_NONE). */
enum pod_owner pod_owner_parse(const char *kind);
const char *compute_type_name(enum compute_type c);

#endif
