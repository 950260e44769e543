#include "reconcile/kube_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"

static int real_get(void *ctx, const struct kube_resource *r, const char *ns, const char *name, json_t **ret,
		    struct op_err *err)
{
	struct kube_ops_real *k = ctx;
	_cleanup_buf_ struct buf p = BUF_INIT(0);

	if (kube_path(&p, r, ns, name, NULL) < 0)
		return -ENOMEM;
	return kube_get(k->client, p.data, ret, err);
}

static int real_merge_patch(void *ctx, const struct kube_resource *r, const char *ns, const char *name,
			    const char *sub, const char *patch, struct op_err *err)
{
	struct kube_ops_real *k = ctx;
	_cleanup_buf_ struct buf p = BUF_INIT(0);

	if (kube_path(&p, r, ns, name, sub) < 0)
		return -ENOMEM;
	return kube_patch(k->client, p.data, KUBE_PATCH_MERGE, patch, NULL, false, NULL, err);
}

static int real_apply(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *body,
		      json_t **ret, struct op_err *err)
{
	struct kube_ops_real *k = ctx;
	_cleanup_buf_ struct buf p = BUF_INIT(0);

	if (kube_path(&p, r, ns, name, NULL) < 0)
		return -ENOMEM;
	return kube_patch(k->client, p.data, KUBE_PATCH_APPLY, body, KEYLESS_FIELD_MANAGER, true, ret, err);
}

static int real_delete(void *ctx, const struct kube_resource *r, const char *ns, const char *name, const char *uid,
		       struct op_err *err)
{
	struct kube_ops_real *k = ctx;
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	struct kube_delete_opts d = { .uid = uid };

	if (kube_path(&p, r, ns, name, NULL) < 0)
		return -ENOMEM;
	return kube_delete(k->client, p.data, &d, err);
}

static int real_evict(void *ctx, const char *ns, const char *name, const char *uid, struct op_err *err)
{
	struct kube_ops_real *k = ctx;

	return kube_evict(k->client, ns, name, uid, err);
}

static int real_token(void *ctx, const char *ns, const char *sa, const char *audience, int seconds, char **ret,
		      struct op_err *err)
{
	struct kube_ops_real *k = ctx;

	return kube_service_account_token(k->client, ns, sa, audience, seconds, ret, err);
}

static void real_event(void *ctx, const struct kube_object_ref *ref, const char *type, const char *reason,
		       const char *action, const char *message)
{
	struct kube_ops_real *k = ctx;
	struct op_err err;

	op_err_clear(&err);
	if (k->events && event_record(k->events, ref, type, reason, action, &err, "%s", message) < 0)
		log_warn("event %s for %s/%s not recorded: %s", reason, ref->namespace ? ref->namespace : "", ref->name,
			 err.message);
}

const struct kube_ops KUBE_OPS_REAL_TEMPLATE = {
	.get = real_get,
	.merge_patch = real_merge_patch,
	.apply = real_apply,
	.delete = real_delete,
	.evict = real_evict,
	.token = real_token,
	.event = real_event,
};
