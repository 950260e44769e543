"""Roles shared by the clusters of an account (settings roleScope: Account, issue 12).

keyless runs with exactly the IAM policy `keyless iam-policy` prints for Account scope, its IAM calls
going through the IAM front (which evaluates resources and conditions). A second cluster is played
by hand with admin keys, as its keyless would leave the role: its owner tag and its own trust
statement. keyless keeps them, drops what no owner claims, lets go of the role (its statement and
owner tag) when its WorkloadIdentity goes while the other cluster still owns it, and deletes the role
as the last owner. The fence refuses releasing another cluster's ownership."""

import json
import os
import subprocess

import pytest

from conftest import aws_client, token_for, wait_until
from controller_env import (Controller, fenced_iam_user, install_crd, keyless_shared_role_name, role_or_none,
                            write_settings)
from test_controller import GROUP, PLURAL, VERSION, crd_api, make_sa, make_wi, sa_annotations, wait_cond
from test_iam_policy import denied

BIN = os.environ.get("KEYLESS_BIN") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")
CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")
OTHER_HOST = "oidc.other-cluster.example/id/OTHER"


def host(issuer):
    return issuer[len("https://"):] if issuer.startswith("https://") else issuer


def statement(provider_arn, h, ns, sa, aud="sts.amazonaws.com"):
    return {"Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{h}:sub": f"system:serviceaccount:{ns}:{sa}", f"{h}:aud": aud}}}


@pytest.fixture
def shared(namespace, tmp_path):
    front = os.environ.get("KEYLESS_IAM_FRONT")
    assert front, "the local cluster has no IAM front (KEYLESS_IAM_FRONT)"
    install_crd()
    settings = write_settings(str(tmp_path / "settings.yaml"), oidcIssuer=os.environ["KEYLESS_ISSUER"],
                              roleScope="Account", guardrails={"includeNamespaces": [namespace]})
    out = subprocess.run([os.path.join(BIN, "keyless"), "iam-policy", "--settings", settings,
                          "--oidc-issuer", os.environ["KEYLESS_ISSUER"]], capture_output=True, text=True, check=True)
    user = f"keyless-shared-{namespace}"
    keys, fenced = fenced_iam_user(user, out.stdout, front)
    return {"settings": settings, "keys": keys, "front": front, "iam": fenced, "user": user,
            "policy": json.loads(out.stdout)}



def tags(iam, name):
    return {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}


def trust(iam, name):
    doc = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def providers(doc):
    return sorted(s["Principal"]["Federated"] for s in doc["Statement"])


def wi_gone(ns, name):
    try:
        crd_api().get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
        return False
    except Exception as e:  # kubernetes ApiException 404
        return getattr(e, "status", None) == 404


def test_one_role_shared_with_another_cluster(shared, core, namespace, tmp_path):
    sids = {s["Sid"] for s in shared["policy"]["Statement"]}
    assert {"CreateFencedRolesShared", "ManageOwnedRolesShared", "DenyReleasingOtherOwners"} <= sids, sids
    assert "CreateFencedRoles" not in sids
    admin = aws_client("iam")
    account = aws_client("sts").get_caller_identity()["Account"]
    own_host = host(os.environ["KEYLESS_ISSUER"])
    own_provider = f"arn:aws:iam::{account}:oidc-provider/{own_host}"
    other_provider = f"arn:aws:iam::{account}:oidc-provider/{OTHER_HOST}"
    name = keyless_shared_role_name(namespace, "app")
    ctl = Controller(shared["settings"], str(tmp_path / "controller.log"),
                     env=dict(shared["keys"], AWS_ENDPOINT_URL_IAM=shared["front"]))
    try:
        # --- this cluster creates the shared role: no cluster in its name or tags
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa")
        o = wait_cond(namespace, "app", "Ready", "True", timeout=90)
        assert o["status"]["roleName"] == name
        t = tags(admin, name)
        assert t["keyless.dev/scope"] == "Account" and t[f"keyless.dev/owner/{CLUSTER}"] == own_host
        assert "keyless.dev/cluster" not in t and "keyless.dev/uid" not in t
        assert providers(trust(admin, name)) == [own_provider]
        role_arn = admin.get_role(RoleName=name)["Role"]["Arn"]
        assert sa_annotations(core, namespace, "app-sa")["eks.amazonaws.com/role-arn"] == role_arn

        # --- another cluster joins (played by hand): its owner tag and its statement, plus a stray
        # statement nobody owns
        admin.tag_role(RoleName=name, Tags=[{"Key": "keyless.dev/owner/other", "Value": OTHER_HOST}])
        doc = trust(admin, name)
        doc["Statement"] += [statement(other_provider, OTHER_HOST, namespace, "app-sa"),
                             statement(f"arn:aws:iam::{account}:oidc-provider/oidc.gone.example/id/X",
                                       "oidc.gone.example/id/X", namespace, "app-sa")]
        admin.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(doc))
        # the drift sweep (resyncPeriod 10s) reads it: the owners' statements stay, the stray goes
        wait_until(lambda: providers(trust(admin, name)) == sorted([own_provider, other_provider]), 60,
                   "the stray statement dropped, the other owner's kept")
        assert tags(admin, name)["keyless.dev/owner/other"] == OTHER_HOST
        # a token of this cluster's service account still assumes the role (STS front)
        creds = aws_client("sts").assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="e2e", WebIdentityToken=token_for(core, namespace, "app-sa"))
        assert creds["AssumedRoleUser"]["Arn"].endswith(f"/{name}/e2e")

        # --- the fence: keyless' keys cannot release another cluster's ownership or the scope
        iam = shared["iam"]
        denied(lambda: iam.untag_role(RoleName=name, TagKeys=["keyless.dev/owner/other"]), "iam:UntagRole")
        denied(lambda: iam.untag_role(RoleName=name, TagKeys=["keyless.dev/scope"]), "iam:UntagRole")
        denied(lambda: iam.tag_role(RoleName=name, Tags=[{"Key": "keyless.dev/owner/evil", "Value": "x"}]),
               "iam:TagRole")
        assert set(tags(admin, name)) >= {"keyless.dev/owner/other", "keyless.dev/scope"}

        # --- this cluster's object goes: it lets go, the role stays for the other owner
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")
        wait_until(lambda: wi_gone(namespace, "app"), 60, "the finalizer released")
        assert role_or_none(admin, name) is not None
        t = tags(admin, name)
        assert f"keyless.dev/owner/{CLUSTER}" not in t and t["keyless.dev/owner/other"] == OTHER_HOST
        assert providers(trust(admin, name)) == [other_provider]
        assert admin.get_role_policy(RoleName=name, PolicyName="keyless")  # the other owner's too
        assert "RoleReleased" in ctl.text()

        # --- the other cluster lets go too (by hand); this cluster joins again: its own statement only
        admin.untag_role(RoleName=name, TagKeys=["keyless.dev/owner/other"])
        make_wi(namespace, "app", "app-sa")
        wait_cond(namespace, "app", "Ready", "True", timeout=90)
        assert providers(trust(admin, name)) == [own_provider]
        assert tags(admin, name)[f"keyless.dev/owner/{CLUSTER}"] == own_host
        assert admin.get_role(RoleName=name)["Role"]["Arn"] == role_arn

        # --- the last owner's object goes: the role goes
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")
        wait_until(lambda: role_or_none(admin, name) is None, 60, "the role deleted by its last owner")
        wait_until(lambda: wi_gone(namespace, "app"), 60, "the finalizer released")
        assert "AccessDenied" not in ctl.text(), [l for l in ctl.text().splitlines() if "AccessDenied" in l][:5]
    finally:
        assert ctl.stop() == 0, ctl.text()[-3000:]
