"""The S3-triggered ingest function, end to end against moto: real S3 notification events in,
stories and topic entries in DynamoDB and a receipt per file in S3 out.

Every test asserts both what was stored (read back from the table) and what the receipt says.
"""

import hashlib
import json
import random
import re
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.events import s3_event, s3_record, s3_test_event
from devtools.functions import LambdaContext
from devtools.tables import feed_items, table_items
from devtools.template import resource
from newsroom.core.dynamo import from_dynamo
from newsroom.core.slugs import slugify
from newsroom.stories.items import (
    ALL_STORIES_FEED,
    STORY_SK,
    TOPIC_SK_PREFIX,
    StoryItem,
    story_pk,
    topic_feed,
)
from newsroom.stories.repository import StoryRepository
from newsroom.stories.topic_stats import STATS_PK
from tests.support import iam
from tests.support.aws import REGION, ReadReceipt, invoke_async, load_function

pytestmark = pytest.mark.filterwarnings(
    "ignore:No application metrics to publish:UserWarning"  # Powertools, for an event with no files
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NO_STORIES = {"created": 0, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}


# -- helpers ----------------------------------------------------------------------------


def story(
    slug: str,
    *,
    title: str | None = None,
    published_at: str = "2025-10-01T08:00:00Z",
    updated_at: str | None = None,
    topics: Iterable[str] = ("ai",),
    status: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A valid story object as an uploader sends it."""
    value: dict[str, Any] = {
        "slug": slug,
        "title": title or f"Title of {slug}",
        "summary": f"Summary of {slug}.",
        "published_at": published_at,
        "topics": list(topics),
        "sections": [{"heading": "Key development", "body": "Something happened."}],
        **fields,
    }
    if updated_at is not None:
        value["updated_at"] = updated_at
    if status is not None:
        value["status"] = status
    return value


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def as_jsonl(*values: Any) -> bytes:
    return b"".join(json.dumps(v, ensure_ascii=False).encode() + b"\n" for v in values)


def batch(*stories: dict[str, Any]) -> bytes:
    return as_json({"stories": list(stories)})


def upload(s3: Any, bucket: str, key: str, body: bytes | str) -> dict[str, Any]:
    """Put ``body`` at ``key`` and return the S3 notification for it."""
    data = body.encode() if isinstance(body, str) else body
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return s3_event(record(bucket, key, data))


def record(bucket: str, key: str, data: bytes) -> dict[str, Any]:
    return s3_record(bucket, key, size=len(data), etag=hashlib.md5(data).hexdigest())


def feed(dynamodb: Any, table: str, feed_pk: str) -> list[str]:
    """Slugs in one partition of the ``feed`` index, newest first."""
    return [item["slug"] for item in feed_items(dynamodb, table, feed_pk)]


def stored(dynamodb: Any, table: str, slug: str) -> StoryItem | None:
    return StoryRepository(dynamodb, table).get_story(slug)


def stored_story(dynamodb: Any, table: str, slug: str) -> StoryItem:
    """The stored story ``slug``, which must be there."""
    item = stored(dynamodb, table, slug)
    assert item is not None, f"{slug} is not stored"
    return item


def topic_entries(dynamodb: Any, table: str, slug: str) -> dict[str, dict[str, Any]]:
    """The story's topic entries, by topic."""
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :topic)",
        ExpressionAttributeValues={":pk": {"S": story_pk(slug)}, ":topic": {"S": TOPIC_SK_PREFIX}},
        ConsistentRead=True,
    )
    return {
        item["sk"].removeprefix(TOPIC_SK_PREFIX): item
        for item in (from_dynamo(i) for i in response["Items"])
    }


def all_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the stories' partitions (test_topic_counts checks the topic counts)."""
    return [i for (pk, _), i in table_items(dynamodb, table).items() if pk != STATS_PK]


def results(receipt: dict[str, Any]) -> dict[str, str]:
    """``{slug: result}`` of a receipt's stored stories."""
    return {entry["slug"]: entry["result"] for entry in receipt["stories"]}


def counts(**nonzero: int) -> dict[str, int]:
    return {**NO_STORIES, **nonzero}


def assert_source(receipt: dict[str, Any], bucket: str, key: str, data: bytes) -> None:
    assert receipt["source"] == {
        "bucket": bucket,
        "key": key,
        "etag": hashlib.md5(data).hexdigest(),
        "size": len(data),
    }
    assert TIMESTAMP.match(receipt["processed_at"])


@pytest.fixture
def load_ingest(
    stories_table: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., ModuleType]:
    """Load the ingest function with extra environment (a new container with other settings).

    ``load_function`` applies the template's environment first, so limits such as
    ``MAX_FILE_BYTES`` must go through it rather than ``monkeypatch.setenv`` beforehand."""

    def load(**env: str) -> ModuleType:
        return load_function(
            "ingest", "IngestFunction", {"STORIES_TABLE": stories_table, **env}, monkeypatch
        )

    return load


# -- file formats -----------------------------------------------------------------------


def test_single_story_json_is_stored(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/one.json"
    body = as_json(story("fusion-roadmap", title="Fusion roadmap", topics=["energy", "ai"]))

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    item = stored(dynamodb, stories_table, "fusion-roadmap")
    assert item is not None
    assert item["title"] == "Fusion roadmap"
    assert item["status"] == "published"
    assert item["updated_at"] == item["published_at"] == "2025-10-01T08:00:00Z"
    assert item["source_key"] == key
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == ["fusion-roadmap"]
    assert feed(dynamodb, stories_table, topic_feed("energy")) == ["fusion-roadmap"]
    assert feed(dynamodb, stories_table, topic_feed("ai")) == ["fusion-roadmap"]

    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "ok"
    assert receipt["error"] is None
    assert receipt["counts"] == counts(created=1)
    assert receipt["stories"] == [
        {"index": 0, "slug": "fusion-roadmap", "result": "created", "status": "public"}
    ]
    assert receipt["rejected"] == []


def test_batch_json_stores_every_story(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/batch.json"
    body = batch(
        story("older", published_at="2025-10-01T08:00:00Z"),
        story("newest", published_at="2025-10-03T08:00:00Z"),
        story("middle", published_at="2025-10-02T08:00:00+02:00"),
    )

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == ["newest", "middle", "older"]
    assert stored_story(dynamodb, stories_table, "middle")["published_at"] == "2025-10-02T06:00:00Z"
    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "ok"
    assert receipt["counts"] == counts(created=3)
    assert receipt["stories"] == [
        {"index": 0, "slug": "older", "result": "created", "status": "public"},
        {"index": 1, "slug": "newest", "result": "created", "status": "public"},
        {"index": 2, "slug": "middle", "result": "created", "status": "public"},
    ]
    assert receipt["rejected"] == []


@pytest.mark.parametrize(
    ("name", "newline"), [("stories.jsonl", b"\n"), ("stories.ndjson", b"\r\n")]
)
def test_json_lines_files_skip_blank_lines(
    name: str,
    newline: bytes,
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = f"incoming/{name}"
    lines = [
        json.dumps(story("first")).encode(),
        b"",
        b"   ",
        json.dumps(story("second")).encode(),
        b"",
        json.dumps(story("third")).encode(),
    ]
    body = newline.join(lines) + newline + newline

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    for slug in ("first", "second", "third"):
        assert stored(dynamodb, stories_table, slug) is not None
    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["first", "second", "third"]
    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "ok"
    assert receipt["error"] is None
    assert receipt["counts"] == counts(created=3)
    assert receipt["stories"] == [
        {"index": 0, "line": 1, "slug": "first", "result": "created", "status": "public"},
        {"index": 1, "line": 4, "slug": "second", "result": "created", "status": "public"},
        {"index": 2, "line": 6, "slug": "third", "result": "created", "status": "public"},
    ]


# -- rejected stories -------------------------------------------------------------------


def test_batch_with_invalid_stories_stores_only_the_valid_ones(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/mixed.json"
    no_heading = story("no-heading")
    no_heading["sections"] = [{"body": "A section without a heading."}]
    body = batch(
        story("valid-one"),
        no_heading,
        story("bad-date", published_at="yesterday"),
        story("valid-two"),
        story("Not A Slug"),
    )

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["valid-one", "valid-two"]
    for slug in ("no-heading", "bad-date"):
        assert stored(dynamodb, stories_table, slug) is None
    assert {i["slug"] for i in all_items(dynamodb, stories_table)} == {"valid-one", "valid-two"}

    receipt = read_receipt(key)
    assert receipt["status"] == "partial"
    assert receipt["error"] is None
    assert receipt["counts"] == counts(created=2, rejected=3)
    assert receipt["stories"] == [
        {"index": 0, "slug": "valid-one", "result": "created", "status": "public"},
        {"index": 3, "slug": "valid-two", "result": "created", "status": "public"},
    ]
    assert [r["index"] for r in receipt["rejected"]] == [1, 2, 4]
    assert all("line" not in r for r in receipt["rejected"])
    locations = [[e["loc"] for e in r["errors"]] for r in receipt["rejected"]]
    assert locations[0] == [["sections", 0, "heading"]]
    assert locations[1] == [["published_at"]]
    assert locations[2] == [["slug"]]
    assert all(e["msg"] for r in receipt["rejected"] for e in r["errors"])


def test_every_upload_is_logged_once_with_key_status_and_counts_and_no_story_text(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_title = "Embargoed: the merger nobody knows about"
    body = batch(
        story("kept", title=secret_title),
        story("Not A Slug", title=secret_title + " (rejected)"),
    )

    with caplog.at_level("INFO"):
        ingest_app.handler(upload(s3, bucket, "incoming/logged.json", body), lambda_context)

    processed = [r for r in caplog.records if r.getMessage() == "upload processed"]
    assert len(processed) == 1
    assert processed[0].levelname == "INFO"
    assert processed[0].__dict__["upload"] == {
        "bucket": bucket,
        "key": "incoming/logged.json",
        "size": len(body),
        "status": "partial",
        "error_code": None,
        "counts": counts(created=1, rejected=1),
    }
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "Embargoed" not in logged and "merger" not in logged


def test_jsonl_line_with_invalid_json_is_rejected_and_the_other_lines_stored(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/broken.jsonl"
    body = (
        as_jsonl(story("before"))
        + b"\n"
        + b'{"slug": "truncated", "title": \n'
        + as_jsonl(story("after"))
    )

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["after", "before"]
    assert stored(dynamodb, stories_table, "truncated") is None
    receipt = read_receipt(key)
    assert receipt["status"] == "partial"
    assert receipt["error"] is None
    assert receipt["counts"] == counts(created=2, rejected=1)
    assert receipt["stories"] == [
        {"index": 0, "line": 1, "slug": "before", "result": "created", "status": "public"},
        {"index": 2, "line": 4, "slug": "after", "result": "created", "status": "public"},
    ]
    [rejected] = receipt["rejected"]
    assert rejected["index"] == 1
    assert rejected["line"] == 3
    assert rejected["errors"][0]["msg"].startswith("not valid JSON")


# -- events -----------------------------------------------------------------------------


def test_url_encoded_key_is_decoded_and_processed(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/Weekly batch/São Paulo.json"
    body = as_json(story("sao-paulo-data-centers", title="São Paulo data centers"))
    event = upload(s3, bucket, key, body)
    assert event["Records"][0]["s3"]["object"]["key"] == (
        "incoming/Weekly+batch/S%C3%A3o+Paulo.json"
    )

    result = ingest_app.handler(event, lambda_context)

    item = stored_story(dynamodb, stories_table, "sao-paulo-data-centers")
    assert item["title"] == "São Paulo data centers"
    assert item["source_key"] == key
    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "ok"
    assert results(receipt) == {"sao-paulo-data-centers": "created"}
    assert [f["key"] for f in result["files"]] == [key]


def test_event_with_several_records_processes_every_file(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    files = {
        "incoming/a.json": as_json(story("story-a")),
        "incoming/b.jsonl": as_jsonl(story("story-b1"), story("story-b2")),
        "incoming/c.ndjson": as_jsonl(story("story-c")),
    }
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    event = s3_event(*(record(bucket, key, body) for key, body in files.items()))

    result = ingest_app.handler(event, lambda_context)

    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == [
        "story-a",
        "story-b1",
        "story-b2",
        "story-c",
    ]
    assert results(read_receipt("incoming/a.json")) == {"story-a": "created"}
    assert results(read_receipt("incoming/b.jsonl")) == {
        "story-b1": "created",
        "story-b2": "created",
    }
    assert results(read_receipt("incoming/c.ndjson")) == {"story-c": "created"}
    assert [f["key"] for f in result["files"]] == list(files)


def test_s3_test_event_is_ignored(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
) -> None:
    result = ingest_app.handler(s3_test_event(bucket), lambda_context)

    assert result == {"files": []}
    assert all_items(dynamodb, stories_table) == []
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_key_outside_incoming_is_ignored(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    outside = "drafts/elsewhere.json"
    inside = "incoming/inside.json"
    outside_body = as_json(story("outside-story"))
    inside_body = as_json(story("inside-story"))
    s3.put_object(Bucket=bucket, Key=outside, Body=outside_body)
    s3.put_object(Bucket=bucket, Key=inside, Body=inside_body)
    event = s3_event(record(bucket, outside, outside_body), record(bucket, inside, inside_body))

    result = ingest_app.handler(event, lambda_context)

    assert stored(dynamodb, stories_table, "outside-story") is None
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == ["inside-story"]
    assert [f["key"] for f in result["files"]] == [inside]
    assert results(read_receipt(inside)) == {"inside-story": "created"}
    settings = ingest_app.settings
    receipts = s3.list_objects_v2(Bucket=bucket, Prefix=settings.receipts_prefix)["Contents"]
    assert [r["Key"] for r in receipts] == [settings.receipt_key(inside)]


def test_missing_object_gets_a_not_found_receipt(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    """With the template's role, which may list ``incoming/`` (``ListIncoming``), S3 answers
    404 NoSuchKey (S3 API Reference, GetObject, "Permissions"): the file gets its receipt."""
    key = "incoming/deleted-before-ingest.json"
    event = s3_event(s3_record(bucket, key, size=120))

    result = ingest_app.handler(event, lambda_context)

    assert all_items(dynamodb, stories_table) == []
    receipt = read_receipt(key)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "not_found"
    assert receipt["counts"] == NO_STORIES
    assert receipt["stories"] == receipt["rejected"] == []
    assert result["files"][0]["error"]["code"] == "not_found"


def test_missing_object_without_list_permission_is_denied_and_ends_in_the_dead_letter_queue(
    s3: Any, bucket: str, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``s3:ListBucket`` S3 answers a missing key with 403 AccessDenied (S3 API
    Reference, GetObject, "Permissions"): the ingest cannot tell a vanished file from a
    refused one, raises, and Lambda retries the event and then sends it to the dead-letter
    queue, as the template's EventInvokeConfig says."""
    dead_letters = boto3.client("sqs", region_name=REGION)
    queue_url = dead_letters.create_queue(QueueName="ingest-dlq-test")["QueueUrl"]
    ingest = load_function(
        "ingest",
        "IngestFunction",
        {"STORIES_TABLE": stories_table},
        monkeypatch,
        edit_policy=iam.without("ListIncoming"),
        resources={"IngestDeadLetterQueue": "ingest-dlq-test"},
    )
    key = "incoming/deleted-before-ingest.json"
    event = s3_event(s3_record(bucket, key, size=120))

    with iam.LEDGER.expect_denials() as denied:
        outcome = invoke_async(ingest, event)

    attempts = 1 + resource("IngestFunction")["EventInvokeConfig"]["MaximumRetryAttempts"]
    assert outcome.attempts == attempts
    assert isinstance(outcome.error, ClientError)
    assert outcome.error.response["Error"]["Code"] == "AccessDenied"
    assert outcome.error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [(d.request.action, d.request.resource) for d in denied if d.request] == [
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}")
    ] * attempts
    assert (
        s3.list_objects_v2(Bucket=bucket, Prefix=ingest.settings.receipts_prefix)["KeyCount"] == 0
    )
    messages = dead_letters.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    (record,) = [json.loads(m["Body"]) for m in messages]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == attempts
    assert record["requestPayload"] == event
    assert record["responsePayload"]["errorType"] == type(outcome.error).__name__


# -- versions ---------------------------------------------------------------------------


def test_duplicate_delivery_is_unchanged(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/dupe.json"
    event = upload(
        s3, bucket, key, batch(story("dupe-one", topics=["ai", "chips"]), story("dupe-two"))
    )
    ingest_app.handler(event, lambda_context)
    first = {slug: stored_story(dynamodb, stories_table, slug) for slug in ("dupe-one", "dupe-two")}
    entries = topic_entries(dynamodb, stories_table, "dupe-one")
    # Mark the stored items: a rewrite on redelivery would replace the mark.
    for slug in first:
        dynamodb.update_item(
            TableName=stories_table,
            Key={"pk": {"S": story_pk(slug)}, "sk": {"S": STORY_SK}},
            UpdateExpression="SET ingested_at = :mark",
            ExpressionAttributeValues={":mark": {"S": "2000-01-01T00:00:00Z"}},
        )

    ingest_app.handler(event, lambda_context)

    for slug, before in first.items():
        after = stored(dynamodb, stories_table, slug)
        assert after == {**before, "ingested_at": "2000-01-01T00:00:00Z"}
    assert topic_entries(dynamodb, stories_table, "dupe-one") == entries
    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["dupe-one", "dupe-two"]
    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["counts"] == counts(unchanged=2)
    assert results(receipt) == {"dupe-one": "unchanged", "dupe-two": "unchanged"}


def test_older_version_arriving_later_is_stale(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    newer = story("versioned", title="Newer title", updated_at="2025-10-02T08:00:00Z")
    older = story(
        "versioned", title="Older title", updated_at="2025-10-01T12:00:00Z", topics=["old"]
    )
    ingest_app.handler(upload(s3, bucket, "incoming/newer.json", as_json(newer)), lambda_context)

    ingest_app.handler(upload(s3, bucket, "incoming/older.json", as_json(older)), lambda_context)

    item = stored_story(dynamodb, stories_table, "versioned")
    assert item["title"] == "Newer title"
    assert item["updated_at"] == "2025-10-02T08:00:00Z"
    assert item["source_key"] == "incoming/newer.json"
    assert feed(dynamodb, stories_table, topic_feed("old")) == []
    assert feed(dynamodb, stories_table, topic_feed("ai")) == ["versioned"]
    receipt = read_receipt("incoming/older.json")
    assert receipt["status"] == "ok"
    assert receipt["counts"] == counts(stale=1)
    assert receipt["stories"] == [
        {"index": 0, "slug": "versioned", "result": "stale", "status": "public"}
    ]


def test_newer_version_replaces_the_stored_one(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    ingest_app.handler(
        upload(s3, bucket, "incoming/v1.json", as_json(story("evolving", title="First"))),
        lambda_context,
    )
    newer = story("evolving", title="Second", updated_at="2025-10-05T08:00:00Z")

    ingest_app.handler(upload(s3, bucket, "incoming/v2.json", as_json(newer)), lambda_context)

    item = stored_story(dynamodb, stories_table, "evolving")
    assert item["title"] == "Second"
    assert item["updated_at"] == "2025-10-05T08:00:00Z"
    assert [i["title"] for i in feed_items(dynamodb, stories_table, ALL_STORIES_FEED)] == ["Second"]
    assert [i["title"] for i in feed_items(dynamodb, stories_table, topic_feed("ai"))] == ["Second"]
    receipt = read_receipt("incoming/v2.json")
    assert receipt["counts"] == counts(updated=1)
    assert results(receipt) == {"evolving": "updated"}


def test_same_updated_at_with_different_content_replaces(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    when = "2025-10-05T08:00:00Z"
    ingest_app.handler(
        upload(s3, bucket, "incoming/a.json", as_json(story("fixup", updated_at=when))),
        lambda_context,
    )
    corrected = story("fixup", title="Typo fixed", updated_at=when)

    ingest_app.handler(upload(s3, bucket, "incoming/b.json", as_json(corrected)), lambda_context)

    assert stored_story(dynamodb, stories_table, "fixup")["title"] == "Typo fixed"
    assert [i["title"] for i in feed_items(dynamodb, stories_table, topic_feed("ai"))] == [
        "Typo fixed"
    ]
    receipt = read_receipt("incoming/b.json")
    assert receipt["counts"] == counts(updated=1)
    assert results(receipt) == {"fixup": "updated"}


def test_same_updated_at_and_same_content_is_unchanged(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    original = story("steady", updated_at="2025-10-05T08:00:00Z")
    ingest_app.handler(upload(s3, bucket, "incoming/a.json", as_json(original)), lambda_context)
    before = stored(dynamodb, stories_table, "steady")
    # The same story spelled differently: other key order, another offset, extra whitespace.
    respelled = dict(reversed(list(original.items())))
    respelled["updated_at"] = "2025-10-05T10:00:00+02:00"
    respelled["title"] = f"  {original['title']}  "

    ingest_app.handler(upload(s3, bucket, "incoming/b.jsonl", as_jsonl(respelled)), lambda_context)

    assert stored(dynamodb, stories_table, "steady") == before
    receipt = read_receipt("incoming/b.jsonl")
    assert receipt["counts"] == counts(unchanged=1)
    assert receipt["stories"] == [
        {"index": 0, "line": 1, "slug": "steady", "result": "unchanged", "status": "public"}
    ]


# -- feed index -------------------------------------------------------------------------


def test_drafts_and_retractions_are_stored_but_not_in_the_feed(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/statuses.json"
    body = batch(
        story("a-draft", status="draft", topics=["ai"]),
        story("a-retraction", status="retracted", topics=["ai", "chips"]),
        story("published-one", topics=["ai"]),
    )

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    assert stored_story(dynamodb, stories_table, "a-draft")["status"] == "draft"
    assert stored_story(dynamodb, stories_table, "a-retraction")["status"] == "retracted"
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == ["published-one"]
    assert feed(dynamodb, stories_table, topic_feed("ai")) == ["published-one"]
    assert feed(dynamodb, stories_table, topic_feed("chips")) == []
    assert topic_entries(dynamodb, stories_table, "a-draft") == {}
    assert topic_entries(dynamodb, stories_table, "a-retraction") == {}
    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["counts"] == counts(created=3)


def test_published_story_later_retracted_leaves_the_feed_and_its_topics(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    published = story("claim", topics=["chips", "materials"])
    ingest_app.handler(upload(s3, bucket, "incoming/p.json", as_json(published)), lambda_context)
    assert feed(dynamodb, stories_table, topic_feed("chips")) == ["claim"]
    retracted = {
        **published,
        "status": "retracted",
        "summary": "This story has been retracted.",
        "updated_at": "2025-10-09T08:00:00Z",
    }

    ingest_app.handler(upload(s3, bucket, "incoming/r.json", as_json(retracted)), lambda_context)

    item = stored_story(dynamodb, stories_table, "claim")
    assert item["status"] == "retracted"
    assert "feed_pk" not in item
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == []
    assert feed(dynamodb, stories_table, topic_feed("chips")) == []
    assert feed(dynamodb, stories_table, topic_feed("materials")) == []
    assert topic_entries(dynamodb, stories_table, "claim") == {}
    assert results(read_receipt("incoming/r.json")) == {"claim": "updated"}


def test_topic_change_moves_the_story_between_topic_feeds(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    first = story("moving", title="Before the move", topics=["energy", "policy"])
    ingest_app.handler(upload(s3, bucket, "incoming/1.json", as_json(first)), lambda_context)
    second = story(
        "moving",
        title="After the move",
        topics=["policy", "chips"],
        updated_at="2025-10-04T08:00:00Z",
    )

    ingest_app.handler(upload(s3, bucket, "incoming/2.json", as_json(second)), lambda_context)

    assert feed(dynamodb, stories_table, topic_feed("energy")) == []
    assert feed(dynamodb, stories_table, topic_feed("chips")) == ["moving"]
    assert feed(dynamodb, stories_table, topic_feed("policy")) == ["moving"]
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == ["moving"]
    entries = topic_entries(dynamodb, stories_table, "moving")
    assert sorted(entries) == ["chips", "policy"]
    assert {e["title"] for e in entries.values()} == {"After the move"}
    assert {e["topics"] == ["policy", "chips"] for e in entries.values()} == {True}
    for topic in ("chips", "policy"):
        [listed] = feed_items(dynamodb, stories_table, topic_feed(topic))
        assert listed["title"] == "After the move"
    assert results(read_receipt("incoming/2.json")) == {"moving": "updated"}


# -- file-level errors ------------------------------------------------------------------


def test_non_utf8_json_fails_and_stores_nothing(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/latin1.json"
    body = json.dumps(story("cafe", title="Café"), ensure_ascii=False).encode("latin-1")

    ingest_app.handler(upload(s3, bucket, key, body), lambda_context)

    assert all_items(dynamodb, stories_table) == []
    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "not_utf8"
    assert receipt["counts"] == NO_STORIES


def test_file_over_the_size_limit_is_too_large(
    load_ingest: Callable[..., ModuleType],
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    app = load_ingest(MAX_FILE_BYTES="500")
    key = "incoming/big.jsonl"
    body = as_jsonl(*(story(f"story-{i}") for i in range(5)))
    assert len(body) > 500

    result = app.handler(upload(s3, bucket, key, body), lambda_context)

    assert all_items(dynamodb, stories_table) == []
    receipt = read_receipt(key)
    assert_source(receipt, bucket, key, body)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "too_large"
    assert receipt["counts"] == NO_STORIES
    assert result["files"][0]["status"] == "failed"


def test_json_with_too_many_stories_stores_nothing(
    load_ingest: Callable[..., ModuleType],
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    app = load_ingest(MAX_STORIES_PER_FILE="3")
    key = "incoming/crowded.json"

    app.handler(
        upload(s3, bucket, key, batch(*(story(f"s-{i}") for i in range(4)))), lambda_context
    )

    assert all_items(dynamodb, stories_table) == []
    receipt = read_receipt(key)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "too_many_stories"
    assert receipt["counts"] == NO_STORIES
    assert receipt["stories"] == []


def test_jsonl_with_too_many_stories_stores_the_first_n(
    load_ingest: Callable[..., ModuleType],
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    app = load_ingest(MAX_STORIES_PER_FILE="3")
    key = "incoming/crowded.jsonl"
    # Line 2 is blank, so the fourth story (the first one over the limit) is on line 5.
    body = as_jsonl(story("s-0")) + b"\n" + as_jsonl(*(story(f"s-{i}") for i in range(1, 6)))

    app.handler(upload(s3, bucket, key, body), lambda_context)

    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["s-0", "s-1", "s-2"]
    assert {i["slug"] for i in all_items(dynamodb, stories_table)} == {"s-0", "s-1", "s-2"}
    receipt = read_receipt(key)
    assert receipt["status"] == "partial"
    assert receipt["error"]["code"] == "too_many_stories"
    assert re.search(r"\bline", receipt["error"]["msg"])
    assert re.search(r"\b5\b", receipt["error"]["msg"])
    assert receipt["counts"] == counts(created=3)
    assert receipt["stories"] == [
        {"index": 0, "line": 1, "slug": "s-0", "result": "created", "status": "public"},
        {"index": 1, "line": 3, "slug": "s-1", "result": "created", "status": "public"},
        {"index": 2, "line": 4, "slug": "s-2", "result": "created", "status": "public"},
    ]


def test_unsupported_extension_is_rejected(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = "incoming/notes.txt"

    result = ingest_app.handler(upload(s3, bucket, key, as_json(story("text"))), lambda_context)

    assert all_items(dynamodb, stories_table) == []
    receipt = read_receipt(key)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "unsupported_type"
    assert receipt["counts"] == NO_STORIES
    assert result["files"] == [
        {"key": key, "status": "failed", "counts": NO_STORIES, "error": receipt["error"]}
    ]


GARBAGE = {
    "random-bytes.json": random.Random(7).randbytes(4096),
    "random-bytes.jsonl": random.Random(8).randbytes(4096),
    "empty.json": b"",
    "whitespace.json": b" \n\t\n",
    "blank-lines.ndjson": b"\n\n\r\n",
    "not-json.json": b"<html><body>hello</body></html>",
    "top-level-list.json": b"[1, 2, 3]",
    "top-level-string.json": b'"a story"',
    "stories-not-a-list.json": b'{"stories": {"slug": "x"}}',
    "batch-with-extra-key.json": b'{"stories": [], "more": 1}',
    "batch-of-scalars.json": b'{"stories": [1, null, "x", []]}',
    "deeply-nested.json": b"[" * 100_000 + b"]" * 100_000,
    "deeply-nested-line.jsonl": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "huge-integer.json": b'{"title": ' + b"9" * 5000 + b"}",
    "huge-integer-line.jsonl": b'{"title": ' + b"9" * 5000 + b"}\n",
    "nan.json": b'{"title": NaN, "summary": Infinity, "published_at": -Infinity}',
    "lone-surrogate.json": json.dumps(story("surrogate", title="a\ud800b")).encode(),
    "surrogate-key.jsonl": b'{"\\udc80": 1, "\\udc80": 2}\n',
    "duplicate-slug.json": batch(story("twice"), story("twice", title="Again")),
    "utf16.json": json.dumps(story("utf16")).encode("utf-16"),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_bad_content_never_raises(
    name: str,
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    key = f"incoming/garbage/{name}"

    result = ingest_app.handler(upload(s3, bucket, key, GARBAGE[name]), lambda_context)

    receipt = read_receipt(key)
    [listed] = result["files"]
    assert listed["status"] == receipt["status"]
    assert listed["counts"] == receipt["counts"]
    stories = {i["slug"] for i in all_items(dynamodb, stories_table)}
    assert stories == {s["slug"] for s in receipt["stories"]}
    if name == "duplicate-slug.json":
        assert stories == {"twice"}
        assert stored_story(dynamodb, stories_table, "twice")["title"] == "Title of twice"
        assert receipt["rejected"][0]["index"] == 1
        assert receipt["rejected"][0]["errors"][0]["loc"] == ["slug"]
    else:
        assert stories == set()
        assert receipt["status"] == "failed" or receipt["counts"]["rejected"] > 0
        assert receipt["error"] is not None or receipt["rejected"]


# -- transient errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "listed_before_retry", "retried"),
    [
        # One story write is throttled: the four created stories still get their topic
        # entries, and the retry creates the missing story.
        ("PutItem", 4, counts(created=1, unchanged=4)),
        # The stories are stored but the (grouped) topic sync is throttled: the retry finds
        # every story unchanged and heals the missing topic entries.
        ("TransactWriteItems", 0, counts(unchanged=5)),
    ],
)
def test_transient_dynamodb_error_raises_and_the_retry_completes(
    operation: str,
    listed_before_retry: int,
    retried: dict[str, int],
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    throttled_key, other_key = "incoming/throttled.json", "incoming/other.jsonl"
    slugs = [f"busy-{i}" for i in range(5)]
    throttled_body = batch(*(story(s, topics=["ai", f"t{i}"]) for i, s in enumerate(slugs)))
    other_body = as_jsonl(story("calm-one"), story("calm-two"))
    s3.put_object(Bucket=bucket, Key=throttled_key, Body=throttled_body)
    s3.put_object(Bucket=bucket, Key=other_key, Body=other_body)
    event = s3_event(
        record(bucket, throttled_key, throttled_body), record(bucket, other_key, other_body)
    )
    lock = threading.Lock()
    calls = 0

    def throttle_first_call(**kwargs: Any) -> None:
        nonlocal calls
        with lock:
            calls += 1
            if calls > 1:
                return
        raise ClientError(
            {
                "Error": {
                    "Code": "ProvisionedThroughputExceededException",
                    "Message": "The level of configured provisioned throughput was exceeded",
                },
                # botocore-stubs require every ResponseMetadata key; ClientError needs none
                "ResponseMetadata": {"HTTPStatusCode": 400},  # type: ignore[typeddict-item]
            },
            operation,
        )

    hooks = ingest_app.dynamodb.meta.events
    hooks.register(f"before-call.dynamodb.{operation}", throttle_first_call)
    try:
        with pytest.raises(ClientError) as raised:
            ingest_app.handler(event, lambda_context)
    finally:
        hooks.unregister(f"before-call.dynamodb.{operation}", throttle_first_call)

    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    # Every file of the event was tried before the error was raised.
    assert results(read_receipt(other_key)) == {"calm-one": "created", "calm-two": "created"}
    assert (
        len(set(feed(dynamodb, stories_table, topic_feed("ai"))) & set(slugs))
        == listed_before_retry
    )

    result = ingest_app.handler(event, lambda_context)  # Lambda's retry of the same event

    receipt = read_receipt(throttled_key)
    assert receipt["status"] == "ok"
    assert receipt["error"] is None
    assert [s["index"] for s in receipt["stories"]] == [0, 1, 2, 3, 4]
    assert receipt["counts"] == retried
    assert sum(receipt["counts"].values()) == len(slugs)
    assert results(read_receipt(other_key)) == {"calm-one": "unchanged", "calm-two": "unchanged"}
    everything = sorted([*slugs, "calm-one", "calm-two"])
    story_items = [i for i in all_items(dynamodb, stories_table) if i["sk"] == STORY_SK]
    assert sorted(i["slug"] for i in story_items) == everything
    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == everything
    assert sorted(feed(dynamodb, stories_table, topic_feed("ai"))) == everything
    for i, slug in enumerate(slugs):
        assert feed(dynamodb, stories_table, topic_feed(f"t{i}")) == [slug]
    assert [(f["key"], f["status"]) for f in result["files"]] == [
        (throttled_key, "ok"),
        (other_key, "ok"),
    ]


# -- concurrency ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_concurrent_versions_converge_on_the_newest(
    seed: int,
    atomic_moto_dynamodb: None,
    ingest_app: ModuleType,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    """Eight versions of one story, each in its own file, delivered at once in shuffled order.

    Each thread plays one Lambda container running one invocation. The threads call the
    ``Ingestor`` the handler delegates to rather than ``handler`` itself: Powertools' metrics
    are process-wide, and real Lambda never runs two invocations in one process at a time
    (concurrent ``log_metrics`` flushes can race and raise ``SchemaValidationError``)."""
    slug = "contested"
    versions = [
        story(
            slug,
            title=f"Version {v}",
            updated_at=f"2025-10-0{v + 1}T08:00:00Z",
            topics=[f"only-v{v}", "shared", f"pair-{v // 2}"],
        )
        for v in range(8)
    ]
    events = [
        upload(s3, bucket, f"incoming/race/v{v}.json", as_json(version))
        for v, version in enumerate(versions)
    ]
    order = list(range(8))
    random.Random(seed).shuffle(order)
    start = threading.Barrier(len(order))

    def deliver(v: int) -> dict[str, Any]:
        start.wait()
        result: dict[str, Any] = ingest_app.ingestor.handle_event(events[v])
        return result

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: many more interleavings per run
    try:
        with ThreadPoolExecutor(max_workers=len(order)) as pool:
            returned = list(pool.map(deliver, order))
    finally:
        sys.setswitchinterval(interval)

    assert all(r["files"][0]["status"] == "ok" for r in returned)
    item = stored_story(dynamodb, stories_table, slug)
    assert item["title"] == "Version 7"
    assert item["updated_at"] == "2025-10-08T08:00:00Z"
    assert feed(dynamodb, stories_table, ALL_STORIES_FEED) == [slug]
    assert [i["title"] for i in feed_items(dynamodb, stories_table, ALL_STORIES_FEED)] == [
        "Version 7"
    ]
    assert sorted(topic_entries(dynamodb, stories_table, slug)) == ["only-v7", "pair-3", "shared"]
    for v in range(8):
        expected = [slug] if v == 7 else []
        assert feed(dynamodb, stories_table, topic_feed(f"only-v{v}")) == expected
    for pair in range(4):
        expected = [slug] if pair == 3 else []
        assert feed(dynamodb, stories_table, topic_feed(f"pair-{pair}")) == expected
    [shared] = feed_items(dynamodb, stories_table, topic_feed("shared"))
    assert shared["title"] == "Version 7"
    outcomes = [read_receipt(f"incoming/race/v{v}.json")["stories"][0]["result"] for v in order]
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "updated", "stale"}
    assert read_receipt("incoming/race/v7.json")["stories"][0]["result"] in {"created", "updated"}


# -- samples and the return value -------------------------------------------------------


def sample_stories(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document: dict[str, Any] = json.loads(text)
        stories: list[dict[str, Any]] = document.get("stories", [document])
        return stories
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_sample_files_ingest_without_rejections(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    sample_files: list[Path],
) -> None:
    keys = []
    for path in sample_files:
        key = f"incoming/samples/{path.name}"
        keys.append(key)
        ingest_app.handler(upload(s3, bucket, key, path.read_bytes()), lambda_context)

    everything = [s for path in sample_files for s in sample_stories(path)]
    slugs = {s.get("slug") or slugify(s["title"]) for s in everything}
    hidden = {s["slug"] for s in everything if s.get("status", "published") != "published"}
    published = slugs - hidden
    draft = "chip-design-agents-verification"
    retraction = "startup-room-temperature-chip-breakthrough"
    assert hidden == {draft, retraction}
    for key in keys:
        receipt = read_receipt(key)
        assert receipt["status"] == "ok", (key, receipt["rejected"], receipt["error"])
        assert receipt["counts"]["rejected"] == 0
        assert receipt["rejected"] == []
    stored_slugs = {i["slug"] for i in all_items(dynamodb, stories_table) if i["sk"] == STORY_SK}
    assert stored_slugs == published | hidden
    listed = feed(dynamodb, stories_table, ALL_STORIES_FEED)
    assert len(listed) == len(set(listed))
    assert set(listed) == published
    for slug in hidden:
        assert topic_entries(dynamodb, stories_table, slug) == {}
    assert stored_story(dynamodb, stories_table, draft)["status"] == "draft"
    assert stored_story(dynamodb, stories_table, retraction)["status"] == "retracted"


def test_handler_returns_each_file_with_status_and_counts(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
) -> None:
    files = {
        "incoming/good.json": as_json(story("good")),
        "incoming/mixed.jsonl": as_jsonl(story("fine"), {"slug": "incomplete"}),
        "incoming/bad.json": b"\xff\xfe\x00",
    }
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    event = s3_event(*(record(bucket, key, body) for key, body in files.items()))

    result = ingest_app.handler(event, lambda_context)

    assert result == {
        "files": [
            {
                "key": "incoming/good.json",
                "status": "ok",
                "counts": counts(created=1),
                "error": None,
            },
            {
                "key": "incoming/mixed.jsonl",
                "status": "partial",
                "counts": counts(created=1, rejected=1),
                "error": None,
            },
            {
                "key": "incoming/bad.json",
                "status": "failed",
                "counts": NO_STORIES,
                "error": read_receipt("incoming/bad.json")["error"],
            },
        ]
    }
    assert result["files"][2]["error"]["code"] == "not_utf8"
    for listed in result["files"]:
        receipt = read_receipt(listed["key"])
        assert (listed["status"], listed["counts"]) == (receipt["status"], receipt["counts"])
    assert sorted(feed(dynamodb, stories_table, ALL_STORIES_FEED)) == ["fine", "good"]
