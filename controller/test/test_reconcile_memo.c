/* Unit tests for reconcile/memo: what the reconciler remembers per
 * WorkloadIdentity belongs to one object (uid), not to its name. */
#include "support.h"

#include <jansson.h>

#include "base/clock.h"
#include "base/str.h"
#include "identity/settings.h"
#include "kube/cache.h"
#include "kube/project.h"
#include "reconcile/rctx.h"
#include "reconcile/steps.h"
#include "reconcile/workload.h"

#define UID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define ARN "arn:aws:iam::123456789012:role/keyless/prod+app"

struct memo_world {
	struct settings settings;
	struct manual_clock clock;
	struct wi_reconciler r;
	struct wi_spec spec;
	struct rctx *x;
};

static struct memo_world *world_new(void)
{
	struct memo_world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	manual_clock_init(&w->clock, 1000 * NSEC_PER_SEC, 1000 * NSEC_PER_SEC);
	wi_reconciler_init(&w->r);
	w->r.settings = &w->settings;
	w->r.clock = &w->clock.clock;
	w->x = calloc(1, sizeof(*w->x));
	assert_non_null(w->x);
	w->x->r = &w->r;
	w->x->spec = &w->spec;
	w->spec.service_account = "app-sa";
	str_copy(w->x->ns, sizeof(w->x->ns), "prod");
	str_copy(w->x->name, sizeof(w->x->name), "app");
	str_copy(w->x->role_arn, sizeof(w->x->role_arn), ARN);
	return w;
}

static void world_free(struct memo_world *w)
{
	kube_cache_free(w->r.wis);
	wi_reconciler_release(&w->r);
	free(w->x);
	free(w);
}

/* one verified reconcile of the object with uid at generation gen */
static void reconciled(struct memo_world *w, const char *uid, long long gen)
{
	str_copy(w->x->uid, sizeof(w->x->uid), uid);
	w->x->generation = gen;
	wi_memo_seen(w->x);
	wi_memo_verified(w->x, clock_mono_ns(w->r.clock), true);
}

static bool fresh_for(struct memo_world *w, const char *uid, long long gen)
{
	str_copy(w->x->uid, sizeof(w->x->uid), uid);
	w->x->generation = gen;
	return wi_memo_fresh(w->x);
}

static void test_memo__fresh_for_its_object_only(void **state)
{
	struct memo_world *w = world_new();

	(void)state;
	assert_false(fresh_for(w, UID_A, 1));
	reconciled(w, UID_A, 1);
	assert_true(fresh_for(w, UID_A, 1));
	assert_false(fresh_for(w, UID_A, 2)); /* a new generation */
	assert_false(fresh_for(w, UID_B, 1)); /* deleted and created again under the same name */
	/* the new object's first reconcile starts its own entry */
	str_copy(w->x->uid, sizeof(w->x->uid), UID_B);
	w->x->generation = 1;
	wi_memo_seen(w->x);
	assert_false(fresh_for(w, UID_B, 1));
	assert_false(fresh_for(w, UID_A, 1));
	reconciled(w, UID_B, 1);
	assert_true(fresh_for(w, UID_B, 1));
	/* older than two resync periods (600 s by default) */
	manual_clock_advance(&w->clock, 1200 * NSEC_PER_SEC);
	assert_false(fresh_for(w, UID_B, 1));
	wi_memo_forget(&w->r, "prod", "app");
	world_free(w);
}

/* Uids that are not UUIDs, and long ones, are told apart in full. */
static void test_memo__any_uid_text(void **state)
{
	static const char *const uids[] = {
		"u1",
		"u2",
		"0123456789012345678901234567890123456789-a",
		"0123456789012345678901234567890123456789-b",
	};
	struct memo_world *w = world_new();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(uids); i++) {
		reconciled(w, uids[i], 1);
		for (size_t j = 0; j < ARRAY_SIZE(uids); j++) {
			if (i == j)
				assert_true(fresh_for(w, uids[j], 1));
			else
				assert_false(fresh_for(w, uids[j], 1));
		}
	}
	world_free(w);
}

static void cache_wi(struct memo_world *w, const char *uid, long long gen)
{
	json_t *o = json_pack("{s:{s:s, s:s, s:s, s:I, s:[s]}, s:{s:s}}", "metadata", "namespace", "prod", "name", "app",
			      "uid", uid, "generation", (json_int_t)gen, "finalizers", "keyless.dev/cleanup", "spec",
			      "serviceAccountName", "app-sa");
	struct kube_change ch;

	assert_int_equal(kube_cache_upsert_json(w->r.wis, o, &ch), 0);
	kube_change_release(&ch);
	json_decref(o);
}

/* The echo of keyless' own status write: the cached object (its uid and
 * generation) is the one the last reconcile read. */
static void test_memo__wi_echo_by_uid(void **state)
{
	struct memo_world *w = world_new();

	(void)state;
	w->r.wis = kube_cache_new(&KUBE_KIND_WORKLOADIDENTITY);
	cache_wi(w, UID_A, 3);
	assert_false(wi_memo_wi_echo(&w->r, "prod", "app"));
	reconciled(w, UID_A, 3);
	assert_true(wi_memo_wi_echo(&w->r, "prod", "app"));
	cache_wi(w, UID_A, 4); /* a spec change */
	assert_false(wi_memo_wi_echo(&w->r, "prod", "app"));
	cache_wi(w, UID_B, 3); /* another object of that name */
	assert_false(wi_memo_wi_echo(&w->r, "prod", "app"));
	reconciled(w, UID_B, 3);
	assert_true(wi_memo_wi_echo(&w->r, "prod", "app"));
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo__fresh_for_its_object_only),
		cmocka_unit_test(test_memo__any_uid_text),
		cmocka_unit_test(test_memo__wi_echo_by_uid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
