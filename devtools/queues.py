"""SQS queues as ``template.yaml`` declares them, for the local stack and the tests: a queue
with its own dead-letter queue, its redrive policy and visibility timeout from the template."""

import json
from dataclasses import dataclass
from typing import Any

from devtools.template import resource


@dataclass(frozen=True)
class QueueWithDeadLetters:
    """A queue and the dead-letter queue its redrive policy names."""

    url: str
    name: str
    dead_letter_url: str
    dead_letter_name: str


def create_queue_with_dead_letters(
    sqs: Any,
    logical_id: str,
    name: str,
    dead_letter_name: str,
    *,
    visibility_timeout: int | None = None,
) -> QueueWithDeadLetters:
    """The template's queue ``logical_id``, created as ``name`` with the ``sqs`` client: its
    ``RedrivePolicy`` (moto's SQS honours ``maxReceiveCount``) pointed at a new queue
    ``dead_letter_name``, and its ``VisibilityTimeout`` unless ``visibility_timeout`` is
    given."""
    declared = resource(logical_id)
    dead_url = sqs.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {**declared["RedrivePolicy"], "deadLetterTargetArn": dead_arn}
    timeout = declared["VisibilityTimeout"] if visibility_timeout is None else visibility_timeout
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(timeout), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return QueueWithDeadLetters(str(url), name, str(dead_url), dead_letter_name)
