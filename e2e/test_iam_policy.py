"""keyless works with exactly the IAM policy `keyless iam-policy` prints, and
that policy refuses what would turn it into more (issue #10).

A moto user whose only policy is the printed one runs `keyless controller`;
its IAM calls go through the IAM front stand-in (hack/standins/iam_front.py),
which evaluates identity policies with resources and conditions as AWS does
(moto alone checks actions only). Then the same user's keys try, by direct
IAM calls through the front, what the fence must refuse."""

import json
import os
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import aws_client, wait_until
from controller_env import Controller, fenced_iam_user, install_crd, keyless_role_name, write_settings
from test_controller import get_wi, make_sa, make_wi, sa_annotations, wait_cond

BIN = os.environ.get("KEYLESS_BIN") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")
CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")
ALLOWED_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                                       "Resource": "*"}]}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"AWS": "*"}}]})


def managed_policy(iam, name, doc):
    for p in iam.list_policies(Scope="Local")["Policies"]:
        if p["PolicyName"] == name:
            return p["Arn"]
    return iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))["Policy"]["Arn"]


@pytest.fixture
def fenced(namespace, tmp_path):
    """(settings path, policy, keys, IAM client through the front with those keys)."""
    front = os.environ.get("KEYLESS_IAM_FRONT")
    assert front, "the local cluster has no IAM front (KEYLESS_IAM_FRONT)"
    install_crd()
    iam = aws_client("iam")
    allowed = managed_policy(iam, "keyless-e2e-allowed", ALLOWED_DOC)
    # oidcIssuer set: moto matches a statement's Resource against the literal "*" for
    # EKS, so the policy's DescribeCluster statement (scoped to the cluster's ARN)
    # cannot pass moto's own check; the IAM front evaluates IAM calls only
    settings = write_settings(str(tmp_path / "settings.yaml"), oidcIssuer=os.environ["KEYLESS_ISSUER"],
                              guardrails={"includeNamespaces": [namespace], "managedPolicyArns": [allowed]})
    out = subprocess.run([os.path.join(BIN, "keyless"), "iam-policy", "--settings", settings,
                          "--oidc-issuer", os.environ["KEYLESS_ISSUER"]], capture_output=True, text=True, check=True)
    policy = json.loads(out.stdout)
    user = f"keyless-fenced-{namespace}"
    keys, client = fenced_iam_user(user, out.stdout, front)
    return {"settings": settings, "policy": policy, "keys": keys, "iam": client, "front": front,
            "allowed": allowed, "user": user}


def denied(call, action):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDenied" and f"perform: {action} on resource" in err["Message"], err
    return err["Message"]


def test_keyless_works_with_exactly_its_policy_and_nothing_more(fenced, core, namespace, tmp_path):
    sids = {s["Sid"] for s in fenced["policy"]["Statement"]}
    assert {"CreateFencedRoles", "ManageOwnedRoles", "GrantOnOwnedRoles", "AttachAllowedPolicies",
            "ManageOIDCProvider", "DenyBoundaryRemoval"} <= sids, sids

    # --- the IRSA scenario with only that policy, IAM through the evaluating front
    ctl = Controller(fenced["settings"], str(tmp_path / "controller.log"),
                     env=dict(fenced["keys"], AWS_ENDPOINT_URL_IAM=fenced["front"]))
    admin = aws_client("iam")
    name = keyless_role_name(namespace, "app")
    try:
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa", permissions={"managedPolicyArns": [fenced["allowed"]], "statements": [
            {"sid": "ReadLogs", "effect": "Allow", "actions": ["s3:GetObject"],
             "resources": ["arn:aws:s3:::my-log-bucket/logs/*"]}]})
        o = wait_cond(namespace, "app", "Ready", "True", timeout=90)
        assert o["status"]["roleName"] == name
        role = admin.get_role(RoleName=name)["Role"]
        assert role["Path"] == "/keyless/"
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/keyless-e2e-boundary")
        assert {t["Key"]: t["Value"] for t in role["Tags"]}["keyless.dev/cluster"] == CLUSTER
        assert [p["PolicyArn"] for p in admin.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] \
            == [fenced["allowed"]]
        assert admin.get_role_policy(RoleName=name, PolicyName="keyless")
        assert sa_annotations(core, namespace, "app-sa")["eks.amazonaws.com/role-arn"] == role["Arn"]

        # --- denials with the same keys: direct IAM calls through the front
        iam, boundary = fenced["iam"], role["PermissionsBoundary"]["PermissionsBoundaryArn"]
        own_tags = [{"Key": "keyless.dev/cluster", "Value": CLUSTER}]
        fresh = f"{CLUSTER}+x+{uuid.uuid4().hex[:8]}"
        # a role without the boundary
        denied(lambda: iam.create_role(RoleName=fresh, Path="/keyless/", AssumeRolePolicyDocument=TRUST,
                                       Tags=own_tags), "iam:CreateRole")
        # a role outside the path / the name prefix
        denied(lambda: iam.create_role(RoleName=fresh, Path="/admin/", AssumeRolePolicyDocument=TRUST,
                                       PermissionsBoundary=boundary, Tags=own_tags), "iam:CreateRole")
        denied(lambda: iam.create_role(RoleName="admin-" + fresh, Path="/keyless/", AssumeRolePolicyDocument=TRUST,
                                       PermissionsBoundary=boundary, Tags=own_tags), "iam:CreateRole")
        # a role without keyless' ownership tag
        denied(lambda: iam.create_role(RoleName=fresh, Path="/keyless/", AssumeRolePolicyDocument=TRUST,
                                       PermissionsBoundary=boundary), "iam:CreateRole")
        # a foreign (untagged) role, even under keyless' path and with the boundary
        foreign = f"{CLUSTER}+foreign+{uuid.uuid4().hex[:8]}"
        admin.create_role(RoleName=foreign, Path="/keyless/", AssumeRolePolicyDocument=TRUST,
                          PermissionsBoundary=boundary)
        denied(lambda: iam.put_role_policy(RoleName=foreign, PolicyName="x", PolicyDocument=json.dumps(ALLOWED_DOC)),
               "iam:PutRolePolicy")
        denied(lambda: iam.delete_role(RoleName=foreign), "iam:DeleteRole")
        denied(lambda: iam.update_assume_role_policy(RoleName=foreign, PolicyDocument=TRUST),
               "iam:UpdateAssumeRolePolicy")
        # tagging a foreign role into ownership
        denied(lambda: iam.tag_role(RoleName=foreign, Tags=own_tags), "iam:TagRole")
        assert admin.list_role_tags(RoleName=foreign)["Tags"] == []
        # removing or changing the boundary of keyless' own role
        msg = denied(lambda: iam.delete_role_permissions_boundary(RoleName=name),
                     "iam:DeleteRolePermissionsBoundary")
        assert "explicit deny" in msg
        other = managed_policy(admin, "keyless-e2e-admin", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        denied(lambda: iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=other),
               "iam:PutRolePermissionsBoundary")
        # a managed policy outside the allowlist, releasing ownership
        denied(lambda: iam.attach_role_policy(RoleName=name, PolicyArn=other), "iam:AttachRolePolicy")
        denied(lambda: iam.untag_role(RoleName=name, TagKeys=["keyless.dev/cluster"]), "iam:UntagRole")
        assert admin.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        admin.delete_role(RoleName=foreign)
        # the drift sweep (driftDetection roles, the default) lists roles with this policy; the
        # account-wide GetAccountAuthorizationDetails is granted only with driftDetection bulk
        assert any(r["RoleName"] == name for r in iam.list_roles(PathPrefix="/keyless/")["Roles"])
        denied(lambda: iam.get_account_authorization_details(Filter=["Role"]), "iam:GetAccountAuthorizationDetails")
        wait_until(lambda: "drift sweep: " in ctl.text(), 30, "a drift sweep with only this policy")
        assert "drift sweep (driftDetection" not in ctl.text(), ctl.text()[-3000:]

        # --- deletion cleans up, still with only that policy
        from test_controller import crd_api, GROUP, VERSION, PLURAL
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")

        def gone():
            try:
                admin.get_role(RoleName=name)
                return False
            except ClientError as e:
                return e.response["Error"]["Code"] == "NoSuchEntity"
        wait_until(gone, 60, "the role deleted with its WorkloadIdentity")
        wait_until(lambda: _wi_gone(namespace, "app"), 60, "the finalizer released")
        assert "AccessDenied" not in ctl.text(), [l for l in ctl.text().splitlines() if "AccessDenied" in l][:5]
    finally:
        assert ctl.stop() == 0, ctl.text()[-3000:]
    log = open(os.path.join(os.environ["KEYLESS_CLUSTER_DIR"], "logs", "iam-front.log")).read()
    assert f"user/{fenced['user']} -> Allow (" in log  # the controller's calls were evaluated


def _wi_gone(ns, name):
    try:
        get_wi(ns, name)
        return False
    except Exception as e:  # kubernetes ApiException 404
        return getattr(e, "status", None) == 404
