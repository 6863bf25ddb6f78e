"""Every AWS call a function makes in the tests, checked against the IAM policy of its role as
SAM's translation of ``template.yaml`` gives it. moto ignores IAM; this module does not.

- ``evaluate``: IAM's evaluation logic for the identity-based policies of one role (IAM User
  Guide, "Policy evaluation logic": an explicit Deny wins, then an Allow, else the implicit
  deny; "IAM JSON policy elements": Action/NotAction, Resource/NotResource with ``*`` and ``?``,
  the condition operators with ``IfExists``, ``ForAnyValue:``/``ForAllValues:`` and the rules
  for keys missing from the request).
- ``OPERATIONS``: what IAM authorizes for each API operation the code calls: the action(s),
  the resource ARN(s) and the condition keys the request really carries (the Service
  Authorization Reference: "Actions, resources, and condition keys for Amazon DynamoDB /
  Amazon S3 / Amazon SES / AWS Systems Manager / Amazon SQS"). An operation missing here is
  refused, so new code cannot slip past the check.
- ``RoleChecker``: botocore hooks on a function's own clients. A call the role may not make
  is answered the way AWS answers it (an ``AccessDenied`` error in the service's protocol, so
  botocore raises the real ``ClientError``), recorded, and fails the test (``tests/conftest.py``)
  unless the test expects it (``LEDGER.expect_denials()``). S3's ``GetObject`` of a missing key
  answers 404 only when the role may also ``s3:ListBucket`` the bucket, else 403 (S3 API
  Reference, GetObject, "Permissions"); moto always answers 404.
- ``LEDGER``: every grant a call used; ``unused_grants`` lists the template's grants no
  scenario used (least privilege the other way round).

Why not a library: moto's own IAM enforcement (``moto.iam.access_control``) skips the
Resource and Condition parts for most services, denies where a condition merely does not match,
ignores ``StringLike`` and unknown operators (the statement then applies), and matches ``.`` in
ARNs as any character; ``policyuniverse`` parses and expands policies but evaluates no request;
the maintained IAM simulators are JavaScript or Rust (``@cloud-copilot/iam-simulate``,
``iam-rs``), or AWS's own ``SimulatePrincipalPolicy``, which needs an account. What is not
modelled raises ``UnsupportedPolicyError`` instead of guessing.
"""

import json
import os
import re
import threading
import warnings
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from functools import cache, lru_cache
from itertools import product
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.model import OperationModel

from devtools.template import load_template
from devtools.translate import PSEUDO_PARAMETERS, Resolver, SamUnavailableError, translate

ACCOUNT = PSEUDO_PARAMETERS["AWS::AccountId"]
PARTITION = PSEUDO_PARAMETERS["AWS::Partition"]


class UnsupportedPolicyError(ValueError):
    """A policy uses something this module does not model (an operator, a policy variable)."""


# -- IAM's evaluation logic ---------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one;
    everything else literally. Actions match case-insensitively, resources do not."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``/``ArnEquals``: each of the six ``:``-separated parts matched on its own."""
    patterns, values = pattern.split(":", 5), value.split(":", 5)
    return len(patterns) == len(values) == 6 and all(
        wildcard_match(p, v) for p, v in zip(patterns, values, strict=True)
    )


# name -> (compare(policy value, request value), negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), True),
    "StringLike": (wildcard_match, False),
    "StringNotLike": (wildcard_match, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
}


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def condition_holds(
    operator: str, key: str, policy_values: Any, values: tuple[str, ...] | None
) -> bool:
    """One ``operator: {key: policy_values}`` entry against the request's values of ``key``
    (``None``: the key is not in the request). Several policy values: any may match (for the
    negated operators: none may). A missing key fails a positive operator and satisfies a
    negated one; ``...IfExists`` holds when the key is missing; ``ForAllValues:`` holds for a
    missing key, ``ForAnyValue:`` does not; ``Null: true`` means "missing"."""
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedPolicyError(f"condition operator {operator!r} (on {key})")
    expected = [_text(v) for v in _as_tuple(policy_values)]
    if name == "Null":
        if qualifier:
            raise UnsupportedPolicyError(f"condition operator {operator!r} (on {key})")
        return any((values is None) == (v.lower() == "true") for v in expected)
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in _OPERATORS:
        raise UnsupportedPolicyError(
            f"condition operator {operator!r} (on {key}) is not modelled in tests/support/iam.py"
        )
    compare, negated = _OPERATORS[name]

    def one(value: str) -> bool:
        hit = any(compare(p, value) for p in expected)
        return not hit if negated else hit

    if not values:
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated and qualifier != "ForAnyValue"
    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


@dataclass(frozen=True, eq=False)
class Statement:
    """One statement of one of the role's policies. ``policy`` and ``index`` say where it is
    in the template (they stay when a test edits the statement)."""

    policy: str
    index: int
    effect: str
    sid: str | None = None
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, policy: str, index: int, document: Mapping[str, Any]) -> "Statement":
        def strings(name: str) -> tuple[str, ...] | None:
            if name not in document:
                return None
            values = tuple(str(v) for v in _as_tuple(document[name]))
            for value in values:
                if "${" in value:
                    raise UnsupportedPolicyError(f"policy variable in {policy}: {value}")
            return values

        effect = str(document["Effect"])
        if effect not in ("Allow", "Deny"):
            raise UnsupportedPolicyError(f"Effect {effect!r} in {policy}")
        return cls(
            policy=policy,
            index=index,
            effect=effect,
            sid=document.get("Sid"),
            actions=strings("Action") or (),
            not_actions=strings("NotAction"),
            resources=strings("Resource") or (),
            not_resources=strings("NotResource"),
            condition=dict(document.get("Condition") or {}),
        )

    @property
    def key(self) -> tuple[str, int]:
        return (self.policy, self.index)

    @property
    def label(self) -> str:
        where = f"statement {self.index} of {self.policy}"
        return f"{self.sid} ({where})" if self.sid else where

    def document(self) -> dict[str, Any]:
        """The statement as a policy document writes it."""
        doc: dict[str, Any] = {"Sid": self.sid} if self.sid else {}
        doc["Effect"] = self.effect
        if self.not_actions is not None:
            doc["NotAction"] = list(self.not_actions)
        else:
            doc["Action"] = list(self.actions)
        if self.not_resources is not None:
            doc["NotResource"] = list(self.not_resources)
        else:
            doc["Resource"] = list(self.resources)
        if self.condition:
            doc["Condition"] = dict(self.condition)
        return doc

    def match(self, request: "Request") -> "Match | None":
        """Whether the statement applies to the request, and through which of its entries."""
        actions: tuple[int, ...] = ()
        if self.not_actions is not None:
            if any(wildcard_match(a, request.action, ignore_case=True) for a in self.not_actions):
                return None
        else:
            actions = tuple(
                i
                for i, a in enumerate(self.actions)
                if wildcard_match(a, request.action, ignore_case=True)
            )
            if not actions:
                return None
        resources: tuple[int, ...] = ()
        if self.not_resources is not None:
            if any(wildcard_match(r, request.resource) for r in self.not_resources):
                return None
        else:
            resources = tuple(
                i for i, r in enumerate(self.resources) if wildcard_match(r, request.resource)
            )
            if not resources:
                return None
        # Condition keys are case-insensitive (IAM JSON policy elements: Condition).
        context = {k.lower(): v for k, v in request.context.items()}
        for operator, entries in self.condition.items():
            for key, policy_values in entries.items():
                if not condition_holds(operator, key, policy_values, context.get(key.lower())):
                    return None
        return Match(self, actions, resources)


@dataclass(frozen=True)
class Request:
    """What IAM authorizes: one action on one resource, with the request's context keys."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.action} on {self.resource}"
        if self.context:
            keys = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(self.context.items()))
            text += f" (request context: {keys})"
        return text


@dataclass(frozen=True)
class Match:
    """A statement that applies to a request: the indexes of its matching Action and
    Resource entries (empty for NotAction / NotResource)."""

    statement: Statement
    actions: tuple[int, ...]
    resources: tuple[int, ...]


@dataclass(frozen=True)
class Decision:
    request: Request
    allowed_by: tuple[Match, ...]
    denied_by: Statement | None

    @property
    def allowed(self) -> bool:
        return self.denied_by is None and bool(self.allowed_by)


def evaluate(statements: Sequence[Statement], request: Request) -> Decision:
    """The decision of the role's identity-based policies alone (no resource policies, SCPs,
    permission boundaries or session policies: the stack has none for its functions' calls)."""
    allows: list[Match] = []
    for statement in statements:
        matched = statement.match(request)
        if matched is None:
            continue
        if statement.effect == "Deny":
            return Decision(request, (), statement)
        allows.append(matched)
    return Decision(request, tuple(allows), None)


# -- what IAM authorizes for an API call ----------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One API call as a botocore client makes it (``params`` as the caller passed them)."""

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str
    sending_identities: Callable[[], Collection[str]] = lambda: ()

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{ACCOUNT}:{resource}"


Authorize = Callable[[Call], list[Request]]
OPERATIONS: dict[tuple[str, str], Authorize] = {}


def _operation(service: str, *operations: str) -> Callable[[Authorize], Authorize]:
    def register(authorize: Authorize) -> Authorize:
        for operation in operations:
            OPERATIONS[(service, operation)] = authorize
        return authorize

    return register


def _present(params: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Condition keys taken from request parameters that are present."""
    return {key: (_text(params[name]),) for key, name in keys.items() if name in params}


def _table_arn(call: Call, name: str) -> str:
    return name if name.startswith("arn:") else call.arn("dynamodb", f"table/{name}")


_DYNAMODB_KEYS = {
    "dynamodb:ReturnValues": "ReturnValues",
    "dynamodb:ReturnConsumedCapacity": "ReturnConsumedCapacity",
    "dynamodb:Select": "Select",
}


@_operation("dynamodb", "GetItem", "PutItem", "UpdateItem", "DeleteItem")
def _dynamodb_item(call: Call) -> list[Request]:
    return [
        Request(
            f"dynamodb:{call.operation}",
            _table_arn(call, call.params["TableName"]),
            _present(call.params, _DYNAMODB_KEYS),
        )
    ]


@_operation("dynamodb", "Query", "Scan")
def _dynamodb_read(call: Call) -> list[Request]:
    """On an index, the index is the resource: ``table/<t>/index/<i>``. A ``Query`` carries
    ``dynamodb:LeadingKeys``: the partition key value it asks for (the first equality of
    its key condition)."""
    arn = _table_arn(call, call.params["TableName"])
    if "IndexName" in call.params:
        arn = f"{arn}/index/{call.params['IndexName']}"
    keys = _present(call.params, _DYNAMODB_KEYS)
    leading = re.match(r"\s*#?\w+\s*=\s*(:\w+)", call.params.get("KeyConditionExpression", ""))
    if leading:
        value = call.params.get("ExpressionAttributeValues", {}).get(leading.group(1), {})
        keys["dynamodb:LeadingKeys"] = tuple(str(v) for v in value.values())
    return [Request(f"dynamodb:{call.operation}", arn, keys)]


@_operation("dynamodb", "BatchGetItem", "BatchWriteItem")
def _dynamodb_batch(call: Call) -> list[Request]:
    """Authorized on every table named in ``RequestItems``."""
    return [
        Request(f"dynamodb:{call.operation}", _table_arn(call, table))
        for table in call.params["RequestItems"]
    ]


_TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@_operation("dynamodb", "TransactWriteItems")
def _dynamodb_transact_write(call: Call) -> list[Request]:
    """No action of its own: each action of the transaction is authorized as the item
    operation it performs, on its table, with ``dynamodb:EnclosingOperation`` (DynamoDB
    developer guide, "Using IAM with DynamoDB transactions")."""
    return [
        Request(
            f"dynamodb:{_TRANSACT_WRITE_ACTIONS[kind]}",
            _table_arn(call, action[kind]["TableName"]),
            {"dynamodb:EnclosingOperation": ("TransactWriteItems",)},
        )
        for action in call.params["TransactItems"]
        for kind in action
    ]


def _bucket_arn(bucket: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}"


def _object_arn(params: Mapping[str, Any]) -> str:
    return f"{_bucket_arn(params['Bucket'])}/{params['Key']}"


@_operation("s3", "GetObject", "HeadObject")
def _s3_read(call: Call) -> list[Request]:
    """``HeadObject`` needs ``s3:GetObject`` too; a given version ``s3:GetObjectVersion``."""
    action = "s3:GetObjectVersion" if call.params.get("VersionId") else "s3:GetObject"
    return [Request(action, _object_arn(call.params))]


_PUT_OBJECT_KEYS = {
    "s3:x-amz-acl": "ACL",
    "s3:x-amz-server-side-encryption": "ServerSideEncryption",
    "s3:x-amz-storage-class": "StorageClass",
}
_ACL_PARAMS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP")


@_operation("s3", "PutObject")
def _s3_put(call: Call) -> list[Request]:
    """Tags need ``s3:PutObjectTagging`` and ACLs ``s3:PutObjectAcl`` as well."""
    arn = _object_arn(call.params)
    requests = [Request("s3:PutObject", arn, _present(call.params, _PUT_OBJECT_KEYS))]
    if "Tagging" in call.params:
        requests.append(Request("s3:PutObjectTagging", arn))
    if any(name in call.params for name in _ACL_PARAMS):
        requests.append(Request("s3:PutObjectAcl", arn))
    return requests


@_operation("s3", "DeleteObject")
def _s3_delete(call: Call) -> list[Request]:
    action = "s3:DeleteObjectVersion" if call.params.get("VersionId") else "s3:DeleteObject"
    return [Request(action, _object_arn(call.params))]


@_operation("s3", "ListObjects", "ListObjectsV2")
def _s3_list(call: Call) -> list[Request]:
    keys = {"s3:prefix": "Prefix", "s3:delimiter": "Delimiter", "s3:max-keys": "MaxKeys"}
    return [
        Request("s3:ListBucket", _bucket_arn(call.params["Bucket"]), _present(call.params, keys))
    ]


def missing_key_listing(bucket: str, key: str) -> Request:
    """What S3 checks before it says a key does not exist: may the caller list the bucket at
    that key? S3 documents the rule (GetObject: without ``s3:ListBucket``, 403 AccessDenied)
    but not the ``s3:prefix`` of that check; it is taken to be the key, which is what a user
    measured on S3 with a prefix-conditioned grant (kopia/kopia#3072: 404 inside the granted
    prefix, 403 outside)."""
    return Request("s3:ListBucket", _bucket_arn(bucket), {"s3:prefix": (key,)})


def sending_identity(address: str, verified: Collection[str]) -> str:
    """The SES identity a message from ``address`` is sent under: the address when it is a
    verified identity, else its domain or the nearest parent domain that is (SES Developer
    Guide, "Creating and verifying identities": a verified domain covers its addresses and
    subdomains); an unverified sender stays the address (SES then rejects the message)."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    identities = {i.lower() for i in verified}
    if f"{local}@{domain}".lower() in identities:
        return f"{local}@{domain}"
    labels = domain.split(".")
    for start in range(len(labels) - 1):
        if ".".join(labels[start:]) in identities:
            return ".".join(labels[start:])
    return address


@_operation("ses", "SendRawEmail", "SendEmail")
def _ses_send(call: Call) -> list[Request]:
    """``ses:SendRawEmail`` on the sending identity, with ``ses:FromAddress`` (the ``Source``,
    else the message's ``From`` header) and ``ses:Recipients``. ``SendEmail`` is authorized
    as ``ses:SendEmail``; ``SourceArn``/``FromArn`` (sending authorization) name the identity.
    With ``ConfigurationSetName`` the same action is authorized on the configuration set too
    (Service Authorization Reference for SES: SendRawEmail's resource types are identity and
    configuration-set, so a role needs both)."""
    params = call.params
    recipients: list[str] = []
    source = str(params.get("Source") or "")
    if "RawMessage" in params:
        headers = BytesHeaderParser().parsebytes(bytes(params["RawMessage"]["Data"]))
        source = source or str(headers.get("From", ""))
        recipients = [
            a for _, a in getaddresses(headers.get_all("To", []) + headers.get_all("Cc", []))
        ]
    recipients = list(params.get("Destinations") or recipients)
    for field_name in ("ToAddresses", "CcAddresses", "BccAddresses"):
        recipients += list(params.get("Destination", {}).get(field_name, []))
    display_name, address = parseaddr(source)
    identity_arn = params.get("SourceArn") or params.get("FromArn")
    if not identity_arn:
        identity = sending_identity(address, call.sending_identities())
        identity_arn = call.arn("ses", f"identity/{identity}")
    context: dict[str, tuple[str, ...]] = {"ses:FromAddress": (address,)}
    if recipients:
        context["ses:Recipients"] = tuple(recipients)
    if display_name:
        context["ses:FromDisplayName"] = (display_name,)
    requests = [Request(f"ses:{call.operation}", identity_arn, context)]
    if params.get("ConfigurationSetName"):
        configuration_set = call.arn("ses", f"configuration-set/{params['ConfigurationSetName']}")
        requests.append(Request(f"ses:{call.operation}", configuration_set, context))
    return requests


@_operation("ses", "GetSendQuota")
def _ses_account(call: Call) -> list[Request]:
    """The account's sending quota: no resource types (Service Authorization Reference for
    SES: GetSendQuota), so it is authorized on ``*`` only."""
    return [Request(f"ses:{call.operation}", "*")]


def _parameter_arn(call: Call, name: str) -> str:
    """``parameter/<name>``; a hierarchical name keeps its slashes (``parameter/a/b``)."""
    if name.startswith("arn:"):
        return name
    return call.arn("ssm", "parameter/" + name.removeprefix("/"))


@_operation("ssm", "GetParameter")
def _ssm_get(call: Call) -> list[Request]:
    """A SecureString under the AWS managed key (``aws/ssm``) needs no ``kms:Decrypt`` grant
    in the role (a customer managed key would)."""
    return [Request("ssm:GetParameter", _parameter_arn(call, call.params["Name"]))]


@_operation("ssm", "GetParameters")
def _ssm_get_many(call: Call) -> list[Request]:
    return [Request("ssm:GetParameters", _parameter_arn(call, n)) for n in call.params["Names"]]


def queue_arn(queue_url: str, region: str) -> str:
    account, name = urlsplit(queue_url).path.strip("/").split("/")[-2:]
    return f"arn:{PARTITION}:sqs:{region}:{account}:{name}"


@_operation("sqs", "SendMessage", "SendMessageBatch")
def _sqs_send(call: Call) -> list[Request]:
    """A batch is authorized as ``sqs:SendMessage``."""
    return [Request("sqs:SendMessage", queue_arn(call.params["QueueUrl"], call.region))]


@_operation(
    "sqs",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "GetQueueAttributes",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
)
def _sqs_poll(call: Call) -> list[Request]:
    """What an SQS event source mapping calls with the function's role, and a consumer's
    ``ChangeMessageVisibility``; a batch is authorized as its single action."""
    action = call.operation.removesuffix("Batch")
    return [Request(f"sqs:{action}", queue_arn(call.params["QueueUrl"], call.region))]


def _bus_arn(call: Call, name: str) -> str:
    return name if name.startswith("arn:") else call.arn("events", f"event-bus/{name}")


@_operation("events", "PutEvents")
def _events_put(call: Call) -> list[Request]:
    """``events:PutEvents`` on the bus of each entry (the default bus without one), with the
    entry's ``events:source`` and ``events:detail-type`` (Service Authorization Reference,
    "Actions, resources, and condition keys for Amazon EventBridge")."""
    return [
        Request(
            "events:PutEvents",
            _bus_arn(call, str(entry.get("EventBusName") or "default")),
            {
                "events:source": (str(entry.get("Source", "")),),
                "events:detail-type": (str(entry.get("DetailType", "")),),
            },
        )
        for entry in call.params["Entries"]
    ]


@_operation("scheduler", "CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule")
def _scheduler_schedule(call: Call) -> list[Request]:
    """On the schedule, ``schedule/<group>/<name>`` (the group ``default`` without one).
    Create and update hand the target's role to the scheduler: ``iam:PassRole`` on it, with
    ``iam:PassedToService`` (IAM User Guide, "Granting a user permissions to pass a role")."""
    group = str(call.params.get("GroupName") or "default")
    requests = [
        Request(
            f"scheduler:{call.operation}",
            call.arn("scheduler", f"schedule/{group}/{call.params['Name']}"),
        )
    ]
    role = call.params.get("Target", {}).get("RoleArn")
    if role:
        requests.append(
            Request(
                "iam:PassRole", str(role), {"iam:PassedToService": ("scheduler.amazonaws.com",)}
            )
        )
    return requests


@_operation("dynamodbstreams", "DescribeStream", "GetShardIterator", "GetRecords")
def _dynamodb_stream(call: Call) -> list[Request]:
    """``dynamodb:<operation>`` on the stream; ``GetRecords`` names it through its shard
    iterator, which starts with the stream's ARN (``<stream arn>|1|<token>``)."""
    arn = call.params.get("StreamArn") or str(call.params["ShardIterator"]).split("|", 1)[0]
    return [Request(f"dynamodb:{call.operation}", str(arn))]


@_operation("dynamodbstreams", "ListStreams")
def _dynamodb_list_streams(call: Call) -> list[Request]:
    """Listing a table's streams: authorized on its streams, ``table/<t>/stream/*`` (the
    resource AWS's own example policy for a Lambda stream consumer names, DynamoDB developer
    guide, "IAM policy to allow an AWS Lambda function to access DynamoDB stream records")."""
    return [
        Request("dynamodb:ListStreams", f"{_table_arn(call, call.params['TableName'])}/stream/*")
    ]


# -- the roles of the translated template ----------------------------------------------------


@cache
def translated_template() -> dict[str, Any]:
    """``template.yaml`` translated by SAM's translator, once per session."""
    return translate()


class BoundResolver(Resolver):
    """The template's intrinsic functions with the physical names of the test's resources:
    ``physical`` maps logical ids of tables, queues and buckets to the names the test created
    them under, so that ``!GetAtt StoriesTable.Arn`` is the moto table's ARN."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        physical: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(template, parameters)
        self.physical = dict(physical or {})
        self.region = self.parameters["AWS::Region"]

    def _type(self, logical_id: str) -> str:
        return str(self.resources[logical_id]["Type"])

    def ref(self, name: str) -> Any:
        if name in self.physical and self._type(name) == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{self.physical[name]}"
        if name in self.physical:
            return self.physical[name]
        return super().ref(name)

    def attribute(self, logical_id: str, attribute: str) -> str:
        name, type_ = self.physical.get(logical_id), self._type(logical_id)
        if name is not None:
            arns = {
                "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{self.region}:{ACCOUNT}"
                f":table/{name}",
                "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{self.region}:{ACCOUNT}:{name}",
                "AWS::S3::Bucket": _bucket_arn(name),
                "AWS::Events::EventBus": f"arn:{PARTITION}:events:{self.region}:{ACCOUNT}"
                f":event-bus/{name}",
                "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            }
            if attribute == "Arn" and type_ in arns:
                return arns[type_]
            if attribute == "QueueName" and type_ == "AWS::SQS::Queue":
                return name
        return super().attribute(logical_id, attribute)


def functions(template: Mapping[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    ]


@dataclass(frozen=True)
class Role:
    """A function's execution role: the statements of its inline and attached policies.
    AWS managed policies (``managed``) are not evaluated: SAM attaches basic execution (logs)
    and X-Ray write access, which the runtime uses; the code makes no such calls."""

    function: str
    name: str
    statements: tuple[Statement, ...]
    managed: tuple[str, ...]

    @property
    def principal(self) -> str:
        return f"arn:{PARTITION}:sts::{ACCOUNT}:assumed-role/{self.name}/{self.function}"


def function_role(template: Mapping[str, Any], function: str, resolver: Resolver) -> Role:
    """The role of ``function`` (a logical id) with its policies resolved by ``resolver``."""
    resources = template["Resources"]
    role_ref = resources[function]["Properties"]["Role"]
    role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) else None
    if role_id is None or role_id not in resources:
        raise UnsupportedPolicyError(f"{function}'s role is not a resource of the template")
    role = resources[role_id]["Properties"]
    policies = [(p["PolicyName"], p["PolicyDocument"]) for p in role.get("Policies", [])]
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {
            "Ref": role_id
        } in resource["Properties"].get("Roles", []):
            properties = resource["Properties"]
            policies.append(
                (properties.get("PolicyName", logical_id), properties["PolicyDocument"])
            )
    statements: list[Statement] = []
    for name, document in policies:
        resolved = resolver.resolve(document)
        for index, statement in enumerate(_as_tuple(resolved["Statement"])):
            statements.append(Statement.parse(str(resolver.resolve(name)), index, statement))
    managed = tuple(str(arn) for arn in resolver.resolve(role.get("ManagedPolicyArns", [])))
    return Role(function, role_id, tuple(statements), managed)


def template_bindings(
    function: str, env: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Parameter values and physical names that a function's environment implies: a variable
    the template sets to ``!Ref Parameter`` and the test sets to a value means the stack was
    deployed with that parameter value; one set to ``!Ref Table`` names that table."""
    template = load_template()
    declared: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    properties = template["Resources"][function].get("Properties", {})
    declared.update(properties.get("Environment", {}).get("Variables", {}))
    parameters: dict[str, str] = {}
    physical: dict[str, str] = {}
    for name, value in env.items():
        target = declared.get(name)
        if not (isinstance(target, dict) and set(target) == {"Ref"}):
            continue
        if target["Ref"] in template.get("Parameters", {}):
            parameters[target["Ref"]] = value
        elif target["Ref"] in template["Resources"]:
            physical[target["Ref"]] = value
    return parameters, physical


# -- what was used and what was refused --------------------------------------------------------


@dataclass(frozen=True)
class Denial:
    """A call the role may not make (``request`` ``None``: an operation with no mapping)."""

    role: Role
    service: str
    operation: str
    request: Request | None
    denied_by: Statement | None = None
    missing_key: bool = False

    def aws_message(self) -> str:
        """What AWS says (IAM's wording for identity-based policies)."""
        if self.request is None:
            return f"User: {self.role.principal} is not authorized to call {self.operation}"
        action, resource = self.request.action, self.request.resource
        reason = (
            "with an explicit deny in an identity-based policy"
            if self.denied_by
            else f"because no identity-based policy allows the {action} action"
        )
        return (
            f"User: {self.role.principal} is not authorized to perform: {action} on resource: "
            f"{resource} {reason}"
        )

    def describe(self) -> str:
        """For the test's failure: the function, the call, and what it would need."""
        call = f"{self.service}.{self.operation}"
        if self.request is None:
            return (
                f"{self.role.function} called {call}, which tests/support/iam.py does not map "
                "to IAM: add its action(s), resource(s) and condition keys from the Service "
                "Authorization Reference to OPERATIONS, so that the call is checked"
            )
        what = f"{self.role.function} may not {self.request.describe()}"
        if self.missing_key:
            what += (
                f" ({call} of a missing key: S3 answers 403 AccessDenied instead of 404 "
                "NoSuchKey to a caller that may not list the bucket)"
            )
        else:
            what += f" (called {call})"
        if self.denied_by is not None:
            return f"{what}: denied explicitly by {self.denied_by.label}"
        needed = {
            "Effect": "Allow",
            "Action": self.request.action,
            "Resource": self.request.resource,
        }
        return (
            f"{what}: no statement of {self.role.name}'s policies allows it; the role needs "
            f"a statement like {json.dumps(needed)} in {self.role.function}'s Policies"
        )


@dataclass(frozen=True)
class Grant:
    """One Action entry x one Resource entry of an Allow statement of a function's role."""

    function: str
    statement: Statement
    action: int | None
    resource: int | None

    @property
    def key(self) -> tuple[str, tuple[str, int], int | None, int | None]:
        return (self.function, self.statement.key, self.action, self.resource)

    def describe(self) -> str:
        s = self.statement
        action = s.actions[self.action] if self.action is not None else f"NotAction {s.not_actions}"
        resource = (
            s.resources[self.resource]
            if self.resource is not None
            else f"NotResource {s.not_resources}"
        )
        return f"{self.function}: {s.label} grants {action} on {resource}"


def grants(role: Role) -> list[Grant]:
    found: list[Grant] = []
    for s in role.statements:
        if s.effect != "Allow":
            continue
        actions = [None] if s.not_actions is not None else list(range(len(s.actions)))
        resources = [None] if s.not_resources is not None else list(range(len(s.resources)))
        found += [Grant(role.function, s, a, r) for a, r in product(actions, resources)]
    return found


@dataclass
class TierRun:
    """What the session did with one tier of tests (fed by ``tests/conftest.py``)."""

    folder: str
    collected: set[str] = field(default_factory=set)
    deselected: set[str] = field(default_factory=set)
    narrowed: bool = False  # a node id (``path::test``) on the command line
    ran: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)

    def files_on_disk(self, root: str) -> set[str]:
        folder = os.path.join(root, self.folder)
        return {
            f"{self.folder}/{name}"
            for name in os.listdir(folder)
            if name.startswith("test_") and name.endswith(".py")
        }

    def incomplete(self, root: str) -> str | None:
        """Why this session did not run the whole tier (``None``: it did)."""
        files = {nodeid.split("::", 1)[0] for nodeid in self.collected}
        missing = sorted(self.files_on_disk(root) - files)
        if missing:
            return f"{self.folder} was not collected whole (missing {', '.join(missing)})"
        if self.narrowed:
            return f"only some tests of {self.folder} were selected (node ids)"
        if self.deselected:
            return f"{len(self.deselected)} tests of {self.folder} were deselected"
        not_run = self.collected - self.ran - self.skipped
        if not_run:
            return f"{len(not_run)} tests of {self.folder} have not run (yet)"
        return None


class Ledger:
    """The session's record: grants used, denials (per test), and whether checks ran."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.used: set[tuple[str, tuple[str, int], int | None, int | None]] = set()
        self.functions_checked: set[str] = set()
        self.checks_off: str | None = None
        self.integration = TierRun("tests/integration")
        self._unexpected: list[Denial] = []
        self._expected: list[Denial] | None = None

    def record_use(self, function: str, decision: Decision) -> None:
        with self._lock:
            for m in decision.allowed_by:
                actions: Sequence[int | None] = m.actions or [None]
                resources: Sequence[int | None] = m.resources or [None]
                for a, r in product(actions, resources):
                    self.used.add((function, m.statement.key, a, r))

    def record_denial(self, denial: Denial) -> None:
        with self._lock:
            (self._expected if self._expected is not None else self._unexpected).append(denial)

    @contextmanager
    def expect_denials(self) -> Iterator[list[Denial]]:
        """Denials inside the block are what the test is about: they are collected in the
        list yielded (for the test to assert on) instead of failing the test."""
        with self._lock:
            outer, self._expected = self._expected, []
            collected = self._expected
        try:
            yield collected
        finally:
            with self._lock:
                self._expected = outer

    def start_test(self) -> None:
        with self._lock:
            self._unexpected = []
            self._expected = None

    def finish_test(self) -> list[Denial]:
        with self._lock:
            found, self._unexpected = self._unexpected, []
            return found


LEDGER = Ledger()


def unused_grants(ledger: Ledger = LEDGER) -> list[Grant]:
    """The template's grants (every function, with symbolic names) that no call used."""
    template = translated_template()
    resolver = Resolver(template)
    found: list[Grant] = []
    for function in functions(template):
        found += [
            g
            for g in grants(function_role(template, function, resolver))
            if g.key not in ledger.used
        ]
    return found


# -- the botocore hooks ---------------------------------------------------------------------

_CHECK = "iam_check"  # the request context entry carrying the decision from build to send
_S3_READS = ("GetObject", "HeadObject")


def access_denied(client: Any, method: str, url: str, message: str) -> AWSResponse:
    """An ``AccessDenied`` answer in the service's own protocol, so that botocore parses it
    into the ``ClientError`` the service would cause."""
    model = client.meta.service_model
    protocol = getattr(model, "resolved_protocol", model.protocol)
    request_id = "00000000-iam-0000-0000-000000000000"
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "rest-xml":  # S3: 403 with an XML error, no body for HEAD
        status, headers["Content-Type"] = 403, "application/xml"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            f"<Message>{_xml(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        if method == "HEAD":
            body = b""
    elif protocol == "query":  # SES (v1)
        status, headers["Content-Type"] = 403, "text/xml"
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{_xml(message)}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
    elif protocol == "json":  # DynamoDB, SSM, SQS
        status = 400
        headers["Content-Type"] = (
            f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        )
        if "awsQueryCompatible" in model.metadata:
            headers["x-amzn-query-error"] = "AccessDenied;Sender"
        body = json.dumps(
            {"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}
        ).encode()
    else:  # rest-json
        status, headers["Content-Type"] = 403, "application/json"
        headers["x-amzn-ErrorType"] = "AccessDeniedException"
        body = json.dumps({"message": message}).encode()
    return AWSResponse(url, status, cast(Any, headers), _Raw(body))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _no_identities() -> Collection[str]:
    return ()


class RoleChecker:
    """Checks every call of the clients it is attached to against one function's role."""

    def __init__(self, role: Role, ledger: Ledger = LEDGER) -> None:
        self.role = role
        self.ledger = ledger
        self._local = threading.local()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        identities = _no_identities
        if service == "ses":
            # SES's own list of verified identities (unchecked: SES consults it, not the code).
            lookup = boto3.client("ses", region_name=client.meta.region_name)

            def identities() -> Collection[str]:
                return list(lookup.list_identities()["Identities"])

        events = client.meta.events
        tag = f"iam-{id(self)}"

        def authorize(
            params: dict[str, Any], model: OperationModel, context: dict[str, Any], **_: Any
        ) -> None:
            call = Call(service, model.name, params, client.meta.region_name, identities)
            context[_CHECK] = self._authorize(call)

        def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
            check = (getattr(request, "context", None) or {}).get(_CHECK)
            if isinstance(check, Denial):
                return access_denied(client, request.method, request.url, check.aws_message())
            self._local.s3_read = check
            return None

        def missing_key(
            operation_model: OperationModel, response_dict: dict[str, Any], **_: Any
        ) -> None:
            read, self._local.s3_read = getattr(self._local, "s3_read", None), None
            if not isinstance(read, tuple) or response_dict["status_code"] != 404:
                return
            if operation_model.name == "GetObject" and b"NoSuchKey" not in response_dict["body"]:
                return  # e.g. NoSuchBucket: S3 says so to anyone allowed to ask
            decision = evaluate(self.role.statements, missing_key_listing(*read))
            if decision.allowed:
                self.ledger.record_use(self.role.function, decision)
                return
            denial = Denial(
                self.role,
                service,
                operation_model.name,
                decision.request,
                decision.denied_by,
                missing_key=True,
            )
            self.ledger.record_denial(denial)
            method = "HEAD" if operation_model.name == "HeadObject" else "GET"
            answered = access_denied(client, method, "", denial.aws_message())
            response_dict.update(
                status_code=answered.status_code, headers=answered.headers, body=answered.content
            )

        events.register("before-parameter-build", authorize, unique_id=f"{tag}-authorize")
        events.register_first("before-send", answer, unique_id=f"{tag}-answer")
        if service == "s3":
            events.register("before-parse.s3", missing_key, unique_id=f"{tag}-missing-key")
        self.ledger.functions_checked.add(self.role.function)

    def _authorize(self, call: Call) -> Denial | tuple[str, str] | None:
        """The call's denial, or ``None``, or (bucket, key) for an S3 read allowed (whose
        404 is then answered as S3 would)."""
        authorize = OPERATIONS.get((call.service, call.operation))
        if authorize is None:
            denial = Denial(self.role, call.service, call.operation, None)
            self.ledger.record_denial(denial)
            return denial
        decisions = [evaluate(self.role.statements, r) for r in authorize(call)]
        for decision in decisions:
            if not decision.allowed:
                denial = Denial(
                    self.role, call.service, call.operation, decision.request, decision.denied_by
                )
                self.ledger.record_denial(denial)
                return denial
        for decision in decisions:
            self.ledger.record_use(self.role.function, decision)
        if call.service == "s3" and call.operation in _S3_READS:
            return (str(call.params["Bucket"]), str(call.params["Key"]))
        return None


# -- per loaded function ---------------------------------------------------------------------

PolicyEdit = Callable[[list[Statement]], list[Statement]]


def without(*sids: str) -> PolicyEdit:
    """A policy edit: the role without the statements ``sids`` (which must be there)."""

    def edit(statements: list[Statement]) -> list[Statement]:
        missing = set(sids) - {s.sid for s in statements}
        if missing:
            raise LookupError(f"no statement {sorted(missing)} in the role to remove")
        return [s for s in statements if s.sid not in sids]

    return edit


def replacing(sid: str, **changes: Any) -> PolicyEdit:
    """A policy edit: the statement ``sid`` with ``changes`` (e.g. ``condition=...``)."""

    def edit(statements: list[Statement]) -> list[Statement]:
        if sid not in {s.sid for s in statements}:
            raise LookupError(f"no statement {sid!r} in the role to change")
        return [replace(s, **changes) if s.sid == sid else s for s in statements]

    return edit


@dataclass(frozen=True)
class LoadedFunction:
    """What the loader knows of a function module: its template identity and bindings, and
    its checker (``None`` when checks are off)."""

    logical_id: str
    resolver: BoundResolver
    checker: RoleChecker | None


_LOADED: "weakref.WeakKeyDictionary[ModuleType, LoadedFunction]" = weakref.WeakKeyDictionary()


def checks_unavailable(reason: str) -> None:
    """No translation: under ``CI=true`` the test fails; elsewhere the calls go unchecked
    and the session says so once."""
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"the permission checks need the SAM CLI in CI (CI=true): {reason}", pytrace=False
        )
    if LEDGER.checks_off is None:
        LEDGER.checks_off = reason
        warnings.warn(
            f"AWS calls of the functions are not checked against their roles: {reason}",
            stacklevel=3,
        )


def prepare(
    logical_id: str,
    env: Mapping[str, str],
    *,
    edit_policy: PolicyEdit | None = None,
    resources: Mapping[str, str] | None = None,
) -> LoadedFunction:
    """The bindings and checker for loading ``logical_id`` with ``env`` (the test's own
    variables: they imply parameter values and resource names, see ``template_bindings``);
    ``resources`` binds more logical ids to physical names (e.g. a dead-letter queue)."""
    parameters, physical = template_bindings(logical_id, env)
    physical.update(resources or {})
    try:
        template = translated_template()
    except SamUnavailableError as exc:
        checks_unavailable(str(exc))
        return LoadedFunction(
            logical_id, BoundResolver(load_template(), parameters, physical), None
        )
    resolver = BoundResolver(template, parameters, physical)
    role = function_role(template, logical_id, resolver)
    removed = [sid for f, _, sid in _removed_by_environment() if f == logical_id]
    for edit in ([without(*removed)] if removed else []) + ([edit_policy] if edit_policy else []):
        role = replace(role, statements=tuple(edit(list(role.statements))))
    return LoadedFunction(logical_id, resolver, RoleChecker(role))


WITHOUT_VARIABLE = "TEST_IAM_WITHOUT"


def _removed_by_environment() -> list[tuple[str, str, str]]:
    """``TEST_IAM_WITHOUT="ApiFunction:ReadFeedIndex,..."``: run the tests with those
    statements removed from the roles, to see which scenarios need them."""
    value = os.environ.get(WITHOUT_VARIABLE, "")
    return [item.strip().partition(":") for item in value.split(",") if item.strip()]


def register(module: ModuleType, loaded: LoadedFunction) -> None:
    _LOADED[module] = loaded


def loaded(module: ModuleType) -> LoadedFunction:
    """The loader's record of ``module`` (loaded by ``tests.support.aws.load_function``)."""
    return _LOADED[module]
