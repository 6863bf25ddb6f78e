"""The AWS side of publish events: ``PutEvents`` on the stack's bus and the one-time
schedules of EventBridge Scheduler. One call per action, named here.

=========================  ===========================================  =================
action                     call                                          failure
=========================  ===========================================  =================
``EventBus.put``           1 ``events:PutEvents`` (one entry)            entry failed ->
                                                                         ``TransientAWSError``
``PublishSchedules.put``   1 ``CreateSchedule``; ``ConflictException``   -
                           -> 1 ``UpdateSchedule``
``PublishSchedules.get``   1 ``GetSchedule``                             not found -> None
``PublishSchedules.delete`` 1 ``DeleteSchedule``                         not found -> fine
=========================  ===========================================  =================
"""

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from newsroom.core.errors import TransientAWSError
from newsroom.story_events.transitions import (
    EVENT_SOURCE,
    EventType,
    at_expression,
    event_detail,
    firing_input,
    schedule_name,
)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class EventBus:
    """Publish events on one EventBridge bus."""

    def __init__(self, client: Any, bus_name: str, url_template: str) -> None:
        self._client = client
        self._bus = bus_name
        self._url_template = url_template

    def put(self, event: EventType, story: Mapping[str, Any]) -> None:
        """Emit ``event`` about ``story``. ``PutEvents`` answers 200 even when an entry was
        not accepted (EventBridge API reference, PutEvents: ``FailedEntryCount`` and each
        entry's ``ErrorCode``), so a failed entry is raised as a transient failure: the
        stream delivers the record again."""
        response = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": str(event),
                    "Detail": json.dumps(event_detail(event, story, self._url_template)),
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
            reason = failed[0] if failed else {}
            raise TransientAWSError(
                f"PutEvents did not accept {event}: "
                f"{reason.get('ErrorCode', '?')} {reason.get('ErrorMessage', '')}".strip()
            )


class PublishSchedules:
    """The one-time schedules (one per scheduled story) of one schedule group."""

    def __init__(self, client: Any, group: str, role_arn: str) -> None:
        self._client = client
        self._group = group
        self._role_arn = role_arn

    def _definition(self, slug: str, published_at: str, target_arn: str) -> dict[str, Any]:
        return {
            "Name": schedule_name(slug),
            "GroupName": self._group,
            "ScheduleExpression": at_expression(published_at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            # A one-time schedule is removed once it has fired (no leftovers to clean up).
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps(firing_input(slug, published_at)),
            },
        }

    def put(self, slug: str, published_at: str, target_arn: str) -> None:
        """Create the story's schedule, or move it when it exists (UpdateSchedule replaces
        every field, so it gets the whole definition again)."""
        definition = self._definition(slug, published_at, target_arn)
        try:
            self._client.create_schedule(**definition)
        except ClientError as exc:
            if _error_code(exc) != "ConflictException":
                raise
            self._client.update_schedule(**definition)

    def get(self, slug: str) -> dict[str, Any] | None:
        """The story's schedule as Scheduler describes it, or ``None``."""
        try:
            schedule: dict[str, Any] = self._client.get_schedule(
                Name=schedule_name(slug), GroupName=self._group
            )
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
            return None
        return schedule

    def is_pending(self, slug: str, published_at: str) -> bool:
        """Whether the schedule made for ``published_at`` is still there (has not fired)."""
        schedule = self.get(slug)
        return schedule is not None and schedule.get("ScheduleExpression") == at_expression(
            published_at
        )

    def delete(self, slug: str) -> None:
        """Delete the story's schedule; one that is gone already (fired, or never made) is
        what was asked for."""
        try:
            self._client.delete_schedule(Name=schedule_name(slug), GroupName=self._group)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
