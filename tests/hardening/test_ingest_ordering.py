"""Concurrency and ordering of the ingest against the embedded AWS backend (moto's server on
127.0.0.1, real HTTP): many versions of the same stories, each in its own file, delivered at
once in shuffled order by several "containers" (fresh loads of ``functions/ingest/app.py``,
each running one invocation at a time, as Lambda does), then every event replayed.

The stored story must be the newest version, the ``feed`` index must hold it once, only the
newest version's topics may list it, and a replay must change nothing at all (not even
``ingested_at``).

moto's server answers every request on its own thread, and moto evaluates a DynamoDB
``ConditionExpression`` and writes the item in separate steps: two conditional ``PutItem``
requests can both pass ``attribute_not_exists(pk)`` (seen here: 16 concurrent conditional
puts of one new key had two winners in about one trial of 30). Real DynamoDB applies each
request atomically, so the ``backend`` fixture serialises moto's DynamoDB request handler with
a lock, as ``tests/integration/test_ingest.py``'s atomic fixture does in process. Requests
still interleave freely with each other; only each single request becomes atomic.
"""

import hashlib
import json
import logging
import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest

from devtools.backend import (
    DUMMY_CREDENTIALS,
    Backend,
    make_dynamodb_requests_atomic,
    start_backend,
)
from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext, load_function_module
from devtools.tables import feed_items, table_items
from devtools.template import function_environment
from newsroom.core import aws
from newsroom.ingest.settings import IngestSettings
from newsroom.stories.items import ALL_STORIES_FEED, STORY_SK, TOPIC_SK_PREFIX, story_pk, topic_feed

pytestmark = pytest.mark.filterwarnings(
    "ignore:No application metrics to publish:UserWarning",
)

CONTAINERS = 12  # one per concurrent delivery: a Lambda container runs one invocation at a time
VERSIONS = 12
# The containers' settings as the template deploys them (the table name does not matter here).
INGEST_SETTINGS = IngestSettings.from_env(
    {**function_environment("IngestFunction"), "STORIES_TABLE": "stories-hardening"}
)


# -- the embedded backend and the function's containers ---------------------------------


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    """moto's server on 127.0.0.1 with the template's table and bucket; every DynamoDB
    request atomic (see the module docstring). The process environment is left as it was."""
    saved = dict(os.environ)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)  # one request line per call otherwise
    with pytest.MonkeyPatch.context() as patch:
        make_dynamodb_requests_atomic(patch.setattr)
        try:
            running = start_backend(table="stories-hardening", bucket="content-hardening")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            yield running
        finally:
            running.stop()
            werkzeug.setLevel(level)


def load_container(backend: Backend) -> ModuleType:
    """A fresh load of the real ingest function (a new container) whose clients talk to the
    embedded backend over HTTP: the template's environment plus the table and
    ``AWS_ENDPOINT_URL``, set only while the module scope runs.

    (``tests.support.aws.load_function`` deletes ``AWS_ENDPOINT_URL`` on purpose, so it cannot
    be used here.)"""
    env = {
        **function_environment("IngestFunction"),
        **DUMMY_CREDENTIALS,
        "STORIES_TABLE": backend.table,
        "AWS_ENDPOINT_URL": backend.endpoint_url,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    saved = dict(os.environ)
    os.environ.update(env)
    aws.client.cache_clear()  # its own clients, as in a new container
    try:
        module = load_function_module("ingest")
    finally:
        aws.client.cache_clear()
        os.environ.clear()
        os.environ.update(saved)
    endpoint = module.dynamodb.meta.endpoint_url
    assert endpoint == backend.endpoint_url, endpoint
    assert module.ingestor._s3.meta.endpoint_url == backend.endpoint_url
    return module


@pytest.fixture(scope="module")
def containers(backend: Backend) -> list[ModuleType]:
    return [load_container(backend) for _ in range(CONTAINERS)]


@pytest.fixture(autouse=True)
def _metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Powertools' metric set is process-wide; concurrent flushes in one process (never the
    # case in Lambda) could race. The local stack runs the handler with metrics off too.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture(scope="module")
def dynamodb(backend: Backend) -> Any:
    return backend.client("dynamodb")


@pytest.fixture(scope="module")
def s3(backend: Backend) -> Any:
    return backend.client("s3")


# -- helpers ----------------------------------------------------------------------------


def story(slug: str, version: int, topics: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"{slug} version {version}",
        "summary": f"What {slug} said in version {version}.",
        "published_at": "2025-10-01T08:00:00Z",
        "updated_at": f"2025-10-{version + 1:02d}T08:00:00Z",
        "topics": topics,
        "sections": [{"heading": "Key development", "body": f"Revision {version}."}],
        **fields,
    }


def upload(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    """Put ``body`` at ``key``; the S3 notification for it (key URL-encoded as S3 does)."""
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_event(s3_record(bucket, key, size=len(body), etag=hashlib.md5(body).hexdigest()))


def snapshot(dynamodb: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table (consistent scan), by key."""
    return table_items(dynamodb, table)


def feed(dynamodb: Any, table: str, feed_pk: str) -> list[dict[str, Any]]:
    """One partition of the ``feed`` index, newest first (every page)."""
    return feed_items(dynamodb, table, feed_pk)


def read_receipt(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    name = INGEST_SETTINGS.receipt_key(key)
    receipt: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=name)["Body"].read())
    return receipt


def deliver_concurrently(
    containers: list[ModuleType], events: list[dict[str, Any]], order: list[int]
) -> list[dict[str, Any]]:
    """Deliver ``events`` in ``order``, all at once: delivery ``i`` runs the real handler of
    container ``i`` in its own thread (one invocation per container at a time)."""
    assert len(order) <= len(containers)
    start = threading.Barrier(len(order))

    def deliver(slot: int) -> dict[str, Any]:
        start.wait()
        context = LambdaContext("IngestFunction")
        result: dict[str, Any] = containers[slot].handler(events[order[slot]], context)
        return result

    with ThreadPoolExecutor(max_workers=len(order)) as pool:
        return list(pool.map(deliver, range(len(order))))


class Table:
    """What the table holds right now: every item (consistent scan) and the partitions of
    the ``feed`` index read so far (each ``Query``ed once, every page)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb, self._table = dynamodb, table
        self.items = snapshot(dynamodb, table)
        self._feeds: dict[str, list[dict[str, Any]]] = {}

    def feed(self, feed_pk: str) -> list[dict[str, Any]]:
        if feed_pk not in self._feeds:
            self._feeds[feed_pk] = feed(self._dynamodb, self._table, feed_pk)
        return self._feeds[feed_pk]

    def assert_converged(
        self, slug: str, newest: dict[str, Any], every_topic: set[str], *, listed: bool
    ) -> None:
        """The stored story is ``newest``; it is in the feed once (when ``listed``), and
        exactly the newest version's topics list it, with the newest version's summary."""
        stored = self.items[story_pk(slug), STORY_SK]
        assert stored["title"] == newest["title"]
        assert stored["updated_at"] == newest["updated_at"]
        assert stored["topics"] == newest["topics"]
        assert stored["status"] == newest.get("status", "published")
        in_feed = [i for i in self.feed(ALL_STORIES_FEED) if i["slug"] == slug]
        assert [i["title"] for i in in_feed] == ([newest["title"]] if listed else [])
        wanted = set(newest["topics"]) if listed else set()
        entries = {
            sk.removeprefix(TOPIC_SK_PREFIX): item
            for (pk, sk), item in self.items.items()
            if pk == story_pk(slug) and sk != STORY_SK
        }
        assert set(entries) == wanted
        assert {e["content_hash"] for e in entries.values()} <= {stored["content_hash"]}
        for topic in every_topic:
            listing = [i["title"] for i in self.feed(topic_feed(topic)) if i["slug"] == slug]
            assert listing == ([newest["title"]] if topic in wanted else []), topic


# -- one story, many versions -----------------------------------------------------------


def versions_of(slug: str, newest_status: str) -> list[dict[str, Any]]:
    """Twelve versions of one story with different topics: every version has ``shared`` and
    its own topic; the first eight also have ``early`` (which the newest ones drop); pairs of
    versions share a topic. The newest has ``newest_status``."""
    versions = []
    for v in range(VERSIONS):
        topics = ["shared", f"only-v{v}", f"pair-{v // 2}"] + (["early"] if v < 8 else [])
        versions.append(story(slug, v, topics))
    if newest_status != "published":
        versions[-1]["status"] = newest_status
    return versions


@pytest.mark.parametrize(
    ("seed", "newest_status"),
    [(0, "published"), (1, "published"), (2, "published"), (3, "retracted"), (4, "published")],
)
def test_concurrent_versions_converge_and_replays_change_nothing(
    seed: int,
    newest_status: str,
    backend: Backend,
    containers: list[ModuleType],
    dynamodb: Any,
    s3: Any,
) -> None:
    slug = f"contested-{seed}"
    versions = versions_of(slug, newest_status)
    every_topic = {t for v in versions for t in v["topics"]}
    keys = [f"incoming/race-{seed}/v{v:02d}.json" for v in range(VERSIONS)]
    events = [
        upload(s3, backend.bucket, key, json.dumps(version).encode())
        for key, version in zip(keys, versions, strict=True)
    ]
    rng = random.Random(seed)
    order = list(range(VERSIONS))
    rng.shuffle(order)

    returned = deliver_concurrently(containers, events, order)

    assert [r["files"][0]["status"] for r in returned] == ["ok"] * VERSIONS
    newest = versions[-1]
    listed = newest_status == "published"
    Table(dynamodb, backend.table).assert_converged(slug, newest, every_topic, listed=listed)
    outcomes = {v: read_receipt(s3, backend.bucket, keys[v])["stories"] for v in range(VERSIONS)}
    assert all(len(stories) == 1 for stories in outcomes.values())
    results = {v: stories[0]["result"] for v, stories in outcomes.items()}
    assert list(results.values()).count("created") == 1
    assert set(results.values()) <= {"created", "updated", "stale"}
    assert results[VERSIONS - 1] in {"created", "updated"}
    before = snapshot(dynamodb, backend.table)

    # S3 delivers at least once: every event again, one after the other ...
    for event in events:
        containers[0].handler(event, LambdaContext("IngestFunction"))
    assert snapshot(dynamodb, backend.table) == before
    # ... and all at once, in another order.
    rng.shuffle(order)
    deliver_concurrently(containers, events, order)
    assert snapshot(dynamodb, backend.table) == before

    replayed = {v: read_receipt(s3, backend.bucket, keys[v]) for v in range(VERSIONS)}
    assert {v: r["stories"][0]["result"] for v, r in replayed.items()} == {
        v: "unchanged" if v == VERSIONS - 1 else "stale" for v in range(VERSIONS)
    }
    Table(dynamodb, backend.table).assert_converged(slug, newest, every_topic, listed=listed)


# -- many stories, many versions: the grouped topic sync of new stories -------------------


@pytest.mark.parametrize("seed", [10])
def test_concurrent_batches_of_versions_converge_and_replays_change_nothing(
    seed: int, backend: Backend, containers: list[ModuleType], dynamodb: Any, s3: Any
) -> None:
    """Six JSON Lines files, each holding a version of the same 20 stories (in its own
    order). New stories get their topic entries in groups (``sync_created_stories``), so this
    races grouped writes of one version against per-story reconciliation of another."""
    files, per_file = 6, 20
    rng = random.Random(seed)
    slugs = [f"batch-{seed}-{i:02d}" for i in range(per_file)]
    newest_topics: dict[str, list[str]] = {}
    every_topic: dict[str, set[str]] = {slug: set() for slug in slugs}
    events, keys = [], []
    for f in range(files):
        lines = []
        for i, slug in enumerate(slugs):
            # Topics move between versions; some versions have none, the newest may have none.
            topics = [f"s{seed}-t{(i + f) % 7}", f"s{seed}-t{(i * f) % 5 + 7}"][: (i + f) % 3]
            every_topic[slug].update(topics)
            lines.append(story(slug, f, topics))
            newest_topics[slug] = topics
        rng.shuffle(lines)
        key = f"incoming/batches-{seed}/file-{f}.jsonl"
        keys.append(key)
        body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        events.append(upload(s3, backend.bucket, key, body))
    order = list(range(files))
    rng.shuffle(order)

    returned = deliver_concurrently(containers, events, order)

    assert [r["files"][0]["counts"]["rejected"] for r in returned] == [0] * files
    table = Table(dynamodb, backend.table)
    for slug in slugs:
        newest = story(slug, files - 1, newest_topics[slug])
        table.assert_converged(slug, newest, every_topic[slug], listed=True)
    for key in keys:
        receipt = read_receipt(s3, backend.bucket, key)
        assert receipt["status"] == "ok"
        assert [s["index"] for s in receipt["stories"]] == list(range(per_file))
    in_feed = [i["slug"] for i in table.feed(ALL_STORIES_FEED)]
    assert sorted(s for s in in_feed if s.startswith(f"batch-{seed}-")) == slugs
    before = snapshot(dynamodb, backend.table)

    for event in events:
        containers[0].handler(event, LambdaContext("IngestFunction"))
    assert snapshot(dynamodb, backend.table) == before
    rng.shuffle(order)
    deliver_concurrently(containers, events, order)
    assert snapshot(dynamodb, backend.table) == before

    newest_file = read_receipt(s3, backend.bucket, keys[-1])
    assert newest_file["counts"]["unchanged"] == per_file
    assert read_receipt(s3, backend.bucket, keys[0])["counts"]["stale"] == per_file
