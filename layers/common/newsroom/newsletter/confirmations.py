"""The mailer function's work: each queued signup (``newsroom.newsletter.signups``) becomes
at most one confirmation email, under SES's sending rate.

The queue delivers at least once (Amazon SQS Developer Guide, "Amazon SQS standard queues":
a message can be delivered more than once), so a record may be a redelivery: the cooldown
claim in the table makes the second delivery send nothing. A record whose send failed for a
reason that can pass (SES ``Throttling`` "Maximum sending rate exceeded", a 5xx) raises, so
the batch reports it in ``batchItemFailures`` (Lambda Developer Guide, "Using Lambda with
Amazon SQS": partial batch responses) and SQS delivers it again after the visibility
timeout, up to the queue's ``maxReceiveCount``, then into the dead-letter queue. SES's
permanent refusal (``MessageRejected``) is logged and dropped: retrying cannot help.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.service import Newsletter
from newsroom.newsletter.signups import ConfirmationRequest

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 900


def backoff_seconds(attempt: int) -> int:
    """How long a record that failed on its ``attempt``-th receive stays invisible: 30 s,
    doubling, at most 15 minutes (SQS allows up to 12 hours)."""
    return int(min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS))


class RetryBackoff:
    """Backoff for failed records: ``ChangeMessageVisibility`` of the received message, so
    it comes back later at each receive instead of after the queue's fixed visibility
    timeout (Amazon SQS Developer Guide, "Amazon SQS visibility timeout")."""

    def __init__(self, sqs: Any, log: Callable[..., None]) -> None:
        self._sqs = sqs
        self._log = log

    def delay(self, record: SQSRecord) -> int:
        attempt = int(record.attributes.approximate_receive_count or 1)
        seconds = backoff_seconds(attempt)
        _, _, _, region, account, name = record.event_source_arn.split(":")
        try:
            self._sqs.change_message_visibility(
                QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{name}",
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except ClientError as exc:  # best effort: the queue's visibility timeout applies
            self._log("retry backoff not set", error=_code(exc))
        return seconds


@dataclass
class ConfirmationMailer:
    newsletter: Newsletter
    api_url: str  # where the confirm links point (PUBLIC_API_URL)
    log: Callable[..., None]
    count: Callable[[str], None]  # one metric per outcome: confirmations_<outcome>
    backoff: RetryBackoff | None = None

    def handle(self, record: SQSRecord) -> None:
        """One SQS record; raises to report it failed (it is delivered again)."""
        request = ConfirmationRequest.from_json(record.body)
        ident = address_id(self.newsletter.key.value, request.address)
        attempt = int(record.attributes.approximate_receive_count or 1)
        try:
            outcome = self.newsletter.send_confirmation(request.address, self.api_url)
        except Exception as exc:  # the address is named by its id only, never in clear
            self.count("failed")
            retry_in = self.backoff.delay(record) if self.backoff is not None else None
            self.log(
                "confirmation failed",
                subscriber=ident,
                attempt=attempt,
                error=_code(exc),
                retry_in=retry_in,
            )
            raise
        self.count(outcome)
        self.log(
            "confirmation " + outcome,
            subscriber=ident,
            requested_at=request.requested_at,
            attempt=attempt,
        )


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response["Error"]["Code"])
    return type(exc).__name__
