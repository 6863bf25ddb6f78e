"""SES's event JSON -> what to suppress (``newsroom.newsletter.feedback.parse_event``), for
the event shapes of the SES developer guide ("Contents of event data that Amazon SES publishes
to Amazon SNS") and the older identity notifications ("notificationType")."""

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import SNSEvent

from devtools.template import ROOT
from newsroom.newsletter.feedback import Feedback, parse_event


def bounce(bounce_type: str, *recipients: str, key: str = "eventType") -> dict[str, Any]:
    return {
        key: "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": r, "status": "5.1.1"} for r in recipients],
            "timestamp": "2026-12-02T06:00:01.000Z",
            "feedbackId": "0100018c-example",
        },
        "mail": {"destination": list(recipients)},
    }


def test_a_permanent_bounce_suppresses_every_bounced_recipient() -> None:
    message = json.dumps(bounce("Permanent", "a@example.com", "b@example.com"))
    assert parse_event(message) == Feedback("bounced", ("a@example.com", "b@example.com"))


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_other_bounces_suppress_nothing(bounce_type: str) -> None:
    assert parse_event(json.dumps(bounce(bounce_type, "a@example.com"))) is None


def test_a_complaint_suppresses_every_complained_recipient() -> None:
    event = {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "a@example.com"}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {},
    }
    assert parse_event(json.dumps(event)) == Feedback("complained", ("a@example.com",))


def test_identity_notifications_are_read_the_same_way() -> None:
    message = json.dumps(bounce("Permanent", "a@example.com", key="notificationType"))
    assert parse_event(message) == Feedback("bounced", ("a@example.com",))


@pytest.mark.parametrize(
    "message",
    [
        json.dumps({"eventType": "Delivery", "delivery": {"recipients": ["a@example.com"]}}),
        json.dumps({"eventType": "Send", "mail": {}}),
        json.dumps(["not", "an", "event"]),
        json.dumps({"eventType": "Bounce"}),
        "not JSON at all",
    ],
)
def test_anything_else_suppresses_nothing(message: str) -> None:
    assert parse_event(message) is None


def test_recipients_without_an_address_are_left_out() -> None:
    event = bounce("Permanent", "a@example.com")
    event["bounce"]["bouncedRecipients"].append({"status": "5.1.1"})
    assert parse_event(json.dumps(event)) == Feedback("bounced", ("a@example.com",))


def test_the_sample_event_for_sam_local_invoke_is_a_permanent_bounce() -> None:
    """events/sns-bounce.json: ``sam local invoke BouncesFunction -e events/sns-bounce.json``."""
    event = json.loads((ROOT / "events" / "sns-bounce.json").read_text())
    (record,) = SNSEvent(event).records
    assert record.event_source == "aws:sns"
    assert parse_event(record.sns.message) == Feedback("bounced", ("bounced@example.com",))
