"""Start moto's own server (moto.server.main), configured for the local cluster.

moto has no setting for the OIDC issuer and endpoint that EKS DescribeCluster
returns: it generates a random https://oidc.eks.<region>.amazonaws.com/id/...
at import. A real EKS cluster reports the issuer of its own kube-apiserver, so
tests that read the issuer through DescribeCluster need moto to report ours.
This launcher sets those two templates from the environment and then runs the
unmodified moto server:

    KEYLESS_EKS_ISSUER=https://127.0.0.1:6443 KEYLESS_EKS_ENDPOINT=https://127.0.0.1:6443 \
        python hack/cluster/moto_server.py -H 127.0.0.1 -p 5000

It also corrects one moto 5.2.5 bug that would otherwise make signature
checking unusable for REST APIs: for a request with an empty body (every
REST GET, e.g. EKS ListClusters/DescribeCluster), IAMRequestBase.
_create_aws_request passes `self._body or self._data` as the payload, and for
such requests `self._data` is the parsed query string or, without one, a dict
of the request's headers (moto/core/responses.py); the payload hash moto
computes is then never the one the client signed, and every such request fails
with SignatureDoesNotMatch once auth is on. SigV4 signs the body as received,
so the corrected method uses the raw body (empty when there is none).
hack/cluster/test_moto_server.py shows the bug and the fix.

moto 5.2.5 also lacks two IAM actions keyless uses to govern audiences on the
shared OIDC provider: AddClientIDToOpenIDConnectProvider and
RemoveClientIDFromOpenIDConnectProvider (moto answers "not yet implemented").
They are added here on moto's own IAM response class and backend model, with
AWS' documented semantics: adding a present client id and removing an absent
one succeed and change nothing; an unknown provider ARN is NoSuchEntity; a
client id is at most 255 characters.

moto 5.2.5 has no route for the EKS Pod Identity association API
(CreatePodIdentityAssociation, DescribePodIdentityAssociation,
UpdatePodIdentityAssociation, DeletePodIdentityAssociation,
ListPodIdentityAssociations; its router answers 404).
hack/cluster/moto_eks_pod_identity.py adds the five calls on moto's own EKS
response class, url map and backend, with the shapes of botocore's eks model
and the validation errors, conflicts and clientRequestToken idempotency EKS
documents; its docstring says what is modelled, what is assumed, and what is
not; hack/cluster/test_moto_eks_pod_identity.py tests it with boto3.

Two gaps of moto 5.2.5's access control matter to EKS Pod Identity's
targetRoleArn chaining and session policies (hack/standins/sts_front.py's EKS
Auth stand-in has moto issue the credentials):
- for sts:AssumeRole moto checks the target role's trust policy with a
  principal test that knows only the exact caller ARN: a trust naming the
  role arn:...:role/R (as AWS documents for role chaining) never matches
  that role's session arn:...:sts::A:assumed-role/R/S, and a statement
  whose Principal has no "AWS" key (e.g. {"Service": ...}) raises a
  TypeError (HTTP 500). The corrected test follows IAM's rules for an AWS
  principal: "*", the caller's ARN, its account id or arn:...:iam::A:root,
  and for a role session the role's ARN (any path); any other principal
  (Service, Federated) does not match an IAM caller. moto's other trust
  simplifications stay (a statement whose principal or condition does not
  match counts as a Deny; conditions know only sts:ExternalId);
- moto stores an AssumeRole `Policy` (session policy) and never applies it:
  the session's permissions stay the role's. The corrected check also
  requires the session policy, when there is one, to allow the action (the
  intersection AWS documents).
hack/cluster/test_moto_server.py shows each on plain moto and the fix.

Everything else is moto as released (signature checking is switched on after
bootstrap through moto's /moto-api/reset-auth; see hack/cluster/bootstrap_aws.py).
"""

import os
import re
import sys

import moto.eks.models as eks_models
import moto.iam.access_control as access_control
import moto.iam.exceptions as iam_exceptions
import moto.iam.models as iam_models
import moto.iam.responses as iam_responses
import moto.sts.models as sts_models
from moto.server import main

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moto_eks_pod_identity  # noqa: E402  (beside this file)


def _literal(template: str) -> str:
    # moto calls .format(region=...) on these; escape braces so ours is literal.
    return template.replace("{", "{{").replace("}", "}}")


if os.environ.get("KEYLESS_EKS_ISSUER"):
    eks_models.ISSUER_TEMPLATE = _literal(os.environ["KEYLESS_EKS_ISSUER"])
if os.environ.get("KEYLESS_EKS_ENDPOINT"):
    eks_models.ENDPOINT_TEMPLATE = _literal(os.environ["KEYLESS_EKS_ENDPOINT"])

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_raw_body(self):
    request = _create_aws_request(self)
    # A form POST (Query protocol) arrives with its body parsed into _data and
    # an empty _body: moto's own re-encoding of _data is right there. Any other
    # request with an empty body has an empty payload.
    ctype = next((v for k, v in self._headers.items() if k.lower() == "content-type"), "")
    if not self._body and not ctype.startswith("application/x-www-form-urlencoded"):
        request.data = b""
    return request


def fix_empty_body_signatures():
    access_control.IAMRequestBase._create_aws_request = _create_aws_request_raw_body


fix_empty_body_signatures()


def _add_client_id(self, arn: str, client_id: str) -> None:
    if len(client_id) > 255:
        raise iam_exceptions.ValidationError(
            "1 validation error detected: Value at 'clientID' failed to satisfy constraint: "
            "Member must have length less than or equal to 255")
    provider = self.get_open_id_connect_provider(arn)
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)


def _remove_client_id(self, arn: str, client_id: str) -> None:
    provider = self.get_open_id_connect_provider(arn)
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)


def _response(method):
    def action(self):
        getattr(self.backend, method)(self._get_param("OpenIDConnectProviderArn"), self._get_param("ClientID"))
        return iam_responses.EmptyResult()
    return action


def add_oidc_client_id_actions():
    """Install the two client-id actions (only where moto has none)."""
    backend, responses = iam_models.IAMBackend, iam_responses.IamResponse
    for name, impl in (("add_client_id_to_open_id_connect_provider", _add_client_id),
                       ("remove_client_id_from_open_id_connect_provider", _remove_client_id)):
        if not hasattr(responses, name):
            setattr(backend, name, impl)
            setattr(responses, name, _response(name))


add_oidc_client_id_actions()

ASSUMED_ROLE_ARN = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/")


def _check_principal(self, principal):
    expected = self._statement.get("Principal")
    if not expected or expected == "*":
        return True
    if not isinstance(expected, dict) or expected.get("AWS") is None:
        return False
    parts = principal.split(":")
    partition, account = (parts[1], parts[4]) if len(parts) > 5 else (None, None)
    session = ASSUMED_ROLE_ARN.match(principal)
    for p in expected["AWS"] if isinstance(expected["AWS"], list) else [expected["AWS"]]:
        if p in ("*", principal, account, f"arn:{partition}:iam::{account}:root"):
            return True
        if session and re.fullmatch(
                rf"arn:{re.escape(session[1])}:iam::{session[2]}:role/(?:[^\s]*/)?{re.escape(session[3])}", str(p)):
            return True
    return False


def _session_policy(access_key):
    for role in sts_models.sts_backends[access_key.account_id][access_key.partition].assumed_roles:
        if role.access_key_id == access_key._access_key_id:
            return role.policy
    return None


_check_action_permitted = access_control.IAMRequestBase.check_action_permitted


def _check_action_permitted_with_session_policy(self, resource):
    _check_action_permitted(self, resource)
    key = self._access_key
    if isinstance(key, access_control.AssumedRoleAccessKey) and self._action != "sts:GetCallerIdentity":
        policy = _session_policy(key)
        if policy and access_control.IAMPolicy(policy).is_action_permitted(
                self._action, resource) != access_control.PermissionResult.PERMITTED:
            self._raise_access_denied()


def fix_assume_role_checks():
    access_control.IAMPolicyStatement._check_principal = _check_principal
    access_control.IAMRequestBase.check_action_permitted = _check_action_permitted_with_session_policy


fix_assume_role_checks()
moto_eks_pod_identity.install()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
