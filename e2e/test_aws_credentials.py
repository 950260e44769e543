"""The credential chain end to end (issue #4): IMDSv2 served by AWS's own
amazon-ec2-metadata-mock (pinned in hack/versions.env, built by
hack/tools.sh), container credentials (EKS Pod Identity agent shape; no
emulator of the agent exists, so a small HTTP server in this file plays it),
shared config profiles with role_arn + source_profile through moto's
AssumeRole, and the chain's precedence. Credentials obtained each way sign a
real call to moto.
"""

import datetime
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

from aws_driver import AwsCall, start_failing
from conftest import aws_client

ADMIN_KEY = os.environ.get("AWS_ACCESS_KEY_ID", "")
ADMIN_SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata_mock_binary():
    tools = os.environ.get("KEYLESS_TOOLS")
    path = os.path.join(tools, "bin", "ec2-metadata-mock") if tools else shutil.which("ec2-metadata-mock")
    if not path or not os.path.exists(path):
        pytest.fail("ec2-metadata-mock is not built: run `make tools` (hack/tools.sh)")
    return path


@pytest.fixture
def imds(tmp_path):
    """amazon-ec2-metadata-mock, IMDSv2 only, handing out the test admin's keys."""
    port = free_port()
    cfg = tmp_path / "aemm.json"
    cfg.write_text(json.dumps({"metadata": {"values": {
        "iam-security-credentials-role": "keyless-node",
        "iam-security-credentials": {
            "accesskeyid": ADMIN_KEY, "secretaccesskey": ADMIN_SECRET, "token": "", "code": "Success",
            "type": "AWS-HMAC", "lastupdated": iso(datetime.datetime.now(datetime.timezone.utc)),
            "expiration": iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6)),
        }}}}))
    log = open(tmp_path / "aemm.log", "w")
    proc = subprocess.Popen([metadata_mock_binary(), "-n", "127.0.0.1", "-p", str(port), "-I", "-c", str(cfg)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            req = urllib.request.Request(f"{url}/latest/api/token", method="PUT",
                                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
            urllib.request.urlopen(req, timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"ec2-metadata-mock did not start: {(tmp_path / 'aemm.log').read_text()}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def test_imds_v2_credentials_sign_a_call(imds):
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds}
    # clean_credentials disables IMDS; switch it back on explicitly
    with AwsCall(set_=dict(env, AWS_EC2_METADATA_DISABLED="false"), clean_credentials=True) as c:
        assert c.hello["credentials_kind"] == "imds"
        assert imds in c.hello["credentials_source"]
        creds = c.ok("Credentials")
        assert creds["AccessKeyId"] == ADMIN_KEY
        assert creds["HasSessionToken"] is False
        me = c.ok("GetCallerIdentity")
        assert me["Arn"].endswith(":user/keyless-test-admin")


def test_imds_v1_is_refused_by_the_mock_without_a_token(imds):
    """The mock runs IMDSv2-only (-I): a GET without the session token is 401,
    which is what the client's token PUT avoids."""
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{imds}/latest/meta-data/iam/security-credentials/", timeout=2)
    assert e.value.code == 401


def test_imds_timeout_is_one_second():
    """A metadata endpoint that accepts connections but never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{s.getsockname()[1]}",
               "AWS_EC2_METADATA_DISABLED": "false"}
        with AwsCall(set_=env, clean_credentials=True) as c:
            t0 = time.monotonic()
            out = c.call("Credentials")
            took = time.monotonic() - t0
    finally:
        s.close()
    assert out["errno"] == "ETIMEDOUT", out
    assert 0.9 <= took < 3.0, took


def test_imds_disabled_and_nothing_else_is_a_startup_error():
    fatal = start_failing(clean_credentials=True)
    assert fatal["errno"] == "ENOKEY"
    assert "AWS_EC2_METADATA_DISABLED" in fatal["message"]


class PodIdentityAgent:
    """Plays the EKS Pod Identity agent: GET with the projected token as the
    Authorization header, answers the credentials JSON."""

    def __init__(self, token_file, expires_in):
        self.token_file = token_file
        self.seen = []
        agent = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                got = self.headers.get("Authorization")
                agent.seen.append(got)
                if got != open(agent.token_file).read().strip():
                    body, status = b'{"message":"invalid token"}', 401
                else:
                    exp = datetime.datetime.now(datetime.timezone.utc) + expires_in
                    body, status = json.dumps({"AccessKeyId": ADMIN_KEY, "SecretAccessKey": ADMIN_SECRET,
                                               "Token": "", "AccountId": "123456789012",
                                               "Expiration": iso(exp)}).encode(), 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/credentials"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_container_credentials_reread_the_token_file(tmp_path):
    token = tmp_path / "eks-pod-identity-token"
    token.write_text("token-A")
    # 4 minutes left: inside the 5-minute refresh margin, so every use refreshes
    agent = PodIdentityAgent(str(token), datetime.timedelta(minutes=4))
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": agent.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}
    try:
        with AwsCall(set_=env, clean_credentials=True) as c:
            assert c.hello["credentials_kind"] == "container"
            assert c.ok("Credentials")["AccessKeyId"] == ADMIN_KEY
            token.write_text("token-B\n")  # the kubelet rotated the projected token
            assert c.ok("Credentials")["AccessKeyId"] == ADMIN_KEY
            me = c.ok("GetCallerIdentity")
            assert me["Arn"].endswith(":user/keyless-test-admin")
        assert agent.seen == ["token-A", "token-B", "token-B"]
        # an agent refusing the token: a clear error, nothing sent to AWS
        token.write_text("token-C")
        agent2 = PodIdentityAgent(str(tmp_path / "other"), datetime.timedelta(hours=1))
        (tmp_path / "other").write_text("something-else")
        with AwsCall(set_=dict(env, AWS_CONTAINER_CREDENTIALS_FULL_URI=agent2.url), clean_credentials=True) as c:
            out = c.call("GetCallerIdentity")
        agent2.stop()
        assert out["errno"] == "EACCES" and "answered HTTP 401" in out["error"]["message"], out
        assert out["attempts"] == 0 and agent2.seen == ["token-C"]
    finally:
        agent.stop()


def test_plain_http_container_uri_to_a_remote_host_is_refused():
    fatal = start_failing(set_={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.1.2.3/creds"}, clean_credentials=True)
    assert fatal["errno"] == "EINVAL" and "only allowed to loopback" in fatal["message"]


def test_profile_role_arn_with_source_profile_assumes_the_role(tmp_path):
    iam = aws_client("iam")
    name = f"kl-profile-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/keyless-test-admin"},
                                                      "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    (tmp_path / "config").write_text(f"[profile deploy]\nrole_arn = {role['Arn']}\nsource_profile = base\n"
                                     "role_session_name = keyless-profile\nregion = eu-central-1\n")
    (tmp_path / "credentials").write_text(f"[base]\naws_access_key_id = {ADMIN_KEY}\n"
                                          f"aws_secret_access_key = {ADMIN_SECRET}\n")
    env = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
           "AWS_PROFILE": "deploy"}
    with AwsCall(set_=env, unset=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"]) as c:
        assert c.hello["credentials_kind"] == "assume-role"
        assert c.hello["region"] == "eu-central-1"  # from the profile
        assert "profile base static keys" in c.hello["credentials_source"]
        creds = c.ok("Credentials")
        assert creds["HasSessionToken"]
        me = c.ok("GetCallerIdentity")
        assert me["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{name}/keyless-profile"
        stats = c.ok("Stats")["ops"]
        assert stats["AssumeRole"]["calls"] == 1


def test_environment_keys_win_over_every_other_source(tmp_path):
    env = {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/none", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent",
           "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds", "AWS_PROFILE": "default",
           "AWS_ACCESS_KEY_ID": ADMIN_KEY, "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET}
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    with AwsCall(set_=env) as c:
        assert c.hello["credentials_kind"] == "environment"
        assert ADMIN_SECRET not in json.dumps(c.hello)
        assert c.ok("GetCallerIdentity")["Arn"].endswith(":user/keyless-test-admin")
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    with AwsCall(set_=env, unset=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) as c:
        assert c.hello["credentials_kind"] == "web-identity"
        out = c.call("GetCallerIdentity")  # the token file does not exist: says so
        assert out["errno"] == "ENOENT" and "/nonexistent" in out["error"]["message"]
