"""Story events function: the stories table's stream -> publish events on the stack's bus
(and one-time schedules for scheduled stories); a schedule's firing -> ``Story Published``."""

# First: Powertools' packages without their __init__ (every resolver, every event class).
import newsroom.core.lean_imports  # noqa: F401

# isort: split

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom.core.observability import logger, tracer
from newsroom.story_events.settings import StoryEventsSettings
from newsroom.story_events.transitions import is_firing
from newsroom.story_events.wiring import build_story_events

settings = StoryEventsSettings.from_env()
story_events = build_story_events(settings)
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if is_firing(event):  # EventBridge Scheduler's direct invocation (the schedule's Input)
        return story_events.fire(event).outcome.value
    record_handler = story_events.batch_handler(context.invoked_function_arn)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
