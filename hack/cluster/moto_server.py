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

Everything else is moto as released (signature checking is switched on after
bootstrap through moto's /moto-api/reset-auth; see hack/cluster/bootstrap_aws.py).
"""

import os
import sys

import moto.eks.models as eks_models
import moto.iam.access_control as access_control
import moto.iam.exceptions as iam_exceptions
import moto.iam.models as iam_models
import moto.iam.responses as iam_responses
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
moto_eks_pod_identity.install()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
