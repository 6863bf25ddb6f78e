"""``bench.ingest_latency``'s fake AWS behaves like DynamoDB and S3 where the benchmark depends
on it (real boto3 clients, real botocore serialization and parsing), refuses what it does not
implement, delays and counts every call; and the real ingest handler stores every story, its
topic entries and the file's receipt through it."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bench.common import write_jsonl
from bench.ingest_latency import SAFETY_ENDPOINT, Bench, FakeAWS, RefusedRequest
from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from newsroom.ingest.settings import IngestSettings
from tests.support.aws import BUCKET, REGION, TABLE, load_function

CONDITION = (
    "attribute_not_exists(pk) OR updated_at < :u OR (updated_at = :u AND content_hash <> :h)"
)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAWS]:
    fake = FakeAWS(tmp_path / "aws", delay=0, table=TABLE, bucket=BUCKET)
    yield fake
    fake.close()


def client(fake: FakeAWS, service: str) -> Any:
    made = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url=SAFETY_ENDPOINT,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    fake.attach(made)
    return made


@pytest.fixture
def dynamodb(fake: FakeAWS) -> Any:
    return client(fake, "dynamodb")


def story(updated_at: str, content_hash: str) -> dict[str, Any]:
    return {
        "pk": {"S": "story#a"},
        "sk": {"S": "story"},
        "updated_at": {"S": updated_at},
        "content_hash": {"S": content_hash},
        "topics": {"L": [{"S": "ai"}]},
    }


def put_story(dynamodb: Any, item: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = dynamodb.put_item(
        TableName=TABLE,
        Item=item,
        ConditionExpression=CONDITION,
        ExpressionAttributeValues={":u": item["updated_at"], ":h": item["content_hash"]},
        ReturnValues="ALL_OLD",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    return response


def test_conditional_put_of_an_older_version_fails_with_the_stored_item(dynamodb: Any) -> None:
    put_story(dynamodb, story("2025-01-02T00:00:00Z", "h1"))

    with pytest.raises(ClientError) as failed:
        put_story(dynamodb, story("2025-01-01T00:00:00Z", "h0"))

    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    old_item = failed.value.response["Item"]  # type: ignore[typeddict-item]
    assert old_item == story("2025-01-02T00:00:00Z", "h1")
    stored = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "story#a"}, "sk": {"S": "story"}})
    assert stored["Item"]["content_hash"] == {"S": "h1"}


def test_conditional_put_of_the_same_version_fails_and_of_a_newer_one_returns_the_old(
    dynamodb: Any,
) -> None:
    assert "Attributes" not in put_story(dynamodb, story("2025-01-02T00:00:00Z", "h1"))
    with pytest.raises(ClientError):
        put_story(dynamodb, story("2025-01-02T00:00:00Z", "h1"))

    replaced = put_story(dynamodb, story("2025-01-02T00:00:00Z", "h2"))

    assert replaced["Attributes"] == story("2025-01-02T00:00:00Z", "h1")


def test_query_begins_with_and_batch_get_return_only_the_projected_attributes(
    dynamodb: Any,
) -> None:
    entries = [
        {"pk": {"S": "story#a"}, "sk": {"S": f"topic#{t}"}, "content_hash": {"S": t}}
        for t in ("ai", "space")
    ]
    dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": e}} for e in entries]})
    put_story(dynamodb, story("2025-01-02T00:00:00Z", "h1"))

    topics = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": "story#a"}, ":prefix": {"S": "topic#"}},
        ProjectionExpression="sk, content_hash",
        ConsistentRead=True,
    )
    versions = dynamodb.batch_get_item(
        RequestItems={
            TABLE: {
                "Keys": [{"pk": {"S": "story#a"}, "sk": {"S": "story"}}],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, updated_at, content_hash",
            }
        }
    )

    assert [i["sk"]["S"] for i in topics["Items"]] == ["topic#ai", "topic#space"]
    assert all(set(i) == {"sk", "content_hash"} for i in topics["Items"])
    assert versions["Responses"][TABLE] == [
        {
            "pk": {"S": "story#a"},
            "updated_at": {"S": "2025-01-02T00:00:00Z"},
            "content_hash": {"S": "h1"},
        }
    ]


def test_batch_write_with_a_key_twice_is_rejected_like_dynamodb(dynamodb: Any) -> None:
    entry = {"pk": {"S": "story#a"}, "sk": {"S": "topic#ai"}}

    with pytest.raises(ClientError) as failed:
        dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": entry}}, {"PutRequest": {"Item": entry}}]}
        )

    assert failed.value.response["Error"]["Code"] == "ValidationException"


def test_an_operation_the_fake_does_not_implement_is_refused(fake: FakeAWS, dynamodb: Any) -> None:
    with pytest.raises(RefusedRequest, match="Scan"):
        dynamodb.scan(TableName=TABLE)

    assert fake.refused == ["dynamodb.Scan is not implemented by the fake"]


def test_another_condition_or_table_is_refused(fake: FakeAWS, dynamodb: Any) -> None:
    with pytest.raises(RefusedRequest, match="condition"):
        dynamodb.put_item(
            TableName=TABLE, Item=story("x", "y"), ConditionExpression="attribute_exists(pk)"
        )
    with pytest.raises(RefusedRequest, match="table"):
        dynamodb.put_item(TableName="other", Item=story("x", "y"))

    assert len(fake.refused) == 2
    assert fake.items() == {}


def test_every_call_is_counted_and_waits_the_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    fake = FakeAWS(tmp_path, delay=0.008, table=TABLE, bucket=BUCKET)
    dynamodb, s3 = client(fake, "dynamodb"), client(fake, "s3")

    put_story(dynamodb, story("2025-01-02T00:00:00Z", "h1"))
    dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "story#a"}, "sk": {"S": "story"}})
    s3.put_object(Bucket=BUCKET, Key="receipts/a.json", Body=b"{}")
    body = s3.get_object(Bucket=BUCKET, Key="receipts/a.json")["Body"].read()

    assert body == b"{}"
    assert fake.calls == {
        "dynamodb.PutItem": 1,
        "dynamodb.GetItem": 1,
        "s3.PutObject": 1,
        "s3.GetObject": 1,
    }
    assert slept == [0.008] * 4
    fake.close()


@pytest.fixture
def ingest_through_fake(fake: FakeAWS, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real ingest function (its role checked as in the other handler tests), its S3
    and DynamoDB clients answered by the fake."""
    module = load_function("ingest", "IngestFunction", {"STORIES_TABLE": TABLE}, monkeypatch)
    fake.attach(module.dynamodb)
    fake.attach(module.ingestor._s3)
    return module


def test_a_small_file_through_the_handler_stores_every_story_its_topics_and_the_receipt(
    fake: FakeAWS, ingest_through_fake: ModuleType
) -> None:
    key = "incoming/bench/stories-20.jsonl"
    path = fake.object_path(key)
    path.parent.mkdir(parents=True)
    size = write_jsonl(path, 20)

    result = ingest_through_fake.handler(
        s3_event(s3_record(BUCKET, key, size=size)), LambdaContext("IngestFunction")
    )

    assert result["files"][0]["counts"]["created"] == 20
    stored = fake.items()
    assert len([k for k in stored if k[1] == "story"]) == 20
    assert len([k for k in stored if k[1].startswith("topic#")]) == 20 * 3  # 3 topics each
    receipt_path = fake.object_path(IngestSettings(TABLE).receipt_key(key))
    receipt = json.loads(receipt_path.read_text())
    assert receipt["status"] == "ok"
    assert receipt["counts"]["created"] == 20
    assert fake.calls["dynamodb.PutItem"] == 20
    assert fake.calls["s3.GetObject"] == fake.calls["s3.PutObject"] == 1
    assert fake.refused == []


def test_a_benchmark_run_in_its_child_process_stores_every_story_and_counts_its_calls(
    tmp_path: Path,
) -> None:
    bench = Bench(tmp_path, delay=0)

    handler = bench.run("handler", 20, meter=True)
    reference = bench.run("reference", 20)

    assert handler.calls["dynamodb.PutItem"] == reference.calls["dynamodb.PutItem"] == 20
    assert handler.calls["dynamodb.BatchWriteItem"] == 3  # 60 topic entries, 25 a call
    assert reference.calls.keys() == {"dynamodb.PutItem", "s3.GetObject"}
    # each story: its item, its copy in the feed index, and three topic entries with theirs
    assert handler.units["story_item_index"] == 1
    assert handler.units["topic_entries"] == handler.units["topic_entries_index"] == 3
