"""What the story events function reads from its environment (``template.yaml`` sets it)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from newsroom.core import settings


@dataclass(frozen=True, slots=True)
class StoryEventsSettings:
    table_name: str
    event_bus_name: str
    schedule_group: str
    scheduler_role_arn: str
    story_url_template: str = settings.DEFAULT_STORY_URL
    # The template cannot name a function in its own environment (a circular dependency):
    # empty means "the ARN this invocation was made with" (the Lambda context's).
    function_arn: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(
            **settings.from_env(
                env,
                {
                    "story_url_template": ("STORY_URL_TEMPLATE", settings.text),
                    "function_arn": ("STORY_EVENTS_FUNCTION_ARN", settings.text),
                },
                required={
                    "table_name": "STORIES_TABLE",
                    "event_bus_name": "STORY_EVENT_BUS",
                    "schedule_group": "PUBLISH_SCHEDULE_GROUP",
                    "scheduler_role_arn": "PUBLISH_SCHEDULER_ROLE_ARN",
                },
            )
        )
