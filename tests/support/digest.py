"""The daily digest in the tests, as AWS runs it: the scheduled event to the planner
(DigestFunction), then DigestQueue delivered to the sender (DigestSenderFunction) by its event
source mapping (``devtools.sqs_trigger``: the real SQS event, ``batchItemFailures`` left on
the queue, the queue's redrive policy to its dead-letter queue). Both functions are the real
handlers loaded with ``tests.support.aws.load_function`` (every call checked against their
roles); the queues have the template's visibility timeout and redrive policy.

A test's ``clock`` becomes the time of both functions, and the senders' waits for the next
second of their sending budget advance it (moto's SES says ``MaxSendRate`` 1, the sandbox's,
so a run of a few emails waits a few virtual seconds)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.functions import LambdaContext
from devtools.queues import QueueWithDeadLetters, create_queue_with_dead_letters
from devtools.sqs_trigger import Batch, SqsTrigger
from devtools.stack import scheduled_event
from devtools.template import resource
from newsroom.newsletter.digest_runs import Run, RunRepository
from tests.support import iam
from tests.support.aws import REGION, load_function

Clock = Callable[[], float]


DigestQueues = QueueWithDeadLetters  # DigestQueue and DigestDeadLetterQueue


def create_digest_queues(suffix: str = "test") -> DigestQueues:
    """DigestQueue and its dead-letter queue, as the template declares them."""
    return create_queue_with_dead_letters(
        boto3.client("sqs", region_name=REGION),
        "DigestQueue",
        f"digest-{suffix}",
        f"digest-dead-letters-{suffix}",
    )


@dataclass
class DigestReport:
    """What one run of the digest did: the planner's reply, the batches the sender got, and
    the day's run item afterwards."""

    plan: dict[str, Any]
    batches: list[Batch]
    run: Run | None

    @property
    def counts(self) -> dict[str, int]:
        """The run's totals (all zero when there is no run)."""
        run = self.run
        names = ("sent", "failed", "suppressed", "skipped")
        return {n: getattr(run, n) if run else 0 for n in names}


@dataclass
class Digest:
    """The planner and the sender of one test, on one pair of queues."""

    planner: ModuleType
    sender: ModuleType
    queues: DigestQueues
    subscribers_table: str
    trigger: SqsTrigger = field(init=False)

    def __post_init__(self) -> None:
        polling = boto3.client("sqs", region_name=REGION)
        checker = iam.loaded(self.sender).checker
        if checker is not None:  # the mapping polls with the function's execution role
            checker.attach(polling)
        self.trigger = SqsTrigger(
            polling,
            self.queues.url,
            self.sender.handler,
            LambdaContext("DigestSenderFunction"),
            batch_size=int(resource("DigestSenderFunctionDigestQueue")["BatchSize"]),
            retry_now=True,
            retry_sqs=boto3.client("sqs", region_name=REGION),
        )

    def use_clock(self, clock: Clock, advance: Callable[[float], None]) -> None:
        """``clock`` for both functions; the senders' budget waits by ``advance``."""
        self.planner.planner.clock = clock
        self.sender.sender.newsletter.clock = clock
        self.sender.sender.budget.clock = clock
        self.sender.sender.budget.sleep = advance

    def use_batch_size(self, size: int) -> None:
        """``size`` subscribers a message for the planner (its module is this test's alone:
        nothing to restore)."""
        self.planner.planner.batch_size = size

    def plan(self) -> dict[str, Any]:
        """What EventBridge's schedule does: invoke the planner with a scheduled event."""
        result: dict[str, Any] = self.planner.handler(
            scheduled_event(), LambdaContext("DigestFunction")
        )
        return result

    def run(self) -> DigestReport:
        """Plan, then deliver the queue to the sender until it is empty (a failed batch comes
        back at once, as if its backoff had passed)."""
        plan = self.plan()
        batches = self.trigger.drain()
        return DigestReport(plan, batches, self.run_item(plan["day"]))

    def run_item(self, day: str) -> Run | None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        return RunRepository(dynamodb, self.subscribers_table).get(day)

    def run_of(self, day: str) -> Run:
        """The run item of ``day``, which must exist."""
        run = self.run_item(day)
        assert run is not None, f"no digest run item for {day}"
        return run

    @property
    def ses(self) -> Any:
        """The sender's SES client, where a test hooks ``SendRawEmail``."""
        return self.sender.sender.newsletter.mailer._ses


def load_digest(
    queues: DigestQueues,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    sender_env: dict[str, str] | None = None,
    edit_sender_policy: iam.PolicyEdit | None = None,
) -> Digest:
    """The real planner and sender, with ``env`` (the tables, PUBLIC_API_URL, ...) and the
    test's queue; ``sender_env`` and ``edit_sender_policy`` for the sender alone."""
    bound = {"DigestQueue": queues.name}
    planner = load_function(
        "digest",
        "DigestFunction",
        {**env, "DIGEST_QUEUE_URL": queues.url},
        monkeypatch,
        resources=bound,
    )
    sender = load_function(
        "digest_sender",
        "DigestSenderFunction",
        {**env, **(sender_env or {})},
        monkeypatch,
        edit_policy=edit_sender_policy,
        resources=bound,
    )
    return Digest(planner, sender, queues, env["SUBSCRIBERS_TABLE"])
