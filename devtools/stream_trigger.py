"""Lambda's DynamoDB stream event source mapping, on any DynamoDB Streams endpoint (moto's):
read the shard from the oldest record (``TRIM_HORIZON``), drop what the mapping's
``FilterCriteria`` leaves out, invoke the real handler with the event shape Lambda sends, and
resume after a partial failure at the lowest failed sequence number; a record that keeps
failing goes, after ``MaximumRetryAttempts``, to the on-failure destination and the shard
moves on (Lambda Developer Guide, "Using Lambda with DynamoDB": "Error handling",
"Implementing partial batch responses"; "Event filtering"). ``BisectBatchOnFunctionError``:
a batch whose invocation raised is delivered again in halves."""

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from devtools.template import load_template, resource

log = logging.getLogger("stream-trigger")
Handler = Callable[[dict[str, Any], Any], Any]
SendFailure = Callable[[dict[str, Any]], None]


def streams_client(**kwargs: Any) -> Any:
    """A DynamoDB Streams client for moto: botocore sends calls that name a stream ARN to the
    account's endpoint (``<account>.streams-ddb.<region>.amazonaws.com``), which moto's
    in-process mock does not recognise (it answers 404 "Not yet implemented"); the regional
    endpoint serves the same API."""
    config = Config(account_id_endpoint_mode="disabled")
    return boto3.client("dynamodbstreams", config=config, **kwargs)


def enable_stream(dynamodb: Any, table: str, logical_id: str = "StoriesTable") -> str:
    """Turn on the table's stream as the template declares it (``StreamSpecification``);
    returns the stream's ARN. Kept out of ``create_table_kwargs``: moto then records every
    write of every test's table, which only the stream's consumers need."""
    spec = resource(logical_id)["StreamSpecification"]
    description = dynamodb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, **spec}
    )["TableDescription"]
    return str(description["LatestStreamArn"])


def mapping_of(function_id: str) -> dict[str, Any]:
    """The template's event source mapping (``Properties``) for ``function_id``'s stream."""
    for res in load_template()["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Lambda::EventSourceMapping" and props.get("FunctionName") == {
            "Ref": function_id
        }:
            return dict(props)
    raise LookupError(f"{function_id} has no event source mapping")


def _matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style pattern matching, the subset mappings use: nested objects, and
    lists of exact values (a string, number or bool equal to one of them)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and _matches(p, value[k]) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        return any(not isinstance(p, dict) and p == value for p in pattern)
    raise ValueError(f"unsupported filter pattern {pattern!r}")


def passes_filters(record: Mapping[str, Any], patterns: list[dict[str, Any]]) -> bool:
    """Whether a record passes the mapping's filters (any of them; none: every record)."""
    return not patterns or any(_matches(p, record) for p in patterns)


def lambda_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A ``GetRecords`` record as Lambda passes it: with ``eventSourceARN`` and the
    creation time in epoch seconds."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(
            created.replace(tzinfo=created.tzinfo or UTC).timestamp()
        )
    return {
        "eventID": record.get("eventID", uuid.uuid4().hex),
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


@dataclass
class Delivery:
    """What one poll did: the sequence numbers delivered and those reported failed."""

    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: BaseException | None = None
    gave_up: list[str] = field(default_factory=list)  # sent to the on-failure destination


class StreamTrigger:
    """One event source mapping: the stream ``stream_arn`` to ``handler``."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        context: Any,
        *,
        mapping: Mapping[str, Any],
        on_failure: SendFailure | None = None,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.context = context
        self.batch_size = int(mapping.get("BatchSize", 100))
        self.max_retries = int(mapping.get("MaximumRetryAttempts", -1))
        self.bisect = bool(mapping.get("BisectBatchOnFunctionError", False))
        self.patterns = [
            json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])
        ]
        self.on_failure = on_failure
        self.region = stream_arn.split(":")[3]
        self._pending: list[dict[str, Any]] = []
        self._attempts: dict[str, int] = {}
        self._size = self.batch_size
        (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self.shard_id = str(shard["ShardId"])
        self._iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    @classmethod
    def for_table(
        cls,
        streams: Any,
        table: str,
        handler: Handler,
        context: Any,
        *,
        mapping: Mapping[str, Any],
        on_failure: SendFailure | None = None,
    ) -> "StreamTrigger":
        """The mapping of ``table``'s latest stream (``!GetAtt Table.StreamArn``), found as
        Lambda validates a mapping's stream: ``ListStreams`` of the table."""
        (stream,) = streams.list_streams(TableName=table)["Streams"][-1:]
        return cls(
            streams,
            str(stream["StreamArn"]),
            handler,
            context,
            mapping=mapping,
            on_failure=on_failure,
        )

    def _fetch(self) -> None:
        response = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
        self._iterator = response.get("NextShardIterator", self._iterator)
        for raw in response.get("Records", []):
            record = lambda_record(raw, self.stream_arn, self.region)
            if passes_filters(record, self.patterns):  # filtered out: checkpointed, never sent
                self._pending.append(record)

    def poll(self) -> Delivery:
        """Deliver the next batch (reading the shard when nothing is pending)."""
        if not self._pending:
            self._fetch()
        batch = self._pending[: self._size]
        delivery = Delivery(delivered=[r["dynamodb"]["SequenceNumber"] for r in batch])
        if not batch:
            return delivery
        try:
            response = self.handler({"Records": batch}, self.context)
            failures = (response or {}).get("batchItemFailures", [])
            delivery.failed = [str(f["itemIdentifier"]) for f in failures]
            self._size = self.batch_size
        except Exception as exc:  # the whole batch failed
            log.warning("the function failed on the whole batch: %s", exc)
            delivery.error, delivery.failed = exc, list(delivery.delivered)
            if self.bisect and len(batch) > 1:
                self._size = max(1, len(batch) // 2)
        if not delivery.failed:
            del self._pending[: len(batch)]
            return delivery
        # Resume at the lowest failed sequence number (numeric strings of one width family).
        first = min(delivery.failed, key=int)
        index = delivery.delivered.index(first)
        del self._pending[:index]
        attempts = self._attempts[first] = self._attempts.get(first, 0) + 1
        if self.max_retries >= 0 and attempts > self.max_retries:
            self._give_up(self._pending.pop(0), attempts)
            delivery.gave_up.append(first)
        return delivery

    def _give_up(self, record: dict[str, Any], attempts: int) -> None:
        """What Lambda sends to the on-failure destination for a stream batch: where the
        records are, not the records (Lambda Developer Guide, "Retaining discarded batches")."""
        sequence = record["dynamodb"]["SequenceNumber"]
        log.warning("giving up on record %s after %s attempts", sequence, attempts)
        if self.on_failure is None:
            return
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.on_failure(
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": getattr(self.context, "invoked_function_arn", ""),
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": attempts,
                },
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
                "version": "1.0",
                "timestamp": now,
                "DDBStreamBatchInfo": {
                    "shardId": self.shard_id,
                    "startSequenceNumber": sequence,
                    "endSequenceNumber": sequence,
                    "batchSize": 1,
                    "streamArn": self.stream_arn,
                },
            }
        )

    def drain(self, max_polls: int = 100) -> list[Delivery]:
        """Poll until nothing is pending and the shard has nothing new."""
        deliveries: list[Delivery] = []
        for _ in range(max_polls):
            delivery = self.poll()
            if not delivery.delivered:
                return deliveries
            deliveries.append(delivery)
        raise RuntimeError(f"{self.stream_arn} still has records after {max_polls} polls")


def sqs_destination(sqs: Any, queue_url: str) -> SendFailure:
    """An on-failure destination that sends the record to an SQS queue."""

    def send(record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    return send
