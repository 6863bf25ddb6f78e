"""Digest function (EventBridge schedule): the daily email of new stories to confirmed
subscribers, through SES."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import aws
from newsroom.core.observability import logger, metrics, tracer
from newsroom.newsletter.service import Mailer, Newsletter, SigningKey, run_digest
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.subscribers import SubscriberRepository
from newsroom.stories.repository import StoryRepository

settings = NewsletterSettings.from_env()
_dynamodb = aws.client("dynamodb")
newsletter = Newsletter(
    SubscriberRepository(_dynamodb, settings.subscribers_table),
    Mailer(aws.client("ses"), settings.max_send_rate),
    SigningKey(aws.client("ssm"), settings.signing_key_parameter),
    settings.sender,
)
stories = StoryRepository(_dynamodb, settings.stories_table)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = run_digest(
        newsletter,
        stories,
        api_url=settings.public_api_url,
        story_url=settings.story_url_template,
        log=logger.warning,
    )
    for name, value in result.as_dict().items():
        metrics.add_metric(name=f"digest_{name}", unit="Count", value=value)
    logger.info("digest finished", **result.as_dict())
    return result.as_dict()
