"""What the tests share about the embedded AWS backend: the region and resource names the
fixtures create, the loader of the real handlers with their template environment (every AWS
call they make checked against their role, ``tests.support.iam``), and Lambda's asynchronous
invocation with its retries and on-failure destination."""

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.functions import LambdaContext, load_function_module
from devtools.template import function_environment, load_template
from devtools.translate import Resolver
from newsroom.core import aws
from tests.support import iam

REGION = "us-east-1"
TABLE = "stories-test"
# The content bucket under the name the template gives it (with the translation's pseudo
# parameters), so that the ingest policy's ARNs, which spell the name out, name this bucket.
BUCKET = str(Resolver(load_template()).ref("ContentBucket"))

ReadReceipt = Callable[[str], dict[str, Any]]
"""The ``read_receipt`` fixture: the receipt the ingest wrote for an ``incoming/...`` key."""


def load_function(
    name: str,
    logical_id: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    edit_policy: iam.PolicyEdit | None = None,
    resources: Mapping[str, str] | None = None,
) -> ModuleType:
    """The real ``functions/<name>/app.py`` with the function's environment from the
    template plus ``env``, loaded fresh as in a new Lambda container (its own AWS clients).
    The variables stay set (through ``monkeypatch``) for the test, as they stay set in the
    container.

    Every client the module builds while loading is checked against ``logical_id``'s role
    (``tests.support.iam``): ``env`` names the test's tables and implies parameter values,
    ``resources`` binds more logical ids to physical names, ``edit_policy`` changes the role
    for this load (``iam.without("Sid")``)."""
    function_env = {**function_environment(logical_id), **env}
    for key, value in function_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    function_env.pop("AWS_ENDPOINT_URL", None)
    loaded = iam.prepare(logical_id, env, edit_policy=edit_policy, resources=resources)
    aws.client.cache_clear()  # a new container: clients shared with no other function
    created: list[Any] = []
    create = boto3.client

    def recording(*args: Any, **kwargs: Any) -> Any:
        client = create(*args, **kwargs)
        created.append(client)
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3, "client", recording)
        module = load_function_module(name, function_env)
    if loaded.checker is not None:
        for client in created:
            loaded.checker.attach(client)
    iam.register(module, loaded)
    return module


def lazy_client(module: ModuleType, service: str) -> Any:
    """The shared client (``newsroom.core.aws.client``) that ``module`` makes only when it
    first needs it (after loading, so ``load_function`` did not see it), checked against the
    function's role like the clients it made while loading."""
    client = aws.client(service)
    checker = iam.loaded(module).checker
    if checker is not None:
        checker.attach(client)
    return client


@dataclass(frozen=True)
class AsyncInvocation:
    """How Lambda's asynchronous invocation of one event ended."""

    attempts: int
    result: Any  # the handler's return value, when an attempt succeeded
    error: BaseException | None  # the last attempt's exception, when every attempt failed
    destination_record: dict[str, Any] | None  # what went to the on-failure destination


def invoke_async(module: ModuleType, event: dict[str, Any]) -> AsyncInvocation:
    """``event`` delivered to the function as Lambda delivers an asynchronous invocation (an
    S3 notification is one), configured by the function's ``EventInvokeConfig`` in the
    template: after an error the event is retried up to ``MaximumRetryAttempts`` times; when
    the last attempt fails, Lambda sends an invocation record to the ``OnFailure`` destination
    with the function's execution role, so that call is checked against the role like the
    function's own (Lambda Developer Guide, "Retaining records of asynchronous invocations").

    The destination must be bound to a queue of the test (``load_function(resources=...)``)."""
    loaded = iam.loaded(module)
    config = load_template()["Resources"][loaded.logical_id]["Properties"]["EventInvokeConfig"]
    retries = int(config.get("MaximumRetryAttempts", 2))
    context = LambdaContext(loaded.logical_id)
    error: BaseException | None = None
    for attempt in range(1, retries + 2):
        try:
            return AsyncInvocation(attempt, module.handler(event, context), None, None)
        except Exception as exc:
            error = exc
    record = _invocation_record(context, event, error, retries + 1)
    destination = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination is not None:
        _send_to_destination(loaded, str(loaded.resolver.resolve(destination)), record)
    return AsyncInvocation(retries + 1, None, error, record)


def _invocation_record(
    context: LambdaContext, event: dict[str, Any], error: BaseException | None, attempts: int
) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination (its documented shape)."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{context.invoked_function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": [],
        },
    }


def _send_to_destination(loaded: iam.LoadedFunction, arn: str, record: dict[str, Any]) -> None:
    _, service, region, account, name = arn.split(":", 5)[1:]
    if service != "sqs":
        raise NotImplementedError(f"on-failure destination {arn}: only SQS is modelled")
    sqs = boto3.client("sqs", region_name=region)
    if loaded.checker is not None:
        loaded.checker.attach(sqs)
    queue_url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))
