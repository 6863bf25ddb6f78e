"""Lambda's SQS event source mapping, on any SQS endpoint (moto's): poll the queue, invoke the
real handler with the real SQS event shape, delete the messages it acknowledged, leave the
ones it reported in ``batchItemFailures`` (or all of them, when it raised) to come back after
the visibility timeout (Lambda Developer Guide, "Using Lambda with Amazon SQS": "Handling
errors" and "Implementing partial batch responses"). The queue's own redrive policy moves a
message received ``maxReceiveCount`` times to its dead-letter queue, as in SQS."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("sqs-trigger")
Handler = Callable[[dict[str, Any], Any], Any]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda invokes a function with for a batch of received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": dict(m.get("MessageAttributes", {})),
                "md5OfBody": m.get("MD5OfBody")
                or hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


@dataclass
class Batch:
    """What one poll did: the records delivered and the ids the function reported failed."""

    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: BaseException | None = None  # the handler raised: the whole batch failed


class SqsTrigger:
    """One event source mapping: ``queue_url`` to ``handler``."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        context: Any,
        *,
        batch_size: int = 10,
        retry_now: bool = False,
        retry_sqs: Any | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.context = context
        self.batch_size = batch_size
        # ``retry_now``: a failed message is visible again at once, as if its visibility
        # timeout had passed (tests; the queue's timeout is minutes).
        self.retry_now = retry_now
        # ``sqs`` may carry the function's role (the mapping polls with it); the test's own
        # visibility reset is not the mapping's call.
        self.retry_sqs = retry_sqs or sqs
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = str(attributes["Attributes"]["QueueArn"])
        self.region = self.queue_arn.split(":")[3]

    def poll(self, wait_seconds: int = 0) -> Batch:
        """Receive one batch and deliver it; an empty batch invokes nothing."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        batch = Batch(delivered=[m["MessageId"] for m in messages])
        if not messages:
            return batch
        try:
            response = self.handler(sqs_event(messages, self.queue_arn, self.region), self.context)
            failures = (response or {}).get("batchItemFailures", [])
            batch.failed = [str(f["itemIdentifier"]) for f in failures]
        except Exception as exc:  # an error: every message of the batch comes back
            log.warning("the function failed on the whole batch: %s", exc)
            batch.error = exc
            batch.failed = list(batch.delivered)
        done = [m for m in messages if m["MessageId"] not in batch.failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        if self.retry_now:
            for m in messages:
                if m["MessageId"] in batch.failed:
                    self.retry_sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=m["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
        return batch

    def drain(self, max_polls: int = 100) -> list[Batch]:
        """Poll until the queue has nothing visible (failed messages, with ``retry_now``, are
        delivered again until they succeed or the redrive policy takes them)."""
        batches: list[Batch] = []
        for _ in range(max_polls):
            batch = self.poll()
            if not batch.delivered:
                return batches
            batches.append(batch)
        raise RuntimeError(f"{self.queue_url} still has messages after {max_polls} polls")
