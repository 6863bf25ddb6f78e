"""Stored items (story item, topic entries), receipts, and the package's error helpers."""

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pydantic import ValidationError

from devtools.factories import valid_story
from newsroom.core.errors import FileRejected, TransientAWSError, error_details, is_transient
from newsroom.ingest.receipts import Receipt
from newsroom.ingest.settings import IngestSettings
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import make_excerpt, story_item, topic_entries
from newsroom.stories.repository import WriteOutcome

SOURCE_KEY = "incoming/2025/oct.jsonl"
INGESTED_AT = "2025-10-22T14:05:10Z"
SUMMARY_ATTRIBUTES = {"slug", "title", "excerpt", "published_at", "updated_at", "topics"}


def item_of(**overrides: Any) -> dict[str, Any]:
    story = StoryIn.model_validate(valid_story(**overrides))
    return story_item(story, source_key=SOURCE_KEY, ingested_at=INGESTED_AT)


# --- story items ------------------------------------------------------------------------------


def test_published_story_item_has_keys_content_and_feed_keys() -> None:
    story = StoryIn.model_validate(valid_story(slug="rates", topics=["economy"]))
    item = story_item(story, source_key=SOURCE_KEY, ingested_at=INGESTED_AT)
    assert item == {
        "pk": "story#rates",
        "sk": "story",
        **story.content(),
        "excerpt": "The central bank kept its rate unchanged.",
        "content_hash": story.content_hash(),
        "ingested_at": INGESTED_AT,
        "source_key": SOURCE_KEY,
        "feed_pk": "feed",
        "feed_sk": "2025-10-17T13:30:00Z#rates",
    }


def test_feed_sort_key_is_utc_published_at_then_slug() -> None:
    item = item_of(slug="late-night", published_at="2025-10-17T23:30:00-05:00")
    assert item["feed_sk"] == "2025-10-18T04:30:00Z#late-night"


@pytest.mark.parametrize("status", ["draft", "retracted"])
def test_unpublished_story_item_has_no_feed_keys(status: str) -> None:
    item = item_of(slug="rates", status=status)
    assert item["status"] == status
    assert (item["pk"], item["sk"]) == ("story#rates", "story")
    assert "feed_pk" not in item
    assert "feed_sk" not in item


def test_story_item_excerpt_is_made_from_the_summary() -> None:
    summary = " ".join(["word"] * 100)
    item = item_of(summary=summary)
    assert item["summary"] == summary
    assert item["excerpt"] == make_excerpt(summary)
    assert item["excerpt"].endswith("…")


# --- topic entries ----------------------------------------------------------------------------


def test_topic_entries_one_per_topic_with_the_summary_attributes() -> None:
    item = item_of(slug="rates", topics=["economy", "central-banks"])
    entries = topic_entries(item)
    assert list(entries) == ["economy", "central-banks"]
    for topic, entry in entries.items():
        assert entry == {
            "pk": "story#rates",
            "sk": f"topic#{topic}",
            **{name: item[name] for name in SUMMARY_ATTRIBUTES},
            "content_hash": item["content_hash"],
            "feed_pk": f"topic#{topic}",
            "feed_sk": "2025-10-17T13:30:00Z#rates",
        }


def test_topic_entries_do_not_carry_the_full_content() -> None:
    item = item_of(topics=["economy"], author="Ada", sections=[{"heading": "h", "body": "b"}])
    entry = topic_entries(item)["economy"]
    for name in ("summary", "sections", "author", "source_key", "ingested_at"):
        assert name not in entry


def test_published_story_without_topics_has_no_topic_entries() -> None:
    assert topic_entries(item_of()) == {}


@pytest.mark.parametrize("status", ["draft", "retracted"])
def test_unpublished_story_has_no_topic_entries(status: str) -> None:
    assert topic_entries(item_of(status=status, topics=["economy", "rates"])) == {}


# --- receipts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_key", "key"),
    [
        ("incoming/a/b c.jsonl", "receipts/a/b c.jsonl.json"),
        ("incoming/story.json", "receipts/story.json.json"),
        ("incoming/2025/10/oct.ndjson", "receipts/2025/10/oct.ndjson.json"),
    ],
)
def test_receipt_key_mirrors_the_key_below_incoming(source_key: str, key: str) -> None:
    settings = IngestSettings("stories", incoming_prefix="incoming/", receipts_prefix="receipts/")
    assert settings.receipt_key(source_key) == key


def new_receipt() -> Receipt:
    return Receipt(bucket="content", key=SOURCE_KEY, processed_at=INGESTED_AT)


def test_receipt_with_every_story_stored_is_ok() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED)
    receipt.accept(1, 2, "b", WriteOutcome.UNCHANGED)
    assert receipt.status == "ok"


def test_receipt_with_a_rejected_story_is_partial() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED)
    receipt.reject(1, 2, [{"loc": ["title"], "msg": "Field required"}])
    assert receipt.status == "partial"


def test_receipt_with_a_file_error_after_some_stories_is_partial() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED)
    receipt.fail("too_many_stories", "file has more than 1 stories")
    assert receipt.status == "partial"


def test_receipt_with_a_file_error_and_no_stories_is_failed() -> None:
    receipt = new_receipt()
    receipt.fail("invalid_json", "not valid JSON")
    assert receipt.status == "failed"
    assert receipt.to_dict()["error"] == {"code": "invalid_json", "msg": "not valid JSON"}


def test_receipt_counts_every_outcome_and_the_rejected() -> None:
    receipt = new_receipt()
    outcomes = [WriteOutcome.CREATED, WriteOutcome.CREATED, WriteOutcome.UPDATED]
    outcomes += [WriteOutcome.STALE]
    for index, outcome in enumerate(outcomes):
        receipt.accept(index, None, f"s{index}", outcome)
    receipt.reject(4, None, [])
    receipt.reject(5, None, [])
    assert receipt.counts() == {
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "stale": 1,
        "rejected": 2,
    }


def test_receipt_document_lists_stories_in_file_order() -> None:
    receipt = new_receipt()
    receipt.etag, receipt.size = "abc123", 17_322
    receipt.accept(2, 3, "c", WriteOutcome.CREATED)
    receipt.reject(1, 2, [{"loc": ["slug"], "msg": "bad"}])
    receipt.accept(0, 1, "a", WriteOutcome.UPDATED)
    assert receipt.to_dict() == {
        "source": {"bucket": "content", "key": SOURCE_KEY, "etag": "abc123", "size": 17_322},
        "processed_at": INGESTED_AT,
        "status": "partial",
        "counts": {"created": 1, "updated": 1, "unchanged": 0, "stale": 0, "rejected": 1},
        "error": None,
        "stories": [
            {"index": 0, "line": 1, "slug": "a", "result": "updated"},
            {"index": 2, "line": 3, "slug": "c", "result": "created"},
        ],
        "rejected": [{"index": 1, "line": 2, "errors": [{"loc": ["slug"], "msg": "bad"}]}],
    }


def test_receipt_entries_of_json_files_have_no_line() -> None:
    receipt = new_receipt()
    receipt.accept(0, None, "a", WriteOutcome.CREATED)
    receipt.reject(1, None, [])
    document = receipt.to_dict()
    assert document["stories"] == [{"index": 0, "slug": "a", "result": "created"}]
    assert document["rejected"] == [{"index": 1, "errors": []}]


# --- error details ----------------------------------------------------------------------------


def validation_errors(data: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        StoryIn.model_validate(data)
    return caught.value.errors(include_url=False)


def test_error_details_drop_the_value_error_prefix() -> None:
    errors = validation_errors(valid_story(updated_at="2025-10-01T00:00:00Z"))
    assert errors[0]["msg"].startswith("Value error, ")
    assert error_details(errors) == [
        {"loc": [], "msg": "updated_at must not be earlier than published_at"}
    ]


def test_error_details_turn_locations_into_lists() -> None:
    errors = validation_errors(valid_story(sections=[{"heading": "", "body": "b"}]))
    assert error_details(errors) == [
        {"loc": ["sections", 0, "heading"], "msg": "String should have at least 1 character"}
    ]


def test_error_details_keep_other_messages_as_they_are() -> None:
    errors = [{"loc": ("sections", 0, "heading"), "msg": "Field required", "type": "missing"}]
    assert error_details(errors) == [{"loc": ["sections", 0, "heading"], "msg": "Field required"}]


# --- transient AWS errors ---------------------------------------------------------------------


def client_error(code: str, status: int, operation: str = "PutItem") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
    }
    return ClientError(response, operation)


def error_id(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response["Error"]["Code"]
    return type(error).__name__


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", 400),
        client_error("ProvisionedThroughputExceededException", 400),
        client_error("RequestLimitExceeded", 400),
        client_error("TransactionConflictException", 400),
        client_error("SlowDown", 503, "GetObject"),
        client_error("InternalServerError", 500),
        client_error("SomethingNew", 500),
        client_error("ServiceUnavailable", 503),
        TransientAWSError("unprocessed items left"),
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
    ids=error_id,
)
def test_throttling_and_server_errors_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ConditionalCheckFailedException", 400),
        client_error("AccessDenied", 403, "GetObject"),
        client_error("AccessDeniedException", 400),
        client_error("ValidationException", 400),
        client_error("NoSuchKey", 404, "GetObject"),
        FileRejected("invalid_json", "not valid JSON"),
        ValueError("bad"),
    ],
    ids=error_id,
)
def test_client_and_content_errors_are_not_transient(error: Exception) -> None:
    assert not is_transient(error)
