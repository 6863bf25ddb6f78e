"""``newsroom.core.errors``: ``error_details`` turns pydantic's validation errors into the
``{"loc": [...], "msg": ...}`` entries that receipts carry (locations as lists, without
pydantic's "Value error, " prefix), and ``is_transient`` tells the AWS errors worth retrying
(throttling, server errors, timeouts, lost connections, ``TransientAWSError``) from those that
are not (other client errors, ``FileRejected``, anything else)."""

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from devtools.factories import valid_story
from newsroom.core.errors import FileRejected, TransientAWSError, error_details, is_transient
from tests.support.contract import contract_errors

# --- error details ----------------------------------------------------------------------------


def test_error_details_drop_the_value_error_prefix() -> None:
    errors = contract_errors(valid_story(updated_at="2025-10-01T00:00:00Z"))
    assert errors[0]["msg"].startswith("Value error, ")
    assert error_details(errors) == [
        {"loc": [], "msg": "updated_at must not be earlier than published_at"}
    ]


def test_error_details_turn_locations_into_lists() -> None:
    errors = contract_errors(valid_story(sections=[{"heading": "", "body": "b"}]))
    assert error_details(errors) == [
        {"loc": ["sections", 0, "heading"], "msg": "String should have at least 1 character"}
    ]


def test_error_details_keep_other_messages_as_they_are() -> None:
    errors = [{"loc": ("sections", 0, "heading"), "msg": "Field required", "type": "missing"}]
    assert error_details(errors) == [{"loc": ["sections", 0, "heading"], "msg": "Field required"}]


# --- transient AWS errors ---------------------------------------------------------------------


def client_error(code: str, status: int, operation: str = "PutItem") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
    }
    return ClientError(response, operation)


def error_id(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response["Error"]["Code"]
    return type(error).__name__


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", 400),
        client_error("ProvisionedThroughputExceededException", 400),
        client_error("RequestLimitExceeded", 400),
        client_error("TransactionConflictException", 400),
        client_error("SlowDown", 503, "GetObject"),
        client_error("InternalServerError", 500),
        client_error("SomethingNew", 500),
        client_error("ServiceUnavailable", 503),
        TransientAWSError("unprocessed items left"),
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
    ids=error_id,
)
def test_throttling_and_server_errors_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ConditionalCheckFailedException", 400),
        client_error("AccessDenied", 403, "GetObject"),
        client_error("AccessDeniedException", 400),
        client_error("ValidationException", 400),
        client_error("NoSuchKey", 404, "GetObject"),
        FileRejected("invalid_json", "not valid JSON"),
        ValueError("bad"),
    ],
    ids=error_id,
)
def test_client_and_content_errors_are_not_transient(error: Exception) -> None:
    assert not is_transient(error)
