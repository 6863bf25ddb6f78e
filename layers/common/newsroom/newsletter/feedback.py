"""Bounces and complaints: the events SES publishes through the stack's configuration set to
an SNS topic, turned into suppressed subscribers (never mailed again).

The message of each SNS record is SES's event JSON (SES developer guide, "Contents of event
data that Amazon SES publishes to Amazon SNS"): ``eventType`` ``Bounce`` with
``bounce.bounceType`` ``Permanent`` | ``Transient`` | ``Undetermined`` and
``bounce.bouncedRecipients[].emailAddress``, or ``Complaint`` with
``complaint.complainedRecipients[].emailAddress``. Only a permanent bounce suppresses: SES
itself retries transient ones, and an undetermined bounce names no failed mailbox. Identity
notifications (the older feedback channel) carry ``notificationType`` instead of
``eventType`` and the same objects; they are read the same way.

Addresses are looked up by their keyed hash and never logged."""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from newsroom.core.signing import SigningKey
from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import InvalidAddress, address_id, normalize_address
from newsroom.newsletter.subscribers import SubscriberRepository, Suppression


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one SES event asks for: suppress ``recipients`` as ``status``."""

    status: Suppression
    recipients: tuple[str, ...]


def parse_event(message: str) -> Feedback | None:
    """The suppression an SES event JSON asks for; None for every other event (deliveries,
    transient or undetermined bounces, anything SES adds later)."""
    try:
        event: Any = json.loads(message)
    except json.JSONDecodeError:
        return None  # not SES's (only SES publishes to the topic): retrying cannot help
    if not isinstance(event, dict):
        return None
    kind = event.get("eventType") or event.get("notificationType")
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None
        return Feedback("bounced", _addresses(bounce.get("bouncedRecipients")))
    if kind == "Complaint":
        complaint = event.get("complaint") or {}
        return Feedback("complained", _addresses(complaint.get("complainedRecipients")))
    return None


def _addresses(recipients: Any) -> tuple[str, ...]:
    if not isinstance(recipients, list):
        return ()
    return tuple(
        str(r["emailAddress"]) for r in recipients if isinstance(r, dict) and r.get("emailAddress")
    )


@dataclass
class FeedbackResult:
    """What one invocation did (``dataclasses.asdict`` gives the metrics)."""

    bounced: int = 0
    complained: int = 0
    ignored: int = 0  # events that suppress nothing (transient bounces, deliveries...)
    unknown: int = 0  # recipients who are no subscriber (or no valid address)


@dataclass
class FeedbackHandler:
    """Applies SES's bounce and complaint events to the subscribers table."""

    subscribers: SubscriberRepository
    key: SigningKey
    clock: Callable[[], float] = time.time

    def handle(self, event: dict[str, Any], log: Callable[..., None]) -> FeedbackResult:
        """Every record of an SNS event; ``log`` gets one line per recipient, by address id."""
        result = FeedbackResult()
        now_iso = format_utc(datetime.fromtimestamp(int(self.clock()), UTC))
        for message in _messages(event):
            feedback = parse_event(message)
            if feedback is None:
                result.ignored += 1
                continue
            for recipient in feedback.recipients:
                ident = self._address_id(recipient)
                if ident is None or not self.subscribers.suppress(ident, feedback.status, now_iso):
                    result.unknown += 1
                    log("feedback for no subscriber", subscriber=ident, status=feedback.status)
                    continue
                setattr(result, feedback.status, getattr(result, feedback.status) + 1)
                log("subscriber suppressed", subscriber=ident, status=feedback.status)
        return result

    def _address_id(self, recipient: str) -> str | None:
        try:
            return address_id(self.key.value, normalize_address(parseaddr(recipient)[1]))
        except InvalidAddress:
            return None


def _messages(event: dict[str, Any]) -> Iterator[str]:
    for record in SNSEvent(event).records:
        yield record.sns.message
