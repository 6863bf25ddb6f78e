"""The confirmation mailer against moto: ``POST /subscriptions`` queues the request
(SignupQueue), the real mailer function (``functions/mailer``, SQS-triggered) sends the email.
The queue is delivered as Lambda's SQS event source mapping does (``devtools.sqs_trigger``):
the real SQS event shape, acknowledged messages deleted, ``batchItemFailures`` left on the
queue, the queue's redrive policy to its dead-letter queue after ``maxReceiveCount``
receives. SES failures are injected with botocore hooks on the mailer's own SES client."""

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.sqs_trigger import SqsTrigger, sqs_event
from devtools.template import ROOT, resource
from tests.integration.test_newsletter import (  # the newsletter's fixtures and helpers
    BASE_URL,
    Clock,
    Mailbox,
    SignupQueues,
    Subscriptions,
    assert_accepted,
    clock,
    item_of,
    link,
    mailbox,
    mailer_app,
    signup_queue,
    sub_id,
    subscriptions_app,
    trigger,
)
from tests.support.aws import REGION
from tests.support.newsletter import SUBSCRIBERS, sender, signing_key, subscribers_table

__all__ = [  # fixtures used by name
    "clock",
    "mailbox",
    "mailer_app",
    "sender",
    "signing_key",
    "signup_queue",
    "subscribers_table",
    "subscriptions_app",
    "trigger",
]

MINUTE = 60


@pytest.fixture
def api(subscriptions_app: ModuleType) -> Subscriptions:
    """The subscriptions API alone: each test delivers the queue itself."""
    return Subscriptions(subscriptions_app)


@pytest.fixture
def sqs(signup_queue: SignupQueues) -> Any:
    return boto3.client("sqs", region_name=REGION)


def ses_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            # botocore-stubs require every ResponseMetadata key; ClientError needs none
            "ResponseMetadata": {"HTTPStatusCode": status},  # type: ignore[typeddict-item]
        },
        "SendRawEmail",
    )


# What SES answers over its sending rate (SES developer guide, "Errors related to the sending
# quota for Amazon SES": a Throttling error, "Maximum sending rate exceeded.") and, in its
# sandbox, for an unverified recipient (MessageRejected, "Email address is not verified").
THROTTLED = ("Throttling", "Maximum sending rate exceeded.")
SANDBOXED = ("MessageRejected", "Email address is not verified.")


@pytest.fixture
def ses_fails(mailer_app: ModuleType) -> Iterator[Callable[[tuple[str, str], int], list[int]]]:
    """``ses_fails(error, times)``: the mailer's next ``times`` sends fail with ``error``
    (a botocore hook on its own client, so the call never reaches SES). Returns the list of
    refused attempts, which grows as they happen."""
    ses = mailer_app.newsletter.mailer._ses
    hooks: list[Any] = []

    def install(error: tuple[str, str], times: int) -> list[int]:
        refused: list[int] = []

        def fail(**_: Any) -> None:
            if len(refused) < times:
                refused.append(1)
                raise ses_error(*error)

        ses.meta.events.register("before-call.ses.SendRawEmail", fail)
        hooks.append(fail)
        return refused

    yield install
    for hook in hooks:
        ses.meta.events.unregister("before-call.ses.SendRawEmail", hook)


def visibility_changes(mailer_app: ModuleType) -> list[int]:
    """The ``VisibilityTimeout`` of every ``ChangeMessageVisibility`` the mailer sends."""
    seen: list[int] = []
    mailer_app.mailer.backoff._sqs.meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: seen.append(int(params["VisibilityTimeout"])),
    )
    return seen


def queued(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_double_opt_in_through_the_queue(
    api: Subscriptions,
    trigger: SqsTrigger,
    sqs: Any,
    signup_queue: SignupQueues,
    mailbox: Mailbox,
    dynamodb: Any,
    signing_key: bytes,
) -> None:
    assert_accepted(api.subscribe("  Opt.In@Example.COM "))
    assert item_of(dynamodb, signing_key, "Opt.In@example.com") is None  # nothing stored yet
    assert mailbox.new() == []
    assert queued(sqs, signup_queue.url) == 1
    batch = trigger.poll()
    assert len(batch.delivered) == 1 and batch.failed == [] and batch.error is None
    assert queued(sqs, signup_queue.url) == 0  # acknowledged: deleted
    mail = mailbox.one()
    assert mail["to"] == "Opt.In@example.com"
    confirm = link(mail, "/subscriptions/confirm")
    assert confirm.startswith(BASE_URL + "/subscriptions/confirm?token=")
    assert item_of(dynamodb, signing_key, "Opt.In@example.com")["status"] == "pending"  # type: ignore[index]
    assert api.follow(confirm).status == 200
    assert item_of(dynamodb, signing_key, "Opt.In@example.com")["status"] == "confirmed"  # type: ignore[index]


def test_duplicate_requests_and_a_redelivered_message_send_one_email(
    api: Subscriptions,
    trigger: SqsTrigger,
    mailer_app: ModuleType,
    sqs: Any,
    signup_queue: SignupQueues,
    mailbox: Mailbox,
) -> None:
    for _ in range(3):  # three clicks on the form's button
        assert_accepted(api.subscribe("twice@example.com"))
    message = sqs.receive_message(
        QueueUrl=signup_queue.url, AttributeNames=["All"], VisibilityTimeout=0
    )["Messages"][0]
    # SQS delivers at least once: the same message, to two invocations.
    event = sqs_event([message], trigger.queue_arn, REGION)
    context = trigger.context
    assert mailer_app.handler(event, context) == {"batchItemFailures": []}
    assert mailer_app.handler(event, context) == {"batchItemFailures": []}
    trigger.drain()
    assert [m["to"] for m in mailbox.new()] == ["twice@example.com"]


def test_a_throttled_send_is_retried_and_starts_no_cooldown(
    api: Subscriptions,
    trigger: SqsTrigger,
    mailer_app: ModuleType,
    ses_fails: Callable[[tuple[str, str], int], list[int]],
    sqs: Any,
    signup_queue: SignupQueues,
    mailbox: Mailbox,
    dynamodb: Any,
    signing_key: bytes,
) -> None:
    refused = ses_fails(THROTTLED, 1)
    delays = visibility_changes(mailer_app)
    assert_accepted(api.subscribe("throttled@example.com"))
    assert_accepted(api.subscribe("fine@example.com"))
    first = trigger.poll()
    assert refused == [1]
    assert len(first.delivered) == 2 and len(first.failed) == 1  # only the throttled record
    assert first.error is None  # a partial batch response, not an error
    assert delays == [30]  # back in 30 s rather than the queue's 180 s
    item = item_of(dynamodb, signing_key, "throttled@example.com")
    assert item is not None and item["status"] == "pending"
    assert "confirmation_sent_at" not in item  # no email, no cooldown
    assert [m["to"] for m in mailbox.new()] == ["fine@example.com"]
    second = trigger.poll()  # after the visibility timeout
    assert second.delivered == first.failed and second.failed == []
    assert [m["to"] for m in mailbox.new()] == ["throttled@example.com"]
    assert queued(sqs, signup_queue.url) == 0


def test_a_permanent_rejection_is_dropped_not_retried(
    api: Subscriptions,
    trigger: SqsTrigger,
    ses_fails: Callable[[tuple[str, str], int], list[int]],
    sqs: Any,
    signup_queue: SignupQueues,
    mailbox: Mailbox,
    dynamodb: Any,
    signing_key: bytes,
    clock: Clock,
) -> None:
    refused = ses_fails(SANDBOXED, 10)
    assert_accepted(api.subscribe("unverified@example.com"))
    batch = trigger.poll()
    assert batch.failed == [] and refused == [1]
    assert queued(sqs, signup_queue.url) == 0  # deleted: no retry loop
    assert trigger.poll().delivered == []
    assert mailbox.new() == []
    item = item_of(dynamodb, signing_key, "unverified@example.com")
    assert item is not None and "confirmation_sent_at" not in item


def test_after_five_failed_deliveries_the_request_goes_to_the_dead_letter_queue(
    api: Subscriptions,
    trigger: SqsTrigger,
    mailer_app: ModuleType,
    ses_fails: Callable[[tuple[str, str], int], list[int]],
    sqs: Any,
    signup_queue: SignupQueues,
    mailbox: Mailbox,
) -> None:
    max_receives = int(resource("SignupQueue")["RedrivePolicy"]["maxReceiveCount"])
    refused = ses_fails(THROTTLED, 100)
    delays = visibility_changes(mailer_app)
    assert_accepted(api.subscribe("unlucky@example.com"))
    batches = trigger.drain()
    assert len(batches) == max_receives == len(refused)
    # Each failed receive backs off longer: 30 s, doubling (``backoff_seconds``).
    assert delays == [30, 60, 120, 240, 480]
    assert all(b.failed == b.delivered for b in batches)
    assert queued(sqs, signup_queue.url) == 0
    (dead,) = sqs.receive_message(QueueUrl=signup_queue.dead_letter_url)["Messages"]
    assert json.loads(dead["Body"])["address"] == "unlucky@example.com"
    assert mailbox.new() == []


def test_confirmed_and_suppressed_addresses_get_no_confirmation(
    api: Subscriptions,
    trigger: SqsTrigger,
    mailbox: Mailbox,
    dynamodb: Any,
    signing_key: bytes,
    clock: Clock,
) -> None:
    assert_accepted(api.subscribe("member@example.com"))
    trigger.drain()
    assert api.follow(link(mailbox.one(), "/subscriptions/confirm")).status == 200
    for status in ("bounced", "complained"):
        dynamodb.put_item(
            TableName=SUBSCRIBERS,
            Item={
                "id": {"S": sub_id(signing_key, f"{status}@example.com")},
                "email": {"S": f"{status}@example.com"},
                "status": {"S": status},
            },
        )
    clock.advance(60 * MINUTE)  # long past any cooldown
    for address in ("member@example.com", "bounced@example.com", "complained@example.com"):
        assert_accepted(api.subscribe(address))
    assert trigger.drain()[0].failed == []
    assert mailbox.new() == []
    for status in ("bounced", "complained"):
        item = item_of(dynamodb, signing_key, f"{status}@example.com")
        assert item is not None and item["status"] == status


def test_the_mailers_queue_and_trigger_follow_lambdas_sqs_rules() -> None:
    """Lambda developer guide, "Using Lambda with Amazon SQS": the queue's visibility timeout
    at least six times the function's timeout; partial batch responses on; a maximum
    concurrency of at least 2, the number of containers that share the SES sending rate."""
    function = resource("MailerFunction")
    queue = resource("SignupQueue")
    assert int(queue["VisibilityTimeout"]) >= 6 * int(function["Timeout"])
    assert queue["SqsManagedSseEnabled"] is True
    assert resource("SignupDeadLetterQueue")["SqsManagedSseEnabled"] is True
    mapping = resource("MailerFunctionSignupQueue")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["SignupQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "MailerFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    concurrency = int(mapping["ScalingConfig"]["MaximumConcurrency"])
    assert concurrency >= 2
    assert int(function["Environment"]["Variables"]["SES_SEND_SHARE"]) == concurrency


def test_the_sample_sqs_event_is_what_the_mailer_takes(
    mailer_app: ModuleType, trigger: SqsTrigger, mailbox: Mailbox
) -> None:
    """``events/sqs-signup.json`` (for ``sam local invoke MailerFunction``) has the real SQS
    event shape and a body the mailer accepts: one email, no failed record."""
    event = json.loads((ROOT / "events" / "sqs-signup.json").read_text())
    (record,) = event["Records"]
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": "{}"}
    assert set(record) == set(sqs_event([message], trigger.queue_arn, REGION)["Records"][0])
    assert record["eventSource"] == "aws:sqs"
    assert mailer_app.handler(event, trigger.context) == {"batchItemFailures": []}
    assert mailbox.one()["to"] == json.loads(record["body"])["address"]
