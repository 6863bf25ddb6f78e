"""Topic counts (``GET /topics``'s data: ``topic_stats.list_topics``) against moto, with the
stories written by the real ingest function: after every kind of change, the counts equal a
brute-force count of the public stories in a ``Scan`` of the table, and reading them costs
the same calls whatever the table holds."""

import hashlib
import json
import random
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.tables import table_items
from newsroom.core.timestamps import format_utc, utc_now
from newsroom.stories.items import STORY_SK, is_public
from newsroom.stories.repository import StoryRepository
from newsroom.stories.topic_stats import MARKERS_KEPT, PRUNE_SLACK, STATS_PK, list_topics
from tests.support.aws import ReadReceipt

pytestmark = [
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
    # Each moto DynamoDB request atomic, as in DynamoDB: the ingest writes from 16 threads,
    # and moto's TransactWriteItems copies the whole table while other threads write to it.
    pytest.mark.usefixtures("atomic_moto_dynamodb"),
]

LATER = "2099-01-01T08:00:00Z"  # scheduled: after any clock these tests run on


def story(
    slug: str,
    *,
    topics: list[str],
    version: int = 1,
    published_at: str = "2025-10-01T08:00:00Z",
    status: str | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "slug": slug,
        "title": f"{slug} v{version}",
        "summary": f"Summary of {slug}.",
        "published_at": published_at,
        "updated_at": max(published_at, f"2025-10-{version + 1:02d}T09:00:00Z"),
        "topics": topics,
        "sections": [{"heading": "Key development", "body": "Something happened."}],
    }
    if status is not None:
        value["status"] = status
    return value


def jsonl(*stories: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(s).encode() + b"\n" for s in stories)


def upload(s3: Any, bucket: str, key: str, *stories: dict[str, Any]) -> dict[str, Any]:
    body = jsonl(*stories)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_event(s3_record(bucket, key, size=len(body), etag=hashlib.md5(body).hexdigest()))


def public_stories_by_topic(dynamodb: Any, table: str, now: str) -> list[dict[str, Any]]:
    """The answer of ``GET /topics`` counted the slow way: every story item of a ``Scan``."""
    counts: Counter[str] = Counter()
    latest: dict[str, str] = {}
    for (_, sk), item in table_items(dynamodb, table).items():
        if sk == STORY_SK and is_public(item, now):
            for topic in item["topics"]:
                counts[topic] += 1
                latest[topic] = max(latest.get(topic, ""), item["published_at"])
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"topic": t, "count": n, "latest_published_at": latest[t]} for t, n in ranked]


class Calls:
    """The DynamoDB calls one client makes, by operation."""

    def __init__(self, client: Any) -> None:
        self.made: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.made[model.name] += 1


@pytest.fixture
def ingest(ingest_app: ModuleType, s3: Any, bucket: str, lambda_context: LambdaContext) -> Any:
    """``ingest(key, *stories)``: upload one JSON Lines file and run the real handler on it."""

    def run(key: str, *stories: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = ingest_app.handler(
            upload(s3, bucket, key, *stories), lambda_context
        )
        return result

    return run


@pytest.fixture
def repository(dynamodb: Any, stories_table: str) -> StoryRepository:
    return StoryRepository(dynamodb, stories_table)


def topics_now(repository: StoryRepository, now: str | None = None) -> list[dict[str, Any]]:
    return [dict(t) for t in list_topics(repository, now or utc_now())]


# -- each rule ---------------------------------------------------------------------------------


def test_counts_follow_updates_that_add_and_remove_topics(
    ingest: Any, repository: StoryRepository, dynamodb: Any, stories_table: str
) -> None:
    ingest("incoming/a.jsonl", story("one", topics=["ai", "energy"]), story("two", topics=["ai"]))
    ingest(
        "incoming/b.jsonl",
        story("one", topics=["energy", "space"], version=2),
        story("two", topics=["ai", "space"], version=2),
    )

    assert topics_now(repository) == [
        {"topic": "space", "count": 2, "latest_published_at": "2025-10-01T08:00:00Z"},
        {"topic": "ai", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"},
        {"topic": "energy", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"},
    ]
    assert topics_now(repository) == public_stories_by_topic(dynamodb, stories_table, utc_now())


def test_a_new_published_at_moves_the_latest(ingest: Any, repository: StoryRepository) -> None:
    ingest("incoming/a.jsonl", story("one", topics=["ai"]), story("two", topics=["ai"]))
    ingest(
        "incoming/b.jsonl",
        story("two", topics=["ai"], version=2, published_at="2025-10-02T08:00:00Z"),
    )

    assert topics_now(repository) == [
        {"topic": "ai", "count": 2, "latest_published_at": "2025-10-02T08:00:00Z"}
    ]


def test_a_retracted_story_is_no_longer_counted(ingest: Any, repository: StoryRepository) -> None:
    ingest("incoming/a.jsonl", story("one", topics=["ai"]), story("two", topics=["ai", "rare"]))
    ingest("incoming/b.jsonl", story("two", topics=["ai", "rare"], version=2, status="retracted"))

    assert topics_now(repository) == [
        {"topic": "ai", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"}
    ]


def test_a_draft_is_not_counted(ingest: Any, repository: StoryRepository) -> None:
    ingest(
        "incoming/a.jsonl",
        story("one", topics=["ai"]),
        story("unfinished", topics=["ai", "secret"], status="draft"),
    )

    assert topics_now(repository) == [
        {"topic": "ai", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"}
    ]


def test_a_scheduled_story_is_counted_from_its_instant_on_without_a_write(
    ingest: Any, repository: StoryRepository, dynamodb: Any, stories_table: str
) -> None:
    ingest(
        "incoming/a.jsonl",
        story("now", topics=["ai"]),
        story("later", topics=["ai", "launch"], published_at=LATER),
    )
    before = table_items(dynamodb, stories_table)

    just_before = "2099-01-01T07:59:59Z"
    assert topics_now(repository, just_before) == [
        {"topic": "ai", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"}
    ]
    assert topics_now(repository, LATER) == [
        {"topic": "ai", "count": 2, "latest_published_at": LATER},
        {"topic": "launch", "count": 1, "latest_published_at": LATER},
    ]
    for now in (just_before, LATER):
        assert topics_now(repository, now) == public_stories_by_topic(dynamodb, stories_table, now)
    assert table_items(dynamodb, stories_table) == before  # reading wrote nothing


def test_replaying_a_file_changes_nothing(
    ingest: Any, dynamodb: Any, stories_table: str, read_receipt: ReadReceipt
) -> None:
    stories = [story(f"s-{i}", topics=["ai", f"t{i % 3}"]) for i in range(8)]
    ingest("incoming/a.jsonl", *stories)
    before = table_items(dynamodb, stories_table)

    ingest("incoming/a.jsonl", *stories)

    assert table_items(dynamodb, stories_table) == before
    assert read_receipt("incoming/a.jsonl")["counts"]["unchanged"] == 8


def test_concurrent_deliveries_of_versions_converge_to_exact_counts(
    ingest_app: ModuleType,
    s3: Any,
    bucket: str,
    repository: StoryRepository,
    dynamodb: Any,
    stories_table: str,
) -> None:
    """Six files, each a version of the same 12 stories (topics added, dropped, published_at
    moved, drafts, retractions, scheduled), delivered at once. Each thread plays one Lambda
    container (the ``Ingestor`` the handler delegates to: Powertools' metrics are
    process-wide)."""
    rng = random.Random(7)
    topics = ["ai", "energy", "space", "health", "media"]
    events = []
    for version in range(1, 7):
        lines = []
        for i in range(12):
            status = rng.choice([None, None, None, "draft", "retracted"])
            published = rng.choice(["2025-10-01T08:00:00Z", "2025-10-03T08:00:00Z", LATER])
            chosen = rng.sample(topics, rng.randint(0, 3))
            value = story(f"s-{i}", topics=chosen, version=version, published_at=published)
            lines.append(value if status is None else {**value, "status": status})
        rng.shuffle(lines)
        events.append(upload(s3, bucket, f"incoming/v{version}.jsonl", *lines))
    start = threading.Barrier(len(events))

    def deliver(event: dict[str, Any]) -> dict[str, Any]:
        start.wait()
        result: dict[str, Any] = ingest_app.ingestor.handle_event(event)
        return result

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: many more interleavings per run
    try:
        with ThreadPoolExecutor(max_workers=len(events)) as pool:
            returned = list(pool.map(deliver, events))
    finally:
        sys.setswitchinterval(interval)

    assert all(r["files"][0]["status"] == "ok" for r in returned)
    for now in (utc_now(), LATER):
        expected = public_stories_by_topic(dynamodb, stories_table, now)
        assert expected  # the scenario leaves something to count
        assert topics_now(repository, now) == expected


def test_a_transaction_conflict_is_retried(
    ingest_app: ModuleType, ingest: Any, repository: StoryRepository, read_receipt: ReadReceipt
) -> None:
    """DynamoDB cancels a transaction that meets another one on the same item (a topic's
    count): the ingest sends it again instead of failing the file."""
    attempts: list[int] = []

    def conflict_once(**_: Any) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            raise ClientError(
                {
                    "Error": {
                        "Code": "TransactionCanceledException",
                        "Message": "Transaction cancelled [TransactionConflict, None, None]",
                    },
                    "CancellationReasons": [
                        {"Code": "TransactionConflict"},
                        {"Code": "None"},
                        {"Code": "None"},
                    ],
                    "ResponseMetadata": {"HTTPStatusCode": 400},  # type: ignore[typeddict-item]
                },
                "TransactWriteItems",
            )

    hooks = ingest_app.dynamodb.meta.events
    hooks.register("before-call.dynamodb.TransactWriteItems", conflict_once)
    try:
        ingest("incoming/a.jsonl", story("one", topics=["ai"]))
    finally:
        hooks.unregister("before-call.dynamodb.TransactWriteItems", conflict_once)

    assert attempts == [1, 2]  # the transaction of the new story's entries, sent twice
    assert read_receipt("incoming/a.jsonl")["status"] == "ok"
    assert topics_now(repository) == [
        {"topic": "ai", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"}
    ]


@pytest.mark.parametrize("stories", [10, 200])
def test_reading_the_counts_costs_the_same_calls_whatever_the_table_holds(
    stories: int, ingest: Any, repository: StoryRepository, dynamodb: Any, stories_table: str
) -> None:
    ingest(
        "incoming/many.jsonl",
        *(
            story(
                f"s-{i:03d}",
                topics=["ai", f"t{i % 3}"],
                published_at=f"2025-{1 + i % 12:02d}-01T08:00:00Z",
            )
            for i in range(stories)
        ),
    )
    expected = public_stories_by_topic(dynamodb, stories_table, utc_now())
    calls = Calls(dynamodb)

    assert topics_now(repository) == expected
    assert calls.made == {"Query": 1}
    stats = [key for key in table_items(dynamodb, stories_table, "pk, sk") if key[0] == STATS_PK]
    assert len(stats) <= 4 * (1 + MARKERS_KEPT + PRUNE_SLACK)  # 4 topics, markers pruned


def test_a_topic_whose_newest_stories_were_retracted_costs_one_feed_query(
    ingest: Any, repository: StoryRepository, dynamodb: Any, stories_table: str
) -> None:
    """More stories than a prune leaves markers for: it keeps the markers of the
    MARKERS_KEPT newest; once all but the 10 oldest are retracted, the newest public story
    has no marker and is read from the topic's feed."""
    start = datetime(2025, 10, 1, 8, tzinfo=UTC)
    stories = [
        story(f"s-{i:02d}", topics=["ai"], published_at=format_utc(start + timedelta(hours=i)))
        for i in range(MARKERS_KEPT + PRUNE_SLACK + 10)
    ]
    ingest("incoming/all.jsonl", *stories)
    retracted = [
        {**s, "status": "retracted", "updated_at": "2025-12-01T00:00:00Z"} for s in stories[10:]
    ]
    ingest("incoming/retractions.jsonl", *retracted)
    calls = Calls(dynamodb)

    assert topics_now(repository) == [
        {"topic": "ai", "count": 10, "latest_published_at": stories[9]["published_at"]}
    ]
    assert calls.made == {"Query": 2}
    assert topics_now(repository) == public_stories_by_topic(dynamodb, stories_table, utc_now())
