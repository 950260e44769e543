"""Cross-account IRSA (settings accounts, spec.accountId; issue 12).

keyless runs with the test admin's credentials and the setting `accounts: [{accountId: <second
account>, roleArn: <keyless-manager there>}]`; it assumes that role with sts:AssumeRole to make the
identity's OIDC provider and role in the second account. A real service-account token then assumes
that role through the STS front (which checks the token against the provider registered in the
second account), and the credentials are the second account's. An account the settings do not list
is refused; deletion removes the role there."""

import json
import os

import pytest

from conftest import aws_client, aws_client_in_second_account, token_for, wait_until
from controller_env import BOUNDARY_DOC, Controller, install_crd, keyless_role_name, role_or_none, write_settings
from test_controller import GROUP, PLURAL, VERSION, crd_api, make_sa, make_wi, sa_annotations, wait_cond

OTHER = os.environ.get("KEYLESS_SECOND_ACCOUNT", "")


def boundary_in(iam):
    for p in iam.list_policies(Scope="Local")["Policies"]:
        if p["PolicyName"] == "keyless-e2e-boundary":
            return p["Arn"]
    return iam.create_policy(PolicyName="keyless-e2e-boundary", PolicyDocument=json.dumps(BOUNDARY_DOC))["Policy"]["Arn"]



@pytest.mark.skipif(not OTHER, reason="the local cluster has no second account")
def test_irsa_role_in_another_account(core, namespace, tmp_path):
    install_crd()
    iam_b = aws_client_in_second_account("iam")
    boundary = boundary_in(iam_b)  # the settings' boundary ARN with the second account
    assert f":{OTHER}:" in boundary
    settings = write_settings(str(tmp_path / "settings.yaml"), oidcIssuer=os.environ["KEYLESS_ISSUER"],
                              guardrails={"includeNamespaces": [namespace]},
                              accounts=[{"accountId": OTHER,
                                         "roleArn": os.environ["KEYLESS_SECOND_ACCOUNT_MANAGER_ROLE"],
                                         "namespaces": [namespace]}])
    ctl = Controller(settings, str(tmp_path / "controller.log"))
    name = keyless_role_name(namespace, "app")
    host = os.environ["KEYLESS_ISSUER"].removeprefix("https://")
    try:
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa", accountId=OTHER)
        o = wait_cond(namespace, "app", "Ready", "True", timeout=90)
        arn = o["status"]["roleArn"]
        assert arn == f"arn:aws:iam::{OTHER}:role/keyless/{name}"
        # the role, its boundary and the provider are in the second account, not in the cluster's
        role = iam_b.get_role(RoleName=name)["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        doc = role["AssumeRolePolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        assert [s["Principal"]["Federated"] for s in doc["Statement"]] == \
            [f"arn:aws:iam::{OTHER}:oidc-provider/{host}"]
        assert any(p["Arn"].endswith(host) for p in iam_b.list_open_id_connect_providers()["OpenIDConnectProviderList"])
        assert role_or_none(aws_client("iam"), name) is None
        assert sa_annotations(core, namespace, "app-sa")["eks.amazonaws.com/role-arn"] == arn
        assert "account " + OTHER + ": roles made there with the credentials of" in ctl.text()

        # a real token of the service account assumes it; the credentials are the second account's
        creds = aws_client("sts").assume_role_with_web_identity(
            RoleArn=arn, RoleSessionName="e2e", WebIdentityToken=token_for(core, namespace, "app-sa"))["Credentials"]
        who = aws_client("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"]).get_caller_identity()
        assert who["Account"] == OTHER and f":assumed-role/{name}/e2e" in who["Arn"]

        # an account the settings do not list: refused, nothing made
        make_sa(core, namespace, "other-sa")
        make_wi(namespace, "other", "other-sa", accountId="999999999999")
        o = wait_cond(namespace, "other", "Ready", "False", reason="AccountNotAllowed", timeout=60)
        assert "not in the operator's settings accounts" in [c for c in o["status"]["conditions"]
                                                              if c["type"] == "Ready"][0]["message"]

        # the account cannot change (CRD rule), and deletion removes the role there
        with pytest.raises(Exception) as e:
            crd_api().patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app",
                                                     {"spec": {"accountId": "999999999999"}})
        assert "accountId cannot change" in str(e.value)
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")
        wait_until(lambda: role_or_none(iam_b, name) is None, 60, "the role deleted in the second account")
        assert "AccessDenied" not in ctl.text()
    finally:
        assert ctl.stop() == 0, ctl.text()[-3000:]
