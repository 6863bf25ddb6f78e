"""The daily digest at scale on virtual time: the REAL planner (``functions/digest``) and REAL
senders (``functions/digest_sender``) against moto (DynamoDB, SQS, SES), with a virtual SES
(its ``MaxSendRate``, a latency per send, and ``Throttling`` for any send over its rate) and a
latency per AWS call, several senders run as a discrete-event schedule.

Each sender has its own virtual clock, which its calls move on (the latencies) and its
budget's waits move on (``sleep``); the sender whose clock is the earliest takes the next SQS
message, as an idle Lambda poller would. A sender handles its whole message before the next
sender's turn, so the senders' calls do not reach DynamoDB in time order; the budget's fixed
windows are keyed by virtual second, so the order they are evaluated in does not change what
each window grants (never more than the rate), and the virtual SES counts the sends that
start in each virtual second whatever order they come in.

    python -m bench.digest_simulation [--subscribers 10000] [--rate 100] [--senders 8]

``simulate`` returns the figures (``SimulationResult``): the virtual duration, the emails
moto's SES took, the busiest second, the budget's writes, and the extrapolation to a million
subscribers at 100/s (the goal: under 3 hours). ``bench/capacity.py`` prints them.
"""

import argparse
import contextlib
import io
import json
import math
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devtools.functions import LambdaContext, load_function_module
from devtools.sqs_trigger import sqs_event
from devtools.stack import scheduled_event
from devtools.template import (
    create_table_kwargs,
    function_environment,
    parameter_default,
    resource,
)
from newsroom.core import aws
from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.subscribers import subscriber_key

REGION = "us-east-1"
STORIES_TABLE = "digest-simulation-stories"
SUBSCRIBERS_TABLE = "digest-simulation-subscribers"
QUEUE = "digest-simulation"
DEAD_LETTERS = "digest-simulation-dead-letters"
# The virtual morning of the run (07:00 UTC, the schedule's default hour).
START = datetime(2030, 1, 7, 7, 0, tzinfo=UTC).timestamp()
GOAL_SUBSCRIBERS = 1_000_000
GOAL_RATE = 100
GOAL_HOURS = 3.0
WRITE_BATCH = 25  # items per BatchWriteItem

Loader = Callable[[str, str, dict[str, str], dict[str, str]], ModuleType]
"""``(function folder, logical id, environment, {logical id: physical name})`` -> the loaded
``functions/<folder>/app.py``."""


def load_plain(name: str, logical_id: str, env: dict[str, str], _: dict[str, str]) -> ModuleType:
    """The function as a fresh container loads it, with its template environment and
    ``env`` (no endpoint override: moto's mock answers in-process)."""
    aws.client.cache_clear()  # a new container: its own clients
    function_env = {**function_environment(logical_id), **env}
    function_env.pop("AWS_ENDPOINT_URL", None)
    return load_function_module(name, function_env)


@dataclass(frozen=True)
class SimulationResult:
    """What one simulated run did (virtual seconds unless said otherwise)."""

    subscribers: int
    ses_rate: int  # the virtual SES's MaxSendRate, which the run keeps to
    senders: int
    send_latency_ms: float
    call_latency_ms: float
    virtual_seconds: float  # from the schedule firing to the end of the last send
    planner_seconds: float
    ideal_seconds: float  # subscribers / rate
    efficiency: float  # ideal_seconds / virtual_seconds
    emails: int  # what moto's SES took
    recipients: int  # distinct ones
    ses_throttled: int  # sends the virtual SES refused (over its rate): 0 expected
    busiest_second: int  # most sends that started in one virtual second
    busiest_window: int  # most tokens one budget window granted
    messages: int
    message_attempts: int  # deliveries, retries included
    budget_writes: int  # the budget's UpdateItem calls, every sender together
    budget_writes_per_email: float
    runs_finished: int  # "digest run finished" lines
    run_finished_metrics: float  # sum of the digest_run_finished metric
    extrapolated_subscribers: int
    extrapolated_rate: int
    extrapolated_hours: float
    goal_hours: float
    meets_goal: bool
    real_seconds: float  # how long the simulation took on this machine


class VirtualClock:
    """A sender's (or the planner's) own time."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class VirtualContext(LambdaContext):
    """Lambda's context on virtual time: the time left of an invocation of ``timeout_s``."""

    def __init__(self, function_name: str, clock: VirtualClock, timeout_s: float) -> None:
        super().__init__(function_name)
        self._clock = clock
        self._deadline = clock.now + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self._deadline - self._clock.now) * 1000)


@dataclass
class VirtualSes:
    """The SES rate the run meets: sends that start in one virtual second beyond ``rate`` are
    refused with SES's own error (``Throttling``, "Maximum sending rate exceeded")."""

    rate: int
    starts: Counter[int] = field(default_factory=Counter)
    throttled: int = 0

    def admit(self, now: float) -> None:
        second = math.floor(now)
        if self.starts[second] >= self.rate:
            self.throttled += 1
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}},
                "SendRawEmail",
            )
        self.starts[second] += 1


def _on_virtual_time(
    client: Any, clock: VirtualClock, latency: float, ses: VirtualSes | None = None, send: float = 0
) -> None:
    """Every call of ``client`` takes ``latency`` of ``clock``'s time (an SES send ``send``,
    admitted by the virtual SES first)."""
    service = client.meta.service_model.service_name

    def before(model: Any, **_: Any) -> None:
        if service == "ses" and model.name == "SendRawEmail" and ses is not None:
            ses.admit(clock.now)
            clock.advance(send)
        else:
            clock.advance(latency)

    client.meta.events.register(f"before-call.{service}", before)


def _set_up(key: str) -> tuple[str, str]:
    """The tables (from the template), the signing key, the sender's identity and the digest
    queue with its dead letters; returns the queue's URL and ARN."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(**create_table_kwargs("StoriesTable", STORIES_TABLE))
    dynamodb.create_table(**create_table_kwargs("SubscribersTable", SUBSCRIBERS_TABLE))
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=str(parameter_default("SigningKeyParameterName")), Value=key, Type="SecureString"
    )
    boto3.client("ses", region_name=REGION).verify_email_identity(
        EmailAddress=str(parameter_default("SenderEmail"))
    )
    sqs = boto3.client("sqs", region_name=REGION)
    dead = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    declared = resource("DigestQueue")
    url = sqs.create_queue(
        QueueName=QUEUE,
        Attributes={
            "VisibilityTimeout": str(declared["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(
                {**declared["RedrivePolicy"], "deadLetterTargetArn": dead_arn}
            ),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return str(url), str(arn)


def seed_confirmed(
    dynamodb: Any, table: str, key: bytes, count: int, confirmed_at: str
) -> list[str]:
    """``count`` confirmed subscribers, written as ``SubscriberRepository.confirm`` leaves
    them (status, ``digest_through``, the ``confirmed`` index's ``list_pk``), 25 per
    ``BatchWriteItem``; returns their addresses."""
    addresses = [f"reader{n}@example.com" for n in range(count)]
    for start in range(0, count, WRITE_BATCH):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        **subscriber_key(address_id(key, address)),
                        "email": {"S": address},
                        "status": {"S": "confirmed"},
                        "created_at": {"S": confirmed_at},
                        "updated_at": {"S": confirmed_at},
                        "confirmed_at": {"S": confirmed_at},
                        "digest_through": {"S": confirmed_at},
                        "list_pk": {"S": "confirmed"},
                    }
                }
            }
            for address in addresses[start : start + WRITE_BATCH]
        ]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return addresses


def _publish_story(dynamodb: Any, published_at: str) -> None:
    from newsroom.stories.contract import StoryIn
    from newsroom.stories.items import story_item
    from newsroom.stories.repository import StoryRepository

    story = StoryIn.model_validate(
        {
            "slug": "simulated-story",
            "title": "A simulated story",
            "summary": "The digest at scale, on virtual time.",
            "published_at": published_at,
            "topics": ["ai"],
        }
    )
    item = story_item(story, source_key="incoming/simulated.json", ingested_at=published_at)
    repository = StoryRepository(dynamodb, STORIES_TABLE)
    repository.put_story(item)


@contextlib.contextmanager
def _captured_output(modules: list[ModuleType]) -> Iterator[io.StringIO]:
    """What the functions print (Powertools' log lines and EMF metrics), kept for counting
    instead of flooding the terminal."""
    buffer = io.StringIO()
    loggers = {id(m.logger): m.logger for m in modules}.values()
    saved = [(lg.registered_handler, lg.registered_handler.stream) for lg in loggers]
    for handler, _ in saved:
        handler.stream = buffer
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        for handler, stream in saved:
            handler.stream = stream


def _count_finished(printed: str) -> tuple[int, float]:
    lines = finished_metric = 0.0
    for line in printed.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if document.get("message") == "digest run finished":
            lines += 1
        values = document.get("digest_run_finished") if "_aws" in document else None
        if values is not None:
            finished_metric += sum(values if isinstance(values, list) else [values])
    return int(lines), finished_metric


@contextlib.contextmanager
def _aws_environment() -> Iterator[None]:
    """Dummy credentials and the region, no endpoint override, for the simulation only."""
    saved = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "simulation",
            "AWS_SECRET_ACCESS_KEY": "simulation",
            "AWS_SESSION_TOKEN": "simulation",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def simulate(
    subscribers: int = 10_000,
    *,
    ses_rate: int = GOAL_RATE,
    senders: int = 8,
    send_latency: float = 0.050,
    call_latency: float = 0.005,
    load: Loader = load_plain,
    mock: bool = True,
) -> SimulationResult:
    """One digest run of ``subscribers`` confirmed subscribers (one new story) by the real
    planner and ``senders`` real senders, against moto, on virtual time (see the module's
    docstring). ``load`` loads a function (the tests pass one that checks every call against
    the function's role); ``mock`` False when a moto mock is already active."""
    from moto import mock_aws

    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_aws_environment())
        if mock:
            stack.enter_context(mock_aws())
        result = _simulate(subscribers, ses_rate, senders, send_latency, call_latency, load)
    aws.client.cache_clear()
    return _with_real_seconds(result, time.perf_counter() - started)


def _with_real_seconds(result: SimulationResult, seconds: float) -> SimulationResult:
    return SimulationResult(**{**asdict(result), "real_seconds": round(seconds, 1)})


def _simulate(
    subscribers: int,
    ses_rate: int,
    senders: int,
    send_latency: float,
    call_latency: float,
    load: Loader,
) -> SimulationResult:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    key = secrets.token_urlsafe(32)
    queue_url, queue_arn = _set_up(key)
    ses_backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    quota = ses_backend.get_send_quota()
    quota.max_send_rate = ses_rate  # the virtual SES's rate, as GetSendQuota says it
    ses_backend.get_send_quota = lambda: quota  # type: ignore[method-assign]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    seed_confirmed(
        dynamodb,
        SUBSCRIBERS_TABLE,
        key.encode(),
        subscribers,
        format_utc(datetime.fromtimestamp(START, UTC) - timedelta(days=1)),
    )
    _publish_story(dynamodb, format_utc(datetime.fromtimestamp(START, UTC) - timedelta(hours=1)))

    env = {
        "SUBSCRIBERS_TABLE": SUBSCRIBERS_TABLE,
        "STORIES_TABLE": STORIES_TABLE,
        "PUBLIC_API_URL": "https://signal-noise.example/api",
    }
    bound = {"DigestQueue": QUEUE}
    # SesMaxSendRate as a deployment for this rate sets it; the account's rate is the same.
    planner_env = {**env, "DIGEST_QUEUE_URL": queue_url, "SES_MAX_SEND_RATE": str(ses_rate)}
    planner = load("digest", "DigestFunction", planner_env, bound)
    workers = [
        load("digest_sender", "DigestSenderFunction", dict(env), bound) for _ in range(senders)
    ]
    virtual_ses = VirtualSes(ses_rate)

    planner_clock = VirtualClock(START)
    planner.planner.clock = planner_clock
    for client in (planner.planner.runs._client, planner.planner.queue._sqs, planner.planner.ses):
        _on_virtual_time(client, planner_clock, call_latency)
    visible: dict[int, float] = {}  # a batch's seq -> when the planner put it on the queue

    def note_sent(params: Mapping[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            visible[json.loads(entry["MessageBody"])["seq"]] = planner_clock.now + call_latency

    planner.planner.queue._sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch", note_sent
    )

    clocks = [VirtualClock(START) for _ in workers]
    for worker, clock in zip(workers, clocks, strict=True):
        sender = worker.sender
        sender.newsletter.clock = clock
        sender.budget.clock = clock
        sender.budget.sleep = clock.advance
        _on_virtual_time(sender.runs._client, clock, call_latency)
        _on_virtual_time(sender.newsletter.key._ssm, clock, call_latency)
        if sender.backoff is not None:
            _on_virtual_time(sender.backoff._sqs, clock, call_latency)
        _on_virtual_time(
            sender.newsletter.mailer._ses, clock, call_latency, virtual_ses, send_latency
        )

    timeout = float(resource("DigestSenderFunction").get("Timeout", 300))
    batch_size = int(resource("DigestSenderFunctionDigestQueue")["BatchSize"])
    sqs: Any = boto3.client("sqs", region_name=REGION)  # the event source mapping's poller
    attempts = 0
    with _captured_output([planner, *workers]) as printed:
        plan = planner.handler(
            scheduled_event(), VirtualContext("DigestFunction", planner_clock, 900)
        )
        planner_end = planner_clock.now
        while True:
            turn = min(range(len(workers)), key=lambda n: clocks[n].now)
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                break
            attempts += 1
            seqs = [json.loads(m["Body"])["seq"] for m in messages]
            clock = clocks[turn]
            clock.now = max(clock.now, *(visible.get(s, planner_end) for s in seqs))
            context = VirtualContext("DigestSenderFunction", clock, timeout)
            response = workers[turn].handler(sqs_event(messages, queue_arn, REGION), context)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] in failed:  # back at once: its backoff, virtually
                    sqs.change_message_visibility(
                        QueueUrl=queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        lines, metric = _count_finished(printed.getvalue())

    end = max(c.now for c in clocks)
    recipients = {m.destinations[0] if m.destinations else "" for m in ses_backend.sent_messages}
    windows = [
        int(item["used"]["N"])
        for item in dynamodb.scan(TableName=SUBSCRIBERS_TABLE)["Items"]
        if item["id"]["S"].startswith("rate#")
    ]
    writes = sum(w.sender.budget.claims for w in workers)
    emails = len(ses_backend.sent_messages)
    virtual_seconds = end - START
    ideal = subscribers / ses_rate
    hours = virtual_seconds * (GOAL_SUBSCRIBERS / subscribers) * (ses_rate / GOAL_RATE) / 3600
    return SimulationResult(
        subscribers=subscribers,
        ses_rate=ses_rate,
        senders=senders,
        send_latency_ms=send_latency * 1000,
        call_latency_ms=call_latency * 1000,
        virtual_seconds=round(virtual_seconds, 3),
        planner_seconds=round(planner_end - START, 3),
        ideal_seconds=round(ideal, 3),
        efficiency=round(ideal / virtual_seconds, 4) if virtual_seconds else 0.0,
        emails=emails,
        recipients=len(recipients),
        ses_throttled=virtual_ses.throttled,
        busiest_second=max(virtual_ses.starts.values(), default=0),
        busiest_window=max(windows, default=0),
        messages=int(plan["messages"]),
        message_attempts=attempts,
        budget_writes=writes,
        budget_writes_per_email=round(writes / emails, 4) if emails else 0.0,
        runs_finished=lines,
        run_finished_metrics=metric,
        extrapolated_subscribers=GOAL_SUBSCRIBERS,
        extrapolated_rate=GOAL_RATE,
        extrapolated_hours=round(hours, 3),
        goal_hours=GOAL_HOURS,
        meets_goal=hours < GOAL_HOURS,
        real_seconds=0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_simulation", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=GOAL_RATE, help="the virtual SES's rate")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--send-ms", type=float, default=50.0, help="virtual SES latency")
    parser.add_argument("--call-ms", type=float, default=5.0, help="virtual latency of other calls")
    args = parser.parse_args(argv)
    result = simulate(
        args.subscribers,
        ses_rate=args.rate,
        senders=args.senders,
        send_latency=args.send_ms / 1000,
        call_latency=args.call_ms / 1000,
    )
    json.dump(asdict(result), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
