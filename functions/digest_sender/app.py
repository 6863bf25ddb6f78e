"""Digest sender function (SQS: the digest queue): each message is a batch of subscribers who
get the day's digest, under the sending budget all senders share; failed messages are
reported for redelivery (partial batch responses)."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports  # noqa: F401

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core.observability import logger, metrics, tracer
from newsroom.newsletter.digest_runs import RunReporter
from newsroom.newsletter.digest_wiring import build_digest_sender
from newsroom.newsletter.settings import NewsletterSettings

settings = NewsletterSettings.from_env()
sender = build_digest_sender(settings, RunReporter(logger.info, metrics), logger.warning)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    sender.handle(record)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    sender.begin(context.get_remaining_time_in_millis())
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
