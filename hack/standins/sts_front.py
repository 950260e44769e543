#!/usr/bin/env python3
"""sts_front: an HTTP front for moto that checks sts:AssumeRoleWithWebIdentity
the way AWS does, and serves EKS Auth AssumeRoleForPodIdentity.

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
       GetOpenIDConnectProvider, signed with the front's own credentials; for
       a role in another account, see "Other accounts" below);
    2. fetches <iss>/.well-known/openid-configuration, then its jwks_uri
       (cached JWKS_TTL seconds, fetched again on an unknown `kid`); checks
       the signature (RS*/PS*/ES*; `none` and HS* refused), `exp`, `nbf`, `iat`;
    3. requires a token `aud` value in the provider's ClientIDList;
    4. gets the role (GetRole, in the role's account) and evaluates its
       trust policy: some Allow statement must match and no Deny
       statement.  A statement matches when its Principal is "*",
       {"AWS": "*"} or has the provider ARN under "Federated", its Action (or
       NotAction) covers the action (case-insensitive, * and ? wildcards) and
       its whole Condition holds;
    5. if allowed, sends the same parameters to moto in a new request signed
       by the front (SigV4, service sts) and relays the answer; otherwise
       answers with STS's Query-protocol XML error. moto issues the
       credentials in the role's account (for another account the front
       checks that with GetCallerIdentity on them: InternalFailure if not).
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

Other accounts (cross-account IRSA)
    The front's IAM user sees only its own account. With --account-role NAME
    (or STS_FRONT_ACCOUNT_ROLE), a role in another account is
    checked with that account's provider and role: the front assumes
    arn:<partition>:iam::<account>:role/NAME (sts:AssumeRole through moto,
    signed by its user, which needs that permission) and reads the account's
    OIDC providers and the role with those credentials; one client per
    account, cached and renewed ACCOUNT_CREDS_RENEW seconds before the
    credentials expire. The front learns its own account once
    (GetCallerIdentity). Without the option, a role in another account is
    looked up in the front's own account, as before: its provider is not
    found ("No OpenIDConnect provider found in your account for <iss>"). An
    account where NAME does not exist is an InternalFailure (moto answers the
    reads with HTTP 500; its AssumeRole succeeds for any role ARN of another
    account). hack/local-cluster runs the front with --account-role
    keyless-test-admin, the second account's admin role
    (hack/cluster/bootstrap_aws.py).

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

EKS Auth AssumeRoleForPodIdentity (REST-JSON, botocore's `eks-auth` model)
    POST /clusters/{clusterName}/assume-role-for-pod-identity {"token": JWT},
    what the EKS Pod Identity Agent calls (hack/standins/pod_identity_agent.py
    here). moto 5.2.5 has no EKS Auth. The front:
    1. requires a SigV4 Authorization header scoped to service eks-auth
       (AccessDeniedException otherwise); the signature itself is NOT
       verified (the front cannot read moto's secret keys), nor is the
       caller's eks-auth:AssumeRoleForPodIdentity permission;
    2. finds the cluster in moto's EKS (DescribeCluster; unknown:
       ResourceNotFoundException) and checks the token as for web identity
       (step 2 above) against the cluster's issuer: `iss` must be that issuer,
       `aud` must include pods.eks.amazonaws.com, `sub` a service account and
       the token bound to a pod (kubernetes.io claims with pod name and uid,
       as every projected token is; an assumption: EKS documents nothing for
       unbound tokens): InvalidTokenException or ExpiredTokenException;
    3. finds the association of (cluster, namespace, service account) through
       moto's EKS (ListPodIdentityAssociations, DescribePodIdentityAssociation,
       hack/cluster/moto_eks_pod_identity.py): none is ResourceNotFoundException;
    4. evaluates the role's trust policy (the evaluator above) for the
       principal {"Service": "pods.eks.amazonaws.com"}, for sts:AssumeRole
       and, unless the association has disableSessionTags, sts:TagSession, each
       allowed on its own, with the six session tags EKS sets
       (eks-cluster-arn, eks-cluster-name, kubernetes-namespace,
       kubernetes-service-account, kubernetes-pod-name, kubernetes-pod-uid) as
       aws:RequestTag/<key> and aws:TagKeys; refused, or no such role:
       AccessDeniedException;
    5. has moto issue the role's credentials (moto's AssumeRoleWithWebIdentity,
       signed by the front: it checks nothing, the checks were ours; moto's
       AssumeRole would check the trust itself and knows no Service
       principal), session name eks-<cluster>-<pod>-<uuid> (cut to 64), with
       the association's `policy` as session policy when there is no target;
    6. with a targetRoleArn, chains as EKS does: evaluates the target role's
       trust for the AWS principal of the first role (its ARN, its session,
       its account), sts:AssumeRole (+ sts:TagSession), sts:ExternalId = the
       association's externalId and the same tags (when the target is in the
       front's account, or, with --account-role, in another account: the
       target is read there as for web identity, "Other accounts"; without
       it another account's target is not evaluated), then calls moto's
       AssumeRole with the first role's credentials (moto checks that role's
       permission to assume the target, and, for a target in the first
       role's account only, the target's trust: hack/cluster/moto_server.py
       corrects moto's principal match), ExternalId, the session tags, and
       the `policy`, which then applies to the target's session only;
    7. answers botocore's output shape (subject, audience, podIdentityAssociation,
       assumedRoleUser {arn, assumeRoleId = role id:session}, credentials with
       expiration in epoch seconds); errors as {"message"} with
       x-amzn-ErrorType and the model's HTTP codes (400 for AccessDenied,
       InvalidToken, ExpiredToken, InvalidParameter; 404 ResourceNotFound;
       500 InternalServer).
    Not modelled: ThrottlingException, the credentials' lifetime (moto's one
    hour), eksNodeName/instanceId/zone, workloadIdentityProviderArn, EKS's
    own messages (ours are descriptive), eventual consistency.

Usage
    python sts_front.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:MOTOPORT \
        --region us-east-1 [--ca-file ca.crt ...] [--account-role NAME] [--log-file path]
    with STS_FRONT_AWS_ACCESS_KEY_ID / STS_FRONT_AWS_SECRET_ACCESS_KEY set to
    an IAM user (in moto) allowed iam:GetRole, iam:ListOpenIDConnectProviders,
    iam:GetOpenIDConnectProvider and sts:AssumeRoleWithWebIdentity, for
    EKS Auth eks:DescribeCluster, eks:ListPodIdentityAssociations and
    eks:DescribePodIdentityAssociation, and with --account-role
    sts:AssumeRole on arn:aws:iam::*:role/NAME (NAME: that role in each other
    account, allowed the three iam reads). --account-role defaults to
    $STS_FRONT_ACCOUNT_ROLE.
    Tokens, secrets and Authorization headers are never logged.
"""

import argparse
import datetime
import http.client
import json
import logging
import os
import re
import ssl
import sys
import threading
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

import boto3
import jwt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

import serving  # next to this file

ACTION = "sts:AssumeRoleWithWebIdentity"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ALLOWED_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
JWKS_TTL = 60  # seconds
ACCOUNT_CREDS_RENEW = 300  # seconds before their expiry when another account's credentials are renewed
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


def _principal_federated(provider_arn):
    """Principal test for AssumeRoleWithWebIdentity: the OIDC provider under Federated."""
    return lambda principal: provider_arn in _as_list(principal.get("Federated", []))


def statement_matches(st, principal_ok, action, ctx):
    """Whether one statement applies to a request: Principal ("*", {"AWS": "*"}
    or principal_ok(Principal dict)), Action/NotAction covering action, and
    its whole Condition holding."""
    if "NotPrincipal" in st or "Principal" not in st:
        return False
    principal = st["Principal"]
    if principal != "*":
        if not isinstance(principal, dict):
            return False
        if "*" not in _as_list(principal.get("AWS", [])) and not principal_ok(principal):
            return False
    if "NotAction" in st:
        if any(_wildcard(a, action, True) for a in _as_list(st["NotAction"])):
            return False
    elif not any(_wildcard(a, action, True) for a in _as_list(st.get("Action", []))):
        return False
    for operator, block in (st.get("Condition") or {}).items():
        if not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            if not condition_holds(operator, key, wanted, ctx):
                return False
    return True


def evaluate_trust(doc, principal_ok, action, ctx):
    """(allowed, reason) for one action under a trust policy document (dict):
    some Allow statement must match and no Deny statement."""
    allowed = None
    for i, st in enumerate(_as_list(doc.get("Statement", []))):
        if not isinstance(st, dict) or not statement_matches(st, principal_ok, action, ctx):
            continue
        label = st.get("Sid") or f"#{i}"
        if st.get("Effect") == "Deny":
            return False, f"explicit Deny in statement {label}"
        if st.get("Effect") == "Allow" and allowed is None:
            allowed = f"allowed by statement {label}"
    return (True, allowed) if allowed else (False, "no Allow statement matches")


def trust_allows(doc, provider_arn, ctx):
    """(allowed, reason) for AssumeRoleWithWebIdentity through provider_arn."""
    return evaluate_trust(doc, _principal_federated(provider_arn), ACTION, ctx)


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


# ---------------------------------------------------------------- other accounts

class AccountClients:
    """IAM clients in accounts other than the front's own: the front assumes
    role_name there (assume(role ARN) -> STS Credentials, with Expiration) and
    keeps one client per account (make_client(credentials)), renewed
    ACCOUNT_CREDS_RENEW seconds before its credentials expire."""

    def __init__(self, role_name, assume, make_client, clock=time.time):
        self.role_name, self.assume, self.make_client, self.clock = role_name, assume, make_client, clock
        self.clients = {}  # (partition, account) -> (client, expiry in epoch seconds)
        self.lock = threading.Lock()

    def get(self, partition, account):
        with self.lock:  # held while assuming: one AssumeRole per account and renewal
            hit = self.clients.get((partition, account))
            if hit and hit[1] - self.clock() > ACCOUNT_CREDS_RENEW:
                return hit[0]
            arn = f"arn:{partition}:iam::{account}:role/{self.role_name}"
            creds = self.assume(arn)
            expiry = creds["Expiration"].timestamp()
            self.clients[(partition, account)] = (self.make_client(creds), expiry)
            log.info("assumed %s to read account %s (credentials until %d)", arn, account, expiry)
            return self.clients[(partition, account)][0]


# ---------------------------------------------------------------- the front

class Front:
    def __init__(self, upstream, region, ca_files, account_role=None):
        key = os.environ.get("STS_FRONT_AWS_ACCESS_KEY_ID")
        secret = os.environ.get("STS_FRONT_AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            sys.exit("sts-front: STS_FRONT_AWS_ACCESS_KEY_ID/STS_FRONT_AWS_SECRET_ACCESS_KEY not set")
        self.upstream = urlsplit(upstream)
        if self.upstream.scheme not in ("http", "https") or not self.upstream.netloc:
            sys.exit(f"sts-front: bad --upstream {upstream!r}")
        self.region, self.creds = region, Credentials(key, secret)
        self.upstream_url = f"{self.upstream.scheme}://{self.upstream.netloc}"
        self.iam = self.client("iam", key, secret)
        self.oidc = Oidc(ca_files)
        self.eks_auth = EksAuth(self)
        # another account's providers and roles: through account_role assumed there
        self.account_role, self.own_account = account_role, None
        self.accounts = account_role and AccountClients(
            account_role, self._assume_account_role,
            lambda c: self.client("iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))

    def client(self, service, key, secret, token=None):
        """A boto3 client of moto with these credentials, one attempt per call."""
        return boto3.session.Session().client(
            service, endpoint_url=self.upstream_url, region_name=self.region, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))

    def _sts_call(self, sts, op, what, **kw):
        try:
            return getattr(sts, op)(**kw)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            raise StsError(500, "InternalFailure", f"sts-front: {what}: {op} failed: {code}", "Receiver")
        except BotoCoreError as e:
            raise StsError(500, "InternalFailure", f"sts-front: {what}: {op} failed: {e}", "Receiver")

    def _assume_account_role(self, arn):
        sts = self.client("sts", self.creds.access_key, self.creds.secret_key)
        return self._sts_call(sts, "assume_role", arn, RoleArn=arn, RoleSessionName="sts-front")["Credentials"]

    def via_account_role(self, account):
        """Whether account is read through --account-role: set, and not the front's own account."""
        if not self.accounts or account is None:
            return False
        if self.own_account is None:
            sts = self.client("sts", self.creds.access_key, self.creds.secret_key)
            self.own_account = self._sts_call(sts, "get_caller_identity", "own account")["Account"]
        return account != self.own_account

    def iam_in(self, account, partition="aws"):
        """The IAM client that reads account (None: the front's own). Without
        --account-role that is always the front's own, which sees only its account."""
        return self.accounts.get(partition, account) if self.via_account_role(account) else self.iam

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

    def _iam(self, op, account=None, partition="aws", **kw):
        """op in account's IAM (None: the front's own); None for NoSuchEntity."""
        iam = self.iam_in(account, partition)
        try:
            return getattr(iam, op)(**kw)
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
        listed = self._iam("list_open_id_connect_providers", account, partition) or {}
        found = [p for p in listed.get("OpenIDConnectProviderList", []) if p.get("Arn") == provider_arn]
        provider = found and self._iam("get_open_id_connect_provider", account, partition,
                                       OpenIDConnectProviderArn=provider_arn)
        if not provider:
            raise invalid_token(f"No OpenIDConnect provider found in your account for {iss}")
        claims = self.oidc.verify(token, iss, alg, header.get("kid"))
        client_ids = provider.get("ClientIDList", [])
        aud = next((a for a in _as_list(claims.get("aud")) if isinstance(a, str) and a in client_ids), None)
        if aud is None:
            raise invalid_token("Incorrect token audience")

        # -- the role and its trust policy
        role = (self._iam("get_role", account, partition, RoleName=role_name) or {}).get("Role")
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
        answer = self.send("POST", "/", list(p.headers.items()), p.body.encode()
                           if isinstance(p.body, str) else p.body)
        if answer[0] == 200 and self.via_account_role(account):
            self._check_issued_in(account, answer[3])
        return answer

    def _check_issued_in(self, account, body):
        """moto's credentials for a role in another account must be that account's."""
        ns = {"s": STS_NS}
        c = ET.fromstring(body).find("s:AssumeRoleWithWebIdentityResult/s:Credentials", ns)
        keys = [c.findtext(f"s:{k}", namespaces=ns) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
        got = self._sts_call(self.client("sts", *keys), "get_caller_identity", "issued credentials")["Account"]
        if got != account:
            raise StsError(500, "InternalFailure",
                           f"sts-front: moto issued credentials in account {got} for a role in account {account}",
                           "Receiver")


# ---------------------------------------------------------------- EKS Auth

EKS_AUTH_PATH = re.compile(r"^/clusters/([^/?]*)/assume-role-for-pod-identity$")
EKS_AUDIENCE = "pods.eks.amazonaws.com"
EKS_SERVICE = "pods.eks.amazonaws.com"
CLUSTER_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
JWT_SHAPE_RE = re.compile(r"^[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+$")
SA_SUBJECT_RE = re.compile(r"^system:serviceaccount:([^:]+):([^:]+)$")
# the eks-auth model's error shapes and their HTTP codes
EKS_ERROR_STATUS = {"AccessDeniedException": 400, "ExpiredTokenException": 400, "InvalidParameterException": 400,
                    "InvalidRequestException": 400, "InvalidTokenException": 400, "ResourceNotFoundException": 404,
                    "ThrottlingException": 429, "InternalServerException": 500, "ServiceUnavailableException": 503}
# STS errors of the token checks shared with AssumeRoleWithWebIdentity -> eks-auth's
STS_TO_EKS = {"InvalidIdentityToken": "InvalidTokenException", "ExpiredTokenException": "ExpiredTokenException",
              "IDPCommunicationError": "InternalServerException"}


class EksAuthError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message
        self.status = EKS_ERROR_STATUS[code]


def session_tag_context(tags):
    """The request context of an AssumeRole with these session tags."""
    ctx = {f"aws:requesttag/{k}".lower(): [v] for k, v in tags.items()}
    if tags:
        ctx["aws:tagkeys"] = list(tags)
    return ctx


def _principal_service(service):
    return lambda principal: service in _as_list(principal.get("Service", []))


def _principal_role(role_arn):
    """An AWS principal that names the role, one of its sessions, or its account."""
    partition, account, name = ROLE_ARN_RE.match(role_arn).groups()

    def ok(principal):
        for p in _as_list(principal.get("AWS", [])):
            p = str(p)
            if p in (role_arn, account, f"arn:{partition}:iam::{account}:root"):
                return True
            if p.startswith(f"arn:{partition}:sts::{account}:assumed-role/{name}/"):
                return True
        return False
    return ok


def trust_allows_actions(doc, principal_ok, actions, ctx):
    """(allowed, reason): every action must be allowed on its own."""
    for action in actions:
        allowed, reason = evaluate_trust(doc, principal_ok, action, ctx)
        if not allowed:
            return False, f"{action}: {reason}"
    return True, "allowed"


class EksAuth:
    """AssumeRoleForPodIdentity (eks-auth, REST-JSON) on top of moto's EKS,
    IAM and STS. Uses the front's Oidc (JWKS) and trust policy evaluator."""

    def __init__(self, front):
        self.front = front
        kw = dict(endpoint_url=front.upstream_url, region_name=front.region,
                  aws_access_key_id=front.creds.access_key, aws_secret_access_key=front.creds.secret_key,
                  config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))
        self.eks = boto3.session.Session().client("eks", **kw)

    def _call(self, client, op, missing=None, **kw):
        try:
            return getattr(client, op)(**kw)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if missing and code in missing:
                return None
            raise EksAuthError("InternalServerException", f"eks-auth stand-in: {op} failed: {code}")
        except BotoCoreError as e:
            raise EksAuthError("InternalServerException", f"eks-auth stand-in: {op} failed: {e}")

    def _token(self, token, cluster):
        """The verified claims of a pod's service account token."""
        if not isinstance(token, str) or not token:
            raise EksAuthError("InvalidParameterException", "token is required")
        if not JWT_SHAPE_RE.match(token):
            raise EksAuthError("InvalidTokenException", "The token is not a well-formed JWT")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise EksAuthError("InvalidTokenException", "The token is not a well-formed JWT")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise EksAuthError("InvalidTokenException", f"Unsupported token signing algorithm: {alg}")
        issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")
        if not issuer or unverified.get("iss") != issuer:
            raise EksAuthError("InvalidTokenException", "The token was not issued by this cluster")
        try:
            claims = self.front.oidc.verify(token, issuer, alg, header.get("kid"))
        except StsError as e:
            raise EksAuthError(STS_TO_EKS.get(e.code, "InvalidTokenException"), e.message)
        if EKS_AUDIENCE not in [a for a in _as_list(claims.get("aud")) if isinstance(a, str)]:
            raise EksAuthError("InvalidTokenException", f"The token's audience must be {EKS_AUDIENCE}")
        m = SA_SUBJECT_RE.match(str(claims.get("sub", "")))
        k8s = claims.get("kubernetes.io") if isinstance(claims.get("kubernetes.io"), dict) else {}
        pod = k8s.get("pod") if isinstance(k8s.get("pod"), dict) else {}
        if not m or not pod.get("name") or not pod.get("uid"):
            raise EksAuthError("InvalidTokenException",
                               "The token is not a service account token bound to a pod")
        return {"namespace": m.group(1), "serviceAccount": m.group(2), "pod": pod["name"], "podUid": pod["uid"]}

    def _moto_web_identity(self, role_arn, session, policy):
        """moto issues credentials for role_arn (its AssumeRoleWithWebIdentity
        checks nothing: the checks were ours), signed by the front."""
        params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role_arn,
                  "RoleSessionName": session, "WebIdentityToken": "checked-by-eks-auth-stand-in"}
        if policy:
            params["Policy"] = policy
        url = f"{self.front.upstream_url}/"
        req = AWSRequest(method="POST", url=url, data=urlencode(params), headers={
            "Host": self.front.upstream.netloc,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.front.creds, "sts", self.front.region).add_auth(req)
        p = req.prepare()
        status, _, _, body = self.front.send("POST", "/", list(p.headers.items()),
                                             p.body.encode() if isinstance(p.body, str) else p.body)
        if status != 200:
            raise EksAuthError("InternalServerException", f"eks-auth stand-in: moto answered {status}")
        doc = ET.fromstring(body)
        ns = {"s": STS_NS}
        res = doc.find("s:AssumeRoleWithWebIdentityResult", ns)
        c = res.find("s:Credentials", ns)
        return {"AccessKeyId": c.findtext("s:AccessKeyId", namespaces=ns),
                "SecretAccessKey": c.findtext("s:SecretAccessKey", namespaces=ns),
                "SessionToken": c.findtext("s:SessionToken", namespaces=ns),
                "Expiration": c.findtext("s:Expiration", namespaces=ns),
                "Arn": res.findtext("s:AssumedRoleUser/s:Arn", namespaces=ns)}

    def _role(self, arn):
        m = ROLE_ARN_RE.match(arn or "")
        role = m and (self.front._iam("get_role", m.group(2), m.group(1), RoleName=m.group(3)) or {}).get("Role")
        if not role or role.get("Arn") != arn:
            return None
        doc = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(doc, str):
            doc = json.loads(unquote(doc) if doc.startswith("%7B") else doc)
        role["AssumeRolePolicyDocument"] = doc
        return role

    def assume_role_for_pod_identity(self, cluster_name, body, info):
        if not CLUSTER_NAME_RE.match(cluster_name):
            raise EksAuthError("InvalidParameterException", f"clusterName {cluster_name!r} is not valid")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = None
        if not isinstance(req, dict):
            raise EksAuthError("InvalidParameterException", "the request body is not a JSON object")
        cluster = self._call(self.eks, "describe_cluster", missing=("ResourceNotFoundException",), name=cluster_name)
        if cluster is None:
            raise EksAuthError("ResourceNotFoundException", f"No cluster found for name: {cluster_name}.")
        cluster = cluster["cluster"]
        sub = self._token(req.get("token"), cluster)
        info.update(namespace=sub["namespace"], sa=sub["serviceAccount"])

        listed = self._call(self.eks, "list_pod_identity_associations", clusterName=cluster_name,
                            namespace=sub["namespace"], serviceAccount=sub["serviceAccount"])
        if not listed.get("associations"):
            raise EksAuthError("ResourceNotFoundException",
                               f"No Pod Identity Association found for service account {sub['serviceAccount']} "
                               f"in namespace {sub['namespace']}")
        assoc = self._call(self.eks, "describe_pod_identity_association", clusterName=cluster_name,
                           associationId=listed["associations"][0]["associationId"])["association"]
        role_arn, target_arn = assoc["roleArn"], assoc.get("targetRoleArn")
        info.update(association=assoc["associationId"], role=role_arn, target=target_arn)
        tags = {} if assoc.get("disableSessionTags") else {
            "eks-cluster-arn": cluster["arn"], "eks-cluster-name": cluster_name,
            "kubernetes-namespace": sub["namespace"], "kubernetes-service-account": sub["serviceAccount"],
            "kubernetes-pod-name": sub["pod"], "kubernetes-pod-uid": sub["podUid"]}
        actions = ["sts:AssumeRole"] + (["sts:TagSession"] if tags else [])
        denied = f"Unable to assume role {{}} for the Pod Identity association {assoc['associationId']}"

        role = self._role(role_arn)
        if role is None:
            info["reason"] = "role not found"
            raise EksAuthError("AccessDeniedException", denied.format(role_arn))
        allowed, reason = trust_allows_actions(role["AssumeRolePolicyDocument"], _principal_service(EKS_SERVICE),
                                               actions, session_tag_context(tags))
        info["reason"] = reason
        if not allowed:
            raise EksAuthError("AccessDeniedException", denied.format(role_arn))
        session = re.sub(r"[^\w+=,.@-]", "-", f"eks-{cluster_name}-{sub['pod']}")[:27] + "-" + str(uuid.uuid4())
        first = self._moto_web_identity(role_arn, session, None if target_arn else assoc.get("policy"))
        creds, arn, role_id = first, first["Arn"], f"{role['RoleId']}:{session}"
        if target_arn:
            creds, arn, role_id = self._chain(role_arn, target_arn, session, assoc, tags, actions, first, denied)
        exp = creds["Expiration"]
        if isinstance(exp, str):
            exp = datetime.datetime.fromisoformat(exp.replace("Z", "+00:00"))
        return {
            "subject": {"namespace": sub["namespace"], "serviceAccount": sub["serviceAccount"]},
            "audience": EKS_AUDIENCE,
            "podIdentityAssociation": {"associationArn": assoc["associationArn"],
                                       "associationId": assoc["associationId"]},
            "assumedRoleUser": {"arn": arn, "assumeRoleId": role_id},
            "credentials": {"sessionToken": creds["SessionToken"], "secretAccessKey": creds["SecretAccessKey"],
                            "accessKeyId": creds["AccessKeyId"], "expiration": int(exp.timestamp())},
        }

    def _chain(self, role_arn, target_arn, session, assoc, tags, actions, first, denied):
        """targetRoleArn: the first role's credentials assume the target role."""
        if not ROLE_ARN_RE.match(target_arn):
            raise EksAuthError("AccessDeniedException", denied.format(target_arn))
        if ROLE_ARN_RE.match(target_arn).group(2) == ROLE_ARN_RE.match(role_arn).group(2) or self.front.accounts:
            target = self._role(target_arn)  # another account's roles: only through --account-role
            ctx = session_tag_context(tags)
            if assoc.get("externalId"):
                ctx["sts:externalid"] = [assoc["externalId"]]
            allowed, reason = (False, "target role not found") if target is None else trust_allows_actions(
                target["AssumeRolePolicyDocument"], _principal_role(role_arn), actions, ctx)
            if not allowed:
                raise EksAuthError("AccessDeniedException", denied.format(target_arn) + f" ({reason})")
        sts = boto3.session.Session().client(
            "sts", endpoint_url=self.front.upstream_url, region_name=self.front.region,
            aws_access_key_id=first["AccessKeyId"], aws_secret_access_key=first["SecretAccessKey"],
            aws_session_token=first["SessionToken"], config=Config(retries={"max_attempts": 1}))
        kw = {"RoleArn": target_arn, "RoleSessionName": session}
        if assoc.get("externalId"):
            kw["ExternalId"] = assoc["externalId"]
        if assoc.get("policy"):
            kw["Policy"] = assoc["policy"]
        if tags:
            kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        try:
            out = sts.assume_role(**kw)
        except ClientError as e:
            err = e.response.get("Error", {})
            if err.get("Code") == "AccessDenied":
                raise EksAuthError("AccessDeniedException", denied.format(target_arn) + f": {err.get('Message')}")
            raise EksAuthError("InternalServerException", f"eks-auth stand-in: AssumeRole failed: {err.get('Code')}")
        return out["Credentials"], out["AssumedRoleUser"]["Arn"], out["AssumedRoleUser"]["AssumedRoleId"]


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
        m = EKS_AUTH_PATH.match(urlsplit(self.path).path)
        if m and self.command == "POST":
            return self.pod_identity(unquote(m.group(1)), body)
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

    def pod_identity(self, cluster_name, body):
        info = {}
        rid = str(uuid.uuid4())
        try:
            auth = self.headers.get("Authorization", "")
            scope = re.search(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request", auth)
            if not auth.startswith("AWS4-HMAC-SHA256 ") or not scope:
                raise EksAuthError("AccessDeniedException", "Missing Authentication Token")
            if scope.group(2) != "eks-auth":
                raise EksAuthError("AccessDeniedException",
                                   "Credential should be scoped to correct service: 'eks-auth'")
            out = self.front.eks_auth.assume_role_for_pod_identity(cluster_name, body, info)
            status, payload = 200, out
            headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", rid)]
            decision = f"allowed ({info.get('reason')}) as {out['assumedRoleUser']['arn']}"
        except Exception as e:
            if isinstance(e, StsError):
                e = EksAuthError("InternalServerException", e.message)
            elif not isinstance(e, EksAuthError):  # no traceback: it could hold the token
                log.error("AssumeRoleForPodIdentity: internal error of type %s", type(e).__name__)
                e = EksAuthError("InternalServerException", "eks-auth stand-in internal error")
            status, payload = e.status, {"message": e.message}
            headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", rid),
                       ("x-amzn-ErrorType", e.code)]
            decision = f"{e.code}: {e.message}" + (f" ({info['reason']})" if info.get("reason") else "")
        log.info("AssumeRoleForPodIdentity cluster=%s namespace=%s sa=%s association=%s role=%s target=%s -> %s",
                 cluster_name, info.get("namespace"), info.get("sa"), info.get("association"), info.get("role"),
                 info.get("target"), decision)
        self.reply(status, None, headers, json.dumps(payload).encode())

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
    ap.add_argument("--account-role", default=os.environ.get("STS_FRONT_ACCOUNT_ROLE") or None,
                    help="role name the front assumes in another account to read its OIDC providers and roles "
                         "(default $STS_FRONT_ACCOUNT_ROLE; none: only the front's own account is read)")
    ap.add_argument("--log-file")
    args = ap.parse_args(argv)
    host, port = serving.listen_address(ap, args.listen)
    serving.setup_logging(args.log_file)
    Handler.front = Front(args.upstream, args.region, args.ca_file, args.account_role)
    return serving.serve("sts-front", Handler, host, port, log, f"upstream {args.upstream}")


if __name__ == "__main__":
    sys.exit(main())
