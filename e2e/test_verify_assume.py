"""verifyAssumeRole (issue 13): RoleReady is True only once a real token of the service account (from the
local API server's TokenRequest) assumes the role through the STS front, which checks the token's signature
against the issuer and the role's trust policy as AWS documents. A fault proxy in front of the STS front
answers AccessDenied to the first calls, as STS does while IAM's change propagates: keyless retries and the
identity becomes Ready; answering AccessDenied to every call keeps RoleReady False with STS's error."""

import os

from conftest import wait_until
from controller_env import Controller, install_crd, write_settings
from fault_proxy import FaultProxy
from test_controller import events_of, get_wi, make_sa, make_wi, wait_cond


def role_cond(ns, name):
    conds = get_wi(ns, name).get("status", {}).get("conditions", [])
    return next((c for c in conds if c["type"] == "RoleReady"), {"reason": None, "status": None, "message": ""})


def test_ready_only_once_the_role_can_be_assumed(core, namespace, tmp_path):
    install_crd()
    proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL_STS"]).start()
    settings = write_settings(str(tmp_path / "settings.yaml"), verifyAssumeRole=True,
                              guardrails={"includeNamespaces": [namespace]})
    ctl = Controller(settings, str(tmp_path / "controller.log"), env={"AWS_ENDPOINT_URL_STS": proxy.url})
    try:
        # propagation: the first two answers are AccessDenied
        proxy.script("access-denied", "access-denied")
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa")
        wait_until(lambda: role_cond(namespace, "app")["reason"] == "AssumeRolePending", 30, "AssumeRolePending")
        c = role_cond(namespace, "app")
        assert c["status"] == "False" and "AccessDenied" in c["message"], c
        assert "the trust policy allows the token" in c["message"], c
        o = wait_cond(namespace, "app", "Ready", "True", timeout=60)
        c = role_cond(namespace, "app")
        assert c["reason"] == "Verified" and "a token of the service account assumed it" in c["message"], c
        assert [a for a in proxy.api_actions if a == "AssumeRoleWithWebIdentity"][:3] == \
            ["AssumeRoleWithWebIdentity"] * 3
        assert o["status"]["roleArn"]
        # unchanged: no further STS call at the next resyncs
        n = len(proxy.api_actions)
        wait_until(lambda: "drift sweep: " in ctl.text(), 30, "a drift sweep")
        assert proxy.api_actions[n:].count("AssumeRoleWithWebIdentity") == 0

        # STS refusing every call: RoleReady False with STS's error, Ready False
        proxy.default = "access-denied"
        make_sa(core, namespace, "other-sa")
        make_wi(namespace, "other", "other-sa")
        wait_until(lambda: role_cond(namespace, "other")["reason"] == "AssumeRolePending", 30, "pending")
        assert get_wi(namespace, "other")["status"]["conditions"][0]["status"] == "False"
        assert "retried every 2 s for 45 s" in role_cond(namespace, "other")["message"]
        assert "AccessDenied" in role_cond(namespace, "other")["message"]
        # the token never appears in the log
        assert "eyJ" not in ctl.text()
    finally:
        assert ctl.stop() == 0, ctl.text()[-3000:]
        proxy.stop()
