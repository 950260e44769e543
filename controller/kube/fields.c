#include "kube/fields.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"

void kube_annotation_owners(json_t *obj, const char *key, const char *manager, struct field_owners *ret)
{
	json_t *meta = json_object_get(obj, "metadata"), *entry;
	char fkey[512];
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (snprintf(fkey, sizeof(fkey), "f:%s", key) >= (int)sizeof(fkey)) {
		ret->others = true;
		str_copy(ret->other, sizeof(ret->other), "(unknown)");
		return;
	}
	json_array_foreach(json_object_get(meta, "managedFields"), i, entry) {
		json_t *f = json_object_get(json_object_get(json_object_get(json_object_get(entry, "fieldsV1"),
									     "f:metadata"), "f:annotations"), fkey);
		const char *who = json_string_value(json_object_get(entry, "manager"));

		if (!f)
			continue;
		if (who && streq(who, manager)) {
			ret->ours = true;
		} else if (!ret->others) {
			ret->others = true;
			str_copy(ret->other, sizeof(ret->other), who && *who ? who : "(unnamed manager)");
		}
	}
	if (!ret->ours && !ret->others &&
	    json_object_get(json_object_get(meta, "annotations"), key)) {
		ret->others = true;
		str_copy(ret->other, sizeof(ret->other), "(no managedFields entry)");
	}
}

int kube_annotation_time(json_t *obj, const char *key, const char *manager, int64_t *ret_ns)
{
	json_t *entry;
	char fkey[512];
	int64_t mine = -1, other = -1;
	size_t i;

	if (snprintf(fkey, sizeof(fkey), "f:%s", key) >= (int)sizeof(fkey))
		return -ENOENT;
	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, entry) {
		json_t *f = json_object_get(json_object_get(json_object_get(json_object_get(entry, "fieldsV1"),
									     "f:metadata"), "f:annotations"), fkey);
		const char *who = json_string_value(json_object_get(entry, "manager"));
		const char *t = json_string_value(json_object_get(entry, "time"));
		int64_t ns;

		if (!f || !t || rfc3339_parse(t, &ns) < 0)
			continue;
		if (who && streq(who, manager))
			mine = ns > mine ? ns : mine;
		else
			other = ns > other ? ns : other;
	}
	if (mine < 0 && other < 0)
		return -ENOENT;
	*ret_ns = mine >= 0 ? mine : other;
	return 0;
}

bool kube_has_owner_uid(json_t *obj, const char *uid)
{
	json_t *ref;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, ref) {
		const char *u = json_string_value(json_object_get(ref, "uid"));

		if (u && uid && streq(u, uid))
			return true;
	}
	return false;
}
