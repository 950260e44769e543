"""What keyless does when AWS's pod identity webhook has not yet seen the
annotation keyless just wrote (issue 9, item 6).

The real webhook decides from an informer cache of ServiceAccounts. When a
pod is admitted before the watch event carrying the new
eks.amazonaws.com/role-arn reaches that cache, the webhook finds the service
account without the annotation and admits the pod unmutated; nothing re-runs
admission later. Normally that window is milliseconds, but it grows whenever
the webhook's watch is slow or broken (apiserver restart, relist, load), and
keyless' RolloutRestart creates pods right after it annotates.

To make the window deterministic this test runs a second instance of the real
webhook (same binary and flags as hack/local-cluster's) whose connection to
the apiserver goes through a loopback TCP proxy that the test cuts, and
registers it for this test's pods only (their label keeps the cluster's own
webhook away from them, as EKS's objectSelector allows).
"""

import json
import os
import signal
import socket
import subprocess
import uuid

import pytest
from kubernetes import client

from conftest import wait_until
from controller_env import Controller, install_crd, write_settings
from tcp_proxy import TcpProxy

GROUP, VERSION, PLURAL = "keyless.dev", "v1alpha1", "workloadidentities"
LAGGING = {"keyless.dev/e2e-webhook": "lagging", "eks.amazonaws.com/skip-pod-identity-webhook": "true"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ports():
    with open(os.path.join(os.environ["KEYLESS_CLUSTER_DIR"], "ports")) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


class LaggingWebhook:
    """The real webhook, its apiserver connection through a TcpProxy."""

    def __init__(self, d, ns):
        cdir = os.environ["KEYLESS_CLUSTER_DIR"]
        pki = os.path.join(cdir, "pki")
        self.proxy = TcpProxy("127.0.0.1", int(ports()["API_PORT"]))
        self.kubeconfig = os.path.join(d, "webhook.kubeconfig")
        with open(self.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{self.proxy.port}",
                                                              "certificate-authority": f"{pki}/ca.crt"}}],
                       "users": [{"name": "u", "user": {"client-certificate": f"{pki}/webhook-client.crt",
                                                        "client-key": f"{pki}/webhook-client.key"}}],
                       "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}, f)
        self.port = free_port()
        self.log_path = os.path.join(d, "lagging-webhook.log")
        self.log = open(self.log_path, "w")
        binary = os.path.join(os.environ["KEYLESS_TOOLS"], "bin", "amazon-eks-pod-identity-webhook")
        self.p = subprocess.Popen(
            [binary, "--in-cluster=false", "--kubeconfig", self.kubeconfig,
             "--tls-cert", f"{pki}/webhook.crt", "--tls-key", f"{pki}/webhook.key",
             "--port", str(self.port), "--metrics-port", str(free_port()),
             "--annotation-prefix", "eks.amazonaws.com", "--token-audience", "sts.amazonaws.com",
             "--aws-default-region", os.environ["AWS_REGION"], "--sts-regional-endpoint=true",
             "--logtostderr", "--v=5"], stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: "Caches populated" in self.text() or self.p.poll() is not None, 30, "lagging webhook")
        assert self.p.poll() is None, self.text()[-3000:]
        self.name = f"keyless-e2e-lagging-{ns}"
        with open(f"{pki}/ca.crt", "rb") as f:
            import base64
            ca = base64.b64encode(f.read()).decode()
        client.AdmissionregistrationV1Api().create_mutating_webhook_configuration(
            client.V1MutatingWebhookConfiguration(
                metadata=client.V1ObjectMeta(name=self.name),
                webhooks=[client.V1MutatingWebhook(
                    name="lagging.e2e.keyless.dev", admission_review_versions=["v1"], side_effects="None",
                    failure_policy="Ignore", timeout_seconds=10,
                    client_config=client.AdmissionregistrationV1WebhookClientConfig(
                        url=f"https://127.0.0.1:{self.port}/mutate", ca_bundle=ca),
                    rules=[client.V1RuleWithOperations(operations=["CREATE"], api_groups=[""], api_versions=["v1"],
                                                       resources=["pods"])],
                    namespace_selector=client.V1LabelSelector(match_labels={"kubernetes.io/metadata.name": ns}),
                    object_selector=client.V1LabelSelector(match_labels={"keyless.dev/e2e-webhook": "lagging"}))]))

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def has_seen(self, ns, sa, arn=None):
        key = f'Adding SA "{ns}/{sa}" to SA cache'
        return any(key in l and (arn is None or f"RoleARN:{arn} " in l) for l in self.text().splitlines())

    def stop(self):
        try:
            client.AdmissionregistrationV1Api().delete_mutating_webhook_configuration(self.name)
        except client.ApiException:
            pass
        self.proxy.unblock()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.proxy.close()
        self.log.close()
        return rc


@pytest.fixture
def controller(tmp_path):
    install_crd()
    c = Controller(write_settings(str(tmp_path / "settings.yaml")), str(tmp_path / "controller.log"))
    yield c
    assert c.stop() == 0, c.text()[-4000:]


@pytest.fixture
def lagging(tmp_path, namespace):
    w = LaggingWebhook(str(tmp_path), namespace)
    yield w
    # SIGTERM: the webhook shuts its servers down and exits 0
    assert w.stop() == 0, w.text()[-3000:]


def env_of(pod):
    return {e.name: e.value for e in (pod.spec.containers[0].env or [])}


def live_pods(core, ns):
    return [p for p in core.list_namespaced_pod(ns, label_selector="app=web").items if not p.metadata.deletion_timestamp]


def test_pod_admitted_before_the_webhook_saw_the_annotation_is_restarted(controller, lagging, core, apps, namespace):
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app-sa")))
    wait_until(lambda: lagging.has_seen(namespace, "app-sa"), 30, "the lagging webhook to cache app-sa")
    labels = {"app": "web", **LAGGING}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels={"app": "web"}),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name="app-sa", containers=[
                                             client.V1Container(name="c", image="example.invalid/web:1")])))))
    (old,) = wait_until(lambda: (lambda p: p if len(p) == 1 else None)(live_pods(core, namespace)), 60, "the first pod")
    assert "AWS_ROLE_ARN" not in env_of(old)

    # The webhook's watch breaks and cannot reconnect: its cache keeps app-sa as it was.
    lagging.proxy.cut(block=True)
    crd = client.CustomObjectsApi()
    crd.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity", "metadata": {"name": "app"},
        "spec": {"serviceAccountName": "app-sa", "restart": "RolloutRestart", "permissions": {"statements": [
            {"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject"],
             "resources": ["arn:aws:s3:::my-log-bucket/logs/*"]}]}}})
    wi = lambda: crd.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "app")  # noqa: E731
    arn = wait_until(lambda: (wi().get("status") or {}).get("roleArn"), 60, "the role ARN in the status")

    # keyless annotated the service account and restarted the Deployment; the
    # rollout's pod was admitted by a webhook that did not know the annotation
    wait_until(lambda: (apps.read_namespaced_deployment("web", namespace).metadata.annotations or {})
               .get("keyless.dev/restarted-for", "").startswith(arn + " "), 60,
               "keyless to restart the Deployment")
    (first,) = wait_until(lambda: (lambda p: p if len(p) == 1 and p[0].metadata.uid != old.metadata.uid else None)(
        live_pods(core, namespace)), 60, "the rollout to replace the pod")
    assert "AWS_ROLE_ARN" not in env_of(first), "the lagging webhook injected; the test did not create the race"
    wired_at = wi()["status"].get("wiredAt")

    # The webhook's watch comes back and its cache catches up.
    lagging.proxy.unblock()
    wait_until(lambda: lagging.has_seen(namespace, "app-sa", arn), 90, "the lagging webhook to see the annotation")

    # What should happen now: keyless sees a pod of its service account without
    # the credentials and restarts the workload once more, and this time the
    # webhook injects.
    def converged():
        pods = live_pods(core, namespace)
        return pods if pods and all(env_of(p).get("AWS_ROLE_ARN") == arn for p in pods) else None
    try:
        wait_until(converged, 45, "keyless to restart the pod admitted without the injection")
    except AssertionError:
        st = wi().get("status") or {}
        w = next((c for c in st.get("conditions", []) if c["type"] == "WorkloadsReady"), {})
        dep = apps.read_namespaced_deployment("web", namespace)
        pods = [(p.metadata.name, p.metadata.creation_timestamp.isoformat(), env_of(p).get("AWS_ROLE_ARN"))
                for p in live_pods(core, namespace)]
        raise AssertionError(
            f"the pod admitted without the injection was not restarted: wiredAt {wired_at}, "
            f"first rollout pod {first.metadata.name} created {first.metadata.creation_timestamp.isoformat()}; "
            f"WorkloadsReady={w.get('status')}/{w.get('reason')}: {w.get('message')}; stalePods={st.get('stalePods')}; "
            f"Deployment restarted-for={(dep.metadata.annotations or {}).get('keyless.dev/restarted-for')}, "
            f"generation {dep.metadata.generation}; pods (name, created, AWS_ROLE_ARN): {pods}")
    o = wait_until(lambda: (lambda o: o if any(c["type"] == "WorkloadsReady" and c["status"] == "True"
                                                for c in o["status"]["conditions"]) else None)(wi()),
                   30, "WorkloadsReady=True")
    assert o["status"]["stalePods"] == 0
