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
from moto import mock_aws

from bench.common import TOPICS, story_value, write_jsonl
from bench.ingest_latency import SAFETY_ENDPOINT, Bench, FakeAWS, RefusedRequest
from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.template import create_table_kwargs
from newsroom.ingest.settings import IngestSettings
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import story_item
from newsroom.stories.repository import StoryRepository
from newsroom.stories.topic_stats import MARKERS_KEPT, PRUNE_SLACK, STATS_PK
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
    entries = [k for k in stored if k[0] != STATS_PK and k[1].startswith("topic#")]
    assert len(entries) == 20 * 3  # 3 topics each
    stats = {k[1]: item for k, item in stored.items() if k[0] == STATS_PK}
    counts = {sk: int(i["count"]["N"]) for sk, i in stats.items() if "count" in i}
    assert counts == {f"topic#{t}": sum(1 for e in entries if e[1] == f"topic#{t}") for t in TOPICS}
    assert len(stats) - len(counts) == len(entries)  # a marker per entry
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
    # 60 topic entries and their 60 markers, plus a count update per topic and transaction:
    # two transactions of at most 100 actions
    assert handler.calls["dynamodb.TransactWriteItems"] == 2
    assert handler.calls["dynamodb.Query"] == len(TOPICS)  # the prune's look per topic
    assert "dynamodb.BatchWriteItem" not in handler.calls  # no topic has 25 markers to prune
    assert reference.calls.keys() == {"dynamodb.PutItem", "s3.GetObject"}
    # each story: its item and its copy in the feed index; three topic entries (2 units each
    # in a transaction) with their copies (1 each), three markers (2 each)
    assert handler.units["story_item_index"] == 1
    assert handler.units["topic_entries"] == handler.units["markers"] == 2 * 3
    assert handler.units["topic_entries_index"] == 3
    # 8 topics in the first transaction, about as many in the second, 2 units each
    assert 2 * len(TOPICS) / 20 <= handler.units["counts"] <= 2 * 2 * len(TOPICS) / 20
    assert handler.units["transactional_write_units"] == pytest.approx(
        handler.units["topic_entries"] + handler.units["markers"] + handler.units["counts"]
    )


# -- the topic write path: transactions, count updates, the prune -----------------------------


@pytest.fixture(params=["fake", "moto"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A DynamoDB client with the stories table: answered by the fake, or by moto (the
    reference the fake must agree with)."""
    if request.param == "fake":
        fake = FakeAWS(tmp_path / "aws", delay=0, table=TABLE, bucket=BUCKET)
        yield client(fake, "dynamodb")
        fake.close()
        return
    with mock_aws():
        made = boto3.client("dynamodb", region_name=REGION)
        made.create_table(**create_table_kwargs("StoriesTable", TABLE))
        yield made


def stored_story(i: int, **changes: Any) -> dict[str, Any]:
    story = StoryIn.model_validate(story_value(i) | changes)
    return story_item(story, source_key="incoming/bench.jsonl", ingested_at="2026-01-01T00:00:00Z")


def moto_items(dynamodb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (i["pk"]["S"], i["sk"]["S"]): i
        for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        for i in page["Items"]
    }


def the_write_path(dynamodb: Any) -> None:
    """The repository's write path through ``dynamodb``: 30 stories of one
    topic created in groups (transactions, then the prune's BETWEEN queries, UpdateItem and
    BatchWriteItem of the markers beyond the newest 20), then one story moved in time and
    to other topics (a transaction with conditional puts and deletes and count updates)."""
    repository = StoryRepository(dynamodb, TABLE)
    now = "2026-01-01T00:00:00Z"
    items = [stored_story(i, topics=["ai", TOPICS[i % 3 + 1]]) for i in range(WRITE_PATH_STORIES)]
    for item in items:
        repository.put_story(item)
    half = WRITE_PATH_STORIES // 2
    repository.sync_created_stories(items[:half], now=now)
    repository.sync_created_stories(items[half:], now=now)
    moved = stored_story(
        3, topics=["space", "energy"], published_at="2025-06-01T00:00:00Z",
        updated_at="2025-06-01T01:00:00Z",
    )  # fmt: skip
    assert repository.put_story(moved).outcome.value == "updated"
    repository.sync_topic_entries(moved, now=now)


# Enough for a prune: more than MARKERS_KEPT + PRUNE_SLACK public markers of "ai".
WRITE_PATH_STORIES = MARKERS_KEPT + PRUNE_SLACK + 10


def test_the_write_path_leaves_the_same_items_in_the_fake_as_in_moto(tmp_path: Path) -> None:
    fake = FakeAWS(tmp_path / "aws", delay=0, table=TABLE, bucket=BUCKET)
    the_write_path(client(fake, "dynamodb"))
    in_fake = fake.items()
    fake.close()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**create_table_kwargs("StoriesTable", TABLE))
        the_write_path(dynamodb)
        in_moto = moto_items(dynamodb)

    assert fake.refused == []
    assert in_fake == in_moto
    counts = {k[1]: int(i["count"]["N"]) for k, i in in_fake.items() if "count" in i}
    space = sum(1 for i in range(WRITE_PATH_STORIES) if TOPICS[i % 3 + 1] == "space" and i != 3)
    assert counts["topic#ai"] == WRITE_PATH_STORIES - 1  # all but the moved one
    assert counts["topic#space"] == space + 1  # and the moved one
    ai_markers = [k for k in in_fake if k[0] == STATS_PK and k[1].startswith("topic#ai#at#")]
    assert len(ai_markers) == 20  # pruned to the newest MARKERS_KEPT


def test_a_failed_condition_cancels_the_whole_transaction_with_a_reason_per_action(
    backend: Any,
) -> None:
    entry = {"pk": {"S": "story#a"}, "sk": {"S": "topic#ai"}, "feed_sk": {"S": "2025#a"}}
    backend.put_item(TableName=TABLE, Item=entry)
    count = {"pk": {"S": STATS_PK}, "sk": {"S": "topic#ai"}}

    with pytest.raises(ClientError) as failed:
        backend.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": count,
                        "UpdateExpression": "SET #topic = :t ADD #count :n",
                        "ExpressionAttributeNames": {"#count": "count", "#topic": "topic"},
                        "ExpressionAttributeValues": {":n": {"N": "1"}, ":t": {"S": "ai"}},
                    }
                },
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": entry,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    error = failed.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in error["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in backend.get_item(TableName=TABLE, Key=count)


def test_raising_pruned_below_succeeds_only_upwards(backend: Any) -> None:
    key = {"pk": {"S": STATS_PK}, "sk": {"S": "topic#ai"}}

    def raise_to(bound: str) -> None:
        backend.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET pruned_below = :b",
            ConditionExpression="attribute_not_exists(pruned_below) OR pruned_below < :b",
            ExpressionAttributeValues={":b": {"S": bound}},
        )

    raise_to("2025-02")
    with pytest.raises(ClientError) as failed:
        raise_to("2025-01")

    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    stored = backend.get_item(TableName=TABLE, Key=key)["Item"]
    assert stored == key | {"pruned_below": {"S": "2025-02"}}


def test_a_between_query_pages_newest_first_by_its_limit(
    backend: Any,
) -> None:
    for day in range(1, 6):
        backend.put_item(
            TableName=TABLE, Item={"pk": {"S": STATS_PK}, "sk": {"S": f"m#2025-01-0{day}"}}
        )
    query = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": {"S": STATS_PK},
            ":first": {"S": "m#"},
            ":last": {"S": "m#2025-01-04$"},
        },
        "ProjectionExpression": "sk",
        "ScanIndexForward": False,
        "Limit": 3,
    }

    first = backend.query(**query)
    second = backend.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])

    assert [i["sk"]["S"] for i in first["Items"]] == [f"m#2025-01-0{d}" for d in (4, 3, 2)]
    assert first["LastEvaluatedKey"] == {"pk": {"S": STATS_PK}, "sk": {"S": "m#2025-01-02"}}
    assert [i["sk"]["S"] for i in second["Items"]] == ["m#2025-01-01"]
    assert "LastEvaluatedKey" not in second
    assert all(set(i) == {"sk"} for i in first["Items"] + second["Items"])
