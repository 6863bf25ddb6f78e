"""Mailer function (SQS: the signup queue): one confirmation email per queued signup,
under SES's sending rate; failed records are reported for redelivery (partial batch
responses), permanent SES refusals are dropped."""

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

from newsroom.core import aws
from newsroom.core.observability import logger, metrics, tracer
from newsroom.newsletter.confirmations import ConfirmationMailer, RetryBackoff
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.wiring import build_newsletter

settings = NewsletterSettings.from_env()
newsletter = build_newsletter(settings)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _count(outcome: str) -> None:
    metrics.add_metric(name=f"confirmations_{outcome}", unit="Count", value=1)


mailer = ConfirmationMailer(
    newsletter,
    settings.public_api_url,
    logger.info,
    _count,
    RetryBackoff(aws.client("sqs"), logger.warning),
)


def record_handler(record: SQSRecord) -> None:
    mailer.handle(record)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
