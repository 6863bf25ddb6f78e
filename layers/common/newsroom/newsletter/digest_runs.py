"""The daily digest's runs: one run item per day and the stories it sends, in the subscribers
table next to the subscribers (the digest's own keys; neither is in the ``confirmed`` index).

=====================  ======================  ============================================
item                   ``id``                  what
=====================  ======================  ============================================
run                    ``run#<day>``           who plans it (a lease) and how far; messages
                                               and subscribers planned; what the senders did
stories of the run     ``run#<day>#stories``   the stories every sender builds its emails from
=====================  ======================  ============================================

=====================  ==============================================================
access pattern         call
=====================  ==============================================================
``start``              1 conditional ``PutItem`` (only the day's first run: at-least-once
                       schedules deliver twice)
``start_finished``     1 conditional ``PutItem`` (a day with nothing to send)
``get``                1 consistent ``GetItem``
``take_over``          1 conditional ``UpdateItem`` (a planner whose lease ran out)
``release``            1 conditional ``UpdateItem`` (a planner that failed lets go)
``record_page``        1 conditional ``UpdateItem`` per page planned
``finish_planning``    1 conditional ``UpdateItem``
``add_counts``         1 ``UpdateItem`` per message a sender handled
``finish``             1 conditional ``UpdateItem`` (once per run)
``put_stories``        1 conditional ``PutItem``
``stories``            1 consistent ``GetItem``
=====================  ==============================================================
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Protocol, cast

from botocore.exceptions import ClientError

from newsroom.core.dynamo import from_dynamo
from newsroom.stories.items import StorySummary

RUN_TTL_SECONDS = 35 * 24 * 3600  # a month of runs to look back on
# Longer than a message can wait on the digest queue (its retention, one day).
STORIES_TTL_SECONDS = 2 * 24 * 3600
RunStatus = Literal["planning", "planned", "finished"]
Outcome = Literal["sent", "failed", "suppressed", "skipped"]
OUTCOMES: tuple[Outcome, ...] = ("sent", "failed", "suppressed", "skipped")
# Every EMF metric of the digest: the planner's digest_planned (subscribers it queued), the
# senders' outcomes, and the run's end.
METRICS: frozenset[str] = frozenset(
    {f"digest_{o}" for o in OUTCOMES}
    | {"digest_planned", "digest_run_seconds", "digest_run_finished"}
)


def run_key(day: str) -> dict[str, Any]:
    return {"id": {"S": f"run#{day}"}}


def stories_key(day: str) -> dict[str, Any]:
    return {"id": {"S": f"run#{day}#stories"}}


def _number(value: float) -> dict[str, str]:
    """A DynamoDB number, to the millisecond (times are epoch seconds)."""
    return {"N": f"{value:.3f}".rstrip("0").rstrip(".")}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


@dataclass
class Counts:
    """What a sender did with the subscribers of one message (or of one attempt at it)."""

    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


_TIMES = frozenset({"started_at", "finished_at", "lease_until"})
_TEXTS = frozenset({"day", "status", "planner", "cursor"})


@dataclass(frozen=True, slots=True)
class Run:
    """A run item, as stored."""

    day: str
    status: RunStatus
    started_at: float
    stories: int
    rate: int
    messages_planned: int = 0
    subscribers_planned: int = 0
    messages_done: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0
    finished_at: float | None = None
    planner: str | None = None
    lease_until: float | None = None
    cursor: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Run":
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in from_dynamo(item).items():
            if name in _TIMES:
                values[name] = float(value)
            elif name in _TEXTS:
                values[name] = value
            elif name in names:
                values[name] = int(value)
        return cls(**values)

    @property
    def complete(self) -> bool:
        """Planned to the end, and every planned message handled."""
        return self.status == "planned" and self.messages_done >= self.messages_planned

    def totals(self) -> dict[str, Any]:
        """What the "digest run finished" line says."""
        return {
            "day": self.day,
            "stories": self.stories,
            "messages": self.messages_planned,
            "subscribers": self.subscribers_planned,
            **{o: getattr(self, o) for o in OUTCOMES},
            "seconds": None if self.finished_at is None else self.finished_at - self.started_at,
        }


@dataclass(frozen=True, slots=True)
class RunStories:
    """The stories of a run (newest first) and the oldest a digest may go back to."""

    stories: list[StorySummary]
    oldest: str


class RunRepository:
    """Every access to the digest's run items."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _put_new(self, item: dict[str, Any]) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(id)"
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def _update(self, day: str, **request: Any) -> dict[str, Any] | None:
        """One conditional ``UpdateItem`` of the run; its new item, None when the condition
        failed."""
        try:
            response = self._client.update_item(
                TableName=self._table, Key=run_key(day), ReturnValues="ALL_NEW", **request
            )
            return cast("dict[str, Any]", response["Attributes"])
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise

    def _new_run(self, day: str, now: float, stories: int, rate: int) -> dict[str, Any]:
        return {
            **run_key(day),
            "day": {"S": day},
            "started_at": _number(now),
            "stories": _number(stories),
            "rate": _number(rate),
            "messages_planned": _number(0),
            "subscribers_planned": _number(0),
            "messages_done": _number(0),
            **{outcome: _number(0) for outcome in OUTCOMES},
            "expires_at": _number(int(now) + RUN_TTL_SECONDS),
        }

    def start(
        self, day: str, *, now: float, stories: int, rate: int, planner: str, lease_until: float
    ) -> bool:
        """The day's run, being planned by ``planner`` until ``lease_until``; False when the
        day has a run already."""
        return self._put_new(
            {
                **self._new_run(day, now, stories, rate),
                "status": {"S": "planning"},
                "planner": {"S": planner},
                "lease_until": _number(lease_until),
            }
        )

    def start_finished(self, day: str, *, now: float, stories: int) -> Run | None:
        """The day's run when there is nothing to send: finished as it starts. None when the
        day has a run already."""
        item = {
            **self._new_run(day, now, stories, 0),
            "status": {"S": "finished"},
            "finished_at": _number(now),
        }
        return Run.from_item(item) if self._put_new(item) else None

    def get(self, day: str) -> Run | None:
        response = self._client.get_item(
            TableName=self._table, Key=run_key(day), ConsistentRead=True
        )
        return Run.from_item(response["Item"]) if "Item" in response else None

    def take_over(self, run: Run, *, planner: str, lease_until: float) -> bool:
        """Continue planning a run whose planner's lease ran out (it crashed or timed out)
        or that it released; False when another planner got there first."""
        return (
            self._update(
                run.day,
                UpdateExpression="SET planner = :me, lease_until = :until",
                ConditionExpression="#s = :planning AND planner = :old AND lease_until = :lease",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":me": {"S": planner},
                    ":until": _number(lease_until),
                    ":planning": {"S": "planning"},
                    ":old": {"S": run.planner or ""},
                    ":lease": _number(run.lease_until or 0),
                },
            )
            is not None
        )

    def release(self, day: str, planner: str) -> None:
        """A planner that fails gives up its lease, so that Lambda's retry of the invocation
        continues at once instead of after the lease."""
        self._update(
            day,
            UpdateExpression="SET lease_until = :zero",
            ConditionExpression="#s = :planning AND planner = :me",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":zero": _number(0),
                ":planning": {"S": "planning"},
                ":me": {"S": planner},
            },
        )

    def record_page(
        self, day: str, *, planner: str, cursor: str | None, messages: int, subscribers: int
    ) -> bool:
        """After a page's messages are on the queue: count them and move the cursor, so that a
        planner that takes over goes on from the next page. False: the lease is lost."""
        values: dict[str, Any] = {
            ":m": _number(messages),
            ":s": _number(subscribers),
            ":planning": {"S": "planning"},
            ":me": {"S": planner},
        }
        if cursor is None:
            position = "REMOVE #c"
        else:
            position = "SET #c = :cursor"
            values[":cursor"] = {"S": cursor}
        return (
            self._update(
                day,
                UpdateExpression=f"ADD messages_planned :m, subscribers_planned :s {position}",
                ConditionExpression="#s = :planning AND planner = :me",
                ExpressionAttributeNames={"#s": "status", "#c": "cursor"},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def finish_planning(self, day: str, planner: str) -> Run | None:
        """Every page is on the queue: the run is ``planned`` (the senders may now finish it).
        None: the lease is lost."""
        item = self._update(
            day,
            UpdateExpression="SET #s = :planned REMOVE lease_until, #c",
            ConditionExpression="#s = :planning AND planner = :me",
            ExpressionAttributeNames={"#s": "status", "#c": "cursor"},
            ExpressionAttributeValues={
                ":planned": {"S": "planned"},
                ":planning": {"S": "planning"},
                ":me": {"S": planner},
            },
        )
        return None if item is None else Run.from_item(item)

    def add_counts(self, day: str, counts: Counts, *, message_done: bool) -> Run:
        """What a sender did with one message: its counts, and the message as handled when
        it is (not for an attempt that failed and comes back)."""
        values = {f":{name}": _number(value) for name, value in asdict(counts).items()}
        values[":done"] = _number(1 if message_done else 0)
        item = self._update(
            day,
            UpdateExpression="ADD messages_done :done, "
            + ", ".join(f"{name} :{name}" for name in OUTCOMES),
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeValues=values,
        )
        if item is None:
            raise LookupError(f"no digest run for {day}")
        return Run.from_item(item)

    def finish(self, run: Run, now: float) -> Run | None:
        """Record that ``run`` (complete) finished; the finished run only for the one call
        that recorded it (every other caller gets None), so it is reported exactly once."""
        if not run.complete:
            return None
        item = self._update(
            run.day,
            UpdateExpression="SET #s = :finished, finished_at = :now",
            ConditionExpression="#s = :planned AND attribute_not_exists(finished_at)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":finished": {"S": "finished"},
                ":planned": {"S": "planned"},
                ":now": _number(now),
            },
        )
        return None if item is None else Run.from_item(item)

    def put_stories(self, day: str, stories: RunStories, *, now: float) -> None:
        """The run's stories, written once: a planner that takes over keeps the first's."""
        self._put_new(
            {
                **stories_key(day),
                "stories": {"S": json.dumps(stories.stories, separators=(",", ":"))},
                "oldest": {"S": stories.oldest},
                "expires_at": _number(int(now) + STORIES_TTL_SECONDS),
            }
        )

    def stories(self, day: str) -> RunStories | None:
        response = self._client.get_item(
            TableName=self._table, Key=stories_key(day), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = response["Item"]
        return RunStories(json.loads(item["stories"]["S"]), item["oldest"]["S"])


class Metrics(Protocol):
    """Where EMF metrics go (Powertools ``Metrics``)."""

    def add_metric(self, name: str, unit: str, value: float) -> None: ...


@dataclass(frozen=True)
class RunReporter:
    """The digest's metrics and what a finished run reports, whoever finished it (the last
    sender, or the planner): ``digest_run_seconds``, ``digest_run_finished`` and one "digest
    run finished" line with the totals."""

    log: Callable[..., None]
    metrics: Metrics

    def metric(self, name: str, unit: str, value: float) -> None:
        self.metrics.add_metric(name=name, unit=unit, value=value)

    def finished(self, run: Run) -> None:
        totals = run.totals()
        self.metric("digest_run_seconds", "Seconds", float(totals["seconds"] or 0))
        self.metric("digest_run_finished", "Count", 1)
        self.log("digest run finished", **totals)
