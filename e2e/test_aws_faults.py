"""Retries, backoff, retry quota and the IAM rate limit under injected faults
(issue #4): the C client talks to moto through e2e/fault_proxy.py, which
answers throttling errors, 500s and dropped connections on command.

The driver reports, per call, the attempts and every sleep it took (retry
backoff, rate-limit waits); the proxy logs when each attempt arrived.
"""

import json
import os
import statistics
import uuid

import pytest

from aws_driver import AwsCall
from conftest import aws_client
from fault_proxy import FaultProxy


@pytest.fixture
def proxy():
    p = FaultProxy(os.environ["AWS_ENDPOINT_URL"]).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def role():
    name = f"kl-fault-{uuid.uuid4().hex[:8]}"
    aws_client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))
    yield name
    aws_client("iam").delete_role(RoleName=name)


def through(proxy, **extra):
    """A driver whose AWS endpoints are the proxy. Its sleeps_ms lists retry
    backoffs and IAM rate-limit waits alike: tests that count backoffs with
    AWS_CALL_NO_SLEEP (no real waiting) switch the rate limit off."""
    env = {"AWS_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_STS": proxy.url}
    env.update(extra)
    return AwsCall(set_=env)


def test_throttling_retried_with_backoff_then_success(proxy, role):
    proxy.script("throttle", "throttle")
    with through(proxy) as c:
        out = c.call("GetRole", RoleName=role)
    assert out["rc"] == 0, out
    assert out["result"]["RoleName"] == role
    assert out["attempts"] == 3
    assert proxy.actions() == ["throttle", "throttle", "pass"]
    first, second = out["sleeps_ms"]
    assert 0 <= first <= 100 and 0 <= second <= 200  # full jitter: [0, 100 ms], [0, 200 ms]
    t = proxy.times()
    # the attempts really were that far apart (less 5 ms for clock granularity)
    assert t[1] - t[0] >= first / 1000 - 0.005
    assert t[2] - t[1] >= second / 1000 - 0.005
    # two retries took 5 each; the success gave the last 5 back
    assert out["retry_quota"]["iam"] == 495


@pytest.mark.parametrize("fault,op,args,errno,reason,status", [
    ("throttle", "GetRole", {"RoleName": "x"}, "EAGAIN", "Throttling", 400),
    ("throttle-json", "DescribeCluster", {"name": "keyless-local"}, "EAGAIN", "ThrottlingException", 400),
    ("500", "GetRole", {"RoleName": "x"}, "EIO", "ServiceFailure", 500),
    ("503", "GetCallerIdentity", {}, "EIO", "ServiceUnavailable", 503),
    ("drop", "GetRole", {"RoleName": "x"}, "ECONNRESET", "", 0),
    ("reset", "DescribeCluster", {"name": "keyless-local"}, "ECONNRESET", "", 0),
])
def test_persistent_fault_ends_with_a_clear_error_after_3_attempts(proxy, fault, op, args, errno, reason, status):
    proxy.default = fault
    with through(proxy) as c:
        out = c.call(op, **args)
    assert out["errno"] == errno, out
    assert out["error"]["reason"] == reason
    assert out["error"]["http_status"] == status
    assert out["error"]["message"].startswith(f"{op}: ") and out["error"]["message"].endswith("(3 attempts)")
    if status:
        assert out["error"]["request_id"]  # from the answer
    assert out["attempts"] == 3 and len(proxy.log) == 3
    assert len(out["sleeps_ms"]) == 2
    svc = {"GetRole": "iam", "DescribeCluster": "eks", "GetCallerIdentity": "sts"}[op]
    assert out["retry_quota"][svc] == 490


def test_dropped_connections_then_success(proxy, role):
    proxy.script("drop", "reset")
    with through(proxy) as c:
        out = c.call("GetRole", RoleName=role)
    assert out["rc"] == 0 and out["attempts"] == 3, out
    assert proxy.actions() == ["drop", "reset", "pass"]


def test_auth_failure_through_the_proxy_is_not_retried(proxy, role):
    with through(proxy, AWS_SECRET_ACCESS_KEY="wrong") as c:
        out = c.call("GetRole", RoleName=role)
    assert (out["errno"], out["error"]["reason"], out["attempts"]) == ("EPERM", "SignatureDoesNotMatch", 1)
    assert proxy.actions() == ["pass"]


def test_retry_quota_drains_and_refills(proxy, role):
    proxy.default = "500"
    quotas = []
    with through(proxy, AWS_CALL_NO_SLEEP="1", AWS_CALL_IAM_RATE="-1") as c:
        for _ in range(50):
            out = c.call("GetRole", RoleName=role)
            assert (out["errno"], out["attempts"]) == ("EIO", 3), out
            quotas.append(out["retry_quota"]["iam"])
        # 500 / (2 retries x 5) = 50 failing calls empty it
        assert quotas == list(range(490, -1, -10))
        out = c.call("GetRole", RoleName=role)
        assert out["attempts"] == 1 and out["errno"] == "EIO"
        assert out["error"]["message"].endswith("(1 attempts, retry quota exhausted)")
        assert len(proxy.log) == 50 * 3 + 1
        # successes give 1 back each; 5 are needed for one retry
        proxy.default = "pass"
        for i in range(5):
            assert c.call("GetRole", RoleName=role)["retry_quota"]["iam"] == i + 1
        proxy.script("500")
        out = c.call("GetRole", RoleName=role)
        assert out["rc"] == 0 and out["attempts"] == 2  # one retry was affordable again
        stats = c.ok("Stats")
        assert stats["quota_exhausted"] == 1
        assert stats["ops"]["GetRole"]["calls"] == 57
        assert stats["ops"]["GetRole"]["attempts"] == 50 * 3 + 1 + 5 + 2


def test_backoff_ceiling_doubles_per_retry(proxy):
    proxy.default = "throttle"
    firsts, seconds = [], []
    with through(proxy, AWS_CALL_NO_SLEEP="1", AWS_CALL_IAM_RATE="-1") as c:
        for _ in range(40):
            out = c.call("GetRole", RoleName="x")
            assert out["attempts"] == 3
            firsts.append(out["sleeps_ms"][0])
            seconds.append(out["sleeps_ms"][1])
    assert max(firsts) <= 100 and max(seconds) <= 200
    assert min(firsts) >= 0 and min(seconds) >= 0
    # uniform on [0, 100] and [0, 200]: means ~50 and ~100 (40 samples, sd of the mean ~5 / ~9)
    assert 25 < statistics.mean(firsts) < 75
    assert 60 < statistics.mean(seconds) < 140
    assert statistics.mean(seconds) > statistics.mean(firsts)


def test_iam_token_bucket_spaces_requests(proxy, role):
    with through(proxy, AWS_CALL_IAM_RATE_MODE="fixed", AWS_CALL_IAM_RATE="5", AWS_CALL_IAM_BURST="2") as c:
        outs = [c.call("GetRole", RoleName=role) for _ in range(6)]
        sts = c.call("GetCallerIdentity")
    assert all(o["rc"] == 0 for o in outs)
    waits = [o["sleeps_ms"] for o in outs]
    assert waits[0] == [] and waits[1] == []  # the burst
    for w in waits[2:]:  # then one token per 200 ms
        assert len(w) == 1 and 100 < w[0] <= 200, waits
    t = proxy.times()
    assert t[5] - t[1] >= 4 * 0.2 - 0.05  # four more requests at 5/s
    assert sts["rc"] == 0 and sts["sleeps_ms"] == []  # STS is not rate limited
