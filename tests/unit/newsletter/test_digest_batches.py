"""``newsroom.newsletter.digest_batches``: a digest message is exactly ``{"day", "seq", "rate",
"ids"}`` (anything else fails the record, which then ends in the dead-letter queue), and the
planner's batches go onto the queue ten per ``SendMessageBatch`` (moto's SQS)."""

import json
from typing import Any

import boto3
import pytest

from newsroom.newsletter.digest_batches import SEND_BATCH_LIMIT, DigestBatch, DigestQueue
from tests.support.aws import REGION

BATCH = DigestBatch("2026-12-02", 7, 14, ("a1", "b2"))


def test_a_batch_survives_the_queue_as_it_was() -> None:
    body = BATCH.to_json()
    assert json.loads(body) == {"day": "2026-12-02", "seq": 7, "rate": 14, "ids": ["a1", "b2"]}
    assert DigestBatch.from_json(body) == BATCH


@pytest.mark.parametrize(
    "document",
    [
        {"day": "2026-12-02", "seq": 7, "rate": 14},  # no ids
        {"day": "2026-12-02", "seq": 7, "rate": 14, "ids": [], "email": "x@example.com"},
        {"day": "2026-12-02", "seq": "7", "rate": 14, "ids": []},
        {"day": "2026-12-02", "seq": 7, "rate": 0, "ids": []},
        {"day": "2026-12-02", "seq": 7, "rate": 14, "ids": [1]},
        ["2026-12-02", 7, 14, []],
    ],
)
def test_anything_but_a_batch_is_refused(document: Any) -> None:
    with pytest.raises(ValueError, match="digest batch"):
        DigestBatch.from_json(json.dumps(document))


def test_batches_go_onto_the_queue_ten_per_call(moto: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="digest-unit")["QueueUrl"]
    calls: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    batches = [DigestBatch("2026-12-02", n, 14, (f"id{n}",)) for n in range(25)]
    DigestQueue(sqs, url).put(batches)
    assert calls == [SEND_BATCH_LIMIT, SEND_BATCH_LIMIT, 5]
    received: list[DigestBatch] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        received += [DigestBatch.from_json(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    assert sorted(received, key=lambda b: b.seq) == batches
