"""The periodic drift sweep (issue 11; controller/reconcile/sweep.h) against
the real apiserver and moto: what one sweep costs in IAM calls, what the
resyncs between sweeps cost (nothing), and that drift found by a sweep is
repaired for that identity only, in both modes (driftDetection bulk |
roles). The sweep logs one line per run with its counts and IAM calls."""

import json
import re
import uuid

import pytest

from conftest import aws_client, wait_until
from controller_env import Controller, install_crd, write_settings
from test_controller import make_sa, make_wi, reconcile_costs, wait_cond

SWEEP_RE = re.compile(r"drift sweep: (\d+) roles listed, (\d+) verified identities: (\d+) unchanged, (\d+) drifted, "
                      r"(\d+) missing, (\d+) to verify across the period; (\d+) IAM calls")
N = 3


def sweeps(ctl):
    """[(listed, known, unchanged, drifted, missing, spread, calls)] of every sweep so far."""
    return [tuple(int(x) for x in m.groups()) for m in SWEEP_RE.finditer(ctl.text())]


def wait_sweep(ctl, pred, what, timeout=35):
    """The first sweep after now that matches pred."""
    n = len(sweeps(ctl))
    assert "drift sweep (driftDetection" not in ctl.text(), ctl.text()[-3000:]  # no failed sweep
    return wait_until(lambda: next((s for s in sweeps(ctl)[n:] if pred(s)), None), timeout, what)


def start(tmp_path, mode):
    install_crd()
    return Controller(write_settings(str(tmp_path / "settings.yaml"), driftDetection=mode),
                      str(tmp_path / "controller.log"))


def converge(ctl, core, ns):
    names = [f"app{i}" for i in range(N)]
    for n in names:
        make_sa(core, ns, f"{n}-sa")
        make_wi(ns, n, f"{n}-sa")
    return {n: wait_cond(ns, n, "Ready", "True")["status"] for n in names}


def aws_calls_between(ctl, key, n):
    return [c[0] for c in reconcile_costs(ctl, key)[n:]]


@pytest.fixture
def bulk(tmp_path):
    c = start(tmp_path, "bulk")
    yield c
    assert c.stop() == 0, c.text()[-4000:]


@pytest.fixture
def roles(tmp_path):
    c = start(tmp_path, "roles")
    yield c
    assert c.stop() == 0, c.text()[-4000:]


def test_bulk_sweep_costs_one_page_and_repairs_only_the_drifted(bulk, core, namespace):
    st = converge(bulk, core, namespace)
    keys = [f"{namespace}/{n}" for n in st]
    # a sweep that knows all N identities (they were verified before it started)
    s = wait_sweep(bulk, lambda s: s[1] >= N, "a sweep of the verified identities")
    listed, known, unchanged, drifted, missing, spread, calls = s
    # GetAccountAuthorizationDetails (moto answers every role in one page) + the provider (List + Get)
    assert calls == 3, s
    assert unchanged == known and drifted == missing == spread == 0, s
    assert listed >= N

    # the resyncs between sweeps (resyncPeriod 10s) read nothing in AWS
    marks = {k: len(bulk.reconcile_lines(k)) for k in keys}
    wait_sweep(bulk, lambda s: s[1] >= N, "the next sweep")
    for k in keys:
        assert aws_calls_between(bulk, k, marks[k]) and not any(aws_calls_between(bulk, k, marks[k])), \
            (k, reconcile_costs(bulk, k))

    # someone attaches a broad managed policy to one role in the console
    iam, victim = aws_client("iam"), st["app1"]["roleName"]
    extra = iam.create_policy(PolicyName=f"e2e-sweep-{uuid.uuid4().hex[:6]}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    marks = {k: len(bulk.reconcile_lines(k)) for k in keys}
    iam.attach_role_policy(RoleName=victim, PolicyArn=extra)
    s = wait_sweep(bulk, lambda s: s[3] >= 1, "a sweep finding the drift")
    assert s[3] == 1, s
    wait_until(lambda: not iam.list_attached_role_policies(RoleName=victim)["AttachedPolicies"], 20,
               "the managed policy detached")
    wait_until(lambda: any(c[1] > 0 for c in reconcile_costs(bulk, f"{namespace}/app1")[marks[f"{namespace}/app1"]:]),
               15, "the repairing reconcile's summary")
    # the others were not read
    for k in keys:
        if not k.endswith("/app1"):
            assert not any(aws_calls_between(bulk, k, marks[k])), (k, reconcile_costs(bulk, k))


def test_roles_sweep_lists_catches_trust_drift_and_spreads_full_reads(roles, core, namespace):
    st = converge(roles, core, namespace)
    keys = [f"{namespace}/{n}" for n in st]
    s = wait_sweep(roles, lambda s: s[1] >= N, "a sweep of the verified identities")
    listed, known, unchanged, drifted, missing, spread, calls = s
    # ListRoles under /keyless/ (one page) + the provider
    assert calls == 3 and spread == known and drifted == missing == 0, s
    # every identity is then read in full once, at its slot within the period
    marks = {k: len(roles.reconcile_lines(k)) for k in keys}
    for k in keys:
        wait_until(lambda: any(c >= 4 for c in aws_calls_between(roles, k, marks[k])), 25, f"{k} verified in full at its slot")

    # a trust policy widened in the console: the listing catches it at once
    iam, victim = aws_client("iam"), st["app2"]["roleName"]
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": st["app2"]["oidcProviderArn"]},
                                                    "Action": "sts:AssumeRoleWithWebIdentity"}]}
    iam.update_assume_role_policy(RoleName=victim, PolicyDocument=json.dumps(wide))
    s = wait_sweep(roles, lambda s: s[3] >= 1, "a sweep finding the widened trust policy")
    assert s[3] == 1 and s[5] == s[1] - 1, s

    def restored():
        d = iam.get_role(RoleName=victim)["Role"]["AssumeRolePolicyDocument"]
        d = json.loads(d) if isinstance(d, str) else d
        return "Condition" in d["Statement"][0]
    wait_until(restored, 20, "the trust policy repaired")
