"""Ingest function: S3 ``ObjectCreated`` on ``incoming/`` -> validated stories in DynamoDB."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports  # noqa: F401

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core import aws
from newsroom.core.observability import logger, metrics, tracer
from newsroom.core.signing import SigningKey
from newsroom.ingest.ingestor import Ingestor
from newsroom.ingest.previews import PreviewLinks
from newsroom.ingest.settings import IngestSettings
from newsroom.stories.repository import StoryRepository

settings = IngestSettings.from_env()
dynamodb = aws.client("dynamodb", max_pool_connections=settings.write_concurrency)
stories = StoryRepository(dynamodb, settings.table_name)
key = SigningKey(lambda: aws.client("ssm"), settings.signing_key_parameter)
previews = PreviewLinks(settings.public_api_url, key, settings.preview_link_days)
with_previews = previews if settings.signing_key_parameter else None
ingestor = Ingestor(settings, aws.client("s3"), stories, metrics, logger, with_previews)


@logger.inject_lambda_context(correlation_id_path="Records[0].s3.object.key")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return ingestor.handle_event(event)
