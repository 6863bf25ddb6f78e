"""Subscriptions function: double opt-in signup, confirmation and unsubscribe links."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports

# isort: split

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

import newsroom.core.snapshots  # noqa: F401  (SnapStart: registers its after-restore hooks)
from newsroom.core.observability import logger, tracer
from newsroom.newsletter.routes import SubscriptionsApi
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.wiring import build_newsletter

settings = NewsletterSettings.from_env()
newsletter = build_newsletter(settings)
api = SubscriptionsApi(newsletter, settings.cors_origins, logger, settings.public_api_url)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.app.resolve(event, context)
