"""Restart logic against the real kube-apiserver, kube-controller-manager (the
disruption controller keeps PodDisruptionBudgets' status) and kwok pods
(review findings 16, 17): DeletePods evicts through the Eviction API, so a
PodDisruptionBudget holds; a paused Deployment and an OnDelete StatefulSet are
reported as ManualRestartRequired and not polled."""

import time

import pytest
from kubernetes import client

from conftest import wait_until
from controller_env import Controller, install_crd, write_settings
from test_controller import cond, events_of, make_sa, make_wi, wait_cond


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    install_crd()
    d = tmp_path_factory.mktemp("restart")
    # a long resync, so a requeue (polling) would show in the reconcile count
    c = Controller(write_settings(str(d / "settings.yaml"), resyncPeriod="10m"), str(d / "controller.log"))
    yield c
    rc = c.stop()
    assert rc == 0, c.text()[-4000:]


def deployment(apps, ns, name, sa, replicas, paused=False):
    labels = {"app": name}
    apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(replicas=replicas, paused=paused,
                                     selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name=sa, containers=[
                                             client.V1Container(name="c", image=f"example.invalid/{name}:1")])))))


def live_pods(core, ns, app):
    return [p for p in core.list_namespaced_pod(ns, label_selector=f"app={app}").items
            if not p.metadata.deletion_timestamp]


def wait_pods(core, ns, app, n, what):
    return wait_until(lambda: (lambda p: p if len(p) == n and all(x.status.phase == "Running" for x in p) else None)(
        live_pods(core, ns, app)), 90, what)


def injected(p):
    return any(e.name == "AWS_ROLE_ARN" for e in (p.spec.containers[0].env or []))


def test_restart_delete_pods_evicts_and_respects_a_pod_disruption_budget(controller, core, apps, namespace):
    make_sa(core, namespace, "evict-sa")
    deployment(apps, namespace, "evict", "evict-sa", 3)
    old = {p.metadata.name for p in wait_pods(core, namespace, "evict", 3, "3 pods before the identity")}
    policy = client.PolicyV1Api()
    policy.create_namespaced_pod_disruption_budget(namespace, client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="evict"),
        spec=client.V1PodDisruptionBudgetSpec(max_unavailable=0,
                                              selector=client.V1LabelSelector(match_labels={"app": "evict"}))))
    wait_until(lambda: (lambda s: s and s.observed_generation == 1 and s.expected_pods == 3)(
        policy.read_namespaced_pod_disruption_budget("evict", namespace).status), 60,
        "the disruption controller computed the budget")

    make_wi(namespace, "evict-wi", "evict-sa", restart="DeletePods")
    o = wait_cond(namespace, "evict-wi", "WorkloadsReady", "False", "EvictionBlocked", timeout=60)
    assert "disruption budget" in cond(o, "WorkloadsReady")["message"], cond(o, "WorkloadsReady")
    wait_until(lambda: "EvictionBlocked" in events_of(namespace, "evict-wi"), 15, "the EvictionBlocked event")
    # nothing was deleted behind the budget's back
    time.sleep(2)
    assert {p.metadata.name for p in live_pods(core, namespace, "evict")} == old

    # the budget allows one disruption at a time: the pods are evicted one by one and replaced
    policy.patch_namespaced_pod_disruption_budget("evict", namespace, {"spec": {"maxUnavailable": 1}})
    seen_unavailable = []

    def replaced():
        pods = live_pods(core, namespace, "evict")
        seen_unavailable.append(3 - sum(1 for p in pods if p.status.phase == "Running"))
        return pods if len(pods) == 3 and not old & {p.metadata.name for p in pods} and all(map(injected, pods)) \
            else None
    wait_until(replaced, 180, "the Deployment's pods evicted and replaced with injected ones", interval=0.5)
    wait_cond(namespace, "evict-wi", "WorkloadsReady", "True", timeout=60)
    wait_until(lambda: "PodEvicted" in events_of(namespace, "evict-wi"), 15, "the PodEvicted event")
    assert max(seen_unavailable) <= 1, seen_unavailable


def test_restart_paused_deployment_and_on_delete_statefulset_need_a_person(controller, core, apps, namespace):
    make_sa(core, namespace, "manual-sa")
    deployment(apps, namespace, "paused", "manual-sa", 1)
    wait_pods(core, namespace, "paused", 1, "the Deployment's pod")
    apps.patch_namespaced_deployment("paused", namespace, {"spec": {"paused": True}})
    labels = {"app": "db"}
    apps.create_namespaced_stateful_set(namespace, client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="db"),
        spec=client.V1StatefulSetSpec(replicas=1, service_name="db", selector=client.V1LabelSelector(match_labels=labels),
                                      update_strategy=client.V1StatefulSetUpdateStrategy(type="OnDelete"),
                                      template=client.V1PodTemplateSpec(
                                          metadata=client.V1ObjectMeta(labels=labels),
                                          spec=client.V1PodSpec(service_account_name="manual-sa", containers=[
                                              client.V1Container(name="c", image="example.invalid/db:1")])))))
    wait_pods(core, namespace, "db", 1, "the StatefulSet's pod")

    make_wi(namespace, "manual-wi", "manual-sa")
    o = wait_cond(namespace, "manual-wi", "WorkloadsReady", "False", "ManualRestartRequired", timeout=60)
    msg = cond(o, "WorkloadsReady")["message"]
    assert "Deployment paused is paused" in msg and f"kubectl -n {namespace} rollout restart deployment/paused" in msg, msg
    assert "StatefulSet db has updateStrategy OnDelete" in msg and f"kubectl -n {namespace} delete pod db-0" in msg, msg
    assert o["status"]["stalePods"] == 2
    wait_until(lambda: "ManualRestartRequired" in events_of(namespace, "manual-wi"), 15, "the ManualRestartRequired event")
    assert "keyless.dev/restarted-for" not in (apps.read_namespaced_deployment("paused", namespace).metadata.annotations or {})
    assert "keyless.dev/restarted-for" not in (apps.read_namespaced_stateful_set("db", namespace).metadata.annotations or {})

    # no polling: nothing changes, so nothing is reconciled again (the old code requeued every 15 s)
    key = f"{namespace}/manual-wi"
    n = len(controller.reconcile_lines(key))
    time.sleep(20)
    assert len(controller.reconcile_lines(key)) == n, controller.reconcile_lines(key)[n:]

    # a person follows the advice: the pods come back injected, and keyless notices from the pod events
    core.delete_namespaced_pod("db-0", namespace)
    apps.patch_namespaced_deployment("paused", namespace, {"spec": {"paused": False}})
    rollout_restart = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}}}}
    apps.patch_namespaced_deployment("paused", namespace, rollout_restart)
    wait_until(lambda: (lambda p: p if len(p) == 1 and injected(p[0]) else None)(live_pods(core, namespace, "db")),
               90, "db-0 recreated with the injection")
    wait_until(lambda: (lambda p: p if len(p) == 1 and injected(p[0]) else None)(live_pods(core, namespace, "paused")),
               90, "the Deployment's pod replaced with an injected one")
    wait_cond(namespace, "manual-wi", "WorkloadsReady", "True", timeout=60)
