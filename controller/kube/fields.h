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

struct field_owners {
	bool ours;        /* `manager` owns it */
	bool others;      /* some other manager owns it, or no entry claims it */
	char other[128];  /* the first other manager's name ("(no managedFields entry)" if none) */
};

/* The owners of metadata.annotations[key] of obj (a full object as the API
 * server returns it). An annotation that is present but claimed by no entry
 * (managedFields missing) counts as someone else's. */
void kube_annotation_owners(json_t *obj, const char *key, const char *manager, struct field_owners *ret);

/* Does obj carry an ownerReference with this uid (controller or not)? */
bool kube_has_owner_uid(json_t *obj, const char *uid);

#endif
