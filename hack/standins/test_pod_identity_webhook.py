"""Tests for the pod-identity-webhook stand-in (pod_identity_webhook.py).

Pure tests of the mutation, then an HTTPS round trip against the webhook run
as a subprocess, exactly as hack/local-cluster starts it, with its
ServiceAccount lookups answered by a fake Kubernetes API inside this file.
"""
import base64, copy, datetime, ipaddress, json, os, queue, signal, ssl, subprocess, sys, threading, time
import urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pod_identity_webhook as piw  # noqa: E402

ROLE = "arn:aws:iam::111122223333:role/keyless-demo"
MOUNT = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
TOKEN_FILE = MOUNT + "/token"
ANNOTATED = {"eks.amazonaws.com/role-arn": ROLE}


# --- a tiny, strict RFC 6902 "add" applier ----------------------------------

def apply_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        assert op["op"] == "add", op
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        parent = doc
        for t in tokens[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t]  # missing -> error
        last, value = tokens[-1], copy.deepcopy(op["value"])
        if isinstance(parent, list):
            if last == "-":
                parent.append(value)
            else:
                assert last.isdigit() and int(last) <= len(parent), op
                parent.insert(int(last), value)
        else:
            assert isinstance(parent, dict), op
            parent[last] = value
    return doc


def pod(containers=None, init=None, volumes=None, annotations=None, sa="app", **spec):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"generateName": "app-", "annotations": annotations or {}},
         "spec": {"serviceAccountName": sa, "containers": containers or [{"name": "main", "image": "busybox"}]}}
    if init is not None:
        p["spec"]["initContainers"] = init
    if volumes is not None:
        p["spec"]["volumes"] = volumes
    p["spec"].update(spec)
    return p


def mutate(p, annotations=ANNOTATED, cfg=None):
    ops, _ = piw.build_patch(p, annotations, cfg or piw.Config())
    return apply_patch(p, ops), ops


def env(container):
    return [(e["name"], e.get("value")) for e in container.get("env", [])]


def token_source(p):
    vol = next(v for v in p["spec"]["volumes"] if v["name"] == "aws-iam-token")
    return vol["projected"]["sources"][0]["serviceAccountToken"]


IDENTITY = [("AWS_ROLE_ARN", ROLE), ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE)]
TOKEN_MOUNT = {"name": "aws-iam-token", "readOnly": True, "mountPath": MOUNT}


# --- pure mutation tests -----------------------------------------------------

def test_bare_pod_gets_volume_env_and_mount_created():
    out, ops = mutate(pod())
    assert {o["path"] for o in ops} == {"/spec/volumes", "/spec/containers/0/env",
                                        "/spec/containers/0/volumeMounts"}
    assert out["spec"]["volumes"] == [{"name": "aws-iam-token", "projected": {"sources": [
        {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}]
    c = out["spec"]["containers"][0]
    assert env(c) == IDENTITY
    assert c["volumeMounts"] == [TOKEN_MOUNT]
    assert c["image"] == "busybox"


def test_existing_env_mounts_and_volumes_are_appended_to():
    c = {"name": "main", "env": [{"name": "FOO", "value": "1"}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    out, ops = mutate(pod([c], volumes=[{"name": "data", "emptyDir": {}}]))
    assert "/spec/containers/0/env/-" in [o["path"] for o in ops]
    c = out["spec"]["containers"][0]
    assert env(c) == [("FOO", "1")] + IDENTITY
    assert c["volumeMounts"] == [{"name": "data", "mountPath": "/data"}, TOKEN_MOUNT]
    assert [v["name"] for v in out["spec"]["volumes"]] == ["aws-iam-token", "data"]  # upstream prepends


def test_init_containers_and_every_container_are_mutated():
    out, _ = mutate(pod([{"name": "a"}, {"name": "b", "env": []}], init=[{"name": "init"}]))
    for c in out["spec"]["initContainers"] + out["spec"]["containers"]:
        assert env(c) == IDENTITY, c["name"]
        assert c["volumeMounts"] == [TOKEN_MOUNT], c["name"]


def test_user_identity_env_is_never_overridden():
    mine = [{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::999999999999:role/mine"}]
    out, _ = mutate(pod([{"name": "main", "env": copy.deepcopy(mine)}]),
                    cfg=piw.Config(region="eu-west-1"))
    c = out["spec"]["containers"][0]
    # AWS_ROLE_ARN present blocks the whole identity pair, as upstream does
    assert env(c) == [("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/mine"),
                      ("AWS_DEFAULT_REGION", "eu-west-1"), ("AWS_REGION", "eu-west-1")]
    assert c["volumeMounts"] == [TOKEN_MOUNT]


def test_container_with_everything_defined_is_left_alone():
    full = [{"name": n, "value": "x"} for n in
            ("AWS_ROLE_ARN", "AWS_REGION", "AWS_STS_REGIONAL_ENDPOINTS")]
    out, ops = mutate(pod([{"name": "main", "env": copy.deepcopy(full)}, {"name": "other"}]))
    assert out["spec"]["containers"][0] == {"name": "main", "env": full}
    assert env(out["spec"]["containers"][1]) == IDENTITY
    assert not any(o["path"].startswith("/spec/containers/0") for o in ops)


def test_skip_containers_annotation():
    p = pod([{"name": "main"}, {"name": "sidecar"}], init=[{"name": "init-first"}, {"name": "init2"}],
            annotations={"eks.amazonaws.com/skip-containers": "init-first,sidecar"})
    out, _ = mutate(p)
    assert out["spec"]["initContainers"][0] == {"name": "init-first"}
    assert out["spec"]["containers"][1] == {"name": "sidecar"}
    assert env(out["spec"]["initContainers"][1]) == IDENTITY
    assert env(out["spec"]["containers"][0]) == IDENTITY


def test_custom_audience_and_expiration_annotations():
    sa = dict(ANNOTATED, **{"eks.amazonaws.com/audience": "keyless.example",
                            "eks.amazonaws.com/token-expiration": "7200"})
    out, _ = mutate(pod(), sa)
    assert token_source(out) == {"audience": "keyless.example", "expirationSeconds": 7200, "path": "token"}


def test_expiration_clamped_and_pod_annotation_wins():
    sa = dict(ANNOTATED, **{"eks.amazonaws.com/token-expiration": "600"})
    assert token_source(mutate(pod(), sa)[0])["expirationSeconds"] == 3600
    p = pod(annotations={"eks.amazonaws.com/token-expiration": "5000"})
    assert token_source(mutate(p, sa)[0])["expirationSeconds"] == 5000
    bad = dict(ANNOTATED, **{"eks.amazonaws.com/token-expiration": "soon"})
    assert token_source(mutate(pod(), bad, piw.Config(expiration=43200))[0])["expirationSeconds"] == 43200


@pytest.mark.parametrize("value,expected", [("true", True), ("false", False), ("maybe", False), (None, False)])
def test_sts_regional_endpoints_annotation(value, expected):
    sa = dict(ANNOTATED)
    if value is not None:
        sa["eks.amazonaws.com/sts-regional-endpoints"] = value
    c = mutate(pod(), sa)[0]["spec"]["containers"][0]
    assert env(c) == ([("AWS_STS_REGIONAL_ENDPOINTS", "regional")] if expected else []) + IDENTITY


def test_sts_annotation_false_overrides_flag_and_region_order():
    sa = dict(ANNOTATED, **{"eks.amazonaws.com/sts-regional-endpoints": "false"})
    c = mutate(pod(), sa, piw.Config(regional_sts=True, region="us-east-1"))[0]["spec"]["containers"][0]
    assert env(c) == [("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_REGION", "us-east-1")] + IDENTITY
    c = mutate(pod(), ANNOTATED, piw.Config(regional_sts=True, region="us-east-1"))[0]["spec"]["containers"][0]
    assert env(c)[0] == ("AWS_STS_REGIONAL_ENDPOINTS", "regional")


def test_existing_region_blocks_both_region_vars():
    p = pod([{"name": "main", "env": [{"name": "AWS_REGION", "value": "ap-south-1"}]}])
    c = mutate(p, cfg=piw.Config(region="us-east-1"))[0]["spec"]["containers"][0]
    assert env(c) == [("AWS_REGION", "ap-south-1")] + IDENTITY


def test_custom_prefix_mount_path_and_windows():
    cfg = piw.Config(annotation_prefix="example.com", mount_path="/aws/")
    assert mutate(pod(), ANNOTATED, cfg)[1] == []  # wrong prefix: not ours
    out = mutate(pod(nodeSelector={"kubernetes.io/os": "windows"}), {"example.com/role-arn": ROLE}, cfg)[0]
    c = out["spec"]["containers"][0]
    assert env(c) == [("AWS_ROLE_ARN", ROLE), ("AWS_WEB_IDENTITY_TOKEN_FILE", "C:\\aws\\token")]
    assert c["volumeMounts"][0]["mountPath"] == "/aws/"


def test_unannotated_sa_gives_no_patch():
    assert piw.build_patch(pod(), {"other": "x"}, piw.Config())[0] == []


def test_already_injected_pod_gives_no_patch_and_partial_is_completed():
    once = mutate(pod([{"name": "a"}]))[0]
    assert piw.build_patch(once, ANNOTATED, piw.Config()) == ([], "pod already has the injection")
    once["spec"]["containers"].append({"name": "late"})  # token volume exists, one container bare
    out, ops = mutate(once)
    assert not any(o["path"].startswith("/spec/volumes") for o in ops)
    assert env(out["spec"]["containers"][1]) == IDENTITY
    assert len(out["spec"]["volumes"]) == 1


def test_foreign_volume_with_reserved_name_blocks_mutation():
    foreign = [{"name": "aws-iam-token", "projected": {"sources": [
        {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3600, "path": "token"}}]}}]
    assert piw.build_patch(pod(volumes=foreign), ANNOTATED, piw.Config())[0] == []
    hostpath = [{"name": "aws-iam-token", "hostPath": {"path": "/token"}}]
    assert piw.build_patch(pod(volumes=hostpath), ANNOTATED, piw.Config())[0] == []


def admission(p, operation="CREATE", kind="Pod", namespace="apps", uid="uid-1", api="admission.k8s.io/v1"):
    return {"apiVersion": api, "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": kind},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "namespace": namespace, "operation": operation, "object": p}}


def decoded(response):
    return json.loads(base64.b64decode(response["patch"]))


def test_review_looks_up_request_namespace_and_echoes_uid():
    seen = []

    def lookup(ns, name):
        seen.append((ns, name))
        return ANNOTATED

    p = pod(sa=None)  # no serviceAccountName: "default"; metadata has no namespace
    del p["spec"]["serviceAccountName"]
    out, line = piw.review(admission(p, uid="abc"), lookup, piw.Config())
    assert seen == [("apps", "default")]
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    r = out["response"]
    assert r["uid"] == "abc" and r["allowed"] is True and r["patchType"] == "JSONPatch"
    assert env(apply_patch(p, decoded(r))["spec"]["containers"][0]) == IDENTITY
    assert line.startswith("mutated") and "namespace=apps" in line and "pod=app-" in line


@pytest.mark.parametrize("operation,kind,annotations", [
    ("UPDATE", "Pod", ANNOTATED), ("DELETE", "Pod", ANNOTATED), ("CREATE", "Deployment", ANNOTATED),
    ("CREATE", "Pod", {}), ("CREATE", "Pod", None)])
def test_review_passes_through_without_patch(operation, kind, annotations):
    out, line = piw.review(admission(pod(), operation, kind), lambda ns, n: annotations, piw.Config())
    assert out["response"] == {"uid": "uid-1", "allowed": True}
    assert line.startswith("not mutated")


def test_review_v1beta1_echoes_api_version():
    out, _ = piw.review(admission(pod(), api="admission.k8s.io/v1beta1"), lambda ns, n: ANNOTATED, piw.Config())
    assert out["apiVersion"] == "admission.k8s.io/v1beta1" and out["response"]["patchType"] == "JSONPatch"


# --- HTTPS round trip ----------------------------------------------------------

class FakeKubeAPI:
    """Answers list, watch and get of ServiceAccounts from a dict."""

    def __init__(self, sas):
        self.sas, self.hidden, self.gets, self.events = sas, {}, [], queue.Queue()
        self.watching = threading.Event()
        api = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _json(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path, _, query = self.path.partition("?")
                if path == "/api/v1/serviceaccounts" and "watch=" in query.lower():
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")  # as kube-apiserver streams
                    self.end_headers()
                    api.watching.set()
                    while True:
                        try:
                            ev = api.events.get(timeout=0.2)
                        except queue.Empty:
                            if api.closing:
                                self.wfile.write(b"0\r\n\r\n")
                                self.close_connection = True
                                return
                            continue
                        line = json.dumps(ev).encode() + b"\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                if path == "/api/v1/serviceaccounts":
                    return self._json(200, {"kind": "ServiceAccountList", "apiVersion": "v1",
                                            "metadata": {"resourceVersion": "10"},
                                            "items": [api.sa(k) for k in api.sas]})
                parts = path.split("/")  # /api/v1/namespaces/NS/serviceaccounts/NAME
                if len(parts) == 7 and parts[3] == "namespaces" and parts[5] == "serviceaccounts":
                    key = (parts[4], parts[6])
                    api.gets.append(key)
                    if key in api.sas or key in api.hidden:
                        return self._json(200, api.sa(key))
                    return self._json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                            "reason": "NotFound", "code": 404})
                self._json(404, {"kind": "Status", "code": 404})

        self.closing = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def sa(self, key):
        ann = self.sas.get(key, self.hidden.get(key))
        return {"kind": "ServiceAccount", "apiVersion": "v1",
                "metadata": {"namespace": key[0], "name": key[1], "resourceVersion": "11", "annotations": ann}}

    def modify(self, key, annotations):
        self.sas[key] = annotations
        self.events.put({"type": "MODIFIED", "object": self.sa(key)})

    def close(self):
        self.closing = True
        self.server.shutdown()
        self.server.server_close()


def make_certs(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, key, sign_key, ca):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(hours=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                critical=False)
        return b.sign(sign_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca = build(ca_name, ca_name, ca_key, ca_key, True)
    cert = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key, ca_key, False)
    paths = {n: os.path.join(d, n) for n in ("ca.pem", "cert.pem", "key.pem")}
    for name, data in (("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
                       ("cert.pem", cert.public_bytes(serialization.Encoding.PEM)),
                       ("key.pem", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))):
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webhook(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("piw"))
    api = FakeKubeAPI({("apps", "annotated"): dict(ANNOTATED), ("apps", "plain"): {"team": "x"}})
    api.hidden[("apps", "late")] = dict(ANNOTATED)  # not listed: reachable only by GET
    certs = make_certs(d)
    kubeconfig = os.path.join(d, "kubeconfig")
    with open(kubeconfig, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                   "clusters": [{"name": "fake", "cluster": {"server": api.url}}],
                   "users": [{"name": "fake", "user": {}}],
                   "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}, f)
    port, log_file = free_port(), os.path.join(d, "webhook.log")
    stderr = open(os.path.join(d, "webhook.stderr"), "w")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pod_identity_webhook.py"),
         "--listen", "127.0.0.1:%d" % port, "--tls-cert", certs["cert.pem"], "--tls-key", certs["key.pem"],
         "--kubeconfig", kubeconfig, "--aws-default-region", "us-east-1", "--log-file", log_file],
        stdout=subprocess.PIPE, stderr=stderr, text=True)
    first = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(15)
    ctx = ssl.create_default_context(cafile=certs["ca.pem"])
    try:
        assert first == ["pod-identity-webhook listening on https://127.0.0.1:%d\n" % port], \
            (first, proc.poll())
        yield {"url": "https://127.0.0.1:%d" % port, "ctx": ctx, "api": api, "proc": proc, "log": log_file}
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        stderr.close()
        api.close()


def post(wh, body, ctype="application/json"):
    req = urllib.request.Request(wh["url"] + "/mutate", data=json.dumps(body).encode(),
                                 headers={"Content-Type": ctype}, method="POST")
    with urllib.request.urlopen(req, context=wh["ctx"], timeout=5) as r:
        return json.loads(r.read())


def test_https_healthz(webhook):
    with urllib.request.urlopen(webhook["url"] + "/healthz", context=webhook["ctx"], timeout=5) as r:
        assert r.status == 200 and r.read() == b"ok"


def test_https_mutates_pod_of_annotated_sa(webhook):
    p = pod(sa="annotated")
    out = post(webhook, admission(p, uid="round-trip-1"))
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    r = out["response"]
    assert r["uid"] == "round-trip-1" and r["allowed"] is True and r["patchType"] == "JSONPatch"
    got = apply_patch(p, decoded(r))
    assert env(got["spec"]["containers"][0]) == [("AWS_DEFAULT_REGION", "us-east-1"),
                                                 ("AWS_REGION", "us-east-1")] + IDENTITY
    assert got["spec"]["containers"][0]["volumeMounts"] == [TOKEN_MOUNT]
    assert token_source(got) == {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}
    with open(webhook["log"]) as f:
        assert "mutated: role=%s; namespace=apps pod=app- serviceaccount=annotated" % ROLE in f.read()


def test_https_unannotated_and_unknown_sa_pass_through(webhook):
    for sa in ("plain", "missing"):
        out = post(webhook, admission(pod(sa=sa), uid="u-" + sa))
        assert out["response"] == {"uid": "u-" + sa, "allowed": True}, sa
    with open(webhook["log"]) as f:
        log = f.read()
    assert "not mutated: service account not found; namespace=apps pod=app- serviceaccount=missing" in log


def test_https_sa_unknown_to_watch_is_fetched(webhook):
    out = post(webhook, admission(pod(sa="late"), uid="late"))
    assert out["response"]["patchType"] == "JSONPatch"
    assert ("apps", "late") in webhook["api"].gets
    assert ("apps", "annotated") not in webhook["api"].gets  # served from the listed cache


def test_https_watch_updates_cache(webhook):
    api = webhook["api"]
    assert api.watching.wait(10)
    api.modify(("apps", "plain"), {"eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/audience": "aud2"})
    deadline, r = time.time() + 10, {}
    while time.time() < deadline and "patch" not in r:
        r = post(webhook, admission(pod(sa="plain")))["response"]
        time.sleep(0.05)
    assert token_source(apply_patch(pod(sa="plain"), decoded(r)))["audience"] == "aud2"
    assert ("apps", "plain") not in api.gets


def test_https_rejects_wrong_content_type_and_garbage(webhook):
    with pytest.raises(urllib.error.HTTPError) as e:
        post(webhook, admission(pod(sa="annotated")), ctype="text/plain")
    assert e.value.code == 415
    with pytest.raises(urllib.error.HTTPError) as e:
        post(webhook, ["not", "a", "review"])
    assert e.value.code == 400


def test_https_internal_error_still_allows(webhook):
    broken = pod(sa="annotated")
    broken["spec"]["containers"] = "not-a-list"
    out = post(webhook, admission(broken, uid="broken"))
    assert out["response"] == {"uid": "broken", "allowed": True}
    with open(webhook["log"]) as f:
        assert "not mutated: internal error" in f.read()


def test_https_zz_sigterm_exits_cleanly(webhook):
    proc = webhook["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
