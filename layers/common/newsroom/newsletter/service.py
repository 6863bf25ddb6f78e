"""The newsletter's use cases: subscribe (double opt-in), confirm, unsubscribe; the daily
digest is planned and sent by ``newsroom.newsletter.planner`` and ``.sender`` with this
service's repository, mailer and key. Addresses never leave this module in clear except to
SES."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from botocore.exceptions import ClientError

from newsroom.core.signing import SigningKey
from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import address_id, normalize_address
from newsroom.newsletter.emails import confirmation_email
from newsroom.newsletter.mailer import Mailer
from newsroom.newsletter.signups import ConfirmationRequest, SignupQueue
from newsroom.newsletter.subscribers import Subscriber, SubscriberRepository
from newsroom.newsletter.tokens import InvalidToken, issue_token, verify_token

ConfirmationOutcome = Literal["sent", "skipped", "rejected"]


@dataclass
class Newsletter:
    subscribers: SubscriberRepository
    mailer: Mailer
    key: SigningKey
    sender: str
    clock: Callable[[], float] = time.time
    requests: SignupQueue | None = None  # the subscriptions function's signup queue

    @staticmethod
    def may_mail(subscriber: Subscriber) -> bool:
        """The one rule before any email to a known address: never to a suppressed one (a
        permanent bounce or a complaint, ``newsroom.newsletter.feedback``), whatever asks."""
        return not subscriber.suppressed

    def _now(self) -> tuple[int, str]:
        now = int(self.clock())
        return now, format_utc(datetime.fromtimestamp(now, UTC))

    def subscribe(self, raw_address: object) -> str:
        """``POST /subscriptions``: validate the address and queue the request for the mailer
        function. The same AWS work for every valid address, whatever its state (one
        ``SendMessage``: no table read or write, no email), so neither the answer nor its
        timing tells who subscribes. Returns the address id for logging; raises
        ``InvalidAddress`` for an address that is not valid."""
        if self.requests is None:
            raise RuntimeError("no signup queue configured (SIGNUP_QUEUE_URL)")
        address = normalize_address(raw_address)
        _, now_iso = self._now()
        self.requests.put(ConfirmationRequest(address=address, requested_at=now_iso))
        return address_id(self.key.value, address)

    def send_confirmation(self, raw_address: str, api_url: str) -> ConfirmationOutcome:
        """The mailer function's work for one queued signup: the pending subscriber is created
        if the address is unknown; the confirmation email goes out if the address is pending
        (or unsubscribed) and out of its 10-minute cooldown, never to a confirmed or
        suppressed address. The cooldown is claimed before sending (two deliveries of one
        request send one email) and released when SES does not take the email, so it counts
        sent emails only. SES's permanent refusal (``MessageRejected``: the SES sandbox's
        unverified recipient, a suppressed or invalid address; SES API Reference,
        SendRawEmail "Errors") is ``rejected``, not retried; any other error (``Throttling``:
        "Maximum sending rate exceeded", a 5xx) is raised, so the queue delivers it again."""
        address = normalize_address(raw_address)
        key = self.key.value
        ident = address_id(key, address)
        now, now_iso = self._now()
        self.subscribers.create_pending(ident, address, now, now_iso)
        if not self.subscribers.claim_confirmation(ident, now, now_iso):
            return "skipped"
        token = issue_token(key, "confirm", ident, now)
        confirm_url = f"{api_url}/subscriptions/confirm?token={token}"
        try:
            self.mailer.send(confirmation_email(self.sender, address, confirm_url))
        except Exception as exc:
            self.subscribers.release_confirmation(ident, now)
            if isinstance(exc, ClientError) and exc.response["Error"]["Code"] == "MessageRejected":
                return "rejected"
            raise
        return "sent"

    def confirm(self, token: str) -> str:
        now, now_iso = self._now()
        found = verify_token(self.key.value, token, "confirm", now)
        if not self.subscribers.confirm(found.address_id, now_iso):
            raise InvalidToken("this subscription no longer exists; subscribe again")
        return found.address_id

    def unsubscribe(self, token: str) -> str:
        now, now_iso = self._now()
        found = verify_token(self.key.value, token, "unsubscribe", now)
        self.subscribers.unsubscribe(found.address_id, now_iso)
        return found.address_id
