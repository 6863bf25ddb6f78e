"""The digest's planner (the scheduled DigestFunction): it sends no email. It takes the day's
stories once, records the day's run, and puts every confirmed subscriber on the digest queue
in batches, which the senders (``newsroom.newsletter.sender``) mail under one shared rate.

EventBridge delivers a schedule at least once (Amazon EventBridge User Guide: a rule's
target can be invoked more than once), so a second invocation of the same day must not plan
the day again: the run item is created with a conditional write, and the second one finds
it and enqueues nothing (each subscriber's daily claim would refuse a second email anyway).
A planner holds the run with a lease until its invocation would time out; a planner that
fails lets go, and Lambda's retry of the invocation continues from the last page on the
queue (the cursor in the run item), so a failure part way does not lose the rest of the day.

=====================  =================================================================
per run                calls
=====================  =================================================================
stories                1 ``Query`` of the ``feed`` index (the newest 50)
sending rate           1 SES ``GetSendQuota``
run                    1 conditional ``PutItem`` + 1 ``PutItem`` (its stories)
per 1,000 subscribers  1 ``Query`` (keys only) + 1 ``SendMessageBatch`` (10 messages of
                       100) + 1 ``UpdateItem`` (the cursor)
=====================  =================================================================
"""

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from newsroom.core.timestamps import format_utc
from newsroom.newsletter.digest_batches import SEND_BATCH_LIMIT, DigestBatch, DigestQueue
from newsroom.newsletter.digest_runs import RunReporter, RunRepository, RunStories
from newsroom.newsletter.subscribers import SubscriberRepository
from newsroom.stories.items import ALL_STORIES_FEED, public_until, to_summary
from newsroom.stories.repository import StoryRepository

MAX_DIGEST_STORIES = 50
DIGEST_LOOKBACK = timedelta(days=7)
BATCH_SIZE = 100  # subscribers per message: one BatchGetItem for the sender
PlanOutcome = Literal["planned", "nothing new", "already planned", "being planned"]


class LeaseLost(RuntimeError):
    """Another planner took this run over (this one was too slow): stop, it goes on."""


@dataclass(frozen=True)
class PlanResult:
    """What one invocation of the planner did (``dataclasses.asdict`` gives its reply)."""

    day: str
    outcome: PlanOutcome
    stories: int = 0
    rate: int = 0
    messages: int = 0  # enqueued by this invocation
    subscribers: int = 0


def send_rate(quota: Mapping[str, Any], max_send_rate: float) -> int:
    """Emails per second for all senders together: the smaller of ``SesMaxSendRate`` (0: no
    limit of its own) and the account's SES sending rate (``GetSendQuota``'s MaxSendRate),
    whole, at least 1."""
    limits = [r for r in (max_send_rate, float(quota.get("MaxSendRate", 0))) if r > 0]
    return max(1, math.floor(min(limits))) if limits else 1


def day_of(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


@dataclass
class DigestPlanner:
    subscribers: SubscriberRepository
    stories: StoryRepository
    runs: RunRepository
    queue: DigestQueue
    ses: Any  # for GetSendQuota
    max_send_rate: float  # SesMaxSendRate; 0: the account's rate alone
    reporter: RunReporter
    batch_size: int = BATCH_SIZE
    clock: Callable[[], float] = time.time

    def send_rate(self) -> int:
        """The run's rate, from SES's ``GetSendQuota`` (one call per run)."""
        return send_rate(self.ses.get_send_quota(), self.max_send_rate)

    def plan(self, *, planner: str, remaining_ms: int) -> PlanResult:
        """Plan today's digest run, or find it planned. ``planner`` names this invocation
        (its request id); ``remaining_ms`` is its time left, the length of its lease. The
        metric ``digest_planned`` counts the subscribers it put on the queue."""
        result = self._plan(planner, remaining_ms)
        self.reporter.metric("digest_planned", "Count", result.subscribers)
        return result

    def _plan(self, planner: str, remaining_ms: int) -> PlanResult:
        now = self.clock()
        day = day_of(now)
        moment = datetime.fromtimestamp(now, UTC)
        oldest = format_utc(moment - DIGEST_LOOKBACK)
        # Public stories only: one scheduled for later goes out in the digest after it.
        until = public_until(format_utc(moment))
        items = self.stories.query_feed(ALL_STORIES_FEED, MAX_DIGEST_STORIES, until=until)
        recent = [to_summary(item) for item in items if item["published_at"] > oldest]
        if not recent:
            finished = self.runs.start_finished(day, now=now, stories=0)
            if finished is None:
                return PlanResult(day, "already planned")
            self.reporter.finished(finished)
            return PlanResult(day, "nothing new")
        rate = self.send_rate()
        lease_until = now + remaining_ms / 1000
        cursor: str | None = None
        seq = 0
        if not self.runs.start(
            day, now=now, stories=len(recent), rate=rate, planner=planner, lease_until=lease_until
        ):
            run = self.runs.get(day)
            if run is None or run.status != "planning":
                return PlanResult(day, "already planned")
            if (run.lease_until or 0) > now or not self.runs.take_over(
                run, planner=planner, lease_until=lease_until
            ):
                return PlanResult(day, "being planned")
            rate, cursor, seq = run.rate, run.cursor, run.messages_planned
        # Written once: a planner that takes over keeps the stories the run started with.
        self.runs.put_stories(day, RunStories(recent, oldest), now=now)
        try:
            messages, subscribers = self._enqueue(day, rate, planner, cursor, seq)
        except Exception:
            self.runs.release(day, planner)
            raise
        run_planned = self.runs.finish_planning(day, planner)
        if run_planned is None:
            raise LeaseLost(f"the digest run of {day} was taken over")
        finished = self.runs.finish(run_planned, self.clock())
        if finished is not None:  # nothing was planned, or the senders were quicker
            self.reporter.finished(finished)
        return PlanResult(
            day, "planned", run_planned.stories, rate, messages=messages, subscribers=subscribers
        )

    def _enqueue(
        self, day: str, rate: int, planner: str, cursor: str | None, seq: int
    ) -> tuple[int, int]:
        """Every confirmed subscriber after ``cursor`` onto the queue, one page of the index
        (ten messages) at a time, the cursor recorded after each."""
        messages = subscribers = 0
        page_size = self.batch_size * SEND_BATCH_LIMIT
        while True:
            ids, cursor = self.subscribers.confirmed_ids(page_size, cursor)
            batches = [
                DigestBatch(day, seq + n, rate, tuple(ids[i : i + self.batch_size]))
                for n, i in enumerate(range(0, len(ids), self.batch_size))
            ]
            self.queue.put(batches)
            if not self.runs.record_page(
                day, planner=planner, cursor=cursor, messages=len(batches), subscribers=len(ids)
            ):
                raise LeaseLost(f"the digest run of {day} was taken over")
            seq += len(batches)
            messages += len(batches)
            subscribers += len(ids)
            if cursor is None:
                return messages, subscribers
