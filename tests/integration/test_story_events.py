"""Publish events end to end in moto: stories written by the real ingest handler, the stories
table's REAL stream records (moto's DynamoDB Streams, read by ``devtools.stream_trigger`` as
the template's event source mapping reads them, with the function's role) delivered to the
real story events handler, and what reached the bus read back through a rule -> SQS target on
it. Scheduled stories: the schedule in moto's Scheduler, fired as Scheduler fires it
(``devtools.scheduler``)."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.scheduler import ScheduleRunner
from devtools.stream_trigger import (
    StreamTrigger,
    enable_stream,
    mapping_of,
    sqs_destination,
    streams_client,
)
from newsroom.story_events.transitions import at_expression, schedule_name
from tests.support import iam
from tests.support.aws import REGION, invoke_async, load_function
from tests.support.newsletter import signing_key  # noqa: F401 - a fixture (preview links)

BUS = "signal-noise-stories-test"
GROUP = "story-publish-test"
ROLE = "story-publish-scheduler-test"
ROLE_ARN = f"arn:aws:iam::{iam.ACCOUNT}:role/{ROLE}"
DEAD_LETTERS = "story-events-dead-letters"
URL_TEMPLATE = "https://signal-noise.example/stories/{slug}"
PAST = "2025-10-17T09:30:00Z"
FUTURE = "2030-01-01T09:00:00Z"
AFTER_FUTURE = "2030-01-01T09:00:05Z"


@dataclass
class Rig:
    app: ModuleType
    trigger: StreamTrigger
    upload: Callable[..., dict[str, Any]]
    bus_events: Callable[[], list[dict[str, Any]]]
    scheduler: Any
    dead_letters: Callable[[], list[dict[str, Any]]]

    def drain(self) -> list[Any]:
        return self.trigger.drain()

    def fire_due(self, now: str) -> list[str]:
        """Scheduler at ``now``: every due schedule fired, then deleted (DELETE after
        completion); the function's clock is ``now`` too."""
        self.app.story_events.clock = lambda: now
        runner = ScheduleRunner(
            self.scheduler,
            GROUP,
            lambda arn, payload: self.app.handler(payload, LambdaContext("StoryEventsFunction")),
            clock=lambda: now,
        )
        return runner.run_due().fired


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def rig(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,  # noqa: F811 - the ingest signs preview links of drafts and schedules
    monkeypatch: pytest.MonkeyPatch,
) -> Rig:
    enable_stream(dynamodb, stories_table)
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    scheduler = boto3.client("scheduler", region_name=REGION)
    events.create_event_bus(Name=BUS)
    scheduler.create_schedule_group(Name=GROUP)
    # What a subscriber of the bus sees: a rule on the stack's source -> an SQS queue.
    seen = sqs.create_queue(QueueName="bus-subscriber")["QueueUrl"]
    seen_arn = sqs.get_queue_attributes(QueueUrl=seen, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all-story-events",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": ["signal-noise.stories"]}),
    )
    events.put_targets(
        Rule="all-story-events", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": seen_arn}]
    )
    dead_letters = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    app = load_function(
        "story_events",
        "StoryEventsFunction",
        {
            "STORIES_TABLE": stories_table,
            "STORY_EVENT_BUS": BUS,
            "PUBLISH_SCHEDULE_GROUP": GROUP,
            "PUBLISH_SCHEDULER_ROLE_ARN": ROLE_ARN,
            "STORY_URL_TEMPLATE": URL_TEMPLATE,
        },
        monkeypatch,
        resources={"StoryPublishSchedulerRole": ROLE, "StoryEventsDeadLetterQueue": DEAD_LETTERS},
    )
    # The mapping polls, and sends to its on-failure destination, with the function's role.
    polling = streams_client(region_name=REGION)
    destination = boto3.client("sqs", region_name=REGION)
    checker = iam.loaded(app).checker
    if checker is not None:
        checker.attach(polling)
        checker.attach(destination)
    trigger = StreamTrigger.for_table(
        polling,
        stories_table,
        app.handler,
        LambdaContext("StoryEventsFunction"),
        mapping=mapping_of("StoryEventsFunction"),
        on_failure=sqs_destination(destination, dead_letters),
    )
    uploads = iter(range(1_000_000))

    def upload(*stories: dict[str, Any]) -> dict[str, Any]:
        key = f"incoming/upload-{next(uploads)}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"stories": list(stories)}).encode())
        result: dict[str, Any] = ingest_app.handler(
            s3_event(s3_record(bucket, key)), lambda_context
        )
        return result

    return Rig(
        app,
        trigger,
        upload,
        lambda: _receive_all(sqs, seen),
        scheduler,
        lambda: _receive_all(sqs, dead_letters),
    )


def story(slug: str = "the-story", **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Story {slug}",
        "summary": "A summary.",
        "published_at": PAST,
        "topics": ["ai", "policy"],
        **fields,
    }


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["detail-type"], e["detail"]["slug"]) for e in events]


# -- the stream -------------------------------------------------------------------------


def test_a_published_story_emits_exactly_one_story_published_with_its_details(rig: Rig) -> None:
    rig.upload(story())
    rig.drain()

    (event,) = rig.bus_events()
    assert event["source"] == "signal-noise.stories"
    assert event["detail-type"] == "Story Published"
    detail = event["detail"]
    assert {k: v for k, v in detail.items() if k != "event_key"} == {
        "slug": "the-story",
        "title": "Story the-story",
        "published_at": PAST,
        "updated_at": PAST,
        "topics": ["ai", "policy"],
        "url": "https://signal-noise.example/stories/the-story",
    }
    assert len(detail["event_key"]) == 32


def test_a_replayed_or_unchanged_upload_writes_no_stream_record_and_emits_nothing(
    rig: Rig,
) -> None:
    rig.upload(story())
    rig.drain()
    rig.bus_events()

    rig.upload(story())  # the same version again: the conditional PutItem writes nothing

    assert rig.drain() == []  # no stream record reached the function
    assert rig.bus_events() == []


def test_topic_entries_are_filtered_out_by_the_mapping(rig: Rig) -> None:
    rig.upload(story(topics=["a", "b", "c"]))

    deliveries = rig.drain()

    assert sum(len(d.delivered) for d in deliveries) == 1  # the story item's record only
    assert kinds(rig.bus_events()) == [("Story Published", "the-story")]


def test_an_update_of_a_public_story_emits_story_updated(rig: Rig) -> None:
    rig.upload(story())
    rig.upload(story(title="Better title", updated_at="2025-10-18T09:00:00Z"))
    rig.drain()

    events = rig.bus_events()
    assert kinds(events) == [("Story Published", "the-story"), ("Story Updated", "the-story")]
    assert events[1]["detail"]["title"] == "Better title"


def test_a_retraction_emits_story_retracted(rig: Rig) -> None:
    rig.upload(story())
    rig.upload(story(status="retracted", updated_at="2025-10-18T09:00:00Z"))
    rig.drain()

    assert kinds(rig.bus_events()) == [
        ("Story Published", "the-story"),
        ("Story Retracted", "the-story"),
    ]


def test_a_draft_emits_nothing(rig: Rig) -> None:
    rig.upload(story(status="draft"))
    rig.drain()

    assert rig.bus_events() == []


# -- scheduled stories ------------------------------------------------------------------


def test_a_scheduled_story_gets_a_one_time_schedule_for_its_instant_and_no_event(
    rig: Rig,
) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()

    assert rig.bus_events() == []
    schedule = rig.scheduler.get_schedule(Name=schedule_name("the-story"), GroupName=GROUP)
    assert schedule["ScheduleExpression"] == "at(2030-01-01T09:00:00)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    target = schedule["Target"]
    assert target["Arn"] == LambdaContext("StoryEventsFunction").invoked_function_arn
    assert target["RoleArn"] == ROLE_ARN
    assert json.loads(target["Input"]) == {
        "kind": "publish-due",
        "slug": "the-story",
        "published_at": FUTURE,
    }


def test_a_schedule_that_fires_once_the_story_is_public_emits_story_published(rig: Rig) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()

    fired = rig.fire_due(AFTER_FUTURE)

    assert fired == [schedule_name("the-story")]
    (event,) = rig.bus_events()
    assert (event["detail-type"], event["detail"]["published_at"]) == ("Story Published", FUTURE)
    assert rig.scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_a_stale_schedule_emits_nothing(rig: Rig) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()
    first = rig.scheduler.get_schedule(Name=schedule_name("the-story"), GroupName=GROUP)
    moved = "2030-02-01T09:00:00Z"
    rig.upload(story(published_at=moved, updated_at=moved))
    rig.drain()
    assert rig.scheduler.get_schedule(Name=schedule_name("the-story"), GroupName=GROUP)[
        "ScheduleExpression"
    ] == at_expression(moved)

    # The first schedule's firing arrives anyway (Scheduler delivers at least once).
    rig.app.story_events.clock = lambda: AFTER_FUTURE
    outcome = rig.app.handler(json.loads(first["Target"]["Input"]), LambdaContext("x"))

    assert outcome == "stale"
    assert rig.bus_events() == []


def test_an_update_after_the_instant_before_the_schedule_fired_emits_story_published(
    rig: Rig,
) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()
    rig.app.story_events.clock = lambda: AFTER_FUTURE
    rig.upload(story(published_at=FUTURE, title="Final", updated_at=AFTER_FUTURE))
    rig.drain()

    (event,) = rig.bus_events()
    assert (event["detail-type"], event["detail"]["title"]) == ("Story Published", "Final")
    assert rig.scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []  # taken over


def test_an_update_after_the_schedule_fired_emits_story_updated(rig: Rig) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()
    rig.fire_due(AFTER_FUTURE)
    rig.upload(story(published_at=FUTURE, title="Final", updated_at=AFTER_FUTURE))
    rig.drain()

    assert [e["detail-type"] for e in rig.bus_events()] == ["Story Published", "Story Updated"]


def test_a_scheduled_story_retracted_before_its_instant_loses_its_schedule_silently(
    rig: Rig,
) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.upload(story(published_at=FUTURE, status="retracted", updated_at=FUTURE))
    rig.drain()

    assert rig.scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    assert rig.fire_due(AFTER_FUTURE) == []
    assert rig.bus_events() == []


def test_an_early_firing_is_retried_then_kept_in_the_dead_letter_queue(rig: Rig) -> None:
    rig.upload(story(published_at=FUTURE))
    rig.drain()
    rig.app.story_events.clock = lambda: "2030-01-01T08:59:59Z"  # the function's clock lags

    result = invoke_async(
        rig.app, {"kind": "publish-due", "slug": "the-story", "published_at": FUTURE}
    )

    assert result.attempts == 3 and result.error is not None
    (record,) = rig.dead_letters()
    assert record["requestPayload"]["slug"] == "the-story"
    assert rig.bus_events() == []


# -- failures ---------------------------------------------------------------------------


def _fail_put_events(app: ModuleType) -> Callable[[], None]:
    """PutEvents answers 200 with one entry not accepted (FailedEntryCount 1), as EventBridge
    does under throttling; returns the function that removes the fault."""

    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        http = AWSResponse("https://events.us-east-1.amazonaws.com/", 200, {}, None)  # type: ignore[arg-type]
        parsed = {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}],
        }
        return http, parsed

    events = app.story_events._bus._client
    events.meta.events.register("before-call.events.PutEvents", hook, unique_id="fail-put")
    return lambda: events.meta.events.unregister(
        "before-call.events.PutEvents", unique_id="fail-put"
    )


def test_a_failed_put_events_entry_is_a_batch_item_failure_delivered_again(rig: Rig) -> None:
    rig.upload(story())
    restore = _fail_put_events(rig.app)

    delivery = rig.trigger.poll()

    assert delivery.failed == delivery.delivered and len(delivery.failed) == 1
    assert rig.bus_events() == []
    restore()
    again = rig.trigger.poll()
    assert again.delivered == delivery.delivered and again.failed == []
    assert kinds(rig.bus_events()) == [("Story Published", "the-story")]


def test_records_after_a_failed_one_are_skipped_and_delivered_again_in_order(rig: Rig) -> None:
    rig.upload(story("first"))
    rig.upload(story("second"))
    restore = _fail_put_events(rig.app)

    delivery = rig.trigger.poll()

    assert len(delivery.delivered) == 2 and delivery.failed == delivery.delivered
    restore()
    rig.drain()
    assert kinds(rig.bus_events()) == [
        ("Story Published", "first"),
        ("Story Published", "second"),
    ]


def test_a_record_that_keeps_failing_goes_to_the_dead_letter_queue_after_the_retries(
    rig: Rig,
) -> None:
    rig.upload(story())
    _fail_put_events(rig.app)
    retries = int(mapping_of("StoryEventsFunction")["MaximumRetryAttempts"])

    deliveries = rig.drain()

    assert len(deliveries) == retries + 1
    (record,) = rig.dead_letters()
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["startSequenceNumber"] == deliveries[0].delivered[0]
