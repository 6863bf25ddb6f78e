"""The digest's fan-out against moto, one rule per test: the real planner (DigestFunction) puts
the confirmed subscribers on DigestQueue in batches, once a day however often it runs and
wherever it failed; the real senders (DigestSenderFunction, delivered the queue by its event
source mapping: ``tests.support.digest``) read each subscriber as they are now, mail each
once a day, and report the run's end exactly once. Every call of both is checked against
their roles (``tests.support.iam``). The newsletter's end-to-end rules (what the email says,
who gets which stories, SES refusals and throttling) are in ``test_newsletter.py``."""

import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bench.digest_simulation import seed_confirmed
from devtools.stack import sent_emails
from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.digest_batches import DigestBatch
from newsroom.newsletter.subscribers import SubscriberRepository
from tests.integration.test_newsletter import (  # the newsletter's fixtures and helpers
    HOUR,
    Clock,
    clock,
    digest,
    digest_queues,
    publish,
)
from tests.support.aws import REGION
from tests.support.digest import Digest, DigestQueues
from tests.support.newsletter import SUBSCRIBERS, sender, signing_key, subscribers_table

__all__ = [  # fixtures used by name
    "clock",
    "digest",
    "digest_queues",
    "sender",
    "signing_key",
    "subscribers_table",
]

DAY = 24 * HOUR


@pytest.fixture
def confirmed(
    dynamodb: Any, subscribers_table: str, signing_key: bytes, clock: Clock
) -> Callable[[int], list[str]]:
    """``confirmed(n)``: n subscribers who confirmed a day ago, written as confirming leaves
    them (``bench.digest_simulation.seed_confirmed``)."""

    def make(count: int) -> list[str]:
        return seed_confirmed(dynamodb, subscribers_table, signing_key, count, clock.iso(-DAY))

    return make


@pytest.fixture
def news(dynamodb: Any, stories_table: str, clock: Clock) -> None:
    """A story published an hour ago."""
    publish(dynamodb, stories_table, "news", clock.iso(-HOUR))


def queued(queue_url: str) -> Iterator[DigestBatch]:
    """Every batch on the queue (received and deleted)."""
    sqs = boto3.client("sqs", region_name=REGION)
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages"
    ):
        for message in messages:
            yield DigestBatch.from_json(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def recipients_since(before: int) -> list[str]:
    return sorted(mail["to"] for mail in sent_emails()[before:])


def ids_of(key: bytes, addresses: list[str]) -> set[str]:
    return {address_id(key, a) for a in addresses}


class Killed(BaseException):
    """The runtime ending an invocation (its timeout): nothing of the code runs after it."""


def fail_on_call(
    client: Any, operation: str, number: int, error: BaseException
) -> Callable[[], None]:
    """``client``'s ``number``-th call of ``operation`` raises ``error``; returns the undo."""
    calls: list[int] = []

    def hook(**_: Any) -> None:
        calls.append(1)
        if len(calls) == number:
            raise error

    event = f"before-call.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, hook)
    return lambda: client.meta.events.unregister(event, hook)


# -- the planner --------------------------------------------------------------------------


def test_the_planner_puts_every_confirmed_subscriber_on_the_queue_once_in_batches(
    digest: Digest,
    digest_queues: DigestQueues,
    confirmed: Callable[[int], list[str]],
    news: None,
    dynamodb: Any,
    signing_key: bytes,
    clock: Clock,
) -> None:
    readers = confirmed(25)
    repository = SubscriberRepository(dynamodb, SUBSCRIBERS)
    for n, address in enumerate(["pending@example.com", "left@example.com"]):  # not confirmed
        ident = address_id(signing_key, address)
        repository.create_pending(ident, address, int(clock.now) - n, clock.iso())
    repository.confirm(address_id(signing_key, "left@example.com"), clock.iso())
    repository.unsubscribe(address_id(signing_key, "left@example.com"), clock.iso())
    digest.use_batch_size(2)  # pages of 20: two pages
    before = len(sent_emails())

    plan = digest.plan()

    assert (plan["outcome"], plan["subscribers"], plan["messages"]) == ("planned", 25, 13)
    batches = list(queued(digest_queues.url))
    ids = [i for batch in batches for i in batch.ids]
    assert sorted(ids) == sorted(ids_of(signing_key, readers))  # each exactly once
    assert all(1 <= len(batch.ids) <= 2 for batch in batches)
    assert sorted(batch.seq for batch in batches) == list(range(13))
    # The smaller of SesMaxSendRate (10) and moto's SES MaxSendRate (1, the sandbox's).
    assert {(batch.day, batch.rate) for batch in batches} == {(clock.day, 1)}
    run = digest.run_of(clock.day)
    assert (run.status, run.messages_planned, run.subscribers_planned) == ("planned", 13, 25)
    assert run.cursor is None and run.lease_until is None
    assert len(sent_emails()) == before  # the planner sends nothing


def test_a_second_planner_of_the_day_enqueues_nothing(
    digest: Digest,
    digest_queues: DigestQueues,
    confirmed: Callable[[int], list[str]],
    news: None,
) -> None:
    confirmed(3)
    assert digest.plan()["outcome"] == "planned"
    second = digest.plan()
    assert (second["outcome"], second["messages"], second["subscribers"]) == (
        "already planned",
        0,
        0,
    )
    assert len(list(queued(digest_queues.url))) == 1  # the first planner's batch alone


def test_a_planner_that_fails_part_way_is_continued_by_its_retry(
    digest: Digest,
    confirmed: Callable[[int], list[str]],
    news: None,
    signing_key: bytes,
    clock: Clock,
) -> None:
    readers = confirmed(25)
    digest.use_batch_size(2)
    planner = digest.planner.planner
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query"
    )
    undo = fail_on_call(planner.runs._client, "Query", 3, throttled)  # the second page
    with pytest.raises(ClientError):
        digest.plan()
    undo()
    run = digest.run_of(clock.day)
    assert run.status == "planning"
    assert (run.messages_planned, run.lease_until) == (10, 0)  # one page queued; let go
    before = len(sent_emails())

    retry = digest.plan()  # Lambda's retry of the asynchronous invocation
    digest.trigger.drain()

    assert (retry["outcome"], retry["messages"], retry["subscribers"]) == ("planned", 3, 5)
    assert recipients_since(before) == sorted(readers)  # each exactly once
    run = digest.run_of(clock.day)
    assert (run.status, run.sent) == ("finished", 25)


def test_a_planner_killed_part_way_is_taken_over_once_its_lease_ran_out(
    digest: Digest,
    confirmed: Callable[[int], list[str]],
    news: None,
    clock: Clock,
) -> None:
    readers = confirmed(25)
    digest.use_batch_size(2)
    queue = digest.planner.planner.queue._sqs
    undo = fail_on_call(queue, "SendMessageBatch", 2, Killed())
    with pytest.raises(Killed):
        digest.plan()
    undo()
    before = len(sent_emails())
    assert digest.plan()["outcome"] == "being planned"  # its lease has not run out yet
    clock.advance(300)  # the killed invocation's timeout (its lease)

    retry = digest.plan()
    digest.trigger.drain()

    assert (retry["outcome"], retry["subscribers"]) == ("planned", 5)
    assert recipients_since(before) == sorted(readers)


def test_a_run_with_no_subscriber_is_finished_by_the_planner(
    digest: Digest, news: None, clock: Clock
) -> None:
    plan = digest.plan()
    assert (plan["outcome"], plan["messages"], plan["stories"]) == ("planned", 0, 1)
    assert digest.run_of(clock.day).status == "finished"
    assert digest.trigger.drain() == []


def test_a_story_scheduled_for_later_today_is_not_in_the_digest(
    digest: Digest, news: None, clock: Clock, dynamodb: Any, stories_table: str
) -> None:
    publish(dynamodb, stories_table, "later-today", clock.iso(HOUR))  # public in an hour

    plan = digest.plan()

    assert plan["stories"] == 1  # "news" only: the other is stored, not yet public


# -- the senders --------------------------------------------------------------------------


def test_the_sender_skips_whoever_unsubscribed_or_was_suppressed_since_planning(
    digest: Digest,
    confirmed: Callable[[int], list[str]],
    news: None,
    dynamodb: Any,
    signing_key: bytes,
    clock: Clock,
) -> None:
    readers = confirmed(4)
    digest.plan()
    repository = SubscriberRepository(dynamodb, SUBSCRIBERS)
    left, bounced = readers[0], readers[1]
    repository.unsubscribe(address_id(signing_key, left), clock.iso())
    repository.suppress(address_id(signing_key, bounced), "bounced", clock.iso())
    before = len(sent_emails())

    digest.trigger.drain()

    assert recipients_since(before) == sorted(readers[2:])
    run = digest.run_of(clock.day)
    assert (run.sent, run.suppressed, run.skipped, run.failed) == (2, 1, 1, 0)


def test_a_sender_running_out_of_time_leaves_the_rest_of_its_batch_for_the_retry(
    digest: Digest,
    confirmed: Callable[[int], list[str]],
    news: None,
    clock: Clock,
) -> None:
    readers = confirmed(3)
    slow = digest.ses
    # Each send takes 200 s of the invocation's 300 (LambdaContext): the second leaves less
    # than the sender's margin, so it stops before the third.
    slow.meta.events.register("before-call.ses.SendRawEmail", lambda **_: clock.advance(200))
    before = len(sent_emails())

    report = digest.run()

    first, retry = report.batches
    assert first.failed == first.delivered and retry.failed == []
    assert recipients_since(before) == sorted(readers)  # each once
    assert report.run is not None and report.run.status == "finished"
    assert (report.run.sent, report.run.skipped) == (3, 2)  # the retry skipped the first two


def test_a_batch_of_yesterday_delivered_late_sends_no_second_digest(
    digest: Digest,
    digest_queues: DigestQueues,
    confirmed: Callable[[int], list[str]],
    news: None,
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
) -> None:
    """SQS keeps a batch up to a day: one of yesterday's run that comes after today's digest
    mails no one (its stories are none newer than what today's sent, and today's claim is
    later than its day: ``claim_digest`` refuses it either way)."""
    readers = confirmed(2)
    digest.plan()
    (late,) = queued(digest_queues.url)  # held back past the next morning
    clock.advance(DAY)
    publish(dynamodb, stories_table, "today", clock.iso(-HOUR))
    before = len(sent_emails())
    assert digest.run().counts["sent"] == 2  # today's: both stories
    assert recipients_since(before) == sorted(readers)

    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=digest_queues.url, MessageBody=late.to_json()
    )
    digest.trigger.drain()

    assert recipients_since(before) == sorted(readers)  # nothing more
    yesterday = digest.run_of(late.day)
    assert (yesterday.sent, yesterday.skipped) == (0, 2)


def test_the_end_of_a_run_is_reported_exactly_once(
    digest: Digest,
    digest_queues: DigestQueues,
    confirmed: Callable[[int], list[str]],
    news: None,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    confirmed(7)
    digest.use_batch_size(2)  # four batches

    class CurrentStdout:  # the shared logger writes where capsys reads
        def write(self, text: str) -> int:
            return sys.stdout.write(text)

        def flush(self) -> None:
            sys.stdout.flush()

    monkeypatch.setattr(digest.sender.logger.registered_handler, "stream", CurrentStdout())
    capsys.readouterr()
    report = digest.run()
    boto3.client("sqs", region_name=REGION).send_message(  # a batch SQS delivers twice
        QueueUrl=digest_queues.url,
        MessageBody=DigestBatch(clock.day, 0, 1, ("whoever",)).to_json(),
    )
    digest.trigger.drain()
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]

    assert len(report.batches) == 4
    (finished,) = [line for line in printed if line.get("message") == "digest run finished"]
    assert {k: finished[k] for k in ("day", "messages", "subscribers", "sent", "skipped")} == {
        "day": clock.day,
        "messages": 4,
        "subscribers": 7,
        "sent": 7,
        "skipped": 0,
    }
    assert finished["seconds"] >= 0
    emitted = [m["digest_run_finished"] for m in printed if "digest_run_finished" in m]
    assert emitted == [[1.0]]
    assert sum(len(m["digest_run_seconds"]) for m in printed if "digest_run_seconds" in m) == 1
    run = digest.run_of(clock.day)
    assert (run.status, run.messages_done) == ("finished", 5)


def test_each_subscriber_is_claimed_for_the_runs_day_not_the_senders(
    digest: Digest,
    confirmed: Callable[[int], list[str]],
    news: None,
    dynamodb: Any,
    signing_key: bytes,
    clock: Clock,
) -> None:
    """A run planned a minute before midnight and sent after it claims its own day."""
    clock.now = datetime.fromtimestamp(clock.now, UTC).replace(hour=23, minute=59).timestamp()
    readers = confirmed(2)
    day = clock.day
    digest.plan()
    clock.advance(120)
    assert clock.day != day  # the senders run the next day
    digest.trigger.drain()
    repository = SubscriberRepository(dynamodb, SUBSCRIBERS)
    claimed = repository.batch_get(ids_of(signing_key, readers))
    assert {s.last_digest_on for s in claimed.values()} == {day}
