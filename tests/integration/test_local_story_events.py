"""Publish events through the local stack (`make dev`): an upload to the embedded S3 reaches
the real ingest, the stories table's stream reaches the real story events function, and the
event arrives on the stack's bus (read through a rule -> SQS target on it, in moto); a
scheduled story is published by its one-time schedule when its instant comes."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.stack import STORY_EVENT_BUS, Stack
from newsroom.core.timestamps import format_utc
from tests.support import story_files
from tests.support.stack import running_stack

WAIT_SECONDS = 15


@pytest.fixture(scope="module", params=["in-process", "workers"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    with running_stack(seeded=False, api_containers=1, workers=request.param == "workers") as s:
        yield s


@pytest.fixture
def subscriber(stack: Stack) -> Iterator[str]:
    """A rule on the stack's bus for the stories' events, its target an SQS queue."""
    sqs, events = stack.backend.client("sqs"), stack.backend.client("events")
    bus = STORY_EVENT_BUS
    url = sqs.create_queue(QueueName="site-rebuilds")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="site-rebuilds",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["signal-noise.stories"]}),
    )
    events.put_targets(Rule="site-rebuilds", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    yield url
    events.remove_targets(Rule="site-rebuilds", EventBusName=bus, Ids=["q"])
    events.delete_rule(Name="site-rebuilds", EventBusName=bus)
    sqs.delete_queue(QueueUrl=url)


def upload(stack: Stack, name: str, *stories: dict[str, Any]) -> dict[str, Any]:
    key = f"incoming/{name}.json"
    body = json.dumps({"stories": list(stories)}).encode()
    stack.backend.client("s3").put_object(Bucket=stack.backend.bucket, Key=key, Body=body)
    return stack.wait_for_receipt(key)


def next_event(stack: Stack, queue_url: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
    sqs = stack.backend.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1
        ).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            event: dict[str, Any] = json.loads(messages[0]["Body"])
            return event
    raise TimeoutError(f"no event on the bus after {timeout} s")


def story(slug: str, **fields: Any) -> dict[str, Any]:
    return story_files.story(slug, **{"topics": ["ai"], **fields})


def test_an_uploaded_story_reaches_the_bus_as_story_published(
    stack: Stack, subscriber: str
) -> None:
    upload(stack, "local-published", story("local-published"))

    event = next_event(stack, subscriber)

    assert (event["source"], event["detail-type"]) == ("signal-noise.stories", "Story Published")
    assert event["detail"]["slug"] == "local-published"
    assert event["detail"]["url"] == f"{stack.api_url}/#/stories/local-published"


def test_a_scheduled_story_is_published_on_the_bus_when_its_instant_comes(
    stack: Stack, subscriber: str
) -> None:
    soon = format_utc(datetime.now(UTC) + timedelta(seconds=3))
    receipt = upload(stack, "local-scheduled", story("local-scheduled", published_at=soon))
    assert receipt["status"] != "failed", receipt

    event = next_event(stack, subscriber)

    assert (event["detail-type"], event["detail"]["slug"]) == ("Story Published", "local-scheduled")
    assert event["detail"]["published_at"] == soon
    assert datetime.now(UTC) >= datetime.fromisoformat(soon)
