#include "identity/migration.h"

#include <stdio.h>

#include "identity/trust.h"

const char *mig_phase_name(enum mig_phase p)
{
	switch (p) {
	case MIG_ADD_TRUST: return "AddTrust";
	case MIG_SWITCH: return "Switch";
	case MIG_RESTART: return "Restart";
	case MIG_DROP_TRUST: return "DropTrust";
	case MIG_STEADY: break;
	}
	return "Steady";
}

/* One way's view of the facts. */
struct way {
	enum wi_mode mode;
	int trust_kind;
	bool binding;
	size_t pods;
};

static struct way way_of(const struct mig_facts *f, enum wi_mode m)
{
	if (m == WI_MODE_POD_IDENTITY)
		return (struct way){ m, TRUST_POD_IDENTITY, f->association, f->pi_pods };
	return (struct way){ WI_MODE_IRSA, TRUST_IRSA, f->annotation, f->irsa_pods };
}

static void set_way(struct mig_plan *p, enum wi_mode m, bool trust, bool binding)
{
	if (m == WI_MODE_POD_IDENTITY) {
		p->trust_pod_identity = trust;
		p->association = binding;
	} else {
		p->trust_irsa = trust;
		p->annotation = binding;
	}
}

void migration_plan(const struct mig_facts *f, struct mig_plan *p)
{
	enum wi_mode to = f->to == WI_MODE_POD_IDENTITY ? WI_MODE_POD_IDENTITY : WI_MODE_IRSA;
	enum wi_mode from_m = to == WI_MODE_IRSA ? WI_MODE_POD_IDENTITY : WI_MODE_IRSA;
	struct way new = way_of(f, to), old = way_of(f, from_m);
	bool old_in_use = f->from == from_m || (f->trust & old.trust_kind) || old.binding || old.pods;
	int n = 0;

	*p = (struct mig_plan){ .phase = MIG_STEADY, .in_effect = to };
	set_way(p, to, true, true);
	if (!old_in_use)
		return;

	p->in_effect = from_m;
	if (!(f->trust & new.trust_kind) || !new.binding) {
		p->phase = MIG_ADD_TRUST;
		n = 1;
		/* keep (never add) the old statement: only what uses it needs it */
		set_way(p, from_m, (f->trust & old.trust_kind) || old.binding || old.pods, old.binding);
	} else if (old.binding) {
		p->phase = MIG_SWITCH;
		n = 2;
		set_way(p, from_m, true, false);
	} else if (old.pods) {
		p->phase = MIG_RESTART;
		n = 3;
		p->restart = true;
		set_way(p, from_m, true, false);
	} else if (f->trust & old.trust_kind) {
		p->phase = MIG_DROP_TRUST;
		n = 4;
		set_way(p, from_m, false, false);
	} else {
		/* everything moved: the new way is in effect */
		p->in_effect = to;
		return;
	}
	switch (p->phase) {
	case MIG_ADD_TRUST:
		snprintf(p->message, sizeof(p->message),
			 "%s -> %s, phase %d of 4 (%s): the role trusts both ways; making the %s binding",
			 wi_mode_name(from_m), wi_mode_name(to), n, mig_phase_name(p->phase),
			 to == WI_MODE_POD_IDENTITY ? "pod identity association" : "service-account annotation");
		break;
	case MIG_SWITCH:
		snprintf(p->message, sizeof(p->message), "%s -> %s, phase %d of 4 (%s): removing the %s", wi_mode_name(from_m),
			 wi_mode_name(to), n, mig_phase_name(p->phase),
			 from_m == WI_MODE_POD_IDENTITY ? "pod identity association" : "service-account annotation");
		break;
	case MIG_RESTART:
		snprintf(p->message, sizeof(p->message),
			 "%s -> %s, phase %d of 4 (%s): %zu running pods still use %s; restarting their workloads",
			 wi_mode_name(from_m), wi_mode_name(to), n, mig_phase_name(p->phase), old.pods,
			 wi_mode_name(from_m));
		break;
	default:
		snprintf(p->message, sizeof(p->message),
			 "%s -> %s, phase %d of 4 (%s): no pod uses %s any more; removing its trust statement",
			 wi_mode_name(from_m), wi_mode_name(to), n, mig_phase_name(p->phase), wi_mode_name(from_m));
		break;
	}
}
