/* fields.h: who manages a field of an object, from its metadata.managedFields
 * (server-side apply field ownership; pure).
 *
 * Each managedFields entry names a manager ("keyless", "kubectl-annotate",
 * "helm", ...), an operation (Apply or Update) and the fields it owns in the
 * fieldsV1 format: {"f:metadata":{"f:annotations":{"f:<key>":{}}}}. A field
 * is removed by a server-side apply only when no other manager owns it, and
 * an apply changes a field another manager owns only with force - which is a
 * takeover. keyless uses this to leave annotations others manage alone.
 */
#ifndef KEYLESS_KUBE_FIELDS_H
#define KEYLESS_KUBE_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct field_owners {
	bool ours;        /* `manager` owns it */
	bool others;      /* some other manager owns it, or no entry claims it */
	char other[128];  /* the first other manager's name ("(no managedFields entry)" if none) */
};

/* The owners of metadata.annotations[key] of obj (a full object as the API
 * server returns it). An annotation that is present but claimed by no entry
 * (managedFields missing) counts as someone else's. */
void kube_annotation_owners(json_t *obj, const char *key, const char *manager, struct field_owners *ret);

/* When the API server last recorded a write of metadata.annotations[key]:
 * the `time` of `manager`'s managedFields entry that owns it, else the latest
 * time of another entry that owns it (*ret_ns, ns since the epoch; the API
 * server's clock, like creationTimestamps). -ENOENT if no entry owning it
 * has a time. */
int kube_annotation_time(json_t *obj, const char *key, const char *manager, int64_t *ret_ns);

/* Does obj carry an ownerReference with this uid (controller or not)? */
bool kube_has_owner_uid(json_t *obj, const char *uid);

#endif
