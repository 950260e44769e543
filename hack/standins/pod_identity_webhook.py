#!/usr/bin/env python3
"""Stand-in for AWS's amazon-eks-pod-identity-webhook (IRSA injection).

The real webhook (github.com/aws/amazon-eks-pod-identity-webhook) cannot be
fetched on this machine, so this is a small re-implementation of its documented
behaviour, written from reading its README and source. No upstream code is
copied.

Followed (upstream file: function):
  * pkg/cache/cache.go: addSA -- per ServiceAccount `<prefix>/role-arn`,
    `<prefix>/audience` (default --token-audience), `<prefix>/sts-regional-
    endpoints` (Go ParseBool; invalid values ignored, default
    --sts-regional-endpoint) and `<prefix>/token-expiration` (invalid ignored,
    clamped to pkg/validation.go ValidateMinTokenExpiration's 3600 s; the
    --token-expiration flag is clamped too, as in main.go).
  * pkg/cache/cache.go: New/Get -- an in-memory cache fed by list+watch of all
    ServiceAccounts, with a fallback to the API on a miss (upstream lists the
    namespace and waits a grace period; here: one GET with a 2 s timeout).
  * pkg/handler/handler.go: MutatePod -- the namespace comes from
    request.namespace; no role ARN (or SA unknown) -> allowed, no patch.
  * handler.go: parsePodAnnotations -- pod `<prefix>/token-expiration`
    overrides the SA/flag value (clamped); pod `<prefix>/skip-containers` is a
    CSV list of init/regular container names left untouched.
  * handler.go: findTokenVolume/getPodSpecPatch -- a pod volume named
    `aws-iam-token` that is not a projected SA token with the same audience and
    path "token" belongs to the user: no mutation at all. A matching one was
    already injected: left alone, containers still get env and mounts. New
    volume: `/spec/volumes` created if absent, else inserted at index 0.
    Windows pods (nodeSelector [beta.]kubernetes.io/os=windows) get a
    `C:\\...` token file path.
  * handler.go: addEnvToContainer -- appends, in this order and only when the
    container defines none of the group: AWS_STS_REGIONAL_ENDPOINTS=regional
    (if regional STS), AWS_DEFAULT_REGION + AWS_REGION (if --aws-default-region;
    either one present blocks both), AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
    (either one present blocks both). Adds a readOnly mount of `aws-iam-token`
    unless a mount of that *name* exists. If all three groups are already
    present the container is left entirely alone (no mount), as upstream does.
  * handler.go: Handle -- 415 unless Content-Type is application/json; the
    response echoes the request's apiVersion/kind and request.uid.
  * README.md flags: --annotation-prefix, --aws-default-region,
    --token-audience, --token-expiration, --token-mount-path, --kubeconfig,
    --tls-cert, --tls-key, --sts-regional-endpoint; /healthz answers "ok".

Deliberately left out: EKS Pod Identity "container credentials" mode
(pkg/containercredentials, AWS_CONTAINER_CREDENTIALS_FULL_URI, token jitter),
workload-identity CSI socket, the pod-identity-webhook ConfigMap, role ARN
composition (--compose-role-arn), the ARN format warning, metrics, in-cluster
CSR certificates and cert reloading, the SA lookup grace period.

Differences on purpose: the JSON Patch is fine-grained (adds to each env /
volumeMounts array, `/-` when present, whole array when absent) instead of
upstream's replacing `/spec/containers` wholesale -- the resulting pod is the
same; when nothing is left to add no patch is sent (upstream sends a no-op
patch). Non-Pod kinds, operations other than CREATE and subresources are
passed through untouched (upstream relies on the webhook configuration's
rules). An empty serviceAccountName is treated as "default". Responses are
always `allowed: true` (upstream answers undecodable pods with allowed=false);
a body that is not an AdmissionReview gets HTTP 400 so failurePolicy applies.
"""
import argparse, base64, csv, json, logging, posixpath, signal, ssl, sys, threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("pod-identity-webhook")
VOLUME_NAME, TOKEN_PATH, MIN_EXPIRATION = "aws-iam-token", "token", 3600


@dataclass
class Config:
    annotation_prefix: str = "eks.amazonaws.com"
    audience: str = "sts.amazonaws.com"
    expiration: int = 86400
    mount_path: str = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
    region: str = ""
    regional_sts: bool = False


GO_BOOLS = {**dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True),  # strconv.ParseBool
            **dict.fromkeys(("0", "f", "F", "false", "FALSE", "False"), False)}


def _expiration(value, default):
    try:
        return max(int(value, 10), MIN_EXPIRATION)
    except (TypeError, ValueError):
        return default


def build_patch(pod, sa_annotations, cfg):
    """Return (JSON Patch operations, reason). Operations are [] for no patch."""
    prefix = cfg.annotation_prefix + "/"
    role = sa_annotations.get(prefix + "role-arn", "")
    if not role:
        return [], "service account has no %srole-arn annotation" % prefix
    audience = sa_annotations.get(prefix + "audience", cfg.audience)
    regional = GO_BOOLS.get(sa_annotations.get(prefix + "sts-regional-endpoints"))
    regional = cfg.regional_sts if regional is None else regional
    expiration = _expiration(sa_annotations.get(prefix + "token-expiration"), cfg.expiration)
    pod_annotations = (pod.get("metadata") or {}).get("annotations") or {}
    expiration = _expiration(pod_annotations.get(prefix + "token-expiration"), expiration)
    skip = set()
    if prefix + "skip-containers" in pod_annotations:
        skip = set(next(csv.reader([pod_annotations[prefix + "skip-containers"]]), []))

    spec = pod.get("spec") or {}
    volumes = spec.get("volumes")
    existing = next((v for v in volumes or [] if v.get("name") == VOLUME_NAME), None)
    if existing is not None:
        tokens = [s.get("serviceAccountToken") or {} for s in
                  ((existing.get("projected") or {}).get("sources") or [])]
        if not any(t.get("audience", "") == audience and t.get("path") == TOKEN_PATH for t in tokens):
            return [], "pod declares its own %r volume" % VOLUME_NAME

    token_file = posixpath.normpath(posixpath.join(cfg.mount_path, TOKEN_PATH))  # filepath.Join
    selector = spec.get("nodeSelector") or {}
    if "windows" in (selector.get("kubernetes.io/os"), selector.get("beta.kubernetes.io/os")):
        token_file = "C:" + token_file.replace("/", "\\")

    ops = []
    if existing is None:
        source = {"audience": audience, "expirationSeconds": expiration, "path": TOKEN_PATH}
        if not audience:
            del source["audience"]
        volume = {"name": VOLUME_NAME, "projected": {"sources": [{"serviceAccountToken": source}]}}
        if volumes is None:
            ops.append({"op": "add", "path": "/spec/volumes", "value": [volume]})
        else:
            ops.append({"op": "add", "path": "/spec/volumes/0", "value": volume})

    for field in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(field) or []):
            if container.get("name") in skip:
                continue
            base = "/spec/%s/%d" % (field, i)
            ops += _container_ops(container, base, role, token_file, regional, cfg)
    if not ops:
        return [], "pod already has the injection"
    return ops, "injected"


def _append_ops(container, base, field, items):
    if not items:
        return []
    if container.get(field) is None:
        return [{"op": "add", "path": "%s/%s" % (base, field), "value": items}]
    return [{"op": "add", "path": "%s/%s/-" % (base, field), "value": item} for item in items]


def _container_ops(container, base, role, token_file, regional, cfg):
    names = {e.get("name") for e in container.get("env") or []}
    have_identity = bool(names & {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"})
    have_region = bool(names & {"AWS_REGION", "AWS_DEFAULT_REGION"})
    have_sts = "AWS_STS_REGIONAL_ENDPOINTS" in names
    if have_identity and have_region and have_sts:
        return []
    env = []
    if regional and not have_sts:
        env.append({"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"})
    if cfg.region and not have_region:
        env += [{"name": "AWS_DEFAULT_REGION", "value": cfg.region},
                {"name": "AWS_REGION", "value": cfg.region}]
    if not have_identity:
        env += [{"name": "AWS_ROLE_ARN", "value": role},
                {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": token_file}]
    mounts = []
    if not any(m.get("name") == VOLUME_NAME for m in container.get("volumeMounts") or []):
        mounts.append({"name": VOLUME_NAME, "readOnly": True, "mountPath": cfg.mount_path})
    return _append_ops(container, base, "env", env) + _append_ops(container, base, "volumeMounts", mounts)


def review(admission_review, lookup, cfg):
    """Answer an AdmissionReview dict. lookup(namespace, name) returns the
    ServiceAccount's annotations, or None when it does not exist."""
    req = admission_review.get("request") or {}
    response = {"uid": req.get("uid", ""), "allowed": True}
    out = {"apiVersion": admission_review.get("apiVersion") or "admission.k8s.io/v1",
           "kind": "AdmissionReview", "response": response}
    pod = req.get("object") or {}
    meta = pod.get("metadata") or {}
    namespace = req.get("namespace") or meta.get("namespace") or ""
    name = meta.get("name") or meta.get("generateName") or req.get("name") or ""
    sa = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    ctx = "namespace=%s pod=%s serviceaccount=%s" % (namespace, name, sa)
    kind = (req.get("kind") or {}).get("kind")
    if kind != "Pod" or req.get("operation") != "CREATE" or req.get("subResource"):
        return out, "not mutated: %s %s is not a Pod CREATE; %s" % (req.get("operation"), kind, ctx)
    annotations = lookup(namespace, sa)
    if annotations is None:
        return out, "not mutated: service account not found; %s" % ctx
    ops, reason = build_patch(pod, annotations, cfg)
    if not ops:
        return out, "not mutated: %s; %s" % (reason, ctx)
    response["patchType"] = "JSONPatch"
    response["patch"] = base64.b64encode(json.dumps(ops).encode()).decode()
    return out, "mutated: role=%s; %s" % (annotations[cfg.annotation_prefix + "/role-arn"], ctx)


class ServiceAccountCache:
    """Annotations of every ServiceAccount, kept fresh by list+watch, with a
    GET on a miss (a ServiceAccount created after the last event seen)."""

    def __init__(self, kubeconfig):
        from kubernetes import client, config
        self._client = client
        self._core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
        self._sas, self._lock = {}, threading.Lock()
        self.synced, self._stop = threading.Event(), threading.Event()

    def start(self):
        threading.Thread(target=self._run, name="sa-watch", daemon=True).start()

    def stop(self):
        self._stop.set()

    def _put(self, sa):
        with self._lock:
            self._sas[(sa.metadata.namespace, sa.metadata.name)] = dict(sa.metadata.annotations or {})

    def _run(self):
        from kubernetes import watch
        while not self._stop.is_set():
            try:
                listed = self._core.list_service_account_for_all_namespaces(_request_timeout=30)
                with self._lock:
                    self._sas = {(s.metadata.namespace, s.metadata.name): dict(s.metadata.annotations or {})
                                 for s in listed.items}
                self.synced.set()
                w = watch.Watch()
                for event in w.stream(self._core.list_service_account_for_all_namespaces,
                                      resource_version=listed.metadata.resource_version,
                                      timeout_seconds=300, _request_timeout=330):
                    if self._stop.is_set():
                        w.stop()
                    elif event["type"] == "DELETED":
                        meta = event["object"].metadata
                        with self._lock:
                            self._sas.pop((meta.namespace, meta.name), None)
                    elif event["type"] in ("ADDED", "MODIFIED"):
                        self._put(event["object"])
            except Exception as err:  # re-list after any failure, gently
                LOG.warning("serviceaccount watch: %s", str(err).splitlines()[0] if str(err) else err)
                self._stop.wait(2)

    def get(self, namespace, name):
        with self._lock:
            if (namespace, name) in self._sas:
                return self._sas[(namespace, name)]
        try:
            sa = self._core.read_namespaced_service_account(name, namespace, _request_timeout=2)
        except self._client.exceptions.ApiException as err:
            if err.status != 404:
                LOG.warning("get serviceaccount %s/%s: HTTP %s", namespace, name, err.status)
            return None
        except Exception as err:
            LOG.warning("get serviceaccount %s/%s: %s", namespace, name, err)
            return None
        self._put(sa)
        return dict(sa.metadata.annotations or {})


def make_handler(lookup, cfg):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def setup(self):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()  # in this thread, not the accept loop
            super().setup()

        def log_message(self, fmt, *args):
            LOG.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, code, body, ctype="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/healthz":
                self._send(200, b"ok", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.split("?")[0] != "/mutate":
                return self._send(404, b"not found\n", "text/plain")
            if self.headers.get("Content-Type") != "application/json":
                return self._send(415, b"Invalid Content-Type, expected `application/json`\n", "text/plain")
            try:
                admission_review = json.loads(body)
                if not isinstance(admission_review, dict) or not isinstance(admission_review.get("request"), dict):
                    raise ValueError("no request in AdmissionReview")
            except ValueError as err:
                LOG.error("bad admission request: %s", err)
                return self._send(400, b"bad AdmissionReview\n", "text/plain")
            try:
                out, line = review(admission_review, lookup, cfg)
            except Exception as err:  # never block a pod over a bug here
                out, _ = review({"apiVersion": admission_review.get("apiVersion"),
                                 "request": {"uid": admission_review["request"].get("uid", "")}}, lookup, cfg)
                line = "not mutated: internal error %r" % err
            LOG.info("%s", line)
            self._send(200, json.dumps(out).encode())

    return Handler


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        LOG.warning("connection from %s: %s", client_address[0], sys.exc_info()[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1:8443")
    p.add_argument("--tls-cert", required=True)
    p.add_argument("--tls-key", required=True)
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--aws-default-region", default="")
    p.add_argument("--token-audience", default="sts.amazonaws.com")
    p.add_argument("--token-expiration", type=int, default=86400)
    p.add_argument("--token-mount-path", default="/var/run/secrets/eks.amazonaws.com/serviceaccount")
    p.add_argument("--annotation-prefix", default="eks.amazonaws.com")
    p.add_argument("--sts-regional-endpoint", action="store_true")
    p.add_argument("--log-file")
    args = p.parse_args(argv)

    handlers = [logging.StreamHandler(sys.stderr)]
    if args.log_file:
        handlers.append(logging.FileHandler(args.log_file))
    logging.basicConfig(level=logging.INFO, handlers=handlers,
                        format="%(asctime)s %(levelname)s pod-identity-webhook: %(message)s")
    cfg = Config(args.annotation_prefix, args.token_audience, max(args.token_expiration, MIN_EXPIRATION),
                 args.token_mount_path, args.aws_default_region, args.sts_regional_endpoint)

    host, _, port = args.listen.rpartition(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    cache = ServiceAccountCache(args.kubeconfig)
    cache.start()
    if not cache.synced.wait(10):
        LOG.warning("serviceaccount cache not synced yet; falling back to GET per lookup")
    server = TLSServer((host, int(port)), make_handler(cache.get, cfg))
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    def stop(signum, _frame):
        LOG.info("signal %d: shutting down", signum)
        cache.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("pod-identity-webhook listening on https://%s:%d" % server.server_address[:2], flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
