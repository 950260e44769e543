"""AccessDenied from AWS on keyless' own calls is reported on the resource
with the action that was denied (issue #5, step 9). moto enforces IAM
policies once auth is on, so a controller whose user may not iam:CreateRole
really is refused."""

import json

from kubernetes import client

from conftest import aws_client
from controller_env import Controller, install_crd, write_settings
from test_controller import cond, make_sa, make_wi, wait_cond

LIMITED = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*"}]}


def test_access_denied_names_the_action(core, namespace, tmp_path):
    install_crd()
    iam = aws_client("iam")
    user = f"keyless-limited-{namespace}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="limited", PolicyDocument=json.dumps(LIMITED))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    settings = write_settings(str(tmp_path / "settings.yaml"),
                              guardrails={"includeNamespaces": [namespace]})
    ctl = Controller(settings, str(tmp_path / "limited.log"),
                     env={"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]})
    try:
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa")
        o = wait_cond(namespace, "app", "RoleReady", "False", "AWSAccessDenied")
        msg = cond(o, "RoleReady")["message"]
        assert "iam:CreateRole" in msg and "AccessDenied" in msg or "iam:CreateRole" in msg
        assert cond(o, "Ready")["status"] == "False"
        evs = client.EventsV1Api().list_namespaced_event(namespace, field_selector="regarding.name=app").items
        assert "AWSAccessDenied" in {e.reason for e in evs}
        # keyless' own principal (moto: "User: arn:aws:iam::<acct>:user/<user> is not
        # authorized ...") stays out of the tenant's namespace; the controller log keeps it
        assert user not in msg and user not in cond(o, "Ready")["message"], msg
        for e in client.EventsV1Api().list_namespaced_event(namespace).items:
            assert user not in (e.note or ""), e.note
        assert f":user/{user} is not authorized" in ctl.text()
    finally:
        assert ctl.stop() == 0, ctl.text()[-3000:]
