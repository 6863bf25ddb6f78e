"""Read API function: stories and Recent Stories from DynamoDB, behind API Gateway (REST)."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports

# isort: split

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

import newsroom.core.snapshots  # noqa: F401  (SnapStart: registers its after-restore hooks)
from newsroom.core import aws
from newsroom.core.observability import logger, tracer
from newsroom.core.public_url import PublicBaseUrl
from newsroom.core.signing import SigningKey
from newsroom.read_api.routes import ReadApi
from newsroom.read_api.settings import ApiSettings
from newsroom.stories.repository import StoryRepository

settings = ApiSettings.from_env()
dynamodb = aws.client("dynamodb")
stories = StoryRepository(dynamodb, settings.table_name)
ssm = lambda: aws.client("ssm")  # noqa: E731  (made on first use: most containers never)
public = PublicBaseUrl(settings.public_base_url, settings.public_base_url_parameter, ssm)
key = settings.signing_key_parameter
api = ReadApi(settings, stories, logger, public, SigningKey(ssm, key) if key else None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.app.resolve(event, context)
