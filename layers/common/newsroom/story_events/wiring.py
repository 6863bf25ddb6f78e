"""The story events service built from its settings, with the container's AWS clients."""

from newsroom.core import aws
from newsroom.story_events.publisher import EventBus, PublishSchedules
from newsroom.story_events.service import StoryEvents
from newsroom.story_events.settings import StoryEventsSettings


def build_story_events(settings: StoryEventsSettings) -> StoryEvents:
    """One ``StoryEvents`` per container (its clients shared by every invocation)."""
    return StoryEvents(
        aws.client("dynamodb"),
        settings.table_name,
        EventBus(aws.client("events"), settings.event_bus_name, settings.story_url_template),
        PublishSchedules(
            aws.client("scheduler"), settings.schedule_group, settings.scheduler_role_arn
        ),
        function_arn=settings.function_arn,
    )
