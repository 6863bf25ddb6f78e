"""Subscriptions function: double opt-in signup, confirmation and unsubscribe links."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import aws
from newsroom.newsletter import Mailer, Newsletter, SigningKey
from newsroom.observability import logger, tracer
from newsroom.settings import NewsletterSettings
from newsroom.subscribers import SubscriberRepository
from newsroom.subscriptions_api import SubscriptionsApi

settings = NewsletterSettings.from_env()
newsletter = Newsletter(
    SubscriberRepository(aws.client("dynamodb"), settings.subscribers_table),
    Mailer(aws.client("ses"), settings.max_send_rate),
    SigningKey(aws.client("ssm"), settings.signing_key_parameter),
    settings.sender,
)
api = SubscriptionsApi(newsletter, settings.cors_origins, logger, settings.public_api_url)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.app.resolve(event, context)
