"""``newsroom.ingest.receipts.Receipt``, the receipt the ingest writes for an uploaded file: its
status (ok when every story was stored, partial with a rejected story or a file error after
some stories, failed on a file error alone), its counts of every write outcome and of the
rejected, and its JSON document, which lists the stories in file order (with a line only for
``.jsonl`` files)."""

from newsroom.ingest.receipts import Receipt
from newsroom.stories.repository import WriteOutcome

SOURCE_KEY = "incoming/2025/oct.jsonl"
INGESTED_AT = "2025-10-22T14:05:10Z"


def new_receipt() -> Receipt:
    return Receipt(bucket="content", key=SOURCE_KEY, processed_at=INGESTED_AT)


def test_receipt_with_every_story_stored_is_ok() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED, "public")
    receipt.accept(1, 2, "b", WriteOutcome.UNCHANGED, "public")
    assert receipt.status == "ok"


def test_receipt_with_a_rejected_story_is_partial() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED, "public")
    receipt.reject(1, 2, [{"loc": ["title"], "msg": "Field required"}])
    assert receipt.status == "partial"


def test_receipt_with_a_file_error_after_some_stories_is_partial() -> None:
    receipt = new_receipt()
    receipt.accept(0, 1, "a", WriteOutcome.CREATED, "public")
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
        receipt.accept(index, None, f"s{index}", outcome, "public")
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
    receipt.accept(2, 3, "c", WriteOutcome.CREATED, "public")
    receipt.reject(1, 2, [{"loc": ["slug"], "msg": "bad"}])
    receipt.accept(0, 1, "a", WriteOutcome.UPDATED, "public")
    assert receipt.to_dict() == {
        "source": {"bucket": "content", "key": SOURCE_KEY, "etag": "abc123", "size": 17_322},
        "processed_at": INGESTED_AT,
        "status": "partial",
        "counts": {"created": 1, "updated": 1, "unchanged": 0, "stale": 0, "rejected": 1},
        "error": None,
        "stories": [
            {"index": 0, "line": 1, "slug": "a", "result": "updated", "status": "public"},
            {"index": 2, "line": 3, "slug": "c", "result": "created", "status": "public"},
        ],
        "rejected": [{"index": 1, "line": 2, "errors": [{"loc": ["slug"], "msg": "bad"}]}],
    }


def test_receipt_entries_of_json_files_have_no_line() -> None:
    receipt = new_receipt()
    receipt.accept(0, None, "a", WriteOutcome.CREATED, "public")
    receipt.reject(1, None, [])
    document = receipt.to_dict()
    assert document["stories"] == [
        {"index": 0, "slug": "a", "result": "created", "status": "public"}
    ]
    assert document["rejected"] == [{"index": 1, "errors": []}]
