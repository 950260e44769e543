"""Tests for sts_front.py, no Kubernetes needed.

    /tmp/venv/bin/python -m pytest -q hack/standins/test_sts_front.py

Starts (and stops) for the module: moto_server as a subprocess with signature
checking on (and, while auth is still off, bootstrap_aws's second account with
its roles), a fake OIDC issuer over HTTPS with a private CA (a thread here),
and sts_front.py as a subprocess, started with the same command line as the
project's scripts (a second one with --account-role for the cross-account
tests).  Tokens are minted with PyJWT and the front is driven with boto3.
"""

import base64
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address

import boto3
import jwt
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cluster"))
import bootstrap_aws  # noqa: E402  (the front's policy and the second account, as local-cluster gives them)
import sts_front  # noqa: E402  (unit tests of the condition evaluator)

ACCOUNT = "123456789012"
SECOND = bootstrap_aws.SECOND_ACCOUNT
AUD = "sts.amazonaws.com"
PROD_SA = "system:serviceaccount:production:app-sa"
STAGING_SA = "system:serviceaccount:staging:app-sa"
FRONT_POLICY = bootstrap_aws.FRONT_POLICY
MINTED = []  # every token handed to the front, to check the log never holds one


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    port = free_port()
    out = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "INITIAL_NO_AUTH"))}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/moto-api/")
        # auth is off until reset-auth: create the users the tests need
        boot = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="boot", aws_secret_access_key="boot")
        keys = {}
        for user, policy in (("sts-front", FRONT_POLICY), ("admin", {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})):
            boot.create_user(UserName=user)
            boot.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
            k = boot.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
        second = bootstrap_aws.second_account(dict(endpoint_url=url, region_name="us-east-1",
                                                   aws_access_key_id="boot", aws_secret_access_key="boot"))
        requests.post(url + "/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
        yield {"url": url, "keys": keys, "second": second}
    finally:
        stop(proc)
        out.close()


class Issuer:
    """HTTPS OIDC issuer on 127.0.0.1: discovery + JWKS under /oidc (and /other, /second)."""

    def __init__(self, tmp):
        now = datetime.now(timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sts-front test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(hours=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(ca_key, hashes.SHA256()))
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
               .issuer_name(ca_name).public_key(srv_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(hours=1))
               .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
        self.ca_file = tmp / "ca.crt"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (tmp / "srv.crt").write_bytes(srv.public_bytes(serialization.Encoding.PEM))
        (tmp / "srv.key").write_bytes(srv_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.jwks = [self.public_jwk(self.rsa, "k1", "RS256"), self.public_jwk(self.ec, "e1", "ES256")]

        issuer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                base, _, rest = self.path.partition("/.well-known/")
                if rest == "openid-configuration":
                    body = {"issuer": issuer.url + base, "jwks_uri": issuer.url + base + "/keys",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                elif self.path.endswith("/keys"):
                    body = {"keys": list(issuer.jwks)}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp / "srv.crt", tmp / "srv.key")
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.iss = self.url + "/oidc"
        self.prefix = self.iss[len("https://"):]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def public_jwk(key, kid, alg):
        cls = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        jwk = json.loads(cls.to_jwk(key.public_key()))
        jwk.update(kid=kid, alg=alg, use="sig")
        return jwk

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    i = Issuer(tmp_path_factory.mktemp("issuer"))
    yield i
    i.close()


@pytest.fixture(scope="module")
def admin(moto):
    key, secret = moto["keys"]["admin"]
    return {svc: boto3.client(svc, endpoint_url=moto["url"], region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret)
            for svc in ("iam", "sts")}


@pytest.fixture(scope="module")
def providers(admin, issuer):
    arns = {}
    for name in ("oidc", "second"):
        arns[name] = admin["iam"].create_open_id_connect_provider(
            Url=f"{issuer.url}/{name}", ClientIDList=[AUD], ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert arns["oidc"] == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.prefix}"
    return arns


def run_front(moto, issuer, tmp_path_factory, *extra):
    """The STS front on a free port, against moto, until the fixture using it ends (a clean SIGTERM exit).
    extra: more arguments of its command line."""
    log_file = tmp_path_factory.mktemp("front") / "sts-front.log"
    key, secret = moto["keys"]["sts-front"]
    env = dict(os.environ, STS_FRONT_AWS_ACCESS_KEY_ID=key, STS_FRONT_AWS_SECRET_ACCESS_KEY=secret)
    port = free_port()
    err = open(log_file.with_suffix(".stderr"), "wb")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "sts_front.py"), "--listen", f"127.0.0.1:{port}",
         "--upstream", moto["url"], "--region", "us-east-1", "--ca-file", str(issuer.ca_file),
         "--log-file", str(log_file), *extra],
        stdout=subprocess.PIPE, stderr=err, env=env, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().strip() if ready else ""
        assert line == f"sts-front listening on http://127.0.0.1:{port}", line
        yield {"url": f"http://127.0.0.1:{port}", "log": log_file}
    finally:
        rc = stop(proc)
        err.close()
    assert rc == 0, "sts-front did not exit cleanly on SIGTERM"


@pytest.fixture(scope="module")
def front(moto, issuer, providers, tmp_path_factory):
    yield from run_front(moto, issuer, tmp_path_factory)


def client(svc, front, creds=None):
    kw = dict(endpoint_url=front["url"], region_name="us-east-1")
    if creds is None:
        kw["config"] = Config(signature_version=UNSIGNED)
    else:
        kw.update(zip(("aws_access_key_id", "aws_secret_access_key", "aws_session_token"), creds))
    return boto3.client(svc, **kw)


@pytest.fixture
def role(admin, providers, issuer):
    """role(statements or conditions) -> role ARN; a plain dict is the Condition of one Allow."""
    def make(trust, federated=None):
        if isinstance(trust, dict):
            trust = [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                      "Principal": {"Federated": federated or providers["oidc"]}, "Condition": trust}]
        name = "r-" + uuid.uuid4().hex[:12]
        return admin["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": trust}))["Role"]["Arn"]
    return make


@pytest.fixture
def mint(issuer):
    def make(sub=PROD_SA, aud=AUD, iss=None, exp_in=600, alg="RS256", kid=None, key=None, **extra):
        now = int(time.time())
        claims = {"iss": iss or issuer.iss, "sub": sub, "aud": aud, "iat": now - 5, "nbf": now - 5,
                  "exp": now + exp_in, **extra}
        key = key or (issuer.rsa if alg.startswith("RS") else issuer.ec)
        token = jwt.encode(claims, key, algorithm=alg,
                           headers={"kid": kid or ("k1" if alg.startswith("RS") else "e1")})
        MINTED.append(token)
        return token
    return make


def assume(front, role_arn, token, session="s1"):
    MINTED.append(token)
    return client("sts", front).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session, WebIdentityToken=token)


def assume_error(front, role_arn, token):
    with pytest.raises(ClientError) as e:
        assume(front, role_arn, token)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def std(issuer, sub=PROD_SA):
    return {"StringEquals": {f"{issuer.prefix}:sub": sub, f"{issuer.prefix}:aud": AUD}}


# ---------------------------------------------------------------- end to end

def test_valid_token_gives_working_credentials(front, issuer, role, mint):
    arn = role(std(issuer))
    out = assume(front, arn, mint(), session="keyless-test")
    c = out["Credentials"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{arn.split('/')[-1]}/keyless-test"
    me = client("sts", front, (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]


def test_es256_token(front, issuer, role, mint):
    assert assume(front, role(std(issuer)), mint(alg="ES256"))["Credentials"]["AccessKeyId"]


@pytest.mark.parametrize("case", ["other-namespace", "wrong-case-value", "swapped"])
def test_string_equals_denials(front, issuer, role, mint, case):
    cond = {"other-namespace": std(issuer),
            "wrong-case-value": std(issuer, "system:serviceaccount:Production:app-sa"),
            "swapped": {"StringEquals": {f"{issuer.prefix}:sub": AUD, f"{issuer.prefix}:aud": PROD_SA}}}[case]
    token = mint(sub=STAGING_SA) if case == "other-namespace" else mint()
    assert assume_error(front, role(cond), token) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_condition_key_name_is_case_insensitive(front, issuer, role, mint):
    cond = {"StringEquals": {f"{issuer.prefix.upper()}:SUB": PROD_SA, f"{issuer.prefix}:Aud": AUD}}
    assert assume(front, role(cond), mint())["Credentials"]


def test_expired_token(front, issuer, role, mint):
    code, msg = assume_error(front, role(std(issuer)), mint(exp_in=-120))
    assert code == "ExpiredTokenException"
    assert msg.startswith("Token expired: current date/time ") and "must be before the expiration date/time" in msg


def test_token_signed_by_another_key(front, issuer, role, mint):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    code, msg = assume_error(front, role(std(issuer)), mint(key=other))
    assert code == "InvalidIdentityToken" and "signature could not be verified" in msg


def test_unknown_kid_then_key_rotation(front, issuer, role, mint):
    arn = role(std(issuer))
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert assume_error(front, arn, mint(key=new, kid="k2"))[0] == "InvalidIdentityToken"
    issuer.jwks.append(issuer.public_jwk(new, "k2", "RS256"))  # the front must fetch the JWKS again
    try:
        assert assume(front, arn, mint(key=new, kid="k2"))["Credentials"]
    finally:
        issuer.jwks.pop()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_or_hmac_token(front, issuer, role, alg):
    now = int(time.time())
    head = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps({"iss": issuer.iss, "sub": PROD_SA, "aud": AUD, "iat": now, "exp": now + 600}).encode())
    secret = json.dumps(issuer.jwks[0]).encode()  # the classic confusion: public key as HMAC secret
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()) if alg == "HS256" else ""
    code, msg = assume_error(front, role(std(issuer)), f"{head}.{body}.{sig}")
    assert (code, msg) == ("InvalidIdentityToken", f"Unsupported token signing algorithm: {alg}")


def test_garbage_token(front, issuer, role):
    assert assume_error(front, role(std(issuer)), "not-a-jwt")[0] == "InvalidIdentityToken"


def test_unknown_issuer(front, issuer, role, mint):
    iss = issuer.url + "/other"
    assert assume_error(front, role(std(issuer)), mint(iss=iss)) == (
        "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {iss}")


@pytest.mark.parametrize("aud", ["something-else", ["a", "b"]])
def test_audience_not_a_client_id(front, issuer, role, mint, aud):
    assert assume_error(front, role(std(issuer)), mint(aud=aud)) == (
        "InvalidIdentityToken", "Incorrect token audience")


def test_audience_list_uses_matching_value(front, issuer, role, mint):
    assert assume(front, role(std(issuer)), mint(aud=["x", AUD]))["Credentials"]


def test_wildcard_only_under_string_like(front, issuer, role, mint):
    wild = "system:serviceaccount:production:*"
    assert assume_error(front, role(std(issuer, wild)), mint())[0] == "AccessDenied"
    like = {"StringLike": {f"{issuer.prefix}:sub": wild}, "StringEquals": {f"{issuer.prefix}:aud": AUD}}
    assert assume(front, role(like), mint())["Credentials"]
    assert assume_error(front, role(like), mint(sub=STAGING_SA))[0] == "AccessDenied"


def test_string_not_equals_and_not_like(front, issuer, role, mint):
    ne = role({"StringNotEquals": {f"{issuer.prefix}:sub": "system:serviceaccount:production:blocked"}})
    assert assume(front, ne, mint())["Credentials"]
    assert assume_error(front, ne, mint(sub="system:serviceaccount:production:blocked"))[0] == "AccessDenied"
    nl = role({"StringNotLike": {f"{issuer.prefix}:sub": ["system:serviceaccount:kube-system:*", "*:staging:*"]}})
    assert assume(front, nl, mint())["Credentials"]
    assert assume_error(front, nl, mint(sub="system:serviceaccount:kube-system:x"))[0] == "AccessDenied"
    assert assume_error(front, nl, mint(sub=STAGING_SA))[0] == "AccessDenied"


def test_amr_set_operators(front, issuer, role, mint):
    key = f"{issuer.prefix}:amr"
    any_ = role({"ForAnyValue:StringEquals": {key: "mfa"}})
    assert assume(front, any_, mint(amr=["pwd", "mfa"]))["Credentials"]
    assert assume_error(front, any_, mint(amr=["pwd"]))[0] == "AccessDenied"
    assert assume_error(front, any_, mint())[0] == "AccessDenied"  # no amr: ForAnyValue is false
    all_ = role({"ForAllValues:StringEquals": {key: ["pwd", "mfa"]}})
    assert assume(front, all_, mint(amr=["pwd", "mfa"]))["Credentials"]
    assert assume_error(front, all_, mint(amr=["pwd", "otp"]))[0] == "AccessDenied"
    assert assume(front, all_, mint())["Credentials"]  # no amr: ForAllValues is true


def test_explicit_deny_wins(front, issuer, role, providers, mint):
    allow = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
             "Principal": {"Federated": providers["oidc"]}, "Condition": std(issuer)}
    deny = {"Effect": "Deny", "Action": "sts:*", "Principal": {"Federated": [providers["oidc"]]},
            "Condition": {"StringLike": {f"{issuer.prefix}:sub": "*:production:*"}}}
    assert assume(front, role([allow]), mint())["Credentials"]
    assert assume_error(front, role([allow, deny]), mint())[0] == "AccessDenied"


def test_other_provider_principal(front, issuer, role, providers, mint):
    assert assume_error(front, role(std(issuer), federated=providers["second"]), mint())[0] == "AccessDenied"


def test_action_must_cover_web_identity(front, issuer, role, providers, mint):
    st = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Federated": providers["oidc"]}}
    assert assume_error(front, role([st]), mint())[0] == "AccessDenied"
    st["Action"] = "STS:assumerole*"
    assert assume(front, role([st]), mint())["Credentials"]


def test_missing_role(front, mint):
    assert assume_error(front, f"arn:aws:iam::{ACCOUNT}:role/does-not-exist", mint())[0] == "AccessDenied"


def test_error_shape_and_query_string_form(front, issuer, role, mint):
    token = mint(sub=STAGING_SA)
    MINTED.append(token)
    r = requests.get(front["url"] + "/", params={
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role(std(issuer)),
        "RoleSessionName": "sess", "WebIdentityToken": token}, timeout=10)
    assert r.status_code == 403 and r.headers["Content-Type"] == "text/xml"
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    doc = ET.fromstring(r.content)
    assert doc.tag == "{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse"
    assert doc.findtext("s:Error/s:Type", namespaces=ns) == "Sender"
    assert doc.findtext("s:Error/s:Code", namespaces=ns) == "AccessDenied"
    assert doc.findtext("s:RequestId", namespaces=ns) == r.headers["x-amzn-RequestId"]
    r = requests.post(front["url"] + "/", data={"Action": "AssumeRoleWithWebIdentity", "RoleArn": "x"}, timeout=10)
    assert r.status_code == 400 and b"<Code>ValidationError</Code>" in r.content
    assert b"roleSessionName" in r.content


# ---------------------------------------------------------------- another account

@pytest.fixture(scope="module")
def front_accounts(moto, issuer, providers, tmp_path_factory):
    """A front that reads other accounts through their keyless-test-admin role (as local-cluster runs it)."""
    yield from run_front(moto, issuer, tmp_path_factory, "--account-role", bootstrap_aws.SECOND_ADMIN_ROLE)


@pytest.fixture(scope="module")
def second(admin, moto, issuer):
    """Admin IAM in the second account, with an OIDC provider for <issuer>/b registered there only."""
    c = admin["sts"].assume_role(RoleArn=moto["second"]["admin_role"], RoleSessionName="tests")["Credentials"]
    iam = boto3.client("iam", endpoint_url=moto["url"], region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                       aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    iss = issuer.url + "/b"
    arn = iam.create_open_id_connect_provider(Url=iss, ClientIDList=[AUD], ThumbprintList=["a" * 40])[
        "OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{SECOND}:oidc-provider/{iss[len('https://'):]}"
    assert arn not in [p["Arn"] for p in admin["iam"].list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    return {"iam": iam, "iss": iss, "prefix": iss[len("https://"):], "provider": arn}


def role_in_second(second, prefix, federated, sub=PROD_SA):
    """A role in the second account trusting `federated` for sub (conditions on prefix:sub/aud)."""
    trust = [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": federated},
              "Condition": {"StringEquals": {f"{prefix}:sub": sub, f"{prefix}:aud": AUD}}}]
    return second["iam"].create_role(RoleName="b-" + uuid.uuid4().hex[:12], AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": trust}))["Role"]["Arn"]


def test_role_in_second_account_with_its_provider(front_accounts, second, mint):
    arn = role_in_second(second, second["prefix"], second["provider"])
    out = assume(front_accounts, arn, mint(iss=second["iss"]), session="cross")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{SECOND}:assumed-role/{arn.split('/')[-1]}/cross"
    c = out["Credentials"]
    me = client("sts", front_accounts, (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])).get_caller_identity()
    assert (me["Account"], me["Arn"]) == (SECOND, out["AssumedRoleUser"]["Arn"])
    # the second account's role and trust are the ones evaluated
    assert assume_error(front_accounts, arn, mint(iss=second["iss"], sub=STAGING_SA)) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert assume_error(front_accounts, arn.replace(":role/b-", ":role/missing-"), mint(iss=second["iss"]))[0] == \
        "AccessDenied"


def test_role_in_second_account_naming_a_first_account_provider(front_accounts, second, mint):
    """The provider that counts is the role's account's: a trust naming the issuer's provider ARN
    in the first account does not match it."""
    wrong = role_in_second(second, second["prefix"], second["provider"].replace(f"::{SECOND}:", f"::{ACCOUNT}:"))
    assert assume_error(front_accounts, wrong, mint(iss=second["iss"]))[0] == "AccessDenied"


def test_role_in_second_account_provider_only_in_first_account(front_accounts, second, providers, issuer, mint):
    iss = issuer.url + "/second"  # registered in the first account only (providers)
    prefix = iss[len("https://"):]
    arn = role_in_second(second, prefix, f"arn:aws:iam::{SECOND}:oidc-provider/{prefix}")
    assert assume_error(front_accounts, arn, mint(iss=iss)) == (
        "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {iss}")


def test_second_account_without_account_role(front, second, mint):
    """Without --account-role the front reads only its own account, as before."""
    arn = role_in_second(second, second["prefix"], second["provider"])
    assert assume_error(front, arn, mint(iss=second["iss"])) == (
        "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {second['iss']}")


def test_account_clients_cached_and_renewed_before_expiry():
    now = [1000.0]
    assumed = []

    def assume(arn):
        assumed.append(arn)
        return {"Expiration": datetime.fromtimestamp(now[0] + 3600, timezone.utc), "n": len(assumed)}

    accounts = sts_front.AccountClients("reader", assume, lambda c: c["n"], clock=lambda: now[0])
    assert accounts.get("aws", SECOND) == 1 and accounts.get("aws", SECOND) == 1
    assert accounts.get("aws", "333333333333") == 2
    now[0] += 3600 - sts_front.ACCOUNT_CREDS_RENEW - 1  # still ahead of the renewal margin
    assert accounts.get("aws", SECOND) == 1
    now[0] += 2  # within the margin: assumed again
    assert accounts.get("aws", SECOND) == 3 and accounts.get("aws", SECOND) == 3
    assert assumed == [f"arn:aws:iam::{SECOND}:role/reader", "arn:aws:iam::333333333333:role/reader",
                       f"arn:aws:iam::{SECOND}:role/reader"]


# ---------------------------------------------------------------- passthrough

def test_passthrough_keeps_signature_checks(front, moto, role):
    key, _ = moto["keys"]["admin"]
    with pytest.raises(ClientError) as e:
        client("iam", front, (key, "wrong-secret", None)).list_roles()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        client("sts", front, ("AKIANOSUCHKEY0000000", "x", None)).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    arn = role({})
    roles = client("iam", front, moto["keys"]["admin"] + (None,)).list_roles()["Roles"]
    assert arn in [r["Arn"] for r in roles]


def test_front_user_cannot_list_roles(front, moto):
    with pytest.raises(ClientError) as e:  # the front's own user cannot list roles
        client("iam", front, moto["keys"]["sts-front"] + (None,)).list_roles()
    assert e.value.response["Error"]["Code"] == "AccessDenied"


# ---------------------------------------------------------------- evaluator units

@pytest.mark.parametrize("op,wanted,values,expected", [
    ("StringEquals", "a", None, False),
    ("StringNotEquals", "a", None, True),
    ("StringEqualsIfExists", "a", None, True),
    ("StringEqualsIfExists", "a", ["b"], False),
    ("StringNotLikeIfExists", "a*", ["ab"], False),
    ("ForAnyValue:StringLike", "a*", None, False),
    ("ForAllValues:StringLike", "a*", None, True),
    ("ForAllValues:StringLike", "a*", ["ab", "ac"], True),
    ("ForAllValues:StringLike", "a*", ["ab", "b"], False),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True),
    ("ForAllValues:StringNotEquals", ["a"], ["a", "b"], False),
    ("StringLike", "a?c", ["abc"], True),
    ("StringLike", "a?c", ["abbc"], False),
    ("StringEquals", "a*", ["abc"], False),
    ("StringEquals", "a*", ["a*"], True),
    ("StringEqualsIgnoreCase", "ABC", ["abc"], True),
    ("StringLike", "A*", ["abc"], False),
    ("Null", "true", None, True),
    ("Null", "false", None, False),
    ("NumericEquals", "1", ["1"], False),
    ("Bogus:StringEquals", "a", ["a"], False),
])
def test_condition_operator(op, wanted, values, expected):
    ctx = {"k": values} if values is not None else {}
    assert sts_front.condition_holds(op, "K", wanted, ctx) is expected


def test_principal_star_and_not_action():
    ctx = {}
    assert sts_front.trust_allows({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}}, "p", ctx)[0]
    assert sts_front.trust_allows({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                 "NotAction": "sts:AssumeRole"}]}, "p", ctx)[0]
    assert not sts_front.trust_allows({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "NotAction": "sts:AssumeRole*"}]}, "p", ctx)[0]
    assert not sts_front.trust_allows({"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "x"},
                                                     "Action": "*"}]}, "p", ctx)[0]


# ---------------------------------------------------------------- last: the log

def test_log_never_holds_a_token(front):
    time.sleep(0.2)
    text = front["log"].read_text()
    assert "AssumeRoleWithWebIdentity role=" in text and "AccessDenied" in text and "allowed" in text
    assert len(MINTED) > 10
    for token in MINTED:
        assert token not in text
        for part in token.split("."):  # nor a header, payload or signature of one
            assert len(part) < 16 or part not in text
