"""Run the real `keyless controller` (ASan+UBSan build) against the local
cluster for the end-to-end tests: CRD installed, a permissions boundary
policy created in moto, settings written, controller started and stopped."""

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time

from conftest import aws_client, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the controller under test: the ASan+UBSan build, or KEYLESS_CONTROLLER (make tsan)
KEYLESS = os.environ.get("KEYLESS_CONTROLLER") or os.path.join(ROOT, "bin", "keyless-asan")
CRD = os.path.join(ROOT, "crds", "keyless.dev_workloadidentities.yaml")
BOUNDARY_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"],
                                                          "Resource": "*"}]}


def keyless_role_name(ns, name, prefix="", path="/keyless/", cluster=None, issuer=None):
    """The role name keyless gives ns/name (controller/identity/naming.h), computed independently."""
    cluster = cluster or os.environ["KEYLESS_CLUSTER_NAME"]
    issuer = issuer or os.environ["KEYLESS_ISSUER"]
    digest = hashlib.sha256("\n".join(["keyless-role/v1", issuer, prefix, path, cluster, ns, name]).encode()).hexdigest()
    return f"{prefix}{cluster}+{ns}+{name}"[:47] + "@" + digest[:16]


def keyless_shared_role_name(ns, name, prefix="", path="/keyless/"):
    """The name of a role shared by the account's clusters (settings roleScope: Account), computed
    independently from controller/identity/naming.h: no cluster, no issuer."""
    digest = hashlib.sha256("\n".join(["keyless-role/account/v1", prefix, path, ns, name]).encode()).hexdigest()
    return f"{prefix}{ns}+{name}"[:47] + "@" + digest[:16]


def role_or_none(iam, name):
    """The IAM role of that name, or None if there is none."""
    try:
        return iam.get_role(RoleName=name)["Role"]
    except Exception as e:  # botocore ClientError
        assert getattr(e, "response", {}).get("Error", {}).get("Code") == "NoSuchEntity", e
        return None


def fenced_iam_user(user, policy_text, front):
    """A moto IAM user whose only policy is policy_text: (its keys as env vars, an IAM client through the
    IAM front with them)."""
    import boto3
    iam = aws_client("iam")
    arn = iam.create_policy(PolicyName=user, PolicyDocument=policy_text)["Policy"]["Arn"]
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys = {"AWS_ACCESS_KEY_ID": k["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": k["SecretAccessKey"]}
    client = boto3.client("iam", endpoint_url=front, region_name=os.environ["AWS_REGION"],
                          aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
    return keys, client


def install_crd():
    subprocess.run(["kubectl", "apply", "-f", CRD], check=True, capture_output=True)
    subprocess.run(["kubectl", "wait", "--for=condition=Established", "--timeout=30s",
                    "crd/workloadidentities.keyless.dev"], check=True, capture_output=True)


def boundary_policy_arn():
    iam = aws_client("iam")
    for p in iam.list_policies(Scope="Local")["Policies"]:
        if p["PolicyName"] == "keyless-e2e-boundary":
            return p["Arn"]
    return iam.create_policy(PolicyName="keyless-e2e-boundary",
                             PolicyDocument=json.dumps(BOUNDARY_DOC))["Policy"]["Arn"]


def write_settings(path, **overrides):
    settings = {
        "clusterName": os.environ["KEYLESS_CLUSTER_NAME"],
        "region": os.environ["AWS_REGION"],
        "rolePath": "/keyless/",
        "permissionsBoundaryArn": boundary_policy_arn(),
        "resyncPeriod": "10s",
        "extraTags": {"managed-by": "keyless-e2e"},
        # the local issuer's certificate is signed by the cluster's own CA
        "oidcIssuerCA": os.environ["KEYLESS_CA_FILE"],
    }
    settings.update(overrides)
    settings = {k: v for k, v in settings.items() if v is not None}  # None: leave the key out
    with open(path, "w") as f:
        json.dump(settings, f)  # JSON is YAML
    return path


class Controller:
    """`keyless controller` with its log in log_path. Its health/metrics server listens on a free loopback
    port (--health-addr 127.0.0.1:0 unless extra sets one): see port() and get()."""

    def __init__(self, settings_path, log_path, env=None, extra=(), wait="caches synced"):
        self.log_path = log_path
        self.log = open(log_path, "a")
        e = dict(os.environ, **(env or {}))
        addr = () if "--health-addr" in extra else ("--health-addr", "127.0.0.1:0")
        self.p = subprocess.Popen([KEYLESS, "controller", "--settings", settings_path, "--workers", "1", *addr,
                                   *extra], stdout=self.log, stderr=subprocess.STDOUT, env=e)
        if wait:
            try:
                wait_until(lambda: wait in self.text() or self.p.poll() is not None, 60, "controller start")
                assert self.p.poll() is None, self.text()[-3000:]
            except BaseException:
                self.stop(signal.SIGKILL)  # a controller that did not start is not left running
                raise

    def port(self, what="/healthz"):
        """The port the controller serves `what` on (from its log line 'serving ... on ADDR (port N)')."""
        def find():
            for line in self.text().splitlines():
                m = re.search(r"serving (.*) on \S+ \(port (\d+)\)", line)
                if m and what in m.group(1):
                    return int(m.group(2))
            return None
        return wait_until(find, 30, f"the controller's port for {what}")

    def get(self, path, what=None):
        """GET http://127.0.0.1:<port>/path -> (status, body text)."""
        import urllib.error
        import urllib.request
        url = f"http://127.0.0.1:{self.port(what or path)}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def reconcile_lines(self, key):
        return [l for l in self.text().splitlines() if f" {key}: reconciled (" in l]

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode
