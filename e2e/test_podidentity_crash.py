"""A migration between IRSA and EKS Pod Identity survives kill -9 of keyless in any phase (issue 12): the
phase is computed each time from what AWS and the cluster say, so a new controller picks up where the
killed one stopped, with one association, one role (the same ARN) and no annotation left behind."""

import os
import signal

from kubernetes import client

from conftest import aws_client, wait_until
from controller_env import Controller, install_crd, write_settings
from test_controller import get_wi, make_sa, make_wi, sa_annotations, wait_cond
from test_podidentity import associations, patch_spec, principals, trust_of

CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")


def _migrating(o):
    return next((c for c in (o.get("status") or {}).get("conditions", []) if c["type"] == "Migrating"), {})


def test_kill_9_in_each_phase_resumes(tmp_path, core, apps, namespace):
    install_crd()
    settings = write_settings(str(tmp_path / "settings.yaml"))
    log = str(tmp_path / "controller.log")
    c = Controller(settings, log)
    try:
        make_sa(core, namespace, "crash-sa")
        labels = {"app": "crash"}
        apps.create_namespaced_deployment(namespace, client.V1Deployment(
            metadata=client.V1ObjectMeta(name="crash"),
            spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels=labels),
                                         template=client.V1PodTemplateSpec(
                                             metadata=client.V1ObjectMeta(labels=labels),
                                             spec=client.V1PodSpec(service_account_name="crash-sa", containers=[
                                                 client.V1Container(name="c", image="example.invalid/c:1")])))))
        make_wi(namespace, "crash", "crash-sa")
        st = wait_cond(namespace, "crash", "Ready", "True", timeout=90)["status"]
        arn = st["roleArn"]

        for target in ("PodIdentity", "IRSA"):
            patch_spec(namespace, "crash", mode=target)
            killed = []
            # kill -9 as soon as each new phase shows, start another controller, until the mode is in effect
            while True:
                o = wait_until(lambda: (lambda o: o if (_migrating(o).get("reason") not in killed and
                                                        _migrating(o).get("status") == "True")
                                       or (o["status"].get("mode") == target and
                                           _migrating(o).get("status") != "True") else None)(
                    get_wi(namespace, "crash")), 120, f"a new phase or {target}")
                if o["status"].get("mode") == target and _migrating(o).get("status") != "True":
                    break
                killed.append(_migrating(o)["reason"])
                c.p.send_signal(signal.SIGKILL)
                c.p.wait()
                c = Controller(settings, log)
            print(f"\n{target}: killed in phases {', '.join(killed) or '(none seen)'}")
            o = get_wi(namespace, "crash")
            assert o["status"]["roleArn"] == arn
            kinds = [k for k, _ in principals(trust_of(st["roleName"]))]
            assoc = associations(namespace, "crash-sa")
            ann = sa_annotations(core, namespace, "crash-sa").get("eks.amazonaws.com/role-arn")
            if target == "PodIdentity":
                assert kinds == ["Service"] and len(assoc) == 1 and ann is None
                assert o["status"]["associationId"] == assoc[0]["associationId"]
            else:
                assert kinds == ["Federated"] and assoc == [] and ann == arn
        # one role for the object, nothing else left in IAM under its name
        iam = aws_client("iam")
        names = [r["RoleName"] for r in iam.list_roles(PathPrefix="/keyless/")["Roles"]
                 if r["RoleName"].startswith(f"{CLUSTER}+{namespace}+crash")]
        assert names == [st["roleName"]]
    finally:
        assert c.stop() == 0, c.text()[-3000:]
