"""Leader election between real `keyless controller` processes (issue #3),
on a coordination.k8s.io/v1 Lease of the real kube-apiserver. Short timings:
lease 4 s, renew deadline 3 s, retry 500 ms."""

import datetime
import json
import os
import signal
import subprocess
import threading
import time

import pytest
from kubernetes import client

from conftest import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the controller under test: the ASan+UBSan build, or KEYLESS_CONTROLLER (make tsan)
KEYLESS = os.environ.get("KEYLESS_CONTROLLER") or os.path.join(ROOT, "bin", "keyless-asan")
LEASE_S = 4
RETRY_S = 0.5
# A standby polls every retry period with client-go's jitter (up to 2.2 x retry).
# It judges expiry from when it *observed* the last renewal (clock-skew safe),
# so after a kill -9 it takes over within: the poll that observes the last
# renewal + the lease duration + the poll that finds it expired.
MAX_POLL_S = 2.2 * RETRY_S


_SETTINGS = {}


def settings_file(tmpdir):
    """Operator settings (the controller needs them; no WorkloadIdentity exists in these tests)."""
    if "path" not in _SETTINGS:
        from controller_env import install_crd, write_settings
        install_crd()
        _SETTINGS["path"] = write_settings(os.path.join(tmpdir, "settings.yaml"))
    return _SETTINGS["path"]


class Replica:
    def __init__(self, namespace, identity, kubeconfig=None, settings=None):
        self.identity = identity
        self.lines = []
        env = dict(os.environ, **({"KUBECONFIG": kubeconfig} if kubeconfig else {}))
        self.p = subprocess.Popen(
            [KEYLESS, "controller", "--settings", settings, "--leader-elect", "--lease-namespace", namespace,
             "--lease-name", "keyless-le",
             "--identity", identity, "--lease-duration", f"{LEASE_S}s", "--renew-deadline", "3s",
             "--retry-period", f"{int(RETRY_S * 1000)}ms", "--health-addr", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def leading_since(self):
        return next((t for t, l in self.lines if "started leading" in l), None)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def holder(namespace):
    try:
        return client.CoordinationV1Api().read_namespaced_lease("keyless-le", namespace).spec.holder_identity
    except client.ApiException as e:
        if e.status == 404:
            return None
        raise


@pytest.fixture
def replicas(namespace, tmp_path_factory):
    made = []
    settings = settings_file(str(tmp_path_factory.mktemp("le")))

    def make(identity, kubeconfig=None):
        r = Replica(namespace, identity, kubeconfig, settings)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def test_exactly_one_leads_then_kill9_and_sigterm_hand_over(namespace, replicas):
    a, b = replicas("replica-a"), replicas("replica-b")
    leader_id = wait_until(lambda: holder(namespace), 20, "a lease holder")
    leader, standby = (a, b) if leader_id == "replica-a" else (b, a)
    wait_until(leader.leading_since, 10, "the leader to start its workers")
    time.sleep(2 * LEASE_S / 4 + 1)  # several retry periods
    assert holder(namespace) == leader.identity
    assert standby.leading_since() is None  # exactly one leads

    # kill -9: no release; the standby takes over once the lease expires
    killed_at = time.monotonic()
    leader.p.send_signal(signal.SIGKILL)
    leader.p.wait()
    wait_until(lambda: holder(namespace) == standby.identity, 3 * LEASE_S, "takeover after kill -9")
    wait_until(standby.leading_since, 5, "the standby to start leading")
    takeover = standby.leading_since() - killed_at
    assert takeover <= MAX_POLL_S + LEASE_S + MAX_POLL_S + 0.5, f"takeover took {takeover:.1f}s"
    print(f"takeover after kill -9: {takeover:.2f} s")

    # SIGTERM: the leader stops its workers, releases the lease and exits 0;
    # a standby takes over at its next retry, not after the lease duration
    c = replicas("replica-c")
    time.sleep(1.5)
    assert c.leading_since() is None and holder(namespace) == standby.identity
    termed_at = time.monotonic()
    standby.p.send_signal(signal.SIGTERM)
    assert standby.p.wait(timeout=15) == 0
    assert any("released the lease" in l for _, l in standby.lines)
    wait_until(c.leading_since, 10, "replica-c to lead after the release")
    handover = c.leading_since() - termed_at
    assert handover < MAX_POLL_S + 1.0, f"handover after SIGTERM took {handover:.1f}s"
    print(f"handover after SIGTERM: {handover:.2f} s")
    assert holder(namespace) == "replica-c"
    lease = client.CoordinationV1Api().read_namespaced_lease("keyless-le", namespace)
    assert lease.spec.lease_transitions >= 2


def test_leader_that_cannot_renew_stops_within_the_renew_deadline(namespace, replicas, tmp_path):
    from tcp_proxy import TcpProxy
    from test_kube_client import proxied_kubeconfig

    server = [l.split()[-1] for l in open(os.environ["KUBECONFIG"]).read().splitlines() if "server:" in l][0]
    proxy = TcpProxy("127.0.0.1", int(server.rsplit(":", 1)[1]))
    try:
        a = replicas("replica-a", proxied_kubeconfig(tmp_path, proxy.port))
        wait_until(lambda: holder(namespace) == "replica-a", 20, "replica-a to lead")
        wait_until(a.leading_since, 10, "replica-a to start its workers")
        b = replicas("replica-b")
        time.sleep(1)
        cut_at = time.monotonic()
        proxy.cut(block=True)  # the leader can no longer reach the API server
        assert a.p.wait(timeout=15) == 1  # it gives up leading and exits: nothing more is written
        stopped = time.monotonic() - cut_at
        # renew deadline 3 s after the last successful renewal (<= one retry before the cut)
        assert stopped <= 3 + 0.5 + 0.7, f"the partitioned leader stopped after {stopped:.1f}s"
        assert any("leader election lost" in l for _, l in a.lines)
        print(f"partitioned leader stopped after {stopped:.2f} s")
        # and the standby takes over once the lease expires
        wait_until(lambda: holder(namespace) == "replica-b", 3 * LEASE_S, "replica-b to take over")
    finally:
        proxy.close()


def _wall(line):
    """The wall-clock time of a controller log line ("2026-12-04T15:53:22.123Z info ...")."""
    return datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def _audit_writes(since):
    """Successful writes by keyless controllers since `since` (UTC datetime), from the apiserver's audit log:
    [(received, completed, user agent, verb, resource, name)]."""
    out = []
    with open(os.environ["KEYLESS_AUDIT_LOG"]) as f:
        for line in f:
            e = json.loads(line)
            if e.get("stage") != "ResponseComplete" or not e.get("userAgent", "").startswith("keyless/"):
                continue
            if e.get("responseStatus", {}).get("code", 500) >= 300:
                continue
            parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
            received, completed = parse(e["requestReceivedTimestamp"]), parse(e["stageTimestamp"])
            if received < since:
                continue
            ref = e.get("objectRef", {})
            out.append((received, completed, e["userAgent"], e["verb"], ref.get("resource"), ref.get("name")))
    return out


def test_throttled_renewals_old_leader_stops_writing_before_the_standby_starts(core, namespace, replicas, tmp_path):
    """Review finding 12: the apiserver (API Priority and Fairness) answers the leader's renewals with
    429 Retry-After: 30. The old leader must stop writing within its renew deadline (3 s), before the
    standby can take over (the lease, 4 s after it last saw a renewal): never two leaders writing."""
    from fault_proxy import KubeFaultProxy
    from test_controller import make_sa, make_wi, wait_cond

    proxy = KubeFaultProxy(os.environ["KUBECONFIG"]).start()
    stop_drift = threading.Event()
    try:
        a = replicas("replica-a", proxy.kubeconfig(tmp_path))  # all of its requests through the proxy
        wait_until(lambda: holder(namespace) == "replica-a", 20, "replica-a to lead")
        wait_until(a.leading_since, 10, "replica-a to start its workers")
        b = replicas("replica-b")
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "app", "app-sa")
        wait_cond(namespace, "app", "Ready", "True", timeout=60)

        # keep the leader writing: the service account's role annotation drifts every 300 ms and the
        # leader repairs it (server-side apply, status, event)
        def drift():
            while not stop_drift.wait(0.3):
                try:
                    core.patch_namespaced_service_account(
                        "app-sa", namespace, {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": None}}})
                except client.ApiException:
                    pass
        threading.Thread(target=drift, daemon=True).start()
        time.sleep(2)
        assert b.leading_since() is None

        since = datetime.datetime.now(datetime.timezone.utc)
        fault_at = time.monotonic()
        proxy.rule = lambda method, path: (
            "429" if method in ("PUT", "PATCH") and "/apis/coordination.k8s.io/" in path and "/leases/" in path
            else None)
        wait_until(b.leading_since, 20, "replica-b to take over")
        took_over = b.leading_since() - fault_at
        # b repairs the drift too: it really writes
        wait_until(lambda: any("(via fault proxy)" not in w[2] and w[4] == "serviceaccounts"
                               for w in _audit_writes(since)), 20, "replica-b to write")
        time.sleep(1)
        stop_drift.set()
        writes = _audit_writes(since)
        old = [w for w in writes if "(via fault proxy)" in w[2]]
        new = [w for w in writes if "(via fault proxy)" not in w[2]]
        assert old, "the old leader wrote nothing after the fault: the test proves nothing"
        assert any(w[4] != "leases" for w in old)
        old_last = max(w[1] for w in old)           # the apiserver finished its last write
        new_first = min(w[0] for w in new)          # the apiserver received the new leader's first write
        assert min(new)[4] == "leases"              # the first one takes the lease
        gap = (new_first - old_last).total_seconds()
        late = [w for w in old if w[1] >= new_first]
        assert not late, f"the old leader wrote after the new one started: {late[:5]}"
        assert gap > 0

        # the old leader gave up within its renew deadline and exited; its logs end before b leads
        assert a.p.wait(timeout=5) == 1
        a_lines = [l for _, l in a.lines if l[:4].isdigit()]
        assert any("stopped leading" in l for l in a_lines)
        b_started = next(l for _, l in b.lines if "started leading" in l)
        assert _wall(a_lines[-1]) < _wall(b_started), (a_lines[-3:], b_started)
        a_stopped = next(t for t, l in a.lines if "stopped leading" in l) - fault_at
        print(f"429 on renewals: old leader stopped writing {a_stopped:.2f} s after the fault, "
              f"the standby led after {took_over:.2f} s; gap between the old leader's last write and the "
              f"new leader's first (apiserver audit log): {gap:.3f} s; "
              f"{len(old)} writes by the old leader after the fault")
    finally:
        stop_drift.set()
        proxy.stop()
