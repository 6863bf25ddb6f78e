"""The whole system on one machine: moto's server as the AWS endpoint, the template's table,
bucket and bucket notification on it, S3 events delivered to the real ingest handler, and the
real API handler behind a local API Gateway."""

import email
import email.policy
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devtools.backend import Backend, raw_emails_in_process, start_backend
from devtools.functions import load_function_module
from devtools.gateway import Container, Gateway, serve
from devtools.queues import create_queue_with_dead_letters
from devtools.scheduler import ScheduleRunner
from devtools.sqs_trigger import SqsTrigger
from devtools.stream_trigger import StreamTrigger, enable_stream, mapping_of, sqs_destination
from devtools.template import ROOT, function_environment, resource, s3_event_prefix
from devtools.workers import WorkerHandler

log = logging.getLogger("stack")
NOTIFICATION_QUEUE = "content-bucket-notifications"
SIGNUP_QUEUE = "signups"  # SignupQueue, delivered to the mailer as its SQS trigger does
SIGNUP_DEAD_LETTERS = "signup-dead-letters"
DIGEST_QUEUE = "digest"  # DigestQueue, delivered to the digest sender as its SQS trigger does
DIGEST_DEAD_LETTERS = "digest-dead-letters"
STORY_EVENT_BUS = "signal-noise-stories"  # StoryEventBus, fed by StoryEventsFunction
PUBLISH_SCHEDULE_GROUP = "signal-noise-story-publish"  # StoryPublishSchedules, fired here
PUBLISH_SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/signal-noise-story-publish"
STORY_EVENTS_DEAD_LETTERS = "story-events-dead-letters"
DIGEST_WAIT_SECONDS = 120  # run_digest waits this long at most for the run to finish
# Seconds, not the template's minutes: a failed message is retried while one watches (the
# redrive policy stays the template's).
LOCAL_VISIBILITY_TIMEOUT = 5
MAX_RECEIVES = 3  # like the ingest function's async retries (2) + the first attempt
SAMPLES = ROOT / "samples" / "stories"
WEB = ROOT / "web"
STATE_DIR = Path(os.environ.get("DEV_STATE_DIR", ROOT / ".dev"))


def _env_for(function_id: str, backend: Backend, extra: dict[str, str]) -> dict[str, str]:
    env = function_environment(function_id)
    env.update(
        {
            "STORIES_TABLE": backend.table,
            "SUBSCRIBERS_TABLE": backend.subscribers_table,
            "AWS_ENDPOINT_URL": backend.endpoint_url,
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    env.update(extra)
    return env


def load_handler(module: str, env: dict[str, str]) -> Any:
    """The handler of ``functions/<module>/app.py`` loaded with ``env`` (like a container of
    that function)."""
    return load_function_module(module, env).handler


def container(module: str, function_id: str, env: dict[str, str], *, workers: bool) -> Container:
    """A warm container of ``functions/<module>/app.py``: its handler loaded in this process,
    or, with ``workers``, in a worker process of its own (devtools/workers.py)."""
    if workers:
        return Container(WorkerHandler(module, env, function_id), function_id)
    return Container(load_handler(module, env), function_id)


@dataclass
class Stack:
    backend: Backend
    api_url: str
    http: ThreadingHTTPServer
    queue_url: str
    ingest: Container
    digest: Container
    signups: SqsTrigger | None = None
    digest_batches: SqsTrigger | None = None
    story_stream: StreamTrigger | None = None  # the stories table's stream -> StoryEventsFunction
    publish_schedules: ScheduleRunner | None = None  # due one-time schedules, fired
    stop_event: threading.Event = field(default_factory=threading.Event)
    containers: list[Container] = field(default_factory=list)  # every one, to close at stop
    delivered: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def info(self) -> dict[str, str]:
        return {
            "api_url": self.api_url,
            "aws_endpoint_url": self.backend.endpoint_url,
            "region": "us-east-1",
            "bucket": self.backend.bucket,
            "table": self.backend.table,
        }

    def write_state(self, directory: Path = STATE_DIR) -> Path:
        directory.mkdir(exist_ok=True)
        path = directory / "stack.json"
        # Written whole, then renamed: a reader polling for the file never sees it half written.
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.info(), indent=2) + "\n")
        partial.replace(path)
        return path

    def stop(self) -> None:
        self.stop_event.set()
        self.http.shutdown()
        self.http.server_close()
        for each in self.containers:
            each.close()
        self.backend.stop()

    def _deliver(self) -> None:
        """Receive S3 notifications from the queue and invoke the ingest handler with each
        S3 event, as Lambda's S3 trigger would (failed events are retried, then dropped
        into ``failed`` like the on-failure destination)."""
        sqs = self.backend.client("sqs")
        while not self.stop_event.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"],
                    VisibilityTimeout=2,
                ).get("Messages", [])
            except Exception:  # the backend is shutting down
                if self.stop_event.is_set():
                    return
                raise
            for message in messages:
                event = json.loads(message["Body"])
                receives = int(message["Attributes"]["ApproximateReceiveCount"])
                try:
                    if "Records" in event:  # not s3:TestEvent
                        self.ingest.invoke(event)
                        self.delivered += 1
                except Exception as exc:
                    log.warning("ingest failed (attempt %s): %s", receives, exc)
                    if receives < MAX_RECEIVES:
                        continue  # becomes visible again: retried
                    self.failed.append(event)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver_from(self, trigger: SqsTrigger) -> None:
        """A queue to its real function, as Lambda's SQS event source mapping: acknowledged
        messages deleted, ``batchItemFailures`` left to come back after the visibility
        timeout, then to the dead-letter queue (the queue's redrive policy). SignupQueue to
        the mailer, DigestQueue to the digest sender."""
        while not self.stop_event.is_set():
            try:
                trigger.poll(wait_seconds=1)
            except Exception:  # the backend is shutting down
                if self.stop_event.is_set():
                    return
                raise

    def _repeat(self, step: Any, pause: float) -> None:
        """``step`` again and again until the stack stops (the stream's poller, Scheduler)."""
        while not self.stop_event.wait(pause):
            try:
                step()
            except Exception:  # the backend is shutting down, or one failed step: go on
                if self.stop_event.is_set():
                    return
                log.exception("%s failed", getattr(step, "__qualname__", step))

    def run_digest(self, wait_seconds: float = DIGEST_WAIT_SECONDS) -> dict[str, Any]:
        """Run the daily digest now, as its schedule would (an EventBridge scheduled event to
        the planner), and wait until the senders have finished the run it planned: the
        planner's reply with the run's totals (``status``, ``sent``, ``failed``, ...). A
        second run of the same day plans nothing ("already planned")."""
        from newsroom.newsletter.digest_runs import OUTCOMES, RunRepository

        plan = dict(self.digest.invoke(scheduled_event()))
        runs = RunRepository(self.backend.client("dynamodb"), self.backend.subscribers_table)
        deadline = time.monotonic() + wait_seconds
        while True:
            run = runs.get(plan["day"])
            if run is None or run.status == "finished" or plan["outcome"] != "planned":
                break
            if time.monotonic() > deadline:
                log.warning("the digest run of %s has not finished yet", plan["day"])
                break
            time.sleep(0.05)
        if run is None:
            return plan
        return {**plan, "status": run.status, **{o: getattr(run, o) for o in OUTCOMES}}

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every email the embedded SES accepted, oldest first (moto keeps them), wherever
        moto runs."""
        return decode_emails(self.backend.raw_emails())

    def _digest_route(self) -> tuple[int, list[tuple[str, str]], bytes]:
        body = json.dumps(self.run_digest()).encode()
        return 200, [("Content-Type", "application/json")], body

    def _emails_route(self) -> tuple[int, list[tuple[str, str]], bytes]:
        body = json.dumps(self.sent_emails(), ensure_ascii=False, indent=1).encode()
        return 200, [("Content-Type", "application/json; charset=utf-8")], body

    def seed(
        self, folder: Path = SAMPLES, prefix: str = "incoming/samples/", timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Upload every story file of ``folder`` through S3, so the real ingest runs, and wait
        for their receipts."""
        s3 = self.backend.client("s3")
        keys = []
        for path in sorted(folder.iterdir()):
            if path.suffix in (".json", ".jsonl", ".ndjson"):
                key = prefix + path.name
                s3.put_object(Bucket=self.backend.bucket, Key=key, Body=path.read_bytes())
                keys.append(key)
        return [self.wait_for_receipt(key, timeout) for key in keys]

    def wait_for_receipt(self, key: str, timeout: float = 10) -> dict[str, Any]:
        s3 = self.backend.client("s3")
        from newsroom.ingest.settings import IngestSettings

        settings = IngestSettings.from_env(_env_for("IngestFunction", self.backend, {}))
        receipt_key = settings.receipt_key(key)
        deadline = time.monotonic() + timeout
        while True:
            try:
                body = s3.get_object(Bucket=self.backend.bucket, Key=receipt_key)["Body"].read()
                return dict(json.loads(body))
            except s3.exceptions.NoSuchKey:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no receipt for {key} after {timeout} s") from None
                time.sleep(0.05)


def scheduled_event() -> dict[str, Any]:
    """What EventBridge sends for a scheduled rule."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/signal-noise-DigestDaily"],
        "detail": {},
    }


def sent_emails() -> list[dict[str, Any]]:
    """The emails moto's SES (running in this process) has accepted, decoded."""
    return decode_emails(raw_emails_in_process())


def decode_emails(raws: list[str]) -> list[dict[str, Any]]:
    """Raw MIME messages as ``to``, ``from``, ``subject``, headers, text, html and links."""
    emails = []
    for raw in raws:
        parsed = email.message_from_string(raw, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        plain = text.get_content() if text is not None else ""
        emails.append(
            {
                "to": str(parsed["To"]),
                "from": str(parsed["From"]),
                "subject": str(parsed["Subject"]),
                "headers": {k: str(v) for k, v in parsed.items()},
                "text": plain,
                "html": html.get_content() if html is not None else "",
                "links": re.findall(r"https?://\S+", plain),
            }
        )
    return emails


def start_stack(
    *,
    port: int = 3000,
    backend_port: int = 0,
    api_containers: int = 4,
    api_env: dict[str, str] | None = None,
    workers: bool = False,
) -> Stack:
    """Start everything; returns once the API answers and notifications flow.

    With ``workers``, every function container runs in a process of its own and moto in
    another, as Lambda and ``sam local`` do: the API's containers answer in parallel. Without,
    all of it runs in this process (moto's in-process state, e.g. ``sent_emails()``, readable;
    Container handlers patchable)."""
    backend = start_backend(backend_port, own_process=workers)
    sqs = backend.client("sqs")
    queue_url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    backend.client("s3").put_bucket_notification_configuration(
        Bucket=backend.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": s3_event_prefix("IngestFunction")}
                            ]
                        }
                    },
                }
            ]
        },
    )
    gateway = Gateway({}, static_dir=WEB)
    http = serve(gateway, "127.0.0.1", port)
    api_url = f"http://127.0.0.1:{http.server_address[1]}"
    env = _env_for(
        "ApiFunction",
        backend,
        {
            "SITE_URL": api_url + "/",
            "STORY_URL_TEMPLATE": api_url + "/#/stories/{slug}",
            **(api_env or {}),
        },
    )
    gateway.containers["ApiFunction"] = [
        container("api", "ApiFunction", env, workers=workers) for _ in range(api_containers)
    ]
    # Preview links in receipts point to this stack's API.
    ingest_env = _env_for("IngestFunction", backend, {"PUBLIC_API_URL": api_url})
    ingest = container("ingest", "IngestFunction", ingest_env, workers=workers)
    newsletter_env = {
        "PUBLIC_API_URL": api_url,
        "STORY_URL_TEMPLATE": api_url + "/#/stories/{slug}",
        "SES_MAX_SEND_RATE": "0",
    }
    digest_url = create_queue_with_dead_letters(
        sqs,
        "DigestQueue",
        DIGEST_QUEUE,
        DIGEST_DEAD_LETTERS,
        visibility_timeout=LOCAL_VISIBILITY_TIMEOUT,
    ).url
    digest = container(
        "digest",
        "DigestFunction",
        _env_for("DigestFunction", backend, {**newsletter_env, "DIGEST_QUEUE_URL": digest_url}),
        workers=workers,
    )
    digest_sender = container(
        "digest_sender",
        "DigestSenderFunction",
        _env_for("DigestSenderFunction", backend, newsletter_env),
        workers=workers,
    )
    digest_batches = SqsTrigger(
        sqs,
        digest_url,
        lambda event, _: digest_sender.invoke(event),
        None,
        batch_size=int(resource("DigestSenderFunctionDigestQueue")["BatchSize"]),
    )
    signup_url = create_queue_with_dead_letters(
        sqs,
        "SignupQueue",
        SIGNUP_QUEUE,
        SIGNUP_DEAD_LETTERS,
        visibility_timeout=LOCAL_VISIBILITY_TIMEOUT,
    ).url
    newsletter_env["SIGNUP_QUEUE_URL"] = signup_url
    gateway.containers["SubscriptionsFunction"] = [
        container(
            "subscriptions",
            "SubscriptionsFunction",
            _env_for("SubscriptionsFunction", backend, newsletter_env),
            workers=workers,
        )
        for _ in range(2)
    ]
    mailer = container(
        "mailer",
        "MailerFunction",
        _env_for("MailerFunction", backend, newsletter_env),
        workers=workers,
    )
    signups = SqsTrigger(sqs, signup_url, lambda event, _: mailer.invoke(event), None)
    story_events, story_stream, publish_schedules = _story_events(
        backend, api_url + "/#/stories/{slug}", workers=workers
    )
    stack = Stack(backend, api_url, http, queue_url, ingest, digest, signups, digest_batches)
    stack.story_stream, stack.publish_schedules = story_stream, publish_schedules
    stack.containers = [
        *(c for pool in gateway.containers.values() for c in pool),
        ingest,
        digest,
        digest_sender,
        mailer,
        story_events,
    ]
    for each in stack.containers:  # the workers started together: their cold starts overlap
        each.warm()
    gateway.local_routes[("POST", "/_local/digest")] = stack._digest_route
    gateway.local_routes[("GET", "/_local/emails")] = stack._emails_route
    threading.Thread(target=stack._deliver, name="s3-notifications", daemon=True).start()
    for name, trigger in (("signups", signups), ("digest-batches", digest_batches)):
        threading.Thread(
            target=stack._deliver_from, args=(trigger,), name=name, daemon=True
        ).start()
    for name, step in (
        ("story-stream", story_stream.drain),
        ("schedules", publish_schedules.run_due),
    ):
        threading.Thread(target=stack._repeat, args=(step, 0.2), name=name, daemon=True).start()
    return stack


def _story_events(
    backend: Backend, story_url: str, *, workers: bool
) -> tuple[Container, StreamTrigger, ScheduleRunner]:
    """StoryEventsFunction as the template wires it: the stories table's stream (turned on
    as the template declares it) to the function through its event source mapping, the bus
    and schedule group it writes to, and EventBridge Scheduler firing due schedules."""
    stream_arn = enable_stream(backend.client("dynamodb"), backend.table)
    backend.client("events").create_event_bus(Name=STORY_EVENT_BUS)
    scheduler = backend.client("scheduler")
    scheduler.create_schedule_group(Name=PUBLISH_SCHEDULE_GROUP)
    sqs = backend.client("sqs")
    dead_letters = sqs.create_queue(QueueName=STORY_EVENTS_DEAD_LETTERS)["QueueUrl"]
    env = _env_for(
        "StoryEventsFunction",
        backend,
        {
            "STORY_EVENT_BUS": STORY_EVENT_BUS,
            "PUBLISH_SCHEDULE_GROUP": PUBLISH_SCHEDULE_GROUP,
            "PUBLISH_SCHEDULER_ROLE_ARN": PUBLISH_SCHEDULER_ROLE,
            "STORY_URL_TEMPLATE": story_url,
        },
    )
    function = container("story_events", "StoryEventsFunction", env, workers=workers)
    stream = StreamTrigger(
        backend.client("dynamodbstreams"),
        stream_arn,
        lambda event, _: function.invoke(event),
        None,
        mapping=mapping_of("StoryEventsFunction"),
        on_failure=sqs_destination(sqs, dead_letters),
    )
    # One function is the target of every schedule of the group.
    runner = ScheduleRunner(
        scheduler, PUBLISH_SCHEDULE_GROUP, lambda _arn, payload: function.invoke(payload)
    )
    return function, stream, runner


__all__ = ["Stack", "start_stack"]
