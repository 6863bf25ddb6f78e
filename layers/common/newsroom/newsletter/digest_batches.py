"""The digest queue between the planner and the senders: one message per batch of subscribers,
``{"day", "seq", "rate", "ids"}``. A batch names its subscribers by address id only (never an
address: the senders read each subscriber's current state), the run's day (the senders claim
that day's digest and read that run's stories) and the sending rate every sender keeps to
together (the planner's, so that all use the same number).

The planner puts ten messages per ``SendMessageBatch`` (SQS's most); entries SQS reports
failed are sent again, a few times, before the planner gives up (Amazon SQS API Reference,
SendMessageBatch: "the result of each message is reported individually")."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

FIELDS = ("day", "seq", "rate", "ids")
SEND_BATCH_LIMIT = 10  # entries per SendMessageBatch
SEND_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class DigestBatch:
    """One message: the subscribers one sender handles at a time."""

    day: str
    seq: int  # the message's number in its run (0, 1, ...)
    rate: int  # sends per second, for every sender together
    ids: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(
            {"day": self.day, "seq": self.seq, "rate": self.rate, "ids": list(self.ids)},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, body: str) -> Self:
        """Exactly the four fields with their types, else ``ValueError`` (the record fails
        and, after its retries, waits in the dead-letter queue)."""
        document = json.loads(body)
        if not isinstance(document, dict) or sorted(document) != sorted(FIELDS):
            raise ValueError(f"a digest batch has exactly the fields {FIELDS}")
        day, seq, rate, ids = (document[name] for name in FIELDS)
        if not (
            isinstance(day, str)
            and isinstance(seq, int)
            and isinstance(rate, int)
            and rate >= 1
            and isinstance(ids, list)
            and all(isinstance(i, str) for i in ids)
        ):
            raise ValueError("a digest batch is a day, a seq, a rate >= 1 and a list of ids")
        return cls(day, seq, rate, tuple(ids))


class DigestQueue:
    """Puts digest batches on the queue the sender function reads."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def put(self, batches: Sequence[DigestBatch]) -> None:
        """Every batch on the queue (``SendMessageBatch``, ten at a time), or an error."""
        for start in range(0, len(batches), SEND_BATCH_LIMIT):
            entries = {
                str(batch.seq): batch.to_json()
                for batch in batches[start : start + SEND_BATCH_LIMIT]
            }
            for _ in range(SEND_ATTEMPTS):
                response = self._sqs.send_message_batch(
                    QueueUrl=self._url,
                    Entries=[{"Id": key, "MessageBody": body} for key, body in entries.items()],
                )
                failed = response.get("Failed", [])
                if any(f.get("SenderFault") for f in failed):
                    raise RuntimeError(f"SQS refused digest batches: {failed}")
                entries = {f["Id"]: entries[f["Id"]] for f in failed}
                if not entries:
                    break
            else:
                raise RuntimeError(f"SQS did not take {len(entries)} digest batches")
