"""Digest function (EventBridge schedule): plans the day's digest run. It sends no email: it
puts the confirmed subscribers on the digest queue in batches, for DigestSenderFunction."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports  # noqa: F401

# isort: split

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core.observability import logger, metrics, tracer
from newsroom.newsletter.digest_runs import RunReporter
from newsroom.newsletter.digest_wiring import build_digest_planner
from newsroom.newsletter.settings import NewsletterSettings

settings = NewsletterSettings.from_env()
planner = build_digest_planner(settings, RunReporter(logger.info, metrics))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = asdict(
        planner.plan(
            planner=context.aws_request_id, remaining_ms=context.get_remaining_time_in_millis()
        )
    )
    logger.info("digest planned", **result)
    return result
