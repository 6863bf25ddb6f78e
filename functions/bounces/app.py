"""Bounces function (SNS): SES's bounce and complaint events for the stack's configuration
set -> the addresses suppressed in the subscribers table, never mailed again."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports  # noqa: F401

# isort: split

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import aws
from newsroom.core.observability import logger, metrics, tracer
from newsroom.core.signing import SigningKey
from newsroom.newsletter.feedback import FeedbackHandler
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.subscribers import SubscriberRepository

settings = NewsletterSettings.from_env()
feedback = FeedbackHandler(
    SubscriberRepository(aws.client("dynamodb"), settings.subscribers_table),
    SigningKey(aws.client("ssm"), settings.signing_key_parameter),
)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = asdict(feedback.handle(event, logger.info))
    for name, value in result.items():
        metrics.add_metric(name=f"subscribers_{name}", unit="Count", value=value)
    return result
