"""The newsletter's use cases: subscribe (double opt-in), confirm, unsubscribe, and the
daily digest. Addresses never leave this module in clear except to SES."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import address_id, normalize_address
from newsroom.newsletter.emails import confirmation_email, digest_email
from newsroom.newsletter.subscribers import SubscriberRepository
from newsroom.newsletter.tokens import InvalidToken, issue_token, verify_token
from newsroom.read_api.pagination import feed_for
from newsroom.stories.items import to_summary
from newsroom.stories.repository import StoryRepository

MAX_DIGEST_STORIES = 50
DIGEST_LOOKBACK = timedelta(days=7)


class Mailer:
    """Sends MIME messages through SES (``SendRawEmail`` keeps our own headers)."""

    def __init__(self, ses: Any, max_per_second: float) -> None:
        self._ses = ses
        self._interval = 1.0 / max_per_second if max_per_second > 0 else 0.0
        self._next = 0.0

    def send(self, message: EmailMessage) -> None:
        # Stay under the account's SES sending rate.
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next = time.monotonic() + self._interval
        try:
            self._ses.send_raw_email(RawMessage={"Data": message.as_bytes()})
        except ClientError as exc:
            # SES's error messages can name the recipient ("...failed the check in region
            # US-EAST-1: reader@example.com"): raise it again with its code and status only,
            # so that no log line or traceback carries the address.
            scrubbed: Any = {
                "Error": {
                    "Code": exc.response.get("Error", {}).get("Code", "Unknown"),
                    "Message": "SES refused the message (its reason is not logged)",
                },
                "ResponseMetadata": exc.response.get("ResponseMetadata", {}),
            }
            raise ClientError(scrubbed, exc.operation_name) from None


class SigningKey:
    """The HMAC key, read once per container from an SSM SecureString parameter."""

    def __init__(self, ssm: Any, parameter_name: str) -> None:
        self._ssm = ssm
        self._name = parameter_name

    @cached_property
    def value(self) -> bytes:
        response = self._ssm.get_parameter(Name=self._name, WithDecryption=True)
        return str(response["Parameter"]["Value"]).encode()


@dataclass
class Newsletter:
    subscribers: SubscriberRepository
    mailer: Mailer
    key: SigningKey
    sender: str
    clock: Callable[[], float] = time.time

    def _now(self) -> tuple[int, str]:
        now = int(self.clock())
        return now, format_utc(datetime.fromtimestamp(now, UTC))

    def subscribe(self, raw_address: object, api_url: str) -> str | None:
        """Start (or restart) a double opt-in. Returns the address id for logging, or None
        when nothing was sent (already confirmed, or within the cooldown). Raises
        ``InvalidAddress`` for an address that is not valid."""
        address = normalize_address(raw_address)
        key = self.key.value
        ident = address_id(key, address)
        now, now_iso = self._now()
        created = self.subscribers.create_pending(ident, address, now, now_iso)
        if not created and not self.subscribers.claim_confirmation(ident, now, now_iso):
            return None
        token = issue_token(key, "confirm", ident, now)
        confirm_url = f"{api_url}/subscriptions/confirm?token={token}"
        self.mailer.send(confirmation_email(self.sender, address, confirm_url))
        return ident

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


@dataclass
class DigestResult:
    stories: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "stories": self.stories,
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def run_digest(
    newsletter: Newsletter,
    stories: StoryRepository,
    *,
    api_url: str,
    story_url: str,
    log: Callable[..., None],
) -> DigestResult:
    """Send each confirmed subscriber the stories published since their last digest.

    At most one digest per subscriber per day (claimed before sending, released when SES
    refuses, so the next run retries); one failed address does not stop the others; no new
    stories, no email.
    """
    now, _ = newsletter._now()
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.date().isoformat()
    oldest = format_utc(moment - DIGEST_LOOKBACK)
    items, _ = stories.query_feed(feed_for(None), MAX_DIGEST_STORIES)
    recent = [to_summary(item) for item in items if item["published_at"] > oldest]
    result = DigestResult(stories=len(recent))
    if not recent:
        return result
    key = newsletter.key.value
    for subscriber in newsletter.subscribers.confirmed():
        since = subscriber.digest_through or oldest
        new = [story for story in recent if story["published_at"] > since]
        if not new:
            result.skipped += 1
            continue
        if not newsletter.subscribers.claim_digest(subscriber, day, new[0]["published_at"]):
            result.skipped += 1  # already sent today (a retry or a second run)
            continue
        token = issue_token(key, "unsubscribe", subscriber.address_id, now)
        message = digest_email(
            newsletter.sender,
            subscriber.email,
            new,
            story_url=story_url,
            unsubscribe_url=f"{api_url}/subscriptions/unsubscribe?token={token}",
            day=day,
        )
        try:
            newsletter.mailer.send(message)
            result.sent += 1
        except Exception as exc:  # one address must not stop the others
            newsletter.subscribers.release_digest(subscriber, day)
            result.failed += 1
            log("digest send failed", subscriber=subscriber.address_id, error=type(exc).__name__)
    return result
