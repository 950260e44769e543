#include "identity/plan.h"

#include <errno.h>
#include <string.h>

#include "aws/policy.h"
#include "base/macros.h"
#include "identity/documents.h"
#include "identity/naming.h"

static void add(struct plan *p, enum step_kind k, const char *arg)
{
	if (p->n == PLAN_MAX_STEPS) {
		p->overflow = true;
		return;
	}
	p->steps[p->n++] = (struct step){ .kind = k, .arg = arg };
}

static bool str_in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (streq(list[i], s))
			return true;
	}
	return false;
}

static bool same_opt(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && streq(a, b));
}

int plan_role(const struct role_desired *d, const struct role_observed *o, struct plan *p)
{
	int eq;

	memset(p, 0, sizeof(*p));
	if (!o->exists) {
		add(p, STEP_CREATE_ROLE, NULL);
		if (d->permission_policy)
			add(p, STEP_PUT_POLICY, INLINE_POLICY_NAME);
		for (size_t i = 0; i < d->n_managed; i++)
			add(p, STEP_ATTACH, d->managed[i]);
		return 0;
	}
	p->path_differs = !same_opt(d->path, o->path);

	eq = o->trust_policy ? aws_policy_equal(d->trust_policy, o->trust_policy) : 0;
	if (eq < 0 && o->trust_policy && aws_policy_equal(d->trust_policy, d->trust_policy) < 0)
		return -EINVAL; /* ours is broken; theirs being unparsable just means rewrite */
	if (eq != 1)
		add(p, STEP_UPDATE_TRUST, NULL);
	if (d->max_session_duration != o->max_session_duration || !same_opt(d->description, o->description))
		add(p, STEP_UPDATE_ROLE, NULL);
	if (!same_opt(d->boundary_arn, o->boundary_arn))
		add(p, d->boundary_arn ? STEP_PUT_BOUNDARY : STEP_DELETE_BOUNDARY, d->boundary_arn);

	/* tags: desired is authoritative; keys compare without regard to case, as in IAM */
	for (size_t i = 0; i < d->n_tags; i++) {
		const char *have = identity_tag_get(o->tags, o->n_tags, d->tags[i].key);

		if (!have || !streq(have, d->tags[i].value))
			add(p, STEP_TAG, d->tags[i].key);
	}
	for (size_t i = 0; i < o->n_tags; i++) {
		if (!identity_tag_get(d->tags, d->n_tags, o->tags[i].key))
			add(p, STEP_UNTAG, o->tags[i].key);
	}

	/* the inline policy "keyless", and no other */
	if (d->permission_policy) {
		eq = o->keyless_policy ? aws_policy_equal(d->permission_policy, o->keyless_policy) : 0;
		if (eq != 1)
			add(p, STEP_PUT_POLICY, INLINE_POLICY_NAME);
	}
	for (size_t i = 0; i < o->n_inline; i++) {
		if (!d->permission_policy || !streq(o->inline_names[i], INLINE_POLICY_NAME))
			add(p, STEP_DELETE_POLICY, o->inline_names[i]);
	}

	/* managed policies: exactly the desired set */
	for (size_t i = 0; i < d->n_managed; i++) {
		if (!str_in(o->attached, o->n_attached, d->managed[i]))
			add(p, STEP_ATTACH, d->managed[i]);
	}
	for (size_t i = 0; i < o->n_attached; i++) {
		if (!str_in(d->managed, d->n_managed, o->attached[i]))
			add(p, STEP_DETACH, o->attached[i]);
	}
	return 0;
}

const char *step_name(enum step_kind k)
{
	static const char *const names[] = {
		[STEP_CREATE_ROLE] = "CreateRole",
		[STEP_UPDATE_TRUST] = "UpdateAssumeRolePolicy",
		[STEP_UPDATE_ROLE] = "UpdateRole",
		[STEP_PUT_BOUNDARY] = "PutRolePermissionsBoundary",
		[STEP_DELETE_BOUNDARY] = "DeleteRolePermissionsBoundary",
		[STEP_TAG] = "TagRole",
		[STEP_UNTAG] = "UntagRole",
		[STEP_PUT_POLICY] = "PutRolePolicy",
		[STEP_DELETE_POLICY] = "DeleteRolePolicy",
		[STEP_ATTACH] = "AttachRolePolicy",
		[STEP_DETACH] = "DetachRolePolicy",
	};

	return k <= STEP_DETACH ? names[k] : "?";
}
