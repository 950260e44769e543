"""Health, readiness and metrics of the real `keyless controller` (issue 10): /healthz, /readyz (before and
after the caches sync, a standby under leader election, shutdown), /metrics parsed by prometheus_client's
text parser with values checked for a new WorkloadIdentity, reconcile log lines with key and reconcile id,
and SIGTERM with a bounded shutdown."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import socket
import threading
from urllib.parse import urlparse

import pytest
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from conftest import aws_client, wait_until
from controller_env import Controller, install_crd, keyless_role_name, write_settings
from test_controller import make_sa, make_wi, wait_cond


def scrape(c):
    status, body = c.get("/metrics")
    assert status == 200, body
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    return fams, body


def value(fams, family, sample=None, **labels):
    """The value of the sample of `family` with exactly these labels (0 if absent)."""
    f = fams[family]
    for s in f.samples:
        if (sample is None or s.name == sample) and s.labels == labels:
            return s.value
    return 0


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    install_crd()
    d = tmp_path_factory.mktemp("metrics")
    c = Controller(write_settings(str(d / "settings.yaml")), str(d / "controller.log"),
                   extra=("--log-format", "json"))
    yield c
    rc = c.stop()
    assert rc == 0, c.text()[-4000:]


def test_healthz_and_metrics_format(controller):
    assert controller.get("/healthz") == (200, "ok\n")
    assert controller.get("/readyz") == (200, "ok\n")
    assert controller.get("/nope", what="/healthz")[0] == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{controller.port()}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    fams, body = scrape(controller)
    for name, typ in [("keyless_build_info", "gauge"), ("keyless_reconcile", "counter"),
                      ("keyless_reconcile_duration_seconds", "histogram"), ("keyless_aws_requests", "counter"),
                      ("keyless_aws_request_duration_seconds", "histogram"), ("keyless_kube_requests", "counter"),
                      ("keyless_workqueue_depth", "gauge"), ("keyless_workqueue_queue_duration_seconds", "histogram"),
                      ("keyless_informer_watch_restarts", "counter"), ("keyless_informer_relists", "counter"),
                      ("keyless_workload_identities", "gauge"), ("keyless_stale_pods", "gauge"),
                      ("keyless_leader", "gauge")]:
        assert fams[name].type == typ, name
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (info,) = fams["keyless_build_info"].samples
    assert info.value == 1
    assert info.labels["version"].split("+")[0] == open(os.path.join(root, "VERSION")).read().strip()
    assert value(fams, "keyless_leader") == 1
    # what the start-up did: STS, EKS (the issuer comes from the settings here: no EKS call) and IAM
    assert value(fams, "keyless_aws_requests", "keyless_aws_requests_total", service="sts",
                 operation="GetCallerIdentity", code="OK") == 1
    for r in ("workloadidentities", "serviceaccounts", "pods"):
        assert value(fams, "keyless_informer_synced", resource=r) == 1
        assert value(fams, "keyless_informer_lists", "keyless_informer_lists_total", resource=r) >= 1
    # the LISTs (a watch is counted when it ends)
    assert value(fams, "keyless_kube_requests", "keyless_kube_requests_total", verb="GET", code="200") >= 3
    # histograms: cumulative buckets ending in +Inf == _count
    h = [s for s in fams["keyless_aws_request_duration_seconds"].samples
         if s.labels.get("operation") == "GetCallerIdentity"]
    buckets = [s for s in h if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf"
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)
    assert buckets[-1].value == next(s.value for s in h if s.name.endswith("_count")) == 1


def test_new_identity_counts(controller, core, namespace):
    before, _ = scrape(controller)
    make_sa(core, namespace, "app-sa")
    make_wi(namespace, "app", "app-sa")
    wait_cond(namespace, "app", "Ready", "True")

    def converged():
        fams, _ = scrape(controller)
        return fams if value(fams, "keyless_workload_identities", ready="True") >= 1 else None
    fams = wait_until(converged, 30, "Ready=True counted")

    def delta(family, sample, **labels):
        return value(fams, family, sample, **labels) - value(before, family, sample, **labels)
    aws = ("keyless_aws_requests", "keyless_aws_requests_total")
    assert delta(*aws, service="iam", operation="CreateRole", code="OK") == 1
    assert delta(*aws, service="iam", operation="PutRolePolicy", code="OK") == 1
    # a new identity calls CreateRole first: no GetRole at all
    assert delta(*aws, service="iam", operation="GetRole", code="NoSuchEntity") == 0
    assert delta(*aws, service="iam", operation="GetRole", code="OK") == 0
    assert delta("keyless_reconcile", "keyless_reconcile_total", result="ok") >= 1
    assert delta("keyless_reconcile_duration_seconds", "keyless_reconcile_duration_seconds_count") >= 1
    assert delta("keyless_kube_requests", "keyless_kube_requests_total", verb="PATCH", code="200") >= 1
    # other tests' objects may still be in the cache: every cached identity is counted once
    assert value(fams, "keyless_workload_identities", ready="True") >= 1
    assert sum(value(fams, "keyless_workload_identities", ready=r) for r in ("True", "False", "Unknown")) == \
        value(fams, "keyless_cache_objects", resource="workloadidentities")
    assert delta("keyless_workqueue_queue_duration_seconds", "keyless_workqueue_queue_duration_seconds_count") >= 1
    assert value(fams, "keyless_cache_objects", resource="workloadidentities") >= 1

    # every JSON log line of a reconcile of this key carries the key and an 8-hex reconcile id
    key = f"{namespace}/app"
    lines = [json.loads(l) for l in controller.text().splitlines() if l.startswith("{")]
    mine = [l for l in lines if key in l["msg"]]
    assert mine
    for l in mine:
        assert l.get("key") == key, l
        assert re.fullmatch(r"[0-9a-f]{8}", l.get("reconcileID", "")), l
    ids = {l["reconcileID"] for l in mine}
    assert len(ids) >= 1


def test_readyz_before_caches_sync(tmp_path):
    """Unreachable API server: alive (/healthz 200) but not ready (/readyz 503) until the caches sync."""
    kubeconfig = tmp_path / "kubeconfig"
    src = open(os.environ["KUBECONFIG"]).read()
    # the same cluster and credentials, through a port nothing listens on
    server = re.search(r"server: (\S+)", src).group(1)
    kubeconfig.write_text(src.replace(server, "https://127.0.0.1:9"))
    settings = write_settings(str(tmp_path / "settings.yaml"))
    c = Controller(settings, str(tmp_path / "c.log"), env={"KUBECONFIG": str(kubeconfig)}, wait="started leading")
    try:
        assert c.get("/healthz") == (200, "ok\n")
        status, body = c.get("/readyz")
        assert (status, body) == (503, "caches not synced\n")
        fams, _ = scrape(c)
        assert value(fams, "keyless_informer_synced", resource="pods") == 0
        assert value(fams, "keyless_kube_requests", "keyless_kube_requests_total", verb="GET", code="<error>") >= 1
    finally:
        assert c.stop() == 0, c.text()[-3000:]


def test_readyz_standby_and_leader(tmp_path, namespace):
    settings = write_settings(str(tmp_path / "settings.yaml"))
    le = ("--leader-elect", "--lease-namespace", namespace, "--lease-name", "keyless-metrics",
          "--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "500ms")
    leader = Controller(settings, str(tmp_path / "leader.log"), extra=("--identity", "leader", *le))
    standby = Controller(settings, str(tmp_path / "standby.log"), extra=("--identity", "standby", *le),
                         wait="lease held by leader")
    try:
        assert leader.get("/readyz") == (200, "ok\n")
        assert standby.get("/readyz") == (200, "ok\n")  # a ready standby
        lf, _ = scrape(leader)
        sf, _ = scrape(standby)
        assert value(lf, "keyless_leader") == 1 and value(sf, "keyless_leader") == 0
        assert value(sf, "keyless_ready") == 1
        # a standby has no informers: no cache metrics
        assert not fams_samples(sf, "keyless_informer_synced")
        # the leader leaves (SIGTERM: releases the lease, exit 0); the standby takes over
        assert leader.stop() == 0, leader.text()[-3000:]
        assert "released the lease" in leader.text()
        wait_until(lambda: "caches synced" in standby.text(), 30, "the standby leads")
        wait_until(lambda: value(scrape(standby)[0], "keyless_leader") == 1, 10, "leader gauge")
        assert standby.get("/readyz") == (200, "ok\n")
    finally:
        leader.stop()
        assert standby.stop() == 0, standby.text()[-3000:]


def fams_samples(fams, name):
    return fams[name].samples if name in fams else []


def test_sigterm_bounds_in_flight_reconciles(tmp_path, core, namespace):
    """SIGTERM while a reconcile hangs on AWS: the workers are given --shutdown-timeout, the lease is
    released, exit 0."""
    install_crd()
    proxy = HangProxy(os.environ["AWS_ENDPOINT_URL"])
    settings = write_settings(str(tmp_path / "settings.yaml"), accountId="123456789012",
                              oidcIssuer=os.environ["KEYLESS_ISSUER"])
    c = Controller(settings, str(tmp_path / "c.log"), env={"AWS_ENDPOINT_URL": proxy.url},
                   extra=("--shutdown-timeout", "2s", "--leader-elect", "--lease-namespace", namespace,
                          "--lease-name", "keyless-sigterm"))
    try:
        proxy.hang()  # AWS answers nothing from now on
        make_sa(core, namespace, "slow-sa")
        make_wi(namespace, "slow", "slow-sa")
        # the slow identity's reconcile is the one in flight: its AWS call is held by the proxy
        # (another identity's reconcile, or a call failing on a connection hang() dropped, would not do)
        wait_until(lambda: proxy.held > 0 and value(scrape(c)[0], "keyless_workqueue_in_flight") == 1, 30,
                   "a reconcile in flight, its AWS call held")
        t0 = time.monotonic()
        c.p.send_signal(signal.SIGTERM)
        rc = c.p.wait(timeout=20)
        took = time.monotonic() - t0
        assert rc == 0, c.text()[-3000:]
        assert took < 10, took
        text = c.text()
        assert "still running after the shutdown timeout: abandoned" in text, text[-3000:]
        assert "released the lease" in text
        lease = client.CoordinationV1Api().read_namespaced_lease("keyless-sigterm", namespace)
        assert not lease.spec.holder_identity
    finally:
        c.stop()
        proxy.close()


class HangProxy:
    """Forwards to an HTTP endpoint until hang(): then drops open connections and holds new ones open
    without an answer (a request in flight that never ends)."""

    def __init__(self, url):
        u = urlparse(url)
        self.target = (u.hostname, u.port or 80)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.hanging = False
        self.held = 0  # connections accepted since hang(), held without an answer
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.hanging:
                self.held += 1
                continue  # held: read nothing, answer nothing
            u = socket.create_connection(self.target, timeout=5)
            u.settimeout(None)
            self.conns.append(u)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hang(self):
        self.hanging = True
        for x in list(self.conns):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()
        for x in self.conns:
            x.close()


def test_error_codes_are_counted(controller, core, namespace):
    """A role name another tool already uses: CreateRole answers EntityAlreadyExists (counted by its code),
    then GetRole shows the role is not keyless' own."""
    aws_iam = aws_client("iam")
    aws_iam.create_role(RoleName=keyless_role_name(namespace, "taken"), Path="/keyless/",
                        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                             "Action": "sts:AssumeRole"}]}))
    before, _ = scrape(controller)
    make_sa(core, namespace, "taken-sa")
    make_wi(namespace, "taken", "taken-sa")
    wait_cond(namespace, "taken", "RoleReady", "False", reason="RoleNotOwned")
    aws = ("keyless_aws_requests", "keyless_aws_requests_total")

    def counted():
        fams, _ = scrape(controller)
        return fams if value(fams, *aws, service="iam", operation="GetRole", code="OK") > \
            value(before, *aws, service="iam", operation="GetRole", code="OK") else None
    fams = wait_until(counted, 15, "the GetRole counted")
    assert value(fams, *aws, service="iam", operation="CreateRole", code="EntityAlreadyExists") - \
        value(before, *aws, service="iam", operation="CreateRole", code="EntityAlreadyExists") == 1
