"""Bounces and complaints against moto, one rule per test: the real bounces, digest (planner
and sender) and mailer handlers (``functions/``, each call checked against its role from
``template.yaml``), SES's bounce and complaint events in the shape SNS delivers them to
Lambda, and what the mailbox gets afterwards.

moto's SES never bounces and never publishes events, so the events are built here as SES
publishes them through a configuration set's SNS event destination (SES developer guide,
"Contents of event data that Amazon SES publishes to Amazon SNS"; the Lambda record around it:
Lambda developer guide, "Using AWS Lambda with Amazon SNS"). moto also accepts any
``ConfigurationSetName``; real SES refuses a send naming a configuration set that does not
exist (ConfigurationSetDoesNotExist), so the tests create the one the functions name.
"""

import dataclasses
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.functions import LambdaContext
from devtools.stack import sent_emails
from devtools.template import resource
from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.subscribers import SubscriberRepository
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import story_item
from newsroom.stories.repository import StoryRepository
from tests.support import iam
from tests.support.aws import REGION, load_function
from tests.support.digest import Digest, create_digest_queues, load_digest
from tests.support.newsletter import SENDER, SUBSCRIBERS, signing_key, subscribers_table

__all__ = [  # fixtures used by name
    "signing_key",
    "subscribers_table",
]

CONFIGURATION_SET = "signal-noise-newsletter-test"
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:signal-noise-FeedbackTopic-1A2B3C4D5E6F"
BOUNCED = "gone@example.com"
KEPT = "reader@example.com"
MAX_RECEIVES = int(resource("DigestQueue")["RedrivePolicy"]["maxReceiveCount"])


# -- SES's events as SNS delivers them ----------------------------------------------------------


def _mail(recipients: list[str]) -> dict[str, Any]:
    """The ``mail`` object of every SES event: the message the event is about."""
    return {
        "timestamp": "2026-12-02T06:00:00.000Z",
        "source": SENDER,
        "sourceArn": f"arn:aws:ses:us-east-1:123456789012:identity/{SENDER}",
        "sendingAccountId": "123456789012",
        "messageId": "0100018c2f1b7a5e-" + uuid.uuid4().hex,
        "destination": recipients,
        "headersTruncated": False,
        "tags": {"ses:configuration-set": [CONFIGURATION_SET]},
    }


def bounce(bounce_type: str, *recipients: str) -> dict[str, Any]:
    """SES's Bounce event (``bounceType`` Permanent, Transient or Undetermined)."""
    sub_type = {"Permanent": "General", "Transient": "MailboxFull"}.get(bounce_type, "Undetermined")
    return {
        "eventType": "Bounce",
        "bounce": {
            "feedbackId": "0100018c2f1b7f3e-" + uuid.uuid4().hex,
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": r,
                    "action": "failed",
                    "status": "5.1.1" if bounce_type == "Permanent" else "4.2.2",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
                for r in recipients
            ],
            "timestamp": "2026-12-02T06:00:01.000Z",
            "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com",
        },
        "mail": _mail(list(recipients)),
    }


def complaint(*recipients: str) -> dict[str, Any]:
    """SES's Complaint event (a recipient pressed "this is spam")."""
    return {
        "eventType": "Complaint",
        "complaint": {
            "feedbackId": "0100018c2f1b8a11-" + uuid.uuid4().hex,
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "timestamp": "2026-12-02T06:05:00.000Z",
            "userAgent": "Mozilla/5.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-12-02T06:04:58.000Z",
        },
        "mail": _mail(list(recipients)),
    }


def sns_event(*ses_events: dict[str, Any]) -> dict[str, Any]:
    """What SNS invokes a subscribed function with: one record per message, SES's event JSON
    as the string ``Sns.Message``."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": TOPIC_ARN,
                    "Subject": None,
                    "Message": json.dumps(event),
                    "Timestamp": "2026-12-02T06:00:02.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
            for event in ses_events
        ]
    }


def sqs_signup(address: str) -> dict[str, Any]:
    """A queued signup as Lambda's SQS event source mapping delivers it to the mailer."""
    body = json.dumps({"address": address, "requested_at": format_utc(datetime.now(UTC))})
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "AQEB" + uuid.uuid4().hex,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764655200000",
                    "SenderId": "AROAEXAMPLE:signal-noise-SubscriptionsFunction",
                    "ApproximateFirstReceiveTimestamp": "1764655200001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:signal-noise-SignupQueue",
                "awsRegion": REGION,
            }
        ]
    }


# -- resources and functions -----------------------------------------------------------------


@pytest.fixture
def ses(moto: None) -> Any:
    client = boto3.client("ses", region_name=REGION)
    client.verify_email_identity(EmailAddress=SENDER)
    client.create_configuration_set(ConfigurationSet={"Name": CONFIGURATION_SET})
    return client


NEWSLETTER_ENV = {"SUBSCRIBERS_TABLE": SUBSCRIBERS, "CONFIGURATION_SET": CONFIGURATION_SET}


@pytest.fixture
def bounces_app(
    subscribers_table: str, signing_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    return load_function(
        "bounces", "BouncesFunction", {"SUBSCRIBERS_TABLE": SUBSCRIBERS}, monkeypatch
    )


@pytest.fixture
def digest(
    stories_table: str,
    subscribers_table: str,
    signing_key: bytes,
    ses: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Digest:
    """The digest's planner and sender (``tests.support.digest``)."""
    loaded = load_digest(
        create_digest_queues(),
        {**NEWSLETTER_ENV, "STORIES_TABLE": stories_table, "PUBLIC_API_URL": BASE_URL},
        monkeypatch,
    )
    loaded.sender.sender.budget.sleep = lambda _: None  # moto's SES rate is 1/s: no waiting
    return loaded


@pytest.fixture
def mailer_app(
    subscribers_table: str, signing_key: bytes, ses: Any, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    return load_function(
        "mailer", "MailerFunction", {**NEWSLETTER_ENV, "PUBLIC_API_URL": BASE_URL}, monkeypatch
    )


@pytest.fixture
def output(
    bounces_app: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[[], str]:
    """What the bounces function prints from now on (Powertools' log lines and EMF metrics)."""

    class CurrentStdout:
        def write(self, text: str) -> int:
            return sys.stdout.write(text)

        def flush(self) -> None:
            sys.stdout.flush()

    monkeypatch.setattr(bounces_app.logger.registered_handler, "stream", CurrentStdout())
    capsys.readouterr()
    return lambda: "".join(capsys.readouterr())


def deliver(bounces_app: ModuleType, *ses_events: dict[str, Any]) -> dict[str, int]:
    result: dict[str, int] = bounces_app.handler(
        sns_event(*ses_events), LambdaContext("BouncesFunction")
    )
    return result


def run_digest(digest: Digest) -> list[str]:
    """The recipients of the digest emails one scheduled run sends."""
    before = len(sent_emails())
    digest.run()
    return [mail["to"] for mail in sent_emails()[before:]]


def confirmed(dynamodb: Any, signing_key: bytes, *addresses: str) -> None:
    """Subscribers who confirmed a week ago (their double opt-in is test_newsletter's)."""
    repository = SubscriberRepository(dynamodb, SUBSCRIBERS)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    for address in addresses:
        ident = address_id(signing_key, address)
        repository.create_pending(ident, address, int(week_ago.timestamp()), format_utc(week_ago))
        assert repository.confirm(ident, format_utc(week_ago))


def new_story(dynamodb: Any, table: str) -> None:
    """A story published an hour ago, stored as the ingest stores it."""
    published = format_utc(datetime.now(UTC) - timedelta(hours=1))
    item = story_item(
        StoryIn.model_validate(
            {
                "slug": "fresh-story",
                "title": "A fresh story",
                "summary": "Something happened.",
                "published_at": published,
                "topics": ["ai"],
            }
        ),
        source_key="incoming/fresh-story.json",
        ingested_at=published,
    )
    repository = StoryRepository(dynamodb, table)
    repository.put_story(item)
    repository.sync_topic_entries(item, known_empty=True)


def stored(dynamodb: Any, signing_key: bytes, address: str) -> dict[str, Any]:
    response = dynamodb.get_item(
        TableName=SUBSCRIBERS,
        Key={"id": {"S": f"sub#{address_id(signing_key, address)}"}},
        ConsistentRead=True,
    )
    return {name: next(iter(value.values())) for name, value in response["Item"].items()}


SUPPRESSING = {
    "bounced": lambda address: bounce("Permanent", address),
    "complained": lambda address: complaint(address),
}


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_a_permanent_bounce_or_a_complaint_takes_the_address_out_of_the_digest(
    status: str,
    bounces_app: ModuleType,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,
) -> None:
    confirmed(dynamodb, signing_key, BOUNCED, KEPT)
    new_story(dynamodb, stories_table)

    result = deliver(bounces_app, SUPPRESSING[status](BOUNCED))

    assert result[status] == 1 and result["unknown"] == 0
    item = stored(dynamodb, signing_key, BOUNCED)
    assert item["status"] == status
    assert "list_pk" not in item  # out of the confirmed index
    assert "expires_at" not in item  # kept for good: a TTL would forget the suppression
    assert run_digest(digest) == [KEPT]


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_a_new_signup_for_a_suppressed_address_sends_nothing(
    status: str,
    bounces_app: ModuleType,
    mailer_app: ModuleType,
    dynamodb: Any,
    signing_key: bytes,
) -> None:
    answer = mailer_app.handler(sqs_signup(BOUNCED), LambdaContext("MailerFunction"))
    assert answer["batchItemFailures"] == []
    assert [mail["to"] for mail in sent_emails()] == [BOUNCED]  # the first confirmation

    deliver(bounces_app, SUPPRESSING[status](BOUNCED))
    answer = mailer_app.handler(sqs_signup(BOUNCED), LambdaContext("MailerFunction"))

    assert answer["batchItemFailures"] == []  # nothing to retry either
    assert [mail["to"] for mail in sent_emails()] == [BOUNCED]
    assert stored(dynamodb, signing_key, BOUNCED)["status"] == status


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_transient_or_undetermined_bounce_suppresses_nothing(
    bounce_type: str,
    bounces_app: ModuleType,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,
) -> None:
    confirmed(dynamodb, signing_key, BOUNCED, KEPT)
    new_story(dynamodb, stories_table)

    result = deliver(bounces_app, bounce(bounce_type, BOUNCED))

    assert result == {"bounced": 0, "complained": 0, "ignored": 1, "unknown": 0}
    assert stored(dynamodb, signing_key, BOUNCED)["status"] == "confirmed"
    assert sorted(run_digest(digest)) == sorted([KEPT, BOUNCED])


def test_every_recipient_of_every_record_is_suppressed(
    bounces_app: ModuleType, dynamodb: Any, signing_key: bytes
) -> None:
    others = ["a@example.com", "b@example.org", "c@example.net"]
    confirmed(dynamodb, signing_key, *others)

    result = deliver(bounces_app, bounce("Permanent", *others[:2]), complaint(others[2]))

    assert (result["bounced"], result["complained"]) == (2, 1)
    assert [stored(dynamodb, signing_key, a)["status"] for a in others] == [
        "bounced",
        "bounced",
        "complained",
    ]


def test_the_address_is_found_whatever_case_its_domain_comes_back_in(
    bounces_app: ModuleType, dynamodb: Any, signing_key: bytes
) -> None:
    confirmed(dynamodb, signing_key, BOUNCED)

    deliver(bounces_app, bounce("Permanent", "gone@EXAMPLE.com"))

    assert stored(dynamodb, signing_key, BOUNCED)["status"] == "bounced"


def test_feedback_for_an_unknown_address_changes_nothing_and_logs_its_id_only(
    bounces_app: ModuleType, dynamodb: Any, signing_key: bytes, output: Callable[[], str]
) -> None:
    confirmed(dynamodb, signing_key, KEPT)

    result = deliver(bounces_app, complaint("stranger@example.com"))

    assert result["unknown"] == 1 and result["complained"] == 0
    assert dynamodb.scan(TableName=SUBSCRIBERS)["Count"] == 1  # no item made for it
    printed = output()
    assert address_id(signing_key, "stranger@example.com") in printed
    assert "stranger@example.com" not in printed


def test_suppressions_are_counted_in_metrics_and_no_line_names_the_address(
    bounces_app: ModuleType, dynamodb: Any, signing_key: bytes, output: Callable[[], str]
) -> None:
    confirmed(dynamodb, signing_key, BOUNCED, KEPT)

    deliver(bounces_app, bounce("Permanent", BOUNCED), complaint(KEPT))

    printed = output()
    metrics = [
        json.loads(line)
        for line in printed.splitlines()
        if line.startswith("{") and "_aws" in json.loads(line)
    ]
    counts = [(m["subscribers_bounced"], m["subscribers_complained"]) for m in metrics]
    assert counts == [([1.0], [1.0])]  # EMF: one metrics document per invocation
    assert BOUNCED not in printed and KEPT not in printed
    assert address_id(signing_key, BOUNCED) in printed


def test_every_send_names_the_configuration_set_and_its_role_may_use_it(
    digest: Digest, dynamodb: Any, stories_table: str, signing_key: bytes
) -> None:
    confirmed(dynamodb, signing_key, KEPT)
    new_story(dynamodb, stories_table)
    seen: list[str | None] = []
    digest.sender.sender.newsletter.mailer._ses.meta.events.register(
        "provide-client-params.ses.SendRawEmail",
        lambda params, **_: seen.append(params.get("ConfigurationSetName")),
    )

    assert run_digest(digest) == [KEPT]

    assert seen == [CONFIGURATION_SET]


def test_a_role_without_the_configuration_set_may_not_send(
    stories_table: str,
    subscribers_table: str,
    ses: Any,
    dynamodb: Any,
    signing_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SendRawEmail is authorized on the identity and on the configuration set (Service
    Authorization Reference for SES): the identity alone is not enough."""

    def identity_only(statements: list[iam.Statement]) -> list[iam.Statement]:
        edited = []
        for s in statements:
            if s.sid == "SendDigests":
                kept = tuple(r for r in s.resources if ":configuration-set/" not in r)
                assert len(kept) == len(s.resources) - 1
                s = dataclasses.replace(s, resources=kept)
            edited.append(s)
        return edited

    digest = load_digest(
        create_digest_queues(),
        {**NEWSLETTER_ENV, "STORIES_TABLE": stories_table, "PUBLIC_API_URL": BASE_URL},
        monkeypatch,
        edit_sender_policy=identity_only,
    )
    digest.sender.sender.budget.sleep = lambda _: None
    confirmed(dynamodb, signing_key, KEPT)
    new_story(dynamodb, stories_table)

    with iam.LEDGER.expect_denials() as denials:
        report = digest.run()

    assert report.counts["sent"] == 0
    # Not SES refusing the address: the batch fails, is retried, and ends in the dead letters.
    assert [b.failed == b.delivered for b in report.batches] == [True] * MAX_RECEIVES
    assert {d.request.resource for d in denials if d.request} == {
        f"arn:{iam.PARTITION}:ses:{REGION}:{iam.ACCOUNT}:configuration-set/{CONFIGURATION_SET}"
    }
    sqs = boto3.client("sqs", region_name=REGION)
    dead = sqs.receive_message(QueueUrl=digest.queues.dead_letter_url)["Messages"]
    assert len(dead) == 1
