"""Hostile uploads through the real ingest function (moto in process): every file ends in a
receipt that names the problem (a file-level error code, or each rejected story's index,
line, ``loc`` and ``msg``), the handler never raises for content, and the table changes
only where a valid story was meant to be written: every test snapshots all items first.

The table is seeded with stories the hostile content aims at (same slugs, newer
``updated_at``), so a rejected story that slipped through would show as a change.
"""

import hashlib
import json
import unicodedata
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus

import pytest

from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.tables import table_items
from newsroom.stories.items import ALL_STORIES_FEED, STORY_SK, TOPIC_SK_PREFIX, story_pk
from newsroom.stories.topic_stats import STATS_PK
from tests.support.aws import load_function

pytestmark = [
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
    # Each moto DynamoDB request atomic, as in DynamoDB: moto's in-process table is not
    # thread-safe, and the ingest writes from 16 threads.
    pytest.mark.usefixtures("atomic_moto_dynamodb"),
]

MIB = 1024 * 1024
BOM = b"\xef\xbb\xbf"
NEWER = "2025-11-01T08:00:00Z"  # later than every seeded story: a rejected one would win
Items = dict[tuple[str, str], dict[str, Any]]


# -- helpers ----------------------------------------------------------------------------


def story(slug: str | None, **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "slug": slug,
        "title": f"Title of {slug}",
        "summary": f"Summary of {slug}.",
        "published_at": "2025-10-01T08:00:00Z",
        "topics": ["ai"],
        "sections": [{"heading": "Key development", "body": "Something happened."}],
    }
    if slug is None:
        del value["slug"]
    value.update(fields)
    return value


def line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def upload(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_event(s3_record(bucket, key, size=len(body), etag=hashlib.md5(body).hexdigest()))


def snapshot(dynamodb: Any, table: str) -> Items:
    """Every item of the table but the topic stats partition, by key (consistent scan): the
    stories and their topic entries (the counts follow them: test_topic_counts.py)."""
    return {key: item for key, item in table_items(dynamodb, table).items() if key[0] != STATS_PK}


def outside(items: Items, slugs: set[str]) -> Items:
    return {key: item for key, item in items.items() if key[0] not in {story_pk(s) for s in slugs}}


def stories_in(items: Items) -> dict[str, dict[str, Any]]:
    return {item["slug"]: item for (_, sk), item in items.items() if sk == STORY_SK}


def topics_of(items: Items, slug: str) -> set[str]:
    return {
        sk.removeprefix(TOPIC_SK_PREFIX)
        for pk, sk in items
        if pk == story_pk(slug) and sk != STORY_SK
    }


def rejections(receipt: dict[str, Any]) -> dict[int, list[tuple[list[Any], str]]]:
    """``{index: [(loc, msg), ...]}`` of a receipt's rejected stories."""
    return {r["index"]: [(e["loc"], e["msg"]) for e in r["errors"]] for r in receipt["rejected"]}


def accepted(receipt: dict[str, Any]) -> dict[int, tuple[str, str]]:
    """``{index: (slug, result)}`` of a receipt's stored stories."""
    return {s["index"]: (s["slug"], s["result"]) for s in receipt["stories"]}


def assert_accounted_for(receipt: dict[str, Any], size: int) -> None:
    """Every story position of the file is in the receipt exactly once; the counts add up."""
    indexes = sorted([*accepted(receipt), *rejections(receipt)])
    assert indexes == list(range(size))
    assert sum(receipt["counts"].values()) == size
    assert receipt["counts"]["rejected"] == len(receipt["rejected"])


SEEDED = {
    "baseline-a": story("baseline-a", topics=["ai", "chips"], updated_at="2025-10-02T08:00:00Z"),
    "baseline-b": story("baseline-b", topics=["energy"]),
    "baseline-c": story("baseline-c", status="draft", topics=["policy"]),
}


class Run:
    """Runs uploads through the real handler and reads what they did."""

    def __init__(
        self, app: ModuleType, context: Any, s3: Any, bucket: str, dynamodb: Any, table: str
    ) -> None:
        self.app, self.context, self.s3, self.bucket = app, context, s3, bucket
        self.dynamodb, self.table = dynamodb, table

    def ingest(
        self, key: str, body: bytes, app: ModuleType | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The handler's result for ``key`` and the receipt it wrote (never raises)."""
        result = (app or self.app).handler(upload(self.s3, self.bucket, key, body), self.context)
        [listed] = result["files"]
        assert listed["key"] == key
        receipt = self.receipt(key)
        assert (listed["status"], listed["counts"], listed["error"]) == (
            receipt["status"],
            receipt["counts"],
            receipt["error"],
        )
        assert receipt["source"]["key"] == key
        assert receipt["source"]["size"] == len(body)
        return result, receipt

    def receipt_key(self, key: str) -> str:
        """Where the function writes the receipt of ``key``."""
        key_of: str = self.app.settings.receipt_key(key)
        return key_of

    def receipt(self, key: str) -> dict[str, Any]:
        name = self.receipt_key(key)
        receipt: dict[str, Any] = json.loads(
            self.s3.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        )
        return receipt

    def receipt_size(self, key: str) -> int:
        name = self.receipt_key(key)
        size: int = self.s3.head_object(Bucket=self.bucket, Key=name)["ContentLength"]
        return size

    def items(self) -> Items:
        return snapshot(self.dynamodb, self.table)


@pytest.fixture
def run(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
) -> Run:
    """The handler, with the table seeded (SEEDED) through it."""
    runner = Run(ingest_app, lambda_context, s3, bucket, dynamodb, stories_table)
    body = json.dumps({"stories": list(SEEDED.values())}).encode()
    _, receipt = runner.ingest("incoming/seed.json", body)
    assert receipt["counts"]["created"] == len(SEEDED)
    return runner


# -- deeply nested JSON -----------------------------------------------------------------


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def raw_story(slug: str, field: str, raw_json: str) -> bytes:
    """A story line whose ``field`` is the raw JSON text ``raw_json``."""
    fields = story(slug, updated_at=NEWER)
    fields.pop(field, None)
    return json.dumps(fields)[:-1].encode() + f', "{field}": {raw_json}}}\n'.encode()


def test_deeply_nested_values_are_rejected_story_by_story(run: Run) -> None:
    key = "incoming/hostile/nested.jsonl"
    body = (
        line(story("nest-ok-1"))
        + raw_story("baseline-a", "author", nested_list(100_000))
        + raw_story("baseline-b", "source", nested_object(5_000))
        + raw_story("baseline-a", "sections", nested_list(500))
        + raw_story("baseline-b", "topics", nested_list(500))
        + (nested_list(50_000) + "\n").encode()
        + line(story("nest-ok-2"))
    )
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert receipt["status"] == "partial"
    assert receipt["error"] is None
    assert_accounted_for(receipt, 7)
    assert accepted(receipt) == {0: ("nest-ok-1", "created"), 6: ("nest-ok-2", "created")}
    rejected = rejections(receipt)
    too_deep: list[tuple[list[Any], str]] = [([], "JSON is nested too deeply")]
    assert rejected[1] == rejected[2] == rejected[5] == too_deep
    assert rejected[3] == [
        (["sections", 0], "Input should be a valid dictionary or instance of Section")
    ]
    assert [loc for loc, _ in rejected[4]] == [["topics", 0]]
    assert [r["line"] for r in receipt["rejected"]] == [2, 3, 4, 5, 6]
    assert run.receipt_size(key) < 4096  # no rejected value is echoed back
    after = run.items()
    assert outside(after, {"nest-ok-1", "nest-ok-2"}) == outside(before, {"nest-ok-1", "nest-ok-2"})
    assert set(stories_in(after)) == {*SEEDED, "nest-ok-1", "nest-ok-2"}


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("nested-document.json", nested_list(100_000).encode(), "invalid_json"),
        (
            "nested-batch.json",
            b'{"stories": ['
            + json.dumps(story("inside")).encode()
            + b", "
            + nested_object(100_000).encode()
            + b"]}",
            "invalid_json",
        ),
    ],
)
def test_json_document_nested_too_deeply_fails_as_a_whole(
    run: Run, name: str, body: bytes, code: str
) -> None:
    before = run.items()

    _, receipt = run.ingest(f"incoming/hostile/{name}", body)

    assert receipt["status"] == "failed"
    assert receipt["error"] == {"code": code, "msg": "JSON is nested too deeply"}
    assert receipt["stories"] == receipt["rejected"] == []
    assert run.items() == before


def test_batch_with_a_deep_neighbour_keeps_the_valid_stories(run: Run) -> None:
    """Nested deep, but within what JSON parsing allows: the document is read and only the
    deep entry is rejected."""
    key = "incoming/hostile/deep-neighbour.json"
    body = (
        b'{"stories": ['
        + json.dumps(story("shallow")).encode()
        + b", "
        + nested_list(500).encode()
        + b", "
        + raw_story("baseline-a", "summary", nested_object(500)).rstrip()
        + b"]}"
    )
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert accepted(receipt) == {0: ("shallow", "created")}
    rejected = rejections(receipt)
    assert rejected[1] == [([], "a story must be a JSON object")]
    assert [loc for loc, _ in rejected[2]] == [["summary"]]
    assert outside(run.items(), {"shallow"}) == outside(before, {"shallow"})


# -- huge lines ------------------------------------------------------------------------


def huge_file() -> bytes:
    """A JSON Lines file around a 20 MiB line that is one JSON string, and a story whose
    summary is 2 MiB, aimed at a stored story."""
    return (
        line(story("huge-before"))
        + b'"'
        + b"x" * (20 * MIB)
        + b'"\n'
        + line(story("baseline-a", updated_at=NEWER, summary="y" * (2 * MIB)))
        + line(story("huge-after"))
    )


def test_huge_single_line_is_rejected_and_its_neighbours_stored(run: Run) -> None:
    key = "incoming/hostile/huge-line.jsonl"
    body = huge_file()
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert receipt["status"] == "partial"
    assert accepted(receipt) == {0: ("huge-before", "created"), 3: ("huge-after", "created")}
    assert rejections(receipt) == {
        1: [([], "a story must be a JSON object")],
        2: [(["summary"], "String should have at most 5000 characters")],
    }
    assert [r["line"] for r in receipt["rejected"]] == [2, 3]
    assert run.receipt_size(key) < 4096  # the 20 MiB value is not echoed
    after = run.items()
    assert outside(after, {"huge-before", "huge-after"}) == outside(
        before, {"huge-before", "huge-after"}
    )
    assert stories_in(after)["baseline-a"] == stories_in(before)["baseline-a"]


def test_huge_file_over_a_small_limit_is_too_large_and_stores_nothing(
    run: Run, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = load_function(
        "ingest",
        "IngestFunction",
        {"STORIES_TABLE": stories_table, "MAX_FILE_BYTES": str(MIB)},
        monkeypatch,
    )
    key = "incoming/hostile/huge-over-limit.jsonl"
    body = huge_file()
    before = run.items()

    _, receipt = run.ingest(key, body, app=small)

    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "too_large"
    assert str(len(body)) in receipt["error"]["msg"]
    assert receipt["stories"] == receipt["rejected"] == []
    assert run.items() == before


def test_stories_too_large_to_store_are_rejected_and_the_rest_stored(run: Run) -> None:
    """Every field within its limit, yet the story is too large for one DynamoDB item
    (400 KB): rejected with its size in the receipt, never a failed invocation. A long
    story under the limit is stored whole."""
    section = {"heading": "h" * 200, "body": "b" * 10_000, "bullets": ["x" * 2000] * 50}
    fits = story("long-but-storable", summary="s" * 5000, sections=[section] * 3)
    too_big = story("baseline-a", updated_at=NEWER, sections=[section] * 5)
    largest = story("largest-allowed-fields", summary="é" * 5000, sections=[section] * 50)
    key = "incoming/hostile/too-large-to-store.jsonl"
    body = line(fits) + line(too_big) + line(largest) + line(story("after-large"))
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert receipt["status"] == "partial"
    assert accepted(receipt) == {
        0: ("long-but-storable", "created"),
        3: ("after-large", "created"),
    }
    rejected = rejections(receipt)
    assert sorted(rejected) == [1, 2]
    for errors in rejected.values():
        [(loc, msg)] = errors
        assert loc == []
        assert "bytes as stored; at most" in msg
    after = run.items()
    assert outside(after, {"long-but-storable", "after-large"}) == outside(
        before, {"long-but-storable", "after-large"}
    )
    assert stories_in(after)["long-but-storable"]["sections"] == fits["sections"]


# -- BOM and line endings ---------------------------------------------------------------


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


ACCEPTED_ENCODINGS: dict[str, Callable[[list[dict[str, Any]]], bytes]] = {
    "bom.json": lambda s: BOM + json.dumps(s[0], indent=2).encode(),
    "bom-crlf-batch.json": lambda s: BOM + crlf(json.dumps({"stories": s}, indent=2)),
    "crlf.json": lambda s: crlf(json.dumps(s[0], indent=2)),
    "bom.jsonl": lambda s: BOM + b"".join(line(v) for v in s),
    "crlf.jsonl": lambda s: b"\r\n".join(json.dumps(v).encode() for v in s) + b"\r\n\r\n",
    "bom-crlf.ndjson": lambda s: BOM + b"\r\n\r\n".join(json.dumps(v).encode() for v in s),
}


@pytest.mark.parametrize("name", list(ACCEPTED_ENCODINGS))
def test_bom_and_crlf_are_accepted(run: Run, name: str) -> None:
    base = name.split(".")[0]
    stories = [
        story(f"{base}-one", topics=["ai", "energy"]),
        story(None, title=f"{base} two, derived slug"),
    ]
    if name.endswith(".json") and "batch" not in name:
        stories = stories[:1]
    key = f"incoming/encodings/{name}"
    before = run.items()

    _, receipt = run.ingest(key, ACCEPTED_ENCODINGS[name](stories))

    assert receipt["status"] == "ok", receipt
    assert receipt["counts"]["created"] == len(stories)
    slugs = [s["slug"] for s in receipt["stories"]]
    assert slugs == [f"{base}-one", f"{base}-two-derived-slug"][: len(stories)]
    if name.endswith("jsonl") or name.endswith("ndjson"):
        step = 2 if name.endswith("ndjson") else 1
        assert [s["line"] for s in receipt["stories"]] == [1, 1 + step][: len(stories)]
    after = run.items()
    assert outside(after, set(slugs)) == outside(before, set(slugs))
    stored = stories_in(after)
    assert stored[f"{base}-one"]["title"] == f"Title of {base}-one"
    assert topics_of(after, f"{base}-one") == {"ai", "energy"}
    for slug in slugs:
        for field in ("slug", "title", "summary"):
            assert "\ufeff" not in stored[slug][field] and "\r" not in stored[slug][field]


def test_bom_on_a_later_line_is_named_in_the_receipt(run: Run) -> None:
    """Files concatenated with ``cat`` can carry a BOM in the middle: that line is not
    silently dropped (stored, or rejected with a message naming the BOM)."""
    key = "incoming/encodings/bom-inside.jsonl"
    body = line(story("first-part")) + BOM + line(story("second-part")) + line(story("third"))

    _, receipt = run.ingest(key, body)

    assert_accounted_for(receipt, 3)
    assert accepted(receipt)[0] == ("first-part", "created")
    assert accepted(receipt)[2] == ("third", "created")
    if 1 in rejections(receipt):
        [(_, msg)] = rejections(receipt)[1]
        assert "BOM" in msg
    else:
        assert accepted(receipt)[1] == ("second-part", "created")


def test_cr_only_line_ends_make_one_line_that_is_rejected(run: Run) -> None:
    """Classic Mac line ends (``\\r`` alone) are not line ends in JSON Lines: the file is one
    line holding two objects, rejected with its line and the JSON error."""
    key = "incoming/encodings/cr-only.jsonl"
    body = json.dumps(story("cr-one")).encode() + b"\r" + json.dumps(story("cr-two")).encode()
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert receipt["stories"] == []
    [rejected] = receipt["rejected"]
    assert (rejected["index"], rejected["line"]) == (0, 1)
    assert rejected["errors"][0]["msg"].startswith("not valid JSON: Extra data")
    assert run.items() == before


# -- duplicate keys and duplicate slugs -------------------------------------------------


def test_duplicate_keys_in_one_object_are_rejected_at_their_location(run: Run) -> None:
    key = "incoming/hostile/duplicate-keys.jsonl"
    valid = json.dumps(story("dupe-ok")).encode()
    common = b'"summary": "S", "published_at": "2025-10-01T08:00:00Z"'
    updated = f'"updated_at": "{NEWER}"'.encode()
    body = b"\n".join(
        [
            b'{"slug": "baseline-a", "title": "One", "title": "Two", '
            + updated
            + b", "
            + common
            + b"}",
            b'{"slug": "baseline-a", "slug": "dupe-evil", "title": "T", '
            + updated
            + b", "
            + common
            + b"}",
            b'{"slug": "baseline-b", "title": "T", '
            + updated
            + b", "
            + common
            + b', "sections": [{"heading": "A", "heading": "B", "body": "x"}]}',
            b'{"slug": "baseline-b", "title": "T", '
            + updated
            + b", "
            + common
            + b', "source": {"name": "n", "url": "https://a.example/", "url": "https://b.example/"}}',
            b'{"slug": "baseline-a", "title": "Same twice", "title": "Same twice", '
            + updated
            + b", "
            + common
            + b"}",
            valid,
        ]
    )
    before = run.items()

    _, receipt = run.ingest(key, body)

    duplicate = "duplicate key in the same object"
    assert rejections(receipt) == {
        0: [(["title"], duplicate)],
        1: [(["slug"], duplicate)],
        2: [(["sections", 0, "heading"], duplicate)],
        3: [(["source", "url"], duplicate)],
        4: [(["title"], duplicate)],
    }
    assert accepted(receipt) == {5: ("dupe-ok", "created")}
    after = run.items()
    assert outside(after, {"dupe-ok"}) == outside(before, {"dupe-ok"})
    assert "dupe-evil" not in stories_in(after)


def test_batch_with_the_stories_key_twice_is_the_wrong_shape(run: Run) -> None:
    one, two = json.dumps(story("first-list")), json.dumps(story("second-list"))
    body = f'{{"stories": [{one}], "stories": [{two}]}}'.encode()
    before = run.items()

    _, receipt = run.ingest("incoming/hostile/two-lists.json", body)

    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "wrong_shape"
    assert run.items() == before


def test_same_slug_twice_in_one_file_keeps_the_first_and_names_the_second(run: Run) -> None:
    key = "incoming/hostile/twins.jsonl"
    body = (
        line(story("twin", title="Twin, first", topics=["first"]))
        + line(story(None, title="Twin", updated_at=NEWER, topics=["second"]))  # derived: twin
        + line(story("baseline-a", title="Baseline A, corrected", updated_at=NEWER, topics=["x"]))
        + line(story("baseline-a", title="Baseline A, again", updated_at="2025-12-01T08:00:00Z"))
    )
    before = run.items()

    _, receipt = run.ingest(key, body)

    assert accepted(receipt) == {0: ("twin", "created"), 2: ("baseline-a", "updated")}
    rejected = rejections(receipt)
    assert rejected[1] == [
        (["slug"], "slug 'twin' is already used by the story at index 0 of this file")
    ]
    assert rejected[3] == [
        (["slug"], "slug 'baseline-a' is already used by the story at index 2 of this file")
    ]
    after = run.items()
    assert outside(after, {"twin", "baseline-a"}) == outside(before, {"twin", "baseline-a"})
    stored = stories_in(after)
    assert stored["twin"]["title"] == "Twin, first"
    assert stored["baseline-a"]["title"] == "Baseline A, corrected"
    assert topics_of(after, "twin") == {"first"}
    assert topics_of(after, "baseline-a") == {"x"}  # the intended update moved its topics


# -- wrong types and nulls --------------------------------------------------------------

WRONG_TYPES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"title": 123}, ["title"]),
    ({"summary": 1.5}, ["summary"]),
    ({"published_at": 1760000000}, ["published_at"]),
    ({"updated_at": 1762000000}, ["updated_at"]),
    ({"slug": 5}, ["slug"]),
    ({"topics": [1]}, ["topics", 0]),
    ({"topics": "ai"}, ["topics"]),
    ({"author": True}, ["author"]),
    ({"status": 1}, ["status"]),
    ({"sections": [{"heading": 7, "body": "x"}]}, ["sections", 0, "heading"]),
    ({"sections": [{"heading": "h", "bullets": [2]}]}, ["sections", 0, "bullets", 0]),
    ({"source": {"name": "n", "url": 3}}, ["source", "url"]),
    ({"source": {"name": ["n"], "url": "https://a.example/"}}, ["source", "name"]),
]


def test_numbers_where_strings_belong_are_rejected_at_their_location(run: Run) -> None:
    key = "incoming/hostile/wrong-types.jsonl"
    body = b"".join(
        line(story("baseline-a", updated_at=NEWER, title="Retyped") | fields)
        for fields, _ in WRONG_TYPES
    ) + line(story("typed-ok"))
    before = run.items()

    _, receipt = run.ingest(key, body)

    rejected = rejections(receipt)
    assert sorted(rejected) == list(range(len(WRONG_TYPES)))
    for index, (_, loc) in enumerate(WRONG_TYPES):
        assert [error_loc for error_loc, _ in rejected[index]] == [loc], index
        assert all(msg for _, msg in rejected[index])
    assert accepted(receipt) == {len(WRONG_TYPES): ("typed-ok", "created")}
    assert outside(run.items(), {"typed-ok"}) == outside(before, {"typed-ok"})


def test_null_for_a_required_field_is_rejected_and_for_an_optional_one_means_absent(
    run: Run,
) -> None:
    key = "incoming/hostile/nulls.jsonl"
    all_optional_null = {
        "slug": None,
        "title": "Null Island report",
        "summary": "Nothing to see.",
        "published_at": "2025-10-03T08:00:00Z",
        "updated_at": None,
        "sections": None,
        "topics": None,
        "author": None,
        "source": None,
        "status": None,
    }
    lines = [
        story("baseline-a", updated_at=NEWER, title=None),  # 0
        story("baseline-a", updated_at=NEWER, summary=None),  # 1
        story("baseline-b", updated_at=NEWER, published_at=None),  # 2
        all_optional_null,  # 3: stored, slug derived
        story("nested-nulls", sections=[{"heading": "H", "body": None, "bullets": ["b"]}]),  # 4
        story("baseline-b", updated_at=NEWER, source={"name": "n", "url": None}),  # 5
        story("baseline-b", updated_at=NEWER, topics=[None]),  # 6
        story("baseline-b", updated_at=NEWER, bogus=None),  # 7: unknown, even when null
        None,  # 8
        story("baseline-a", updated_at=NEWER, topics=None, author=None),  # 9: no topics now
    ]
    body = b"".join(line(v) for v in lines)
    before = run.items()

    _, receipt = run.ingest(key, body)

    rejected = {i: [loc for loc, _ in errors] for i, errors in rejections(receipt).items()}
    assert rejected == {
        0: [["title"]],
        1: [["summary"]],
        2: [["published_at"]],
        5: [["source", "url"]],
        6: [["topics", 0]],
        7: [["bogus"]],
        8: [[]],
    }
    assert accepted(receipt) == {
        3: ("null-island-report", "created"),
        4: ("nested-nulls", "created"),
        9: ("baseline-a", "updated"),
    }
    after = run.items()
    assert outside(after, {"null-island-report", "nested-nulls", "baseline-a"}) == outside(
        before, {"null-island-report", "nested-nulls", "baseline-a"}
    )
    stored = stories_in(after)
    island = stored["null-island-report"]
    assert island["updated_at"] == island["published_at"] == "2025-10-03T08:00:00Z"
    assert island["status"] == "published"
    assert island["topics"] == island["sections"] == []
    assert "author" not in island and "source" not in island
    assert island["feed_pk"] == ALL_STORIES_FEED
    assert stored["nested-nulls"]["sections"] == [{"heading": "H", "bullets": ["b"]}]
    # null topics on the update mean "no topics": the story left its old topics' lists.
    assert stored["baseline-a"]["topics"] == []
    assert topics_of(after, "baseline-a") == set()


@pytest.mark.parametrize(
    ("body", "code", "index_errors"),
    [
        (b'{"stories": null}', "wrong_shape", None),
        (b"null", "wrong_shape", None),
        (b'{"stories": [null]}', None, [([], "a story must be a JSON object")]),
    ],
    ids=["stories-null", "document-null", "story-null"],
)
def test_null_documents_and_batches(
    run: Run, body: bytes, code: str | None, index_errors: list[tuple[list[Any], str]] | None
) -> None:
    before = run.items()

    _, receipt = run.ingest("incoming/hostile/null-doc.json", body)

    if code:
        assert receipt["status"] == "failed"
        assert receipt["error"]["code"] == code
    else:
        assert rejections(receipt) == {0: index_errors}
    assert run.items() == before


# -- empty files -------------------------------------------------------------------------


EMPTY = {
    "zero-bytes.json": b"",
    "zero-bytes.jsonl": b"",
    "zero-bytes.ndjson": b"",
    "whitespace.json": b" \r\n\t \n",
    "blank-lines.jsonl": b"\n\n   \n\t\n",
    "blank-crlf.ndjson": b"\r\n\r\n\r\n",
    "bom-only.json": BOM,
    "bom-only.jsonl": BOM,
    "bom-and-blank-lines.jsonl": BOM + b"\r\n\r\n",
    "empty-batch.json": b'{"stories": []}',
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_files_get_an_empty_receipt(run: Run, name: str) -> None:
    before = run.items()

    result, receipt = run.ingest(f"incoming/empty/{name}", EMPTY[name])

    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "empty"
    assert receipt["error"]["msg"]
    assert receipt["stories"] == receipt["rejected"] == []
    assert result["files"][0]["error"]["code"] == "empty"
    assert run.items() == before


# -- keys ------------------------------------------------------------------------------

HOSTILE_KEYS = [
    "incoming/Été 2025/naïve story +1.json",
    "incoming/100% sure/a+b=c & d?.jsonl",
    "incoming/日本語/ニュース 記事.ndjson",
    "incoming/ spaced  out /trailing space .json",
    "incoming/" + unicodedata.normalize("NFD", "Café décomposé.json"),
    "incoming/plus+and%2Bliteral.json",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_keys_with_spaces_and_non_ascii_are_decoded_and_get_their_receipt(
    run: Run, key: str
) -> None:
    body = (
        line(story("keyed-story"))
        if key.endswith(("jsonl", "ndjson"))
        else (json.dumps(story("keyed-story")).encode())
    )
    event = upload(run.s3, run.bucket, key, body)
    encoded = event["Records"][0]["s3"]["object"]["key"]
    assert " " not in encoded  # S3's form: spaces as "+", "+" as "%2B", UTF-8 %-escaped
    assert encoded.isascii()
    assert unquote_plus(encoded) == key
    before = run.items()

    result = run.app.handler(event, run.context)

    assert [f["key"] for f in result["files"]] == [key]
    receipt = run.receipt(key)
    assert receipt["source"]["key"] == key
    assert receipt["status"] == "ok"
    prefix = run.app.settings.receipts_prefix
    receipts = run.s3.list_objects_v2(Bucket=run.bucket, Prefix=prefix)["Contents"]
    expected = [run.receipt_key("incoming/seed.json"), run.receipt_key(key)]
    assert sorted(r["Key"] for r in receipts) == sorted(expected)
    after = run.items()
    assert outside(after, {"keyed-story"}) == outside(before, {"keyed-story"})
    assert stories_in(after)["keyed-story"]["source_key"] == key


# -- valid data is never dropped --------------------------------------------------------


def test_valid_stories_between_every_kind_of_invalid_one_are_all_stored(run: Run) -> None:
    """Valid stories alternate with every kind of invalid line; every valid story is stored
    with its content and topics, every invalid one is named, none is missing."""
    invalid = [
        b'{"slug": "broken", "title": ',  # truncated JSON
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'"just a string"',
        b"42",
        json.dumps(story("baseline-a", updated_at=NEWER, title=None)).encode(),
        json.dumps(story("baseline-a", updated_at=NEWER, published_at="yesterday")).encode(),
        json.dumps(story("baseline-b", updated_at="2025-09-01T08:00:00Z")).encode(),  # < published
        json.dumps(story("baseline-b", updated_at=NEWER, typo_field="x")).encode(),
        json.dumps(story("Not A Slug")).encode(),
        json.dumps(story("baseline-a", updated_at=NEWER, title="t" * 201)).encode(),
        json.dumps(
            story("baseline-a", updated_at=NEWER, topics=[f"t{i}" for i in range(11)])
        ).encode(),
        json.dumps(
            story("baseline-b", updated_at=NEWER, source={"name": "n", "url": "ftp://x"})
        ).encode(),
        json.dumps(story("baseline-b", updated_at=NEWER, sections=[{"heading": "only"}])).encode(),
        json.dumps(story(None, title="!!!")).encode(),  # no slug derivable
        b'{"slug": "baseline-a", "title": "x", "title": "y"}',
        nested_list(10_000).encode(),
        json.dumps(story("valid-00")).encode(),  # the same slug as the first valid story
    ]
    valid = {
        f"valid-{i:02d}": story(f"valid-{i:02d}", topics=[f"v{i % 3}", "shared"])
        for i in range(len(invalid))
    }
    lines: list[bytes] = []
    expected_valid: dict[int, str] = {}
    for (slug, value), bad in zip(valid.items(), invalid, strict=True):
        expected_valid[len(lines)] = slug
        lines.append(json.dumps(value).encode())
        lines.append(bad)
    key = "incoming/hostile/everything.jsonl"
    before = run.items()

    _, receipt = run.ingest(key, b"\n".join(lines) + b"\n")

    assert_accounted_for(receipt, len(lines))
    assert {i: slug for i, (slug, _) in accepted(receipt).items()} == expected_valid
    assert set(rejections(receipt)) == set(range(1, len(lines), 2))
    assert all(msg for errors in rejections(receipt).values() for _, msg in errors)
    assert [r["line"] for r in receipt["rejected"]] == list(range(2, len(lines) + 1, 2))
    after = run.items()
    assert outside(after, set(valid)) == outside(before, set(valid))
    stored = stories_in(after)
    for slug, value in valid.items():
        assert stored[slug]["title"] == value["title"]
        assert topics_of(after, slug) == set(value["topics"])
