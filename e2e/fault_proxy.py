"""A loopback HTTP proxy in front of moto that injects AWS faults on command.

    proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL"]).start()
    proxy.script("throttle", "throttle")   # the next two requests are throttled
    proxy.default = "pass"                 # after the script: forward to moto
    ... point AWS_ENDPOINT_URL at proxy.url ...
    proxy.log   # [(monotonic time, method, path, action), ...]
    proxy.stop()

Actions:
  pass           forward to the upstream unchanged (moto checks the signature:
                 the Host header the client signed is kept)
  throttle       HTTP 400, IAM/STS Query XML error, Code Throttling
  throttle-json  HTTP 400, x-amzn-ErrorType: ThrottlingException (REST-JSON)
  500            HTTP 500, Query XML error, Code ServiceFailure
  503            HTTP 503, Code ServiceUnavailable
  access-denied  HTTP 403, Code AccessDenied (STS refusing a role IAM has not
                 propagated yet)
  drop           read the request, close the connection without answering
  reset          read the request, reset the connection (SO_LINGER 0)
  hang           read the request and never answer (until stop()): a process
                 killed while waiting never learns the outcome
proxy.on_api_action["PutRolePolicy"] = "hang" applies an action to every
request of that Query-protocol API action (form field Action=...), ahead of
the script; proxy.api_actions lists the API actions seen.
ThrottlingProxy(upstream, limit) passes at most `limit` requests in any
sliding second and answers the rest `throttle`, as IAM's per-account rate
limit does (bench_scale.py, test_iam_rate.py).
The error bodies are the shapes AWS documents (RequestId included).
"""

import collections
import http.client
import http.server
import json
import socket
import struct
import threading
import time
import urllib.parse
import uuid


def _query_error(code, message, kind="Sender"):
    return (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>").encode()


class FaultProxy:
    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname, u.port or 80)
        self.default = "pass"
        self.on_api_action = {}
        self.api_actions = []
        self._stopping = threading.Event()
        self._script = collections.deque()
        self._lock = threading.Lock()
        self.log = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                api = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
                with proxy._lock:
                    proxy.api_actions.append(api)
                    forced = proxy.on_api_action.get(api)
                action = forced or proxy._next()
                with proxy._lock:
                    proxy.log.append((time.monotonic(), self.command, self.path, action))
                if action == "pass":
                    return self._forward(body)
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "hang":
                    proxy._stopping.wait()
                    self.close_connection = True
                    return
                if action == "reset":
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                rid = str(uuid.uuid4())
                if action == "throttle":
                    return self._answer(400, _query_error("Throttling", "Rate exceeded"), "text/xml", rid)
                if action == "throttle-json":
                    return self._answer(400, b'{"message":"Rate exceeded"}', "application/json", rid,
                                        {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"})
                if action == "500":
                    return self._answer(500, _query_error("ServiceFailure", "Internal failure", "Receiver"),
                                        "text/xml", rid)
                if action == "503":
                    return self._answer(503, _query_error("ServiceUnavailable", "Service unavailable", "Receiver"),
                                        "text/xml", rid)
                if action == "access-denied":  # as STS answers a role IAM has not propagated yet
                    return self._answer(403, _query_error("AccessDenied", "Not authorized to perform "
                                                          "sts:AssumeRoleWithWebIdentity"), "text/xml", rid)
                raise ValueError(f"unknown fault action {action}")

            def _answer(self, status, body, ctype, rid, extra=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", rid)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, body):
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _next(self):
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def script(self, *actions):
        with self._lock:
            self._script.extend(actions)
        return self

    def start(self):
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def actions(self):
        with self._lock:
            return [a for _, _, _, a in self.log]

    def times(self):
        with self._lock:
            return [t for t, _, _, _ in self.log]


class ThrottlingProxy(FaultProxy):
    """FaultProxy in front of moto's IAM that passes at most `limit` requests in any sliding second and
    answers the rest `Throttling` (HTTP 400, IAM XML), as IAM's per-account rate limit does."""

    def __init__(self, upstream, limit):
        super().__init__(upstream)
        self.limit = limit
        self._passed = collections.deque()

    def _next(self):
        now = time.monotonic()
        with self._lock:
            while self._passed and self._passed[0] <= now - 1.0:
                self._passed.popleft()
            if len(self._passed) < self.limit:
                self._passed.append(now)
                return "pass"
            return "throttle"

    def summary(self, t0, t1):
        """What arrived between t0 and t1 (monotonic): attempts, passed, throttled, the achieved rate (passed
        requests per second over their own span) and the busiest 10 s of passed requests."""
        log = [(t, a) for t, _, _, a in list(self.log) if t0 <= t <= t1]
        passed = [t for t, a in log if a == "pass"]
        thr = sum(1 for _, a in log if a == "throttle")
        span = (passed[-1] - passed[0]) if len(passed) > 1 else 0.0
        return {"attempts": len(log), "passed": len(passed), "throttled": thr,
                "rate_per_s": round(len(passed) / span, 2) if span else None,
                "peak_10s_rate_per_s": round(busiest(passed, 10.0) / 10.0, 2)}


def busiest(times, width):
    """The most of the sorted times that fall in any one window [t, t + width]."""
    best = j = 0
    for i in range(len(times)):
        while times[i] - times[j] > width:
            j += 1
        best = max(best, i - j + 1)
    return best


class KubeFaultProxy:
    """A plain-HTTP loopback proxy in front of the kube-apiserver that answers
    chosen requests itself, for the leader-election tests.

        proxy = KubeFaultProxy(os.environ["KUBECONFIG"]).start()
        kubeconfig = proxy.kubeconfig(tmp_path)          # the server is the proxy
        proxy.rule = lambda method, path: "429" if ... else None
        proxy.log   # [(monotonic time, method, path, action), ...]

    Every other request goes to the apiserver over TLS with the kubeconfig's
    client certificate, and the answer (watches included) is streamed back.
    The proxy appends " (via fault proxy)" to the User-Agent, so the
    apiserver's audit log tells the proxied client's requests apart.
    Actions: None/"pass", "429" (TooManyRequests with Retry-After: 30, as API
    Priority and Fairness answers), "500" (InternalError), "hang" (never
    answer until stop()).
    """

    def __init__(self, kubeconfig):
        import re
        import ssl
        text = open(kubeconfig).read()
        field = lambda k: re.search(rf"^\s*{k}:\s*(\S+)\s*$", text, re.M).group(1)
        self.kubeconfig_text = text
        self.server = field("server")
        u = urllib.parse.urlsplit(self.server)
        self.upstream = (u.hostname, u.port or 443)
        self.ctx = ssl.create_default_context(cafile=field("certificate-authority"))
        self.ctx.load_cert_chain(field("client-certificate"), field("client-key"))
        self.rule = lambda method, path: None
        self.log = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                action = proxy.rule(self.command, self.path) or "pass"
                with proxy._lock:
                    proxy.log.append((time.monotonic(), self.command, self.path, action))
                if action == "hang":
                    proxy._stopping.wait()
                    self.close_connection = True
                    return
                if action == "500":
                    data = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                       "message": "Internal error injected by the fault proxy",
                                       "reason": "InternalError", "code": 500}).encode()
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if action == "429":
                    data = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                       "message": "Too many requests, please try again later.",
                                       "reason": "TooManyRequests", "details": {"retryAfterSeconds": 30},
                                       "code": 429}).encode()
                    self.send_response(429)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "30")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self._forward(body)

            def _forward(self, body):
                conn = http.client.HTTPSConnection(*proxy.upstream, context=proxy.ctx, timeout=3600)
                skip = ("connection", "keep-alive", "host", "user-agent", "accept-encoding", "expect")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                headers["User-Agent"] = (self.headers.get("User-Agent") or "") + " (via fault proxy)"
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    r = conn.getresponse()
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    while not proxy._stopping.is_set():
                        data = r.read1(65536)
                        if not data:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except (OSError, http.client.HTTPException):
                    self.close_connection = True
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that exits resets its connections

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, tmp_path):
        """The kubeconfig with the server replaced by this proxy (same user)."""
        path = tmp_path / "kubeconfig-fault-proxy"
        path.write_text(self.kubeconfig_text.replace(self.server, self.url))
        return str(path)

    def start(self):
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
