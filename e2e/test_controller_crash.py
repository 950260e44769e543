"""kill -9 of the controller between creating the role and writing its
policy, then a restart: it converges with no duplicate and no orphan
(issue #5). A fault proxy in front of moto holds PutRolePolicy forever, so
the first controller dies exactly there."""

import json
import os
import signal

import botocore.exceptions
import pytest
from kubernetes import client

from conftest import aws_client, wait_until
from controller_env import Controller, install_crd, keyless_role_name, write_settings
from fault_proxy import FaultProxy
from test_controller import GROUP, PLURAL, VERSION, crd_api, make_sa, make_wi, wait_cond


def test_kill9_between_create_role_and_put_policy_converges(core, namespace, tmp_path):
    install_crd()
    settings = write_settings(str(tmp_path / "settings.yaml"))
    proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL"]).start()
    proxy.on_api_action["PutRolePolicy"] = "hang"
    first = Controller(settings, str(tmp_path / "first.log"), env={"AWS_ENDPOINT_URL": proxy.url})
    try:
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa")
        iam = aws_client("iam")
        wait_until(lambda: "PutRolePolicy" in proxy.api_actions, 60, "the controller to reach PutRolePolicy")
        role = iam.get_role(RoleName=keyless_role_name(namespace, "app"))["Role"]
        assert not iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]  # created, no policy yet
        first.stop(signal.SIGKILL)
        assert first.p.returncode == -signal.SIGKILL
    finally:
        proxy.stop()
        if first.p.poll() is None:
            first.stop(signal.SIGKILL)

    second = Controller(settings, str(tmp_path / "second.log"))
    try:
        st = wait_cond(namespace, "app", "Ready", "True")["status"]
        assert st["roleName"] == role["RoleName"]
        # no duplicate: exactly one keyless role for this identity
        mine = [r for r in iam.list_roles(PathPrefix="/keyless/")["Roles"]
                if f"+{namespace}+app@" in r["RoleName"]]
        assert [r["RoleName"] for r in mine] == [role["RoleName"]]
        assert iam.get_role(RoleName=role["RoleName"])["Role"]["RoleId"] == role["RoleId"]  # the same role, adopted
        assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["keyless"]
        # no orphan: deleting the identity removes the role
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")
        wait_until(lambda: not [i for i in crd_api().list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL)["items"]], 40, "deletion")
        with pytest.raises(botocore.exceptions.ClientError):
            iam.get_role(RoleName=role["RoleName"])
    finally:
        assert second.stop() == 0, second.text()[-3000:]
