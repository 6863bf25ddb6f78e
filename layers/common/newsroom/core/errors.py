"""Domain errors of the package, and the one place that tells transient AWS errors apart."""

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, IncompleteReadError

# Error codes after which the same request can succeed later: Lambda should retry.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "503",
        "500",
    }
)


class NewsroomError(Exception):
    """Base class of the package's own errors."""


class FileRejected(NewsroomError):
    """The whole uploaded file cannot be read (the receipt carries ``code`` and the reason)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientAWSError(NewsroomError):
    """An AWS call failed in a way a retry can fix (throttling, 5xx, unprocessed items)."""


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is an AWS failure that a later retry may not meet.

    Network failures count too: no connection (``ConnectionError``), and a connection that
    timed out, closed or broke mid-response (``HTTPClientError``: ``ReadTimeoutError``,
    ``ConnectionClosedError``, ``ResponseStreamingError``), or ended before
    ``Content-Length`` (``IncompleteReadError``), e.g. while streaming an S3 body.
    """
    if isinstance(exc, TransientAWSError | ConnectionError | HTTPClientError | IncompleteReadError):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code", "") in TRANSIENT_CODES or status >= 500
    return False


def error_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's errors as ``[{"loc": [...], "msg": "..."}]`` (receipts and problem documents).

    Locations are pydantic's own; messages drop pydantic's "Value error, " prefix.
    """
    details = []
    for error in errors:
        msg = str(error.get("msg", "invalid"))
        details.append(
            {"loc": list(error.get("loc", ())), "msg": msg.removeprefix("Value error, ")}
        )
    return details
