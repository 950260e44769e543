"""The EKS Pod Identity association API, added to moto 5.2.5 (which has none).

moto 5.2.5 routes no /clusters/{name}/pod-identity-associations[/{id}] path
(its router answers 404), so keyless' five association calls could only be
checked against botocore's serializer. install() adds them to moto's own EKS
response class, url map and backend, shaped as botocore's `eks` model
(2017-11-01) says, so every request still goes through moto's signature and
IAM-policy checks (signed as service `eks`, authorized as `eks:<Action>`):

    CreatePodIdentityAssociation    POST   /clusters/{name}/pod-identity-associations
    ListPodIdentityAssociations     GET    /clusters/{name}/pod-identity-associations
    DescribePodIdentityAssociation  GET    /clusters/{name}/pod-identity-associations/{associationId}
    UpdatePodIdentityAssociation    POST   /clusters/{name}/pod-identity-associations/{associationId}
    DeletePodIdentityAssociation    DELETE /clusters/{name}/pod-identity-associations/{associationId}

Dispatch needs only the two url patterns: moto finds the operation from the
method and path through botocore's model, and calls the response method of
that name. Associations live on the EKS backend of the request's account and
region (moto's reset clears them; deleting a cluster deletes its
associations, as EKS does).

What EKS documents, and is modelled:
- an association answers every member of the model's PodIdentityAssociation:
  clusterName, namespace, serviceAccount, roleArn, associationArn
  (arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>),
  associationId (`a-` and 17 lower-case letters/digits), tags, createdAt,
  modifiedAt (epoch seconds), disableSessionTags (false unless set),
  targetRoleArn, externalId (a UUID, present while there is a target role:
  the value the target role's trust policy matches as sts:ExternalId),
  policy; ownerArn is never set (no EKS add-ons here). A list entry is the
  model's summary (no roleArn, tags or times);
- InvalidParameterException (400): a missing or empty namespace,
  serviceAccount or roleArn; a namespace that is not a DNS-1123 label or a
  service account that is not a DNS-1123 subdomain; a roleArn/targetRoleArn
  that is not an IAM role ARN; disableSessionTags not a boolean; a policy
  that is not a JSON object, or a policy while session tags are on ("When
  using this policy, disableSessionTags must be set to true"); tags beyond
  the documented limits (50 tags, key 1..128, value <= 256, no `aws:`
  prefix); an update that changes none of roleArn, targetRoleArn,
  disableSessionTags, policy ("You must change at least one"); maxResults
  outside 1..100; a nextToken this server did not issue; a body that is not
  a JSON object;
- ResourceNotFoundException (404): an unknown cluster (moto's own message),
  an unknown association id in that cluster;
- ResourceInUseException (409): a create for a namespace/service account of
  the cluster that already has an association;
- clientRequestToken: a create or update repeated with the same token and
  the same parameters answers the association as it is, changing nothing
  (no second association, no new modifiedAt);
- ListPodIdentityAssociations filters by exact namespace and/or
  serviceAccount, answers in creation order, at most maxResults (default
  100) per page, with an opaque nextToken while more remain (a deletion
  between pages does not shift the next page).

Assumptions where EKS documents nothing (the wording of messages is ours):
- the same clientRequestToken with different parameters is an
  InvalidParameterException (the model has no IdempotentParameterMismatch);
  a token is remembered per cluster and operation while its association
  exists;
- on update, targetRoleArn "" or policy "" removes the target role (and
  its externalId) or the policy; externalId is kept while the target role
  changes;
- the role's existence and trust policy are not checked (EKS Auth checks
  the trust when credentials are requested).

The pod identity webhook's association file, as the EKS control plane keeps
it: with KEYLESS_POD_IDENTITY_CONFIG=<path> and
KEYLESS_POD_IDENTITY_CLUSTER=<region>/<cluster name> in the environment, every
create or delete of an association of that cluster (and the cluster's
deletion) rewrites <path> (a new file renamed over it) as
{"identities": [{"namespace": ..., "serviceAccount": ...}, ...]} (sorted), the
format amazon-eks-pod-identity-webhook's --watch-container-credentials-config
reads (pkg/containercredentials), so pods of an associated service account get
the container-credentials injection. moto's /moto-api/reset does not rewrite
it; a same-named cluster in another account of that region would.

Not modelled: ownerArn (add-on owned associations), ResourceLimitExceeded
(associations per cluster), InvalidRequestException (cluster not ACTIVE:
moto's clusters always are), TagResource/UntagResource/ListTagsForResource
on an association ARN, eventual consistency (a change is visible at once).
"""

import base64
import datetime
import json
import os
import re
import string
import uuid
from urllib.parse import parse_qs

import moto.eks.models as eks_models
import moto.eks.urls as eks_urls
from moto.core.responses import ActionResult
from moto.eks.exceptions import InvalidParameterException, ResourceInUseException, ResourceNotFoundException
from moto.eks.models import EKSBackend
from moto.eks.responses import EKSResponse
from moto.moto_api._internal import mock_random as random

COLLECTION = "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$"
ITEM = "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$"

MAX_RESULTS = 100
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
ID_CHARS = string.ascii_lowercase + string.digits


def write_webhook_config(backend, changed):
    """Rewrite the webhook's association file if cluster `changed` is the configured one."""
    path, where = os.environ.get("KEYLESS_POD_IDENTITY_CONFIG"), os.environ.get("KEYLESS_POD_IDENTITY_CLUSTER")
    if not path or not where:
        return
    region, _, cluster = where.partition("/")
    if (backend.region_name, changed) != (region, cluster):
        return
    assocs = _state(backend)["by_cluster"].get(cluster, {}).values()
    identities = sorted({(a["namespace"], a["serviceAccount"]) for a in assocs})
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump({"identities": [{"namespace": n, "serviceAccount": sa} for n, sa in identities]}, f)
    os.replace(tmp, path)


def _invalid(message):
    return InvalidParameterException(message=message)


def _not_found(message, cluster=None):
    return ResourceNotFoundException(clusterName=cluster, message=message)


# --- the backend -------------------------------------------------------------


def _state(backend):
    """The backend's associations, kept in its __dict__ so reset() drops them."""
    return backend.__dict__.setdefault("pod_identity", {"by_cluster": {}, "tokens": {}, "seq": 0})


def _cluster_associations(backend, cluster):
    if cluster not in backend.clusters:
        raise _not_found(eks_models.CLUSTER_NOT_FOUND_MSG.format(clusterName=cluster), cluster)
    return _state(backend)["by_cluster"].setdefault(cluster, {})


def _association(backend, cluster, association_id):
    found = _cluster_associations(backend, cluster).get(association_id)
    if found is None:
        raise _not_found(f"No Pod Identity association found for id: {association_id}.", cluster)
    return found


def _check_role_arn(member, value):
    if not isinstance(value, str) or not ROLE_ARN.match(value):
        raise _invalid(f"{member} is not a valid IAM role ARN: {value!r}")


def _check_target_and_policy(disable_session_tags, target_role_arn, policy):
    if disable_session_tags is not None and not isinstance(disable_session_tags, bool):
        raise _invalid("disableSessionTags must be a boolean")
    if target_role_arn:
        _check_role_arn("targetRoleArn", target_role_arn)
    if policy:
        try:
            doc = json.loads(policy) if isinstance(policy, str) else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise _invalid("policy must be an IAM policy document in JSON")
        if not disable_session_tags:
            raise _invalid("disableSessionTags must be set to true when a policy is given")


def _check_tags(tags):
    if tags is None:
        return
    if not isinstance(tags, dict) or not 1 <= len(tags) <= 50:
        raise _invalid("tags must be a map of 1 to 50 tags")
    for k, v in tags.items():
        if not isinstance(v, str) or not 1 <= len(k) <= 128 or len(v) > 256:
            raise _invalid(f"tag {k!r}: a key is 1 to 128 characters, a value at most 256")
        if k.lower().startswith("aws:"):
            raise _invalid(f"tag {k!r}: the aws: prefix is reserved")


def _replay(backend, cluster, op, token, params):
    """The association a repeated request (same token) stands for, or None."""
    if not token:
        return None
    seen = _state(backend)["tokens"].get((cluster, op, token))
    if seen is None:
        return None
    association_id, seen_params = seen
    found = _state(backend)["by_cluster"].get(cluster, {}).get(association_id)
    if found is None:
        return None
    if seen_params != params:
        raise _invalid(f"clientRequestToken {token} was already used with different parameters")
    return found


def create_pod_identity_association(self, cluster_name, namespace, service_account, role_arn,
                                    client_request_token=None, tags=None, disable_session_tags=None,
                                    target_role_arn=None, policy=None):
    for member, value in (("namespace", namespace), ("serviceAccount", service_account), ("roleArn", role_arn)):
        if not isinstance(value, str) or not value:
            raise _invalid(f"{member} is required")
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        raise _invalid(f"namespace {namespace!r} is not a valid Kubernetes namespace name")
    if len(service_account) > 253 or not DNS1123_SUBDOMAIN.match(service_account):
        raise _invalid(f"serviceAccount {service_account!r} is not a valid Kubernetes service account name")
    _check_role_arn("roleArn", role_arn)
    _check_target_and_policy(disable_session_tags, target_role_arn, policy)
    _check_tags(tags)
    assocs = _cluster_associations(self, cluster_name)
    params = dict(namespace=namespace, serviceAccount=service_account, roleArn=role_arn, tags=tags,
                  disableSessionTags=disable_session_tags, targetRoleArn=target_role_arn, policy=policy)
    again = _replay(self, cluster_name, "create", client_request_token, params)
    if again is not None:
        return again
    for a in assocs.values():
        if (a["namespace"], a["serviceAccount"]) == (namespace, service_account):
            raise ResourceInUseException(
                clusterName=cluster_name, nodegroupName=None, addonName=None,
                message=f"Association already exists: {a['associationId']}")
    association_id = "a-" + "".join(random.choice(ID_CHARS) for _ in range(17))
    now = datetime.datetime.now(datetime.timezone.utc)
    state = _state(self)
    state["seq"] += 1
    assoc = {
        "clusterName": cluster_name,
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
        "associationArn": f"arn:{self.partition}:eks:{self.region_name}:{self.account_id}:"
                          f"podidentityassociation/{cluster_name}/{association_id}",
        "associationId": association_id,
        "tags": dict(tags or {}),
        "createdAt": now,
        "modifiedAt": now,
        "disableSessionTags": bool(disable_session_tags),
        "targetRoleArn": target_role_arn or None,
        "externalId": str(uuid.uuid4()) if target_role_arn else None,
        "policy": policy or None,
        "_seq": state["seq"],
    }
    assocs[association_id] = assoc
    if client_request_token:
        state["tokens"][(cluster_name, "create", client_request_token)] = (association_id, params)
    write_webhook_config(self, cluster_name)
    return assoc


def update_pod_identity_association(self, cluster_name, association_id, role_arn=None, client_request_token=None,
                                    disable_session_tags=None, target_role_arn=None, policy=None):
    assoc = _association(self, cluster_name, association_id)
    params = dict(associationId=association_id, roleArn=role_arn, disableSessionTags=disable_session_tags,
                  targetRoleArn=target_role_arn, policy=policy)
    again = _replay(self, cluster_name, "update", client_request_token, params)
    if again is not None:
        return again
    if role_arn is None and disable_session_tags is None and target_role_arn is None and policy is None:
        raise _invalid("change at least one of roleArn, targetRoleArn, disableSessionTags, policy")
    if role_arn is not None:
        _check_role_arn("roleArn", role_arn)
    tags_off = assoc["disableSessionTags"] if disable_session_tags is None else disable_session_tags
    new_policy = assoc["policy"] if policy is None else policy
    _check_target_and_policy(tags_off, target_role_arn, new_policy)
    if role_arn is not None:
        assoc["roleArn"] = role_arn
    if disable_session_tags is not None:
        assoc["disableSessionTags"] = disable_session_tags
    if target_role_arn is not None:
        assoc["targetRoleArn"] = target_role_arn or None
        if not target_role_arn:
            assoc["externalId"] = None
        elif not assoc["externalId"]:
            assoc["externalId"] = str(uuid.uuid4())
    if policy is not None:
        assoc["policy"] = policy or None
    assoc["modifiedAt"] = datetime.datetime.now(datetime.timezone.utc)
    if client_request_token:
        _state(self)["tokens"][(cluster_name, "update", client_request_token)] = (association_id, params)
    return assoc


def describe_pod_identity_association(self, cluster_name, association_id):
    return _association(self, cluster_name, association_id)


def delete_pod_identity_association(self, cluster_name, association_id):
    _association(self, cluster_name, association_id)
    gone = _state(self)["by_cluster"][cluster_name].pop(association_id)
    write_webhook_config(self, cluster_name)
    return gone


def list_pod_identity_associations(self, cluster_name, namespace=None, service_account=None, max_results=None,
                                   next_token=None):
    assocs = _cluster_associations(self, cluster_name)
    if max_results is None:
        max_results = MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise _invalid(f"maxResults must be between 1 and {MAX_RESULTS}")
    after = 0
    if next_token:
        try:
            after = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["after"])
        except (ValueError, KeyError, TypeError):
            raise _invalid("nextToken is not valid")
    match = [a for a in sorted(assocs.values(), key=lambda a: a["_seq"])
             if a["_seq"] > after
             and (namespace is None or a["namespace"] == namespace)
             and (service_account is None or a["serviceAccount"] == service_account)]
    page = match[:max_results]
    token = None
    if len(match) > max_results:
        token = base64.urlsafe_b64encode(json.dumps({"after": page[-1]["_seq"]}).encode()).decode()
    return page, token


def _delete_cluster(delete_cluster):
    def wrapped(self, name):
        cluster = delete_cluster(self, name)
        if _state(self)["by_cluster"].pop(name, None):
            write_webhook_config(self, name)
        return cluster
    wrapped.__wrapped__ = delete_cluster
    return wrapped


# --- the responses -------------------------------------------------------------

SUMMARY = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")


def _body(self):
    if not self.body:
        return {}
    try:
        body = json.loads(self.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _invalid("the request body is not a JSON object")
    return body


def _query(self, name):
    values = parse_qs(self.parsed_url.query, keep_blank_values=True).get(name)
    return values[0] if values else None


def _uri(self, name):
    return self.uri_match.get(name)


def _result(assoc):
    return ActionResult({"association": {k: v for k, v in assoc.items() if not k.startswith("_")}})


def r_create(self):
    b = _body(self)
    return _result(self.eks_backend.create_pod_identity_association(
        cluster_name=_uri(self, "name"), namespace=b.get("namespace"), service_account=b.get("serviceAccount"),
        role_arn=b.get("roleArn"), client_request_token=b.get("clientRequestToken"), tags=b.get("tags"),
        disable_session_tags=b.get("disableSessionTags"), target_role_arn=b.get("targetRoleArn"),
        policy=b.get("policy")))


def r_describe(self):
    return _result(self.eks_backend.describe_pod_identity_association(_uri(self, "name"), _uri(self, "associationId")))


def r_update(self):
    b = _body(self)
    return _result(self.eks_backend.update_pod_identity_association(
        cluster_name=_uri(self, "name"), association_id=_uri(self, "associationId"), role_arn=b.get("roleArn"),
        client_request_token=b.get("clientRequestToken"), disable_session_tags=b.get("disableSessionTags"),
        target_role_arn=b.get("targetRoleArn"), policy=b.get("policy")))


def r_delete(self):
    return _result(self.eks_backend.delete_pod_identity_association(_uri(self, "name"), _uri(self, "associationId")))


def r_list(self):
    max_results = _query(self, "maxResults")
    if max_results is not None:
        try:
            max_results = int(max_results)
        except ValueError:
            raise _invalid("maxResults must be an integer")
    page, token = self.eks_backend.list_pod_identity_associations(
        _uri(self, "name"), namespace=_query(self, "namespace"), service_account=_query(self, "serviceAccount"),
        max_results=max_results, next_token=_query(self, "nextToken"))
    out = {"associations": [{k: a.get(k) for k in SUMMARY} for a in page]}
    if token:
        out["nextToken"] = token
    return ActionResult(out)


BACKEND = {
    "create_pod_identity_association": create_pod_identity_association,
    "describe_pod_identity_association": describe_pod_identity_association,
    "update_pod_identity_association": update_pod_identity_association,
    "delete_pod_identity_association": delete_pod_identity_association,
    "list_pod_identity_associations": list_pod_identity_associations,
}
RESPONSES = {
    "create_pod_identity_association": r_create,
    "describe_pod_identity_association": r_describe,
    "update_pod_identity_association": r_update,
    "delete_pod_identity_association": r_delete,
    "list_pod_identity_associations": r_list,
}


def install():
    """Add the five calls to moto's EKS (only where moto has none). Call before
    the server answers its first EKS request (its url map is built then)."""
    if hasattr(EKSResponse, "create_pod_identity_association"):
        return False
    for name, impl in BACKEND.items():
        setattr(EKSBackend, name, impl)
    for name, impl in RESPONSES.items():
        setattr(EKSResponse, name, impl)
    EKSBackend.delete_cluster = _delete_cluster(EKSBackend.delete_cluster)
    for pattern in (COLLECTION, ITEM):
        eks_urls.url_paths.setdefault(pattern, EKSResponse.dispatch)
    return True
