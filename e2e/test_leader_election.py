"""Leader election between real `keyless controller` processes (issue #3),
on a coordination.k8s.io/v1 Lease of the real kube-apiserver. Short timings:
lease 4 s, renew deadline 3 s, retry 500 ms."""

import os
import signal
import subprocess
import threading
import time

import pytest
from kubernetes import client

from conftest import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYLESS = os.path.join(ROOT, "bin", "keyless-asan")
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
             "--retry-period", f"{int(RETRY_S * 1000)}ms"],
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
