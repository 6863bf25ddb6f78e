"""Publish events from the stories table's stream (a transactional outbox: the ingest's one
conditional ``PutItem`` is the only write; what the public sees change is read from the
stream's old and new images), and the firing of the one-time schedules of scheduled stories.

Calls per stream record: at most one ``PutEvents`` and one schedule call, plus one
``GetSchedule`` for the first change after a scheduled story's instant. Per firing: one
consistent ``GetItem`` and at most one ``PutEvents``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from newsroom.core.dynamo import from_dynamo
from newsroom.core.errors import NewsroomError
from newsroom.core.timestamps import utc_now
from newsroom.stories.items import STORY_SK, story_pk
from newsroom.story_events.publisher import EventBus, PublishSchedules
from newsroom.story_events.transitions import (
    EventType,
    Firing,
    ScheduleDelete,
    ScheduleUpsert,
    Transition,
    decide,
    due_publication,
    may_await_schedule,
    slug_of,
)

Clock = Callable[[], str]


class NotYetPublic(NewsroomError):
    """A schedule fired before its instant by the function's clock: raised so that Lambda's
    asynchronous retry delivers the firing again (a stale "nothing to do" would lose it)."""


class SkippedAfterFailure(NewsroomError):
    """A record after a failed one of the same batch: not processed, reported failed, so the
    stream delivers it again after the failed one, in order, without emitting it twice."""


@dataclass(frozen=True, slots=True)
class FiringResult:
    outcome: Firing
    slug: str
    published_at: str


class StoryEvents:
    """Turns changes of stored stories into publish events and schedules."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        bus: EventBus,
        schedules: PublishSchedules,
        *,
        function_arn: str = "",
        clock: Clock = utc_now,
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._bus = bus
        self._schedules = schedules
        self._function_arn = function_arn
        self.clock = clock

    # -- the stream ---------------------------------------------------------------------

    def on_change(
        self,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
        invoked_arn: str = "",
    ) -> Transition:
        """Emit the event of one change and keep its schedule in step. The event goes
        first: a failure after it repeats the record (the event may then go twice, with the
        same ``event_key``), a failure before it loses nothing."""
        now = self.clock()
        awaits = False
        if old is not None and may_await_schedule(old, now):
            awaits = self._schedules.is_pending(slug_of(old), str(old["published_at"]))
        transition = decide(old, new, now, old_awaits_schedule=awaits)
        if transition.event is not None and transition.story is not None:
            self._bus.put(transition.event, transition.story)
        match transition.schedule:
            case ScheduleUpsert(slug=slug, published_at=published_at):
                self._schedules.put(slug, published_at, self._function_arn or invoked_arn)
            case ScheduleDelete(slug=slug):
                self._schedules.delete(slug)
        return transition

    def on_record(self, record: Mapping[str, Any], invoked_arn: str = "") -> Transition:
        """One DynamoDB stream record as Lambda delivers it (``dynamodb.OldImage`` and
        ``NewImage`` in typed JSON; the template's filter passes story items only)."""
        change = record.get("dynamodb", {})
        old = from_dynamo(change["OldImage"]) if "OldImage" in change else None
        new = from_dynamo(change["NewImage"]) if "NewImage" in change else None
        if not any(image is not None and image.get("sk") == STORY_SK for image in (old, new)):
            return Transition()  # not a story item (the filter lets none through)
        return self.on_change(old, new, invoked_arn)

    def batch_handler(self, invoked_arn: str) -> Callable[[Any], Transition]:
        """A record handler for one batch (Powertools' ``BatchProcessor`` calls it per
        record, in order). After a failed record the rest of the batch is skipped and
        reported failed: Lambda resumes the shard at the lowest failed sequence number, so a
        later record processed now would be processed, and emitted, again."""
        failed = False

        def handle(record: Any) -> Transition:
            nonlocal failed
            if failed:
                raise SkippedAfterFailure("an earlier record of the batch failed")
            try:
                return self.on_record(getattr(record, "raw_event", record), invoked_arn)
            except Exception:
                failed = True
                raise

        return handle

    # -- the schedules ------------------------------------------------------------------

    def _stored_story(self, slug: str) -> dict[str, Any] | None:
        """The story item as stored now: one consistent ``GetItem`` (a firing must see the
        write that made or moved its schedule)."""
        response = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": story_pk(slug)}, "sk": {"S": STORY_SK}},
            ConsistentRead=True,
        )
        return from_dynamo(response["Item"]) if "Item" in response else None

    def fire(self, payload: Mapping[str, Any]) -> FiringResult:
        """A schedule fired: emit ``Story Published`` if the story is still published for
        exactly that instant and public now; a stale schedule emits nothing."""
        slug, published_at = str(payload["slug"]), str(payload["published_at"])
        story = self._stored_story(slug)
        outcome = due_publication(story, published_at, self.clock())
        if outcome is Firing.EARLY:
            raise NotYetPublic(f"{slug} is public from {published_at}, not yet")
        if outcome is Firing.DUE and story is not None:
            self._bus.put(EventType.PUBLISHED, story)
        return FiringResult(outcome, slug, published_at)
