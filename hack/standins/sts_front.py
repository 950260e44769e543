#!/usr/bin/env python3
"""sts_front: an HTTP front for moto that checks sts:AssumeRoleWithWebIdentity
the way AWS does.

A small threaded HTTP server for keyless's tests, on 127.0.0.1.  It relays
every request to a moto server ("upstream") unchanged, except
AssumeRoleWithWebIdentity, which it checks itself before letting moto issue
the credentials.  It exists because moto answers AssumeRoleWithWebIdentity
without checking the token or the role's trust policy (moto/sts/models.py
assume_role_with_web_identity just calls assume_role; moto/iam/utils.py
REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK lists only sts:AssumeRole), and
keyless writes those trust policies: its tests must refuse what AWS refuses.

What it does for AssumeRoleWithWebIdentity (Query protocol, GET or POST)
    1. checks the parameters; reads the token's `iss` (must be https) and
       finds the IAM OIDC provider arn:<partition>:iam::<role's account>:
       oidc-provider/<iss minus https://> in moto (ListOpenIDConnectProviders,
       GetOpenIDConnectProvider, signed with the front's own credentials);
    2. fetches <iss>/.well-known/openid-configuration, then its jwks_uri
       (cached JWKS_TTL seconds, fetched again on an unknown `kid`); checks
       the signature (RS*/PS*/ES*; `none` and HS* refused), `exp`, `nbf`, `iat`;
    3. requires a token `aud` value in the provider's ClientIDList;
    4. gets the role (GetRole) and evaluates its trust policy: some Allow
       statement must match and no Deny statement.  A statement matches when
       its Principal is "*", {"AWS": "*"} or has the provider ARN under
       "Federated", its Action (or NotAction) covers the action
       (case-insensitive, * and ? wildcards) and its whole Condition holds;
    5. if allowed, sends the same parameters to moto in a new request signed
       by the front (SigV4, service sts) and relays the answer; otherwise
       answers with STS's Query-protocol XML error.
    Conditions: String(Not)Equals, String(Not)EqualsIgnoreCase,
    String(Not)Like (wildcards in *Like only), each with optional
    ForAnyValue:/ForAllValues: and IfExists, plus Null; other operators never
    match (logged).  Keys in one operator are ANDed, values of one key ORed
    (Not* operators: the value must match none).  Key names are
    case-insensitive, values case-sensitive.  A missing key makes positive
    operators false, negated ones true, ForAllValues true, ForAnyValue false,
    ...IfExists true.  A multi-valued key under a plain operator is read as
    ForAnyValue (positive) / ForAllValues (negated).  Keys: <iss minus
    https://>:sub, :aud (the aud value that matched a client id), :amr,
    aws:FederatedProvider (provider ARN), sts:RoleSessionName.

AWS documentation followed
    - STS API Reference, "AssumeRoleWithWebIdentity" (parameters; errors
      InvalidIdentityToken, ExpiredTokenException, IDPCommunicationError)
      https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
    - "IAM JSON policy elements: Condition operators"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    - "Set operators for multivalued context keys" (ForAnyValue/ForAllValues)
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    - "IAM and AWS STS condition context keys", section "Available keys for
      AWS web identity federation"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
    - "Create an OpenID Connect (OIDC) identity provider in IAM"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
    Error messages copy those real STS returns ("No OpenIDConnect provider
    found in your account for ...", "Incorrect token audience", "Token
    expired: current date/time ... must be before the expiration date/time
    ...", "Not authorized to perform sts:AssumeRoleWithWebIdentity").

What it deliberately does not do
    Policy variables (${...}), Numeric/Date/Bool/Arn/IP operators, NotPrincipal,
    session tags, OAuth2 (ProviderId) tokens, the role's permission boundary,
    thumbprint checks (the issuer's TLS certificate is checked against the
    system CAs plus --ca-file instead), the discovery document's `issuer`
    equality, chunked request bodies.  Session policies, DurationSeconds
    limits beyond MaxSessionDuration and the credentials themselves are
    moto's business.

Usage
    python sts_front.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:MOTOPORT \
        --region us-east-1 [--ca-file ca.crt ...] [--log-file path]
    with STS_FRONT_AWS_ACCESS_KEY_ID / STS_FRONT_AWS_SECRET_ACCESS_KEY set to
    an IAM user (in moto) allowed iam:GetRole, iam:ListOpenIDConnectProviders,
    iam:GetOpenIDConnectProvider and sts:AssumeRoleWithWebIdentity.
    Tokens, secrets and Authorization headers are never logged.
"""

import argparse
import http.client
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

import boto3
import jwt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

ACTION = "sts:AssumeRoleWithWebIdentity"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ALLOWED_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
JWKS_TTL = 60  # seconds
CLOCK_SKEW = 300  # seconds tolerated on nbf/iat (not on exp)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$")
SESSION_RE = re.compile(r"^[\w+=,.@-]{2,64}$")

log = logging.getLogger("sts-front")


class StsError(Exception):
    def __init__(self, status, code, message, kind="Sender"):
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind


def invalid_token(msg):
    return StsError(400, "InvalidIdentityToken", msg)


def access_denied():
    return StsError(403, "AccessDenied", "Not authorized to perform " + ACTION)


def validation(msg, field=None, value="null"):
    if field:
        msg = f"1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {msg}"
    return StsError(400, "ValidationError", msg)


# ---------------------------------------------------------------- trust policy

def _as_list(v):
    return v if isinstance(v, list) else [v]


def _wildcard(pattern, value, ignore_case=False):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, (re.IGNORECASE if ignore_case else 0) | re.DOTALL) is not None


_MATCHERS = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.casefold() == v.casefold(),
    "StringLike": lambda p, v: _wildcard(p, v),
}


def condition_holds(operator, key, policy_values, ctx):
    """One (operator, key, values) triple of a Condition block, per IAM rules."""
    set_op, _, base = operator.rpartition(":")
    if set_op not in ("", "ForAnyValue", "ForAllValues"):
        log.warning("unknown condition set operator %r: statement does not match", operator)
        return False
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    values = ctx.get(key.lower())  # None or a non-empty list of strings
    wanted = [json.dumps(p) if isinstance(p, bool) else str(p) for p in _as_list(policy_values)]
    if base == "Null" and not set_op and not if_exists:
        return any((p == "true") == (values is None) for p in wanted)
    negated = base.startswith("StringNot")
    matcher = _MATCHERS.get(base.replace("StringNot", "String", 1))
    if matcher is None:
        log.warning("unsupported condition operator %r: statement does not match", operator)
        return False
    if not values:
        if set_op == "ForAllValues":
            return True
        if set_op == "ForAnyValue":
            return False
        return if_exists or negated

    def hit(v):
        return any(matcher(p, v) for p in wanted)

    if not negated:
        return all(map(hit, values)) if set_op == "ForAllValues" else any(map(hit, values))
    passes = [not hit(v) for v in values]
    return any(passes) if set_op == "ForAnyValue" else all(passes)


def statement_matches(st, provider_arn, ctx):
    if "NotPrincipal" in st or "Principal" not in st:
        return False
    principal = st["Principal"]
    if principal != "*":
        if not isinstance(principal, dict):
            return False
        if "*" not in _as_list(principal.get("AWS", [])) and \
                provider_arn not in _as_list(principal.get("Federated", [])):
            return False
    if "NotAction" in st:
        if any(_wildcard(a, ACTION, True) for a in _as_list(st["NotAction"])):
            return False
    elif not any(_wildcard(a, ACTION, True) for a in _as_list(st.get("Action", []))):
        return False
    for operator, block in (st.get("Condition") or {}).items():
        if not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            if not condition_holds(operator, key, wanted, ctx):
                return False
    return True


def trust_allows(doc, provider_arn, ctx):
    """(allowed, reason) for a trust policy document (dict)."""
    allowed = None
    for i, st in enumerate(_as_list(doc.get("Statement", []))):
        if not isinstance(st, dict) or not statement_matches(st, provider_arn, ctx):
            continue
        label = st.get("Sid") or f"#{i}"
        if st.get("Effect") == "Deny":
            return False, f"explicit Deny in statement {label}"
        if st.get("Effect") == "Allow" and allowed is None:
            allowed = f"allowed by statement {label}"
    return (True, allowed) if allowed else (False, "no Allow statement matches")


# ---------------------------------------------------------------- OIDC tokens

class Oidc:
    """Fetches discovery documents and JWKS (cached) and verifies tokens."""

    def __init__(self, ca_files):
        self.ssl = ssl.create_default_context()
        for f in ca_files:
            self.ssl.load_verify_locations(cafile=f)
        self.cache = {}  # iss -> (fetched_at, [jwk dicts])
        self.lock = threading.Lock()

    def _get_json(self, url):
        if not url.startswith("https://"):
            raise invalid_token(f"URL must use https: {url}")
        try:
            with urllib.request.urlopen(url, context=self.ssl, timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError) as e:
            raise StsError(400, "IDPCommunicationError",
                           f"Couldn't retrieve verification key from your identity provider: {url}: {e}")

    def _jwks(self, iss, refresh):
        with self.lock:
            hit = self.cache.get(iss)
        if hit and not refresh and time.time() - hit[0] < JWKS_TTL:
            return hit[1]
        disco = self._get_json(iss.rstrip("/") + "/.well-known/openid-configuration")
        if not isinstance(disco, dict) or not isinstance(disco.get("jwks_uri"), str):
            raise invalid_token("The issuer's discovery document has no jwks_uri")
        keys = self._get_json(disco["jwks_uri"])
        keys = keys.get("keys") if isinstance(keys, dict) else None
        if not isinstance(keys, list):
            raise invalid_token("The issuer's JWKS has no keys")
        with self.lock:
            self.cache[iss] = (time.time(), keys)
        return keys

    def _candidates(self, iss, kid, alg):
        for refresh in (False, True):
            keys = [k for k in self._jwks(iss, refresh) if isinstance(k, dict)
                    and (kid is None or k.get("kid") == kid)
                    and k.get("alg", alg) == alg and k.get("use", "sig") == "sig"]
            if keys:
                return keys
        raise invalid_token(f"No key with kid {kid!r} for alg {alg} in the issuer's JWKS")

    def verify(self, token, iss, alg, kid):
        """Checks the signature, exp, nbf and iat; returns the claims."""
        last = None
        for k in self._candidates(iss, kid, alg):
            try:  # PyJWK refuses a key whose type does not fit alg
                claims = jwt.decode(token, jwt.PyJWK(k, alg).key, algorithms=[alg], options={
                    "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                    "verify_aud": False, "verify_iss": False})
                break
            except jwt.PyJWTError as e:
                last = e
        else:
            raise invalid_token(f"Token signature could not be verified with the issuer's keys: {last}")
        now = int(time.time())
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise invalid_token("Token has no valid exp claim")
        if now >= exp:
            raise StsError(400, "ExpiredTokenException",
                           f"Token expired: current date/time {now} must be before the "
                           f"expiration date/time {int(exp)}")
        if isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW:
            raise invalid_token(f"Token is not yet valid: nbf {int(nbf)} is after {now}")
        if iat is not None and (not isinstance(iat, (int, float)) or iat > now + CLOCK_SKEW):
            raise invalid_token("Token iat claim is invalid or in the future")
        return claims


# ---------------------------------------------------------------- the front

class Front:
    def __init__(self, upstream, region, ca_files):
        key = os.environ.get("STS_FRONT_AWS_ACCESS_KEY_ID")
        secret = os.environ.get("STS_FRONT_AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            sys.exit("sts-front: STS_FRONT_AWS_ACCESS_KEY_ID/STS_FRONT_AWS_SECRET_ACCESS_KEY not set")
        self.upstream = urlsplit(upstream)
        if self.upstream.scheme not in ("http", "https") or not self.upstream.netloc:
            sys.exit(f"sts-front: bad --upstream {upstream!r}")
        self.region, self.creds = region, Credentials(key, secret)
        self.iam = boto3.session.Session().client(
            "iam", endpoint_url=upstream, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))
        self.oidc = Oidc(ca_files)

    def send(self, method, target, headers, body):
        """One request to moto; returns (status, reason, headers, body)."""
        cls = http.client.HTTPSConnection if self.upstream.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.upstream.netloc, timeout=60)
        try:
            has_host = any(k.lower() == "host" for k, _ in headers)
            conn.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
            for k, v in headers:  # Content-Length included: chunked bodies are refused
                conn.putheader(k, v)
            conn.endheaders(body or None)
            r = conn.getresponse()
            return r.status, r.reason, r.getheaders(), r.read()
        finally:
            conn.close()

    def _iam(self, op, **kw):
        try:
            return getattr(self.iam, op)(**kw)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return None
            raise StsError(500, "InternalFailure", f"sts-front: iam {op} failed: {e}", "Receiver")
        except BotoCoreError as e:
            raise StsError(500, "InternalFailure", f"sts-front: iam {op} failed: {e}", "Receiver")

    def assume_role_with_web_identity(self, params, info):
        """Checks the request; returns the moto response or raises StsError."""
        for name in ("RoleArn", "RoleSessionName", "WebIdentityToken"):
            if not params.get(name):
                raise validation("Member must not be null", name[0].lower() + name[1:])
        role_arn, session, token = params["RoleArn"], params["RoleSessionName"], params["WebIdentityToken"]
        info["role"] = role_arn
        m = ROLE_ARN_RE.match(role_arn)
        if not m:
            raise validation(f"{role_arn} is invalid")
        partition, account, role_name = m.groups()
        if not SESSION_RE.match(session):
            raise validation("Member must satisfy regular expression pattern: [\\w+=,.@-]* and have "
                             "length between 2 and 64", "roleSessionName", f"'{session}'")
        duration = params.get("DurationSeconds")
        if duration is not None and (not duration.isdigit() or not 900 <= int(duration) <= 43200):
            raise validation("Member must be between 900 and 43200", "durationSeconds", f"'{duration}'")
        if not 4 <= len(token) <= 20000:
            raise validation("Member must have length between 4 and 20000", "webIdentityToken", "(hidden)")

        # -- the token
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as e:
            raise invalid_token(f"The web identity token is not a well-formed JWT: {e}")
        iss = unverified.get("iss")
        info.update(iss=iss, sub=unverified.get("sub"), aud=unverified.get("aud"))
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise invalid_token(f"Unsupported token signing algorithm: {alg}")
        if not isinstance(iss, str) or not iss.startswith("https://") or len(iss) <= 8:
            raise invalid_token(f"The token's issuer must be an https URL: {iss!r}")
        host_path = iss[len("https://"):]
        provider_arn = f"arn:{partition}:iam::{account}:oidc-provider/{host_path}"
        listed = self._iam("list_open_id_connect_providers") or {}
        found = [p for p in listed.get("OpenIDConnectProviderList", []) if p.get("Arn") == provider_arn]
        provider = found and self._iam("get_open_id_connect_provider", OpenIDConnectProviderArn=provider_arn)
        if not provider:
            raise invalid_token(f"No OpenIDConnect provider found in your account for {iss}")
        claims = self.oidc.verify(token, iss, alg, header.get("kid"))
        client_ids = provider.get("ClientIDList", [])
        aud = next((a for a in _as_list(claims.get("aud")) if isinstance(a, str) and a in client_ids), None)
        if aud is None:
            raise invalid_token("Incorrect token audience")

        # -- the role and its trust policy
        role = (self._iam("get_role", RoleName=role_name) or {}).get("Role")
        if not role or role.get("Arn") != role_arn:
            info["reason"] = "role not found"
            raise access_denied()
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            doc = json.loads(unquote(doc) if doc.startswith("%7B") else doc)
        ctx = {"aws:federatedprovider": [provider_arn], "sts:rolesessionname": [session],
               f"{host_path}:aud".lower(): [aud]}
        if isinstance(claims.get("sub"), str):
            ctx[f"{host_path}:sub".lower()] = [claims["sub"]]
        amr = [str(v) for v in _as_list(claims.get("amr", []))]
        if amr:
            ctx[f"{host_path}:amr".lower()] = amr
        allowed, reason = trust_allows(doc, provider_arn, ctx)
        info["reason"] = reason
        if not allowed:
            raise access_denied()
        if duration is not None and int(duration) > int(role.get("MaxSessionDuration") or 3600):
            raise validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

        # -- allowed: same parameters to moto, signed by the front
        url = f"{self.upstream.scheme}://{self.upstream.netloc}/"
        req = AWSRequest(method="POST", url=url, data=urlencode(params), headers={
            "Host": self.upstream.netloc,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.creds, "sts", self.region).add_auth(req)
        p = req.prepare()
        return self.send("POST", "/", list(p.headers.items()), p.body.encode()
                         if isinstance(p.body, str) else p.body)


def error_body(code, message, kind, request_id):
    return (f'<ErrorResponse xmlns="{STS_NS}">\n  <Error>\n    <Type>{kind}</Type>\n'
            f"    <Code>{escape(code)}</Code>\n    <Message>{escape(message)}</Message>\n"
            f"  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    front: Front = None  # set in main()

    def log_message(self, fmt, *args):  # the default logs the full request line
        pass

    def handle_any(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.reply(411, "Length Required", [("Content-Type", "text/plain")], b"chunked bodies not supported\n")
            self.close_connection = True
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        if self.command == "POST" and "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if params.get("Action") == "AssumeRoleWithWebIdentity":
            return self.web_identity(params)
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            status, reason, rheaders, rbody = self.front.send(self.command, self.path, headers, body)
        except OSError as e:
            log.error("upstream unreachable for %s %s: %s", self.command, urlsplit(self.path).path, e)
            self.reply(502, "Bad Gateway", [("Content-Type", "text/plain")], b"upstream unreachable\n")
            return
        log.info("pass %s %s action=%s -> %d", self.command, urlsplit(self.path).path,
                 params.get("Action") or self.headers.get("X-Amz-Target", "-"), status)
        self.reply(status, reason, rheaders, rbody)

    def web_identity(self, params):
        info = {}
        try:
            status, reason, headers, body = self.front.assume_role_with_web_identity(params, info)
            decision = f"allowed ({info.get('reason')}), moto answered {status}"
        except Exception as e:
            if not isinstance(e, StsError):  # no traceback: it could hold the token
                log.error("AssumeRoleWithWebIdentity: internal error of type %s", type(e).__name__)
                e = StsError(500, "InternalFailure", "sts-front internal error", "Receiver")
            rid = str(uuid.uuid4())
            status, reason, body = e.status, None, error_body(e.code, e.message, e.kind, rid)
            headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
            decision = f"{e.code}: {e.message}" + (f" ({info['reason']})" if info.get("reason") else "")
        log.info("AssumeRoleWithWebIdentity role=%s iss=%s sub=%s aud=%s -> %s", info.get("role"),
                 info.get("iss"), info.get("sub"), info.get("aud"), decision)
        self.reply(status, reason, headers, body)

    def reply(self, status, reason, headers, body):
        self.send_response_only(status, reason)
        length = str(len(body))
        for k, v in headers:
            if k.lower() == "content-length" and self.command == "HEAD":
                length = v
            elif k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


def main(argv=None):
    ap = argparse.ArgumentParser(description="STS front for moto (checks AssumeRoleWithWebIdentity)")
    ap.add_argument("--listen", required=True, help="HOST:PORT (127.0.0.1 only)")
    ap.add_argument("--upstream", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--ca-file", action="append", default=[], help="extra CA bundle for the issuer (repeatable)")
    ap.add_argument("--log-file")
    args = ap.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if host != "127.0.0.1" or not port.isdigit():
        ap.error("--listen must be 127.0.0.1:PORT")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        **({"filename": args.log_file} if args.log_file else {"stream": sys.stderr}))
    logging.getLogger("botocore").setLevel(logging.WARNING)
    Handler.front = Front(args.upstream, args.region, args.ca_file)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    thread.start()
    print(f"sts-front listening on http://{host}:{server.server_address[1]}", flush=True)
    log.info("listening on %s:%d, upstream %s", host, server.server_address[1], args.upstream)
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
