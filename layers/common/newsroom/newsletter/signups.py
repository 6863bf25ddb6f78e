"""The signup queue between ``POST /subscriptions`` and the mailer function: one message
``{"address", "requested_at"}`` per valid request, whatever the address's state, so the API
does the same AWS work (one ``SendMessage``) for every request and answers in the same time.
The queue is encrypted (SQS managed keys): it holds addresses in clear."""

import json
from dataclasses import asdict, dataclass
from typing import Any, Self

FIELDS = ("address", "requested_at")


@dataclass(frozen=True, slots=True)
class ConfirmationRequest:
    """One queued signup (the message body). No pydantic here: the subscriptions function
    imports this module and stays off pydantic's import time (tests/unit/test_import_rules)."""

    address: str
    requested_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Self:
        """Exactly the two string fields, else ``ValueError`` (the record fails and, after
        its retries, waits in the dead-letter queue)."""
        document = json.loads(body)
        if not isinstance(document, dict) or sorted(document) != sorted(FIELDS):
            raise ValueError(f"a signup message has exactly the fields {FIELDS}")
        if not all(isinstance(document[name], str) for name in FIELDS):
            raise ValueError("a signup message's fields are strings")
        return cls(document["address"], document["requested_at"])


class SignupQueue:
    """Puts signup requests on the queue the mailer function reads."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def put(self, request: ConfirmationRequest) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=request.to_json())
