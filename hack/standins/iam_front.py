#!/usr/bin/env python3
"""iam_front: an HTTP front for moto that authorizes IAM calls against the
caller's identity policies the way AWS does: resources and conditions too.

A small threaded HTTP server for keyless's tests, on 127.0.0.1.  It exists
because moto's IAM access control matches identity policies by Action only
(moto/core/access_control.py: "Resource and Condition are not supported"),
and `keyless iam-policy` fences keyless by resources and conditions: its
tests must refuse what AWS refuses.

For each IAM request (Query protocol, SigV4 credential scope service `iam`):
    1. the caller: the access key id of the Authorization header ->
       GetAccessKeyLastUsed (UserName) -> GetUser (Arn); unknown keys are
       relayed untouched and moto refuses them;
    2. the caller's identity policies: the user's inline policies and its
       attached managed policies (default version), read from moto with the
       front's own credentials;
    3. the request context AWS documents for the action (below), with the
       role's or OIDC provider's current tags and boundary read from moto;
    4. evaluation: an explicit Deny wins, else some Allow must match, else
       implicit deny; denied -> 403 AccessDenied in IAM's XML error shape,
       message as AWS writes it ("User: <arn> is not authorized to perform:
       iam:X on resource: <arn> because no identity-based policy allows the
       iam:X action" / "... with an explicit deny in an identity-based
       policy"); allowed -> the original request, unchanged, to moto, which
       checks the signature, then its own action-level policy check.  moto
       5.2.5 refuses every statement with a Condition it cannot fill in
       (moto/iam/access_control.py _check_conditions has no request context
       for identity policies), so when moto answers AccessDenied - the
       signature was good, and nothing was done - the front sends the same
       parameters again signed with its own key, and relays that answer.
    Everything else (STS, EKS, non-IAM paths) is relayed untouched.

Request context (Service Authorization Reference, IAM "Actions" table)
    resource  the role ARN (path from GetRole; CreateRole: Path + RoleName),
              the provider ARN (OpenIDConnectProviderArn; create: from Url),
              the policy ARN (PolicyArn) for policy calls, else "*".
    aws:RequestTag/<k>, aws:TagKeys   Tags.member.N.{Key,Value} (CreateRole,
              TagRole, CreateOpenIDConnectProvider, TagOpenIDConnectProvider);
              TagKeys.member.N (UntagRole, UntagOpenIDConnectProvider).
    iam:ResourceTag/<k>   the current tags of the role / OIDC provider.
    iam:PermissionsBoundary   the PermissionsBoundary parameter (CreateRole,
              PutRolePermissionsBoundary); the role's current boundary for
              Put/DeleteRolePolicy, Attach/DetachRolePolicy and
              DeleteRolePermissionsBoundary.
    iam:PolicyARN   PolicyArn (Attach/DetachRolePolicy).
    iam:PassedToService   never: it exists only for iam:PassRole, which no
              IAM API call checks (other services do, when given a role).
    aws:PrincipalArn, aws:PrincipalAccount, aws:username, aws:PrincipalType,
    aws:SecureTransport ("false": the local world is plain HTTP).
    CreateRole with Tags is also authorized as iam:TagRole on the new role,
    with the same request context (as AWS's documented example "IAM: Create
    new users only with specific tags" grants iam:CreateUser and iam:TagUser
    together under aws:RequestTag conditions).

Policy language
    Effect Allow/Deny; Action/NotAction (case-insensitive, * and ?);
    Resource/NotResource (ARN segments matched one by one, * and ?, case-
    sensitive); Condition: String(Not)Equals(IgnoreCase), String(Not)Like,
    Arn(Not)Equals, Arn(Not)Like, Numeric{Equals,NotEquals,LessThan,
    LessThanEquals,GreaterThan,GreaterThanEquals}, Bool, Null, each (but
    Null) with ...IfExists and ForAllValues:/ForAnyValue:.  Operators in a
    block, keys in an operator: AND; values of one key: OR (negated
    operators: none may match).  Condition key names case-insensitive,
    values case-sensitive (but *IgnoreCase).  Missing key: positive
    operators false, negated true, IfExists true, ForAllValues true,
    ForAnyValue false; a multi-valued key under a plain operator is read as
    ForAnyValue (negated: ForAllValues).  Unknown operators never match
    (logged) - for a Deny that errs towards allowing, so tests must not rely
    on them.

AWS documentation followed
    - "Policy evaluation logic" / "Determining whether a request is allowed or
      denied within an account"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    - "IAM JSON policy elements: Condition operators"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    - "Set operators for multivalued context keys"
      https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    - "Actions, resources, and condition keys for AWS Identity and Access
      Management (IAM)"
      https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
    - "Permissions boundaries for IAM entities" (iam:PermissionsBoundary on
      the calls that change an entity's permissions)
      https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    - "Troubleshoot access denied error messages" (the message's wording)
      https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

What it deliberately does not do
    Groups' policies, resource-based policies, permissions boundaries and
    session policies of the *caller*, SCPs, policy variables (${...}),
    Date/IP/Binary operators, sessions (temporary keys of assumed roles:
    relayed to moto unevaluated), IAM actions other than roles', OIDC
    providers' and policies' (evaluated with Resource "*").

Usage
    python iam_front.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:MOTOPORT [--log-file F]
    with IAM_FRONT_AWS_ACCESS_KEY_ID / IAM_FRONT_AWS_SECRET_ACCESS_KEY set to a
    moto user allowed iam:* (it reads the callers' policies and the targets'
    tags, and replays what it allowed) and sts:GetCallerIdentity.
    Secrets, tokens and Authorization headers are never logged.
"""

import argparse
import http.client
import json
import logging
import os
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import serving  # next to this file

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
CREDENTIAL_RE = re.compile(r"Credential=([A-Z0-9]+)/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
# actions whose request context carries the role's current permissions boundary
BOUNDARY_OF_ROLE = {"PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
                    "DeleteRolePermissionsBoundary"}
BOUNDARY_PARAM = {"CreateRole", "PutRolePermissionsBoundary"}

log = logging.getLogger("iam-front")


# ---------------------------------------------------------------- evaluation

def _as_list(v):
    return v if isinstance(v, list) else [v]


def wildcard(pattern, value, ignore_case=False):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, (re.IGNORECASE if ignore_case else 0) | re.DOTALL) is not None


def arn_like(pattern, value):
    """ArnLike: the six colon-separated parts matched one by one (the last may hold colons)."""
    if pattern == "*":
        return True
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return wildcard(pattern, value)
    return all(wildcard(a, b) for a, b in zip(p, v))


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def _numeric(test):
    def m(p, v):
        a, b = _num(v), _num(p)
        return a is not None and b is not None and test(a, b)
    return m


_MATCHERS = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.casefold() == v.casefold(),
    "StringLike": wildcard,
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": arn_like,
    "Bool": lambda p, v: p.lower() == v.lower(),
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "NumericNotEquals": "NumericEquals"}


def condition_holds(operator, key, policy_values, ctx):
    """One (operator, key, values) of a Condition block. ctx: lower-case key -> list of strings."""
    set_op, _, base = operator.rpartition(":")
    if set_op not in ("", "ForAnyValue", "ForAllValues"):
        log.warning("unknown set operator %r: no match", operator)
        return False
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    values = ctx.get(key.lower()) or None  # an empty set counts as missing
    wanted = [json.dumps(p) if isinstance(p, bool) else str(p) for p in _as_list(policy_values)]
    if base == "Null":
        return any((p.lower() == "true") == (values is None) for p in wanted)
    negated = base in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(base, base))
    if matcher is None:
        log.warning("unsupported condition operator %r: no match", operator)
        return False
    if values is None:
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


def statement_matches(st, action, resource, ctx):
    if "NotAction" in st:
        if any(wildcard(a, action, True) for a in _as_list(st["NotAction"])):
            return False
    elif not any(wildcard(a, action, True) for a in _as_list(st.get("Action", []))):
        return False
    if "NotResource" in st:
        if any(arn_like(r, resource) for r in _as_list(st["NotResource"])):
            return False
    elif not any(arn_like(r, resource) for r in _as_list(st.get("Resource", []))):
        return False
    cond = st.get("Condition") or {}
    if not isinstance(cond, dict):
        return False
    for operator, block in cond.items():
        if not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            if not condition_holds(operator, key, wanted, ctx):
                return False
    return True


def evaluate(policies, action, resource, ctx):
    """('Allow'|'ExplicitDeny'|'ImplicitDeny', statement label) over identity policies (dicts)."""
    allowed = None
    for name, doc in policies:
        for i, st in enumerate(_as_list(doc.get("Statement", []))):
            if not isinstance(st, dict) or not statement_matches(st, action, resource, ctx):
                continue
            label = f"{name}/{st.get('Sid') or i}"
            if st.get("Effect") == "Deny":
                return "ExplicitDeny", label
            if st.get("Effect") == "Allow" and allowed is None:
                allowed = label
    return ("Allow", allowed) if allowed else ("ImplicitDeny", None)


def denial_message(principal, action, resource, decision):
    why = ("with an explicit deny in an identity-based policy" if decision == "ExplicitDeny"
           else f"because no identity-based policy allows the {action} action")
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


# ---------------------------------------------------------------- request context

def members(params, prefix):
    """Tags.member.N.Key/Value -> [(k, v)] or TagKeys.member.N -> [k], in N order."""
    out = {}
    for k, v in params.items():
        m = re.fullmatch(re.escape(prefix) + r"\.member\.(\d+)(?:\.(Key|Value))?", k)
        if m:
            n, part = int(m.group(1)), m.group(2)
            if part:
                out.setdefault(n, {})[part] = v
            else:
                out[n] = v
    return [out[n] for n in sorted(out)]


def decode_doc(doc):
    if isinstance(doc, str):
        doc = json.loads(unquote(doc) if doc.lstrip().startswith("%") else doc)
    return doc if isinstance(doc, dict) else {}


class Front:
    def __init__(self, upstream):
        key = os.environ.get("IAM_FRONT_AWS_ACCESS_KEY_ID")
        secret = os.environ.get("IAM_FRONT_AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            sys.exit("iam-front: IAM_FRONT_AWS_ACCESS_KEY_ID/IAM_FRONT_AWS_SECRET_ACCESS_KEY not set")
        self.upstream = urlsplit(upstream)
        if self.upstream.scheme not in ("http", "https") or not self.upstream.netloc:
            sys.exit(f"iam-front: bad --upstream {upstream!r}")
        kw = dict(endpoint_url=upstream, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret,
                  config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))
        self.iam = boto3.session.Session().client("iam", **kw)
        self.creds = Credentials(key, secret)
        self.account = boto3.session.Session().client("sts", **kw).get_caller_identity()["Account"]
        self.users = {}  # access key id -> user ARN (keys never move between users)
        self.lock = threading.Lock()

    def send(self, method, target, headers, body):
        cls = http.client.HTTPSConnection if self.upstream.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.upstream.netloc, timeout=60)
        try:
            has_host = any(k.lower() == "host" for k, _ in headers)
            conn.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body or None)
            r = conn.getresponse()
            return r.status, r.reason, r.getheaders(), r.read()
        finally:
            conn.close()

    def replay(self, body):
        """The same IAM parameters, signed with the front's own key."""
        req = AWSRequest(method="POST", url=f"{self.upstream.scheme}://{self.upstream.netloc}/", data=body,
                         headers={"Host": self.upstream.netloc,
                                  "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.creds, "iam", "us-east-1").add_auth(req)
        p = req.prepare()
        return self.send("POST", "/", list(p.headers.items()), body)

    def _get(self, op, **kw):
        try:
            return getattr(self.iam, op)(**kw)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return None
            raise

    def caller(self, key_id):
        """(user name, user ARN) of an access key, or None (unknown key, or a session's)."""
        with self.lock:
            if key_id in self.users:
                return self.users[key_id]
        used = self._get("get_access_key_last_used", AccessKeyId=key_id)
        name = (used or {}).get("UserName")
        if not name:
            return None
        user = self._get("get_user", UserName=name)
        if not user:
            return None
        found = (name, user["User"]["Arn"])
        with self.lock:
            self.users[key_id] = found
        return found

    def policies(self, user):
        out = []
        for p in self.iam.get_paginator("list_user_policies").paginate(UserName=user):
            for name in p["PolicyNames"]:
                doc = self.iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"]
                out.append((f"inline:{name}", decode_doc(doc)))
        for p in self.iam.get_paginator("list_attached_user_policies").paginate(UserName=user):
            for a in p["AttachedPolicies"]:
                ver = self.iam.get_policy(PolicyArn=a["PolicyArn"])["Policy"]["DefaultVersionId"]
                doc = self.iam.get_policy_version(PolicyArn=a["PolicyArn"], VersionId=ver)["PolicyVersion"]
                out.append((a["PolicyName"], decode_doc(doc["Document"])))
        return out

    def context(self, op, params, principal):
        """[(action, resource, ctx)] to authorize for one IAM request."""
        arn_base = f"arn:aws:iam::{self.account}:"
        ctx = {"aws:principalarn": [principal], "aws:principalaccount": [principal.split(":")[4]],
               "aws:username": [principal.rsplit("/", 1)[-1]], "aws:principaltype": ["User"],
               "aws:securetransport": ["false"]}
        resource, target_tags, role = "*", None, None
        if "RoleName" in params:
            got = self._get("get_role", RoleName=params["RoleName"])
            if got:
                role = got["Role"]
                resource = role["Arn"]
                target_tags = role.get("Tags", [])
            else:
                resource = f"{arn_base}role{params.get('Path') or '/'}{params['RoleName']}"
        elif "OpenIDConnectProviderArn" in params:
            resource = params["OpenIDConnectProviderArn"]
            got = self._get("get_open_id_connect_provider", OpenIDConnectProviderArn=resource)
            target_tags = (got or {}).get("Tags", [])
        elif op == "CreateOpenIDConnectProvider" and params.get("Url"):
            resource = arn_base + "oidc-provider/" + re.sub(r"^https://", "", params["Url"])
        elif "PolicyArn" in params:
            resource = params["PolicyArn"]
        for t in target_tags or []:
            ctx[f"iam:resourcetag/{t['Key']}".lower()] = [t["Value"]]
        tags = members(params, "Tags")
        for t in tags:
            ctx[f"aws:requesttag/{t.get('Key', '')}".lower()] = [t.get("Value", "")]
        keys = [t.get("Key", "") for t in tags] or members(params, "TagKeys")
        if keys:
            ctx["aws:tagkeys"] = keys
        if op in BOUNDARY_PARAM and params.get("PermissionsBoundary"):
            ctx["iam:permissionsboundary"] = [params["PermissionsBoundary"]]
        if op in BOUNDARY_OF_ROLE and role and role.get("PermissionsBoundary"):
            ctx["iam:permissionsboundary"] = [role["PermissionsBoundary"]["PermissionsBoundaryArn"]]
        if op in ("AttachRolePolicy", "DetachRolePolicy") and params.get("PolicyArn"):
            ctx["iam:policyarn"] = [params["PolicyArn"]]
        checks = [(f"iam:{op}", resource, ctx)]
        if op == "CreateRole" and tags:
            checks.append(("iam:TagRole", resource, ctx))
        return checks

    def authorize(self, params, key_id):
        """None (relay to moto) or (403, message) for a denied request."""
        op = params.get("Action", "")
        who = self.caller(key_id)
        if who is None:
            log.info("iam %s by unknown key: relayed unevaluated", op)
            return None
        user, principal = who
        policies = self.policies(user)
        for action, resource, ctx in self.context(op, params, principal):
            decision, label = evaluate(policies, action, resource, ctx)
            log.info("%s %s on %s by %s -> %s%s", "authorize", action, resource, principal, decision,
                     f" ({label})" if label else "")
            if decision != "Allow":
                return denial_message(principal, action, resource, decision)
        return None


def error_body(code, message, request_id):
    return (f'<ErrorResponse xmlns="{IAM_NS}">\n  <Error>\n    <Type>Sender</Type>\n'
            f"    <Code>{escape(code)}</Code>\n    <Message>{escape(message)}</Message>\n"
            f"  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    front: Front = None

    def log_message(self, fmt, *args):
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
        m = CREDENTIAL_RE.search(self.headers.get("Authorization", ""))
        evaluated = False
        if m and m.group(2) == "iam" and params.get("Action") and not self.headers.get("X-Amz-Security-Token"):
            try:
                denied = self.front.authorize(params, m.group(1))
            except Exception as e:  # no traceback: it could quote request data
                log.error("iam %s: evaluation failed (%s: %s)", params.get("Action"), type(e).__name__, e)
                rid = str(uuid.uuid4())
                self.reply(500, None, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)],
                           error_body("ServiceFailure", "iam-front evaluation failed", rid).replace(
                               b"<Type>Sender</Type>", b"<Type>Receiver</Type>"))
                return
            if denied:
                rid = str(uuid.uuid4())
                log.info("iam %s -> 403 AccessDenied: %s", params.get("Action"), denied)
                self.reply(403, None, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)],
                           error_body("AccessDenied", denied, rid))
                return
            evaluated = True
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            status, reason, rheaders, rbody = self.front.send(self.command, self.path, headers, body)
        except OSError as e:
            log.error("upstream unreachable: %s", e)
            self.reply(502, "Bad Gateway", [("Content-Type", "text/plain")], b"upstream unreachable\n")
            return
        if evaluated and status == 403 and b"<Code>AccessDenied</Code>" in rbody:
            # signature good, refused by moto's condition-blind check: replay as the front
            # urlencode, as botocore (and so moto's signature check) encodes a form
            status, reason, rheaders, rbody = self.front.replay(urlencode(params).encode())
            log.info("replayed %s signed by iam-front (moto cannot evaluate conditions) -> %d",
                     params.get("Action"), status)
            return self.reply(status, reason, rheaders, rbody)
        log.info("pass %s action=%s -> %d", self.command, params.get("Action", "-"), status)
        self.reply(status, reason, rheaders, rbody)

    def reply(self, status, reason, headers, body):
        self.send_response_only(status, reason)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


def main(argv=None):
    ap = argparse.ArgumentParser(description="IAM front for moto (evaluates identity policies fully)")
    ap.add_argument("--listen", required=True, help="127.0.0.1:PORT")
    ap.add_argument("--upstream", required=True, help="moto's URL")
    ap.add_argument("--log-file")
    args = ap.parse_args(argv)
    host, port = serving.listen_address(ap, args.listen)
    serving.setup_logging(args.log_file)
    Handler.front = Front(args.upstream)
    return serving.serve("iam-front", Handler, host, port, log, f"upstream {args.upstream}")


if __name__ == "__main__":
    sys.exit(main())
