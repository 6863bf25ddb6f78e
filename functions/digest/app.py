"""Digest function (EventBridge schedule): the daily email of new stories to confirmed
subscribers, through SES."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core.observability import logger, metrics, tracer
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.wiring import build_newsletter, build_stories

settings = NewsletterSettings.from_env()
newsletter = build_newsletter(settings)
stories = build_stories(settings)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = asdict(
        newsletter.send_digest(
            stories,
            api_url=settings.public_api_url,
            story_url=settings.story_url_template,
            log=logger.warning,
        )
    )
    for name, value in result.items():
        metrics.add_metric(name=f"digest_{name}", unit="Count", value=value)
    logger.info("digest finished", **result)
    return result
