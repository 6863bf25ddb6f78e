"""The digest's senders (DigestSenderFunction, on the digest queue): each message is a batch of
subscribers (``newsroom.newsletter.digest_batches``) who get the day's digest, under the one
sending budget every sender shares (``newsroom.newsletter.budget``).

For each batch: the subscribers' current state in one consistent ``BatchGetItem`` (someone
may have unsubscribed or been suppressed since the planner listed them: never mail a
suppressed or unconfirmed address); then for each subscriber the daily claim
(``SubscriberRepository.claim_digest``: the same subscriber is never mailed twice a day,
whichever message, retry or second run brings them again), a token of the budget and the
send. SES refusing one address for good (``MessageRejected``) counts it failed and releases
its claim (the next day's digest tries again); any other failure (SES ``Throttling``, a 5xx)
releases the claim and fails the message, which SQS delivers again (partial batch response,
with a backoff); the subscribers it had already mailed are then skipped by their claims.

Each message adds what it did to the run item with one ``UpdateItem``; the sender whose
update completes the run (every planned message handled) reports it (``RunReporter``).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from newsroom.newsletter.budget import SendBudget
from newsroom.newsletter.confirmations import RetryBackoff
from newsroom.newsletter.digest_batches import DigestBatch
from newsroom.newsletter.digest_runs import (
    OUTCOMES,
    Counts,
    Outcome,
    RunReporter,
    RunRepository,
    RunStories,
)
from newsroom.newsletter.emails import digest_email
from newsroom.newsletter.service import Newsletter
from newsroom.newsletter.subscribers import Subscriber
from newsroom.newsletter.tokens import issue_token

# Stop taking subscribers this long before the invocation would time out: the message fails
# and comes back, and its retry goes on where this one stopped (the claims skip the rest).
DEADLINE_MARGIN_SECONDS = 10.0


class OutOfTime(RuntimeError):
    """The invocation is about to time out before the batch is done."""


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


@dataclass
class DigestSender:
    newsletter: Newsletter  # the subscribers, SES (unpaced: the budget paces), the key
    runs: RunRepository
    budget: SendBudget
    api_url: str  # where the unsubscribe links point (PUBLIC_API_URL)
    story_url: str
    reporter: RunReporter
    log: Callable[..., None]
    backoff: RetryBackoff | None = None
    _deadline: float = math.inf
    _stories: dict[str, RunStories] = field(default_factory=dict)  # by day, per container

    def begin(self, remaining_ms: int) -> None:
        """A new invocation with ``remaining_ms`` to run (Lambda's context)."""
        self._deadline = self.newsletter.clock() + remaining_ms / 1000 - DEADLINE_MARGIN_SECONDS

    def handle(self, record: SQSRecord) -> None:
        """One message; raises to report it failed (SQS delivers it again)."""
        batch = DigestBatch.from_json(record.body)
        counts = Counts()
        error: Exception | None = None
        try:
            self._send_batch(batch, counts)
        except Exception as exc:  # what was sent stays sent (claimed): only the rest retries
            error = exc
        for outcome in OUTCOMES:
            self.reporter.metric(f"digest_{outcome}", "Count", getattr(counts, outcome))
        run = self.runs.add_counts(batch.day, counts, message_done=error is None)
        if error is not None:
            retry_in = self.backoff.delay(record) if self.backoff is not None else None
            self.log(
                "digest batch failed",
                day=batch.day,
                seq=batch.seq,
                attempt=int(record.attributes.approximate_receive_count or 1),
                error=_code(error),
                retry_in=retry_in,
                **vars(counts),
            )
            raise error
        finished = self.runs.finish(run, self.newsletter.clock())
        if finished is not None:
            self.reporter.finished(finished)

    def _run_stories(self, day: str) -> RunStories:
        if day not in self._stories:
            stories = self.runs.stories(day)
            if stories is None:
                raise LookupError(f"the digest run of {day} has no stories")
            self._stories[day] = stories
        return self._stories[day]

    def _send_batch(self, batch: DigestBatch, counts: Counts) -> None:
        stories = self._run_stories(batch.day)
        found = self.newsletter.subscribers.batch_get(batch.ids)
        for ident in batch.ids:
            if self.newsletter.clock() >= self._deadline:
                raise OutOfTime(f"batch {batch.seq} of {batch.day} stopped before the timeout")
            counts.add(self._send_one(found.get(ident), batch, stories))

    def _send_one(
        self, subscriber: Subscriber | None, batch: DigestBatch, stories: RunStories
    ) -> Outcome:
        if subscriber is None:  # gone since the planner listed it
            return "skipped"
        if not Newsletter.may_mail(subscriber):
            return "suppressed"
        if subscriber.status != "confirmed":  # unsubscribed since
            return "skipped"
        since = subscriber.digest_through or stories.oldest
        new = [story for story in stories.stories if story["published_at"] > since]
        if not new:
            return "skipped"
        repository = self.newsletter.subscribers
        if not repository.claim_digest(subscriber, batch.day, new[0]["published_at"]):
            return "skipped"  # already mailed that day (a retry, a second run) or gone
        self.budget.acquire(batch.rate)
        token = issue_token(
            self.newsletter.key.value,
            "unsubscribe",
            subscriber.address_id,
            int(self.newsletter.clock()),
        )
        message = digest_email(
            self.newsletter.sender,
            subscriber.email,
            new,
            story_url=self.story_url,
            unsubscribe_url=f"{self.api_url}/subscriptions/unsubscribe?token={token}",
            day=batch.day,
        )
        try:
            self.newsletter.mailer.send(message)
        except Exception as exc:
            repository.release_digest(subscriber, batch.day)
            permanent = _code(exc) == "MessageRejected"  # SES API Reference, SendRawEmail
            self.log(
                "digest send failed",
                subscriber=subscriber.address_id,
                error=_code(exc),
                permanent=permanent,
            )
            if permanent:
                return "failed"
            raise
        return "sent"
