"""Runs last (file order): the controller logs this pytest session wrote (every *.log under its base
temporary folder: test_controller, test_metrics, test_tenancy, ...) contain none of the test credentials:
the AWS access and secret keys of the local world, the kubeconfig's client key, token or client
certificate, and no signed-request header."""

import base64
import os
import re

import yaml


def secrets():
    out = {}
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"):
        if os.environ.get(name):
            out[name] = os.environ[name]
    kc = yaml.safe_load(open(os.environ["KUBECONFIG"]))
    for u in kc.get("users", []):
        user = u.get("user") or {}
        if user.get("token"):
            out["kubeconfig token"] = user["token"]
        for field in ("client-key-data", "client-certificate-data"):
            if user.get(field):
                pem = base64.b64decode(user[field]).decode()
                body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
                out[f"kubeconfig {field}"] = body[:64]  # any 64 characters of the key material
        for field in ("client-key", "client-certificate"):
            if user.get(field) and os.path.exists(user[field]):
                pem = open(user[field]).read()
                body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
                out[f"kubeconfig {field}"] = body[:64]
    return out


def test_logs_hold_no_credentials(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    logs = [os.path.join(d, f) for d, _, fs in os.walk(base) for f in fs if f.endswith(".log")]
    assert logs or os.environ.get("PYTEST_XDIST_WORKER") is None
    found = []
    pats = {k: v for k, v in secrets().items() if len(v) >= 8}
    assert "AWS_SECRET_ACCESS_KEY" in pats
    signed = re.compile(r"(Authorization: AWS4-HMAC-SHA256|X-Amz-Security-Token|Signature=[0-9a-f]{64}|"
                        r"Bearer [A-Za-z0-9._-]{20,})")
    for path in logs:
        text = open(path, errors="replace").read()
        for what, v in pats.items():
            if v in text:
                found.append(f"{path}: {what}")
        if m := signed.search(text):
            found.append(f"{path}: a signed header ({m.group(0)[:30]}...)")
    assert not found, "\n".join(found)
    print(f"\nchecked {len(logs)} controller logs for {len(pats)} credentials")
