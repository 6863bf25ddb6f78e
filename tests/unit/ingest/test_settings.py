"""``newsroom.ingest.settings.IngestSettings``: where the receipt of an uploaded file goes
(``receipt_key``: the key below the incoming prefix, under the receipts prefix, with
``.json`` appended)."""

import pytest

from newsroom.ingest.settings import IngestSettings


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
