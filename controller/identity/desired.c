#include "identity/desired.h"

#include <string.h>

#include "base/str.h"
#include "identity/naming.h"

static void add(struct role_tags *t, const char *key, const char *value)
{
	if (t->n < ROLE_TAGS_MAX && !identity_tag_get(t->tags, t->n, key))
		t->tags[t->n++] = (struct wi_tag){ (char *)key, (char *)value };
}

void identity_role_tags(const struct settings *s, const struct role_owner_id *who, const struct wi_spec *sp,
			struct role_tags *out)
{
	memset(out, 0, sizeof(*out));
	if (s->role_scope == ROLE_SCOPE_ACCOUNT) {
		identity_owner_tag_key(s->cluster_name, out->owner_key, sizeof(out->owner_key));
		add(out, TAG_SCOPE, SCOPE_ACCOUNT);
		add(out, TAG_NAMESPACE, who->ns);
		add(out, TAG_NAME, who->name);
		add(out, out->owner_key, who->issuer_tag);
	} else {
		add(out, TAG_CLUSTER, s->cluster_name);
		add(out, TAG_ISSUER, who->issuer_tag);
		add(out, TAG_NAMESPACE, who->ns);
		add(out, TAG_NAME, who->name);
		add(out, TAG_UID, who->uid);
	}
	for (size_t i = 0; i < s->n_extra_tags; i++)
		add(out, s->extra_tags[i].key, s->extra_tags[i].value);
	for (size_t i = 0; i < sp->n_tags; i++)
		add(out, sp->tags[i].key, sp->tags[i].value);
}

void identity_role_description(const struct settings *s, const char *ns, const char *name, const struct wi_spec *sp,
			       char *out, size_t size)
{
	if (s->role_scope == ROLE_SCOPE_ACCOUNT)
		str_format(out, size, "keyless: service account %s/%s (WorkloadIdentity %s) in the clusters of its "
			   "keyless.dev/owner tags", ns, sp->service_account, name);
	else
		str_format(out, size, "keyless: service account %s/%s in cluster %s (WorkloadIdentity %s)", ns,
			   sp->service_account, s->cluster_name, name);
}
