"""Faults injected at the botocore layer of the real ingest function's own clients
(``ingest_app.dynamodb`` and ``ingest_app.ingestor._s3``), never by mocking project code.

Most faults are HTTP answers: a ``before-send`` hook (registered first, so ahead of moto)
answers an attempt with the status and error body AWS sends, and botocore itself parses it,
applies its standard retries (the client's ``total_max_attempts``: 4) and raises the real
``ClientError``. Which logical call to fail is decided in ``before-call`` (once per call, not
per attempt). A request a fault answered never reaches moto. A broken response body is a
botocore ``StreamingBody`` over a raw stream that fails the way urllib3 does. botocore's
backoff between attempts is scaled down (1/50) to keep the suite fast; which errors it
retries, and how often, stays its own decision.

The invariant throughout: no story is lost. Bad luck either ends in a receipt or raises so
Lambda retries the event, and the retry completes the file.
"""

import hashlib
import io
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.retries.standard import ExponentialBackoff
from moto.core.botocore_stubber import BotocoreStubber
from urllib3.exceptions import ProtocolError

from devtools.events import s3_event, s3_record
from devtools.functions import LambdaContext
from devtools.tables import table_items
from newsroom.core.errors import TransientAWSError
from newsroom.stories.items import (
    ALL_STORIES_FEED,
    FEED_INDEX,
    STORY_SK,
    TOPIC_SK_PREFIX,
    story_pk,
    topic_feed,
)
from newsroom.stories.topic_stats import MARKERS_KEPT, PRUNE_SLACK, STATS_PK
from tests.support.aws import ReadReceipt

pytestmark = [
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
    # Each moto DynamoDB request atomic, as in DynamoDB: moto's in-process table is not
    # thread-safe, and the ingest writes from 16 threads.
    pytest.mark.usefixtures("atomic_moto_dynamodb"),
]


# -- stories, uploads, table ----------------------------------------------------------


def story(slug: str, *, version: int = 1, topics: list[str] | None = None) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"{slug} v{version}",
        "summary": f"Summary of {slug}, version {version}.",
        "published_at": "2025-10-01T08:00:00Z",
        "updated_at": f"2025-10-{version + 1:02d}T08:00:00Z",
        "topics": ["ai"] if topics is None else topics,
        "sections": [{"heading": "Key development", "body": "Something happened."}],
    }


def jsonl(*stories: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(s).encode() + b"\n" for s in stories)


def record(bucket: str, key: str, body: bytes) -> dict[str, Any]:
    return s3_record(bucket, key, size=len(body), etag=hashlib.md5(body).hexdigest())


def upload(s3: Any, bucket: str, files: dict[str, bytes]) -> dict[str, Any]:
    """Put every file and return one S3 notification naming them all."""
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_event(*(record(bucket, key, body) for key, body in files.items()))


# What assert_stored_with_topics reads (a big scan is slow in moto).
VERSION_ATTRIBUTES = "pk, sk, title, updated_at, content_hash"


def feed_index(dynamodb: Any, table: str) -> dict[str, list[str]]:
    """The whole ``feed`` index in one read: the slugs of every partition (``feed`` and
    ``topic#...``)."""
    partitions: dict[str, list[str]] = {}
    params: dict[str, Any] = {"TableName": table, "IndexName": FEED_INDEX}
    while True:
        response = dynamodb.scan(**params)
        for item in response["Items"]:
            partitions.setdefault(item["feed_pk"]["S"], []).append(item["slug"]["S"])
        if "LastEvaluatedKey" not in response:
            return partitions
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def feed_slugs(dynamodb: Any, table: str, feed_pk: str) -> list[str]:
    slugs: list[str] = []
    params: dict[str, Any] = {
        "TableName": table,
        "IndexName": FEED_INDEX,
        "KeyConditionExpression": "feed_pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": feed_pk}},
    }
    while True:
        response = dynamodb.query(**params)
        slugs += [item["slug"]["S"] for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return slugs
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def receipt_exists(s3: Any, bucket: str, ingest_app: Any, key: str) -> bool:
    receipt = ingest_app.settings.receipt_key(key)
    count: int = s3.list_objects_v2(Bucket=bucket, Prefix=receipt).get("KeyCount", 0)
    return count > 0


def assert_stored_with_topics(
    dynamodb: Any, table: str, expected: dict[str, dict[str, Any]]
) -> None:
    """The table holds exactly the ``expected`` stories ({slug: story as uploaded}), each
    with exactly its own topic entries, carrying its content hash."""
    items = table_items(dynamodb, table, VERSION_ATTRIBUTES)
    stories = {pk: i for (pk, sk), i in items.items() if sk == STORY_SK}  # by pk
    assert sorted(stories) == sorted(story_pk(slug) for slug in expected)
    for slug, wanted in expected.items():
        stored = stories[story_pk(slug)]
        assert (stored["title"], stored["updated_at"]) == (
            wanted["title"],
            wanted["updated_at"],
        ), slug
    entries: dict[str, dict[str, str]] = {pk: {} for pk in stories}
    for (pk, sk), item in items.items():
        if sk != STORY_SK and pk != STATS_PK:  # the topic counts are tests/integration's
            entries[pk][sk.removeprefix(TOPIC_SK_PREFIX)] = item["content_hash"]
    for slug, wanted in expected.items():
        content_hash = stories[story_pk(slug)]["content_hash"]
        assert entries[story_pk(slug)] == dict.fromkeys(wanted["topics"], content_hash), slug


def assert_complete(receipt: dict[str, Any], size: int) -> None:
    """Every story of the file is accounted for exactly once and the counts add up."""
    indexes = sorted(
        [s["index"] for s in receipt["stories"]] + [r["index"] for r in receipt["rejected"]]
    )
    assert indexes == list(range(size))
    assert sum(receipt["counts"].values()) == size
    assert receipt["counts"] == {
        "created": sum(s["result"] == "created" for s in receipt["stories"]),
        "updated": sum(s["result"] == "updated" for s in receipt["stories"]),
        "unchanged": sum(s["result"] == "unchanged" for s in receipt["stories"]),
        "stale": sum(s["result"] == "stale" for s in receipt["stories"]),
        "rejected": len(receipt["rejected"]),
    }


# -- fault injection ------------------------------------------------------------------


class _Raw(io.BytesIO):
    """The raw body of an ``AWSResponse`` (botocore reads it through ``stream()``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        while chunk := self.read(65536):
            yield chunk


def s3_error(request: AWSPreparedRequest, status: int, code: str, message: str) -> AWSResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>faulty</HostId></Error>"
    ).encode()
    headers = {"Content-Type": "application/xml", "x-amz-request-id": "4442587FB7D0A2F9"}
    # botocore-stubs want HTTPHeaders; AWSResponse takes any mapping (wraps it in HeadersDict)
    return AWSResponse(request.url, status, headers, _Raw(body))  # type: ignore[arg-type]


def dynamodb_answer(request: AWSPreparedRequest, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "FAULTY0001"}
    # botocore-stubs want HTTPHeaders; AWSResponse takes any mapping (wraps it in HeadersDict)
    raw = _Raw(json.dumps(body).encode())
    return AWSResponse(request.url, status, headers, raw)  # type: ignore[arg-type]


def dynamodb_error(
    request: AWSPreparedRequest, status: int, code: str, message: str
) -> AWSResponse:
    return dynamodb_answer(
        request, status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    )


THROTTLED = "The level of configured provisioned throughput for the table was exceeded."

Answer = Callable[[AWSPreparedRequest, int], AWSResponse | None]


class Faults:
    """Hooks on one botocore client: ``fail(operation, calls, answer)`` answers every HTTP
    attempt of the numbered logical calls (1-based, in the order they start) with
    ``answer(request, attempt)``, or lets moto answer when that returns ``None``."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events
        self._service = client.meta.service_model.service_id.hyphenize()
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # logical calls per operation
        self.attempts: Counter[tuple[str, int]] = Counter()  # HTTP attempts per failed call
        self.in_flight = 0  # calls of any operation started and not yet answered
        self._register(f"before-call.{self._service}", self._started)
        self._register(f"after-call.{self._service}", self._ended)
        self._register(f"after-call-error.{self._service}", self._ended)

    def _started(self, **_: Any) -> None:
        with self._lock:
            self.in_flight += 1

    def _ended(self, **_: Any) -> None:
        with self._lock:
            self.in_flight -= 1

    def fail(self, operation: str, calls: Callable[[int], bool], answer: Answer) -> None:
        local = threading.local()

        def before_call(**_: Any) -> None:
            with self._lock:
                self.calls[operation] += 1
                number = self.calls[operation]
            local.number = number if calls(number) else None

        def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
            number = getattr(local, "number", None)
            if number is None:
                return None
            with self._lock:
                self.attempts[operation, number] += 1
                attempt = self.attempts[operation, number]
            response = answer(request, attempt)
            if response is not None:
                request.answered_by_fault = True  # type: ignore[attr-defined]
            return response

        self._register(f"before-call.{self._service}.{operation}", before_call)
        self._register(f"before-send.{self._service}.{operation}", before_send, first=True)

    def after_call(self, operation: str, hook: Callable[..., None]) -> None:
        self._register(f"after-call.{self._service}.{operation}", hook)

    def _register(self, event: str, hook: Callable[..., Any], *, first: bool = False) -> None:
        (self._events.register_first if first else self._events.register)(event, hook)
        self._hooks.append((event, hook))

    def clear(self) -> None:
        for event, hook in self._hooks:
            self._events.unregister(event, hook)
        self._hooks.clear()


@pytest.fixture(autouse=True)
def _answered_requests_never_reach_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore calls *every* ``before-send`` handler and sends the first response, so moto's
    stubber would still carry out a request a fault answered (a "throttled" PutItem would be
    written). A request answered by a fault reaches no backend, as with real AWS."""
    call = BotocoreStubber.__call__

    def stubber(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "answered_by_fault", False):
            return None
        return call(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", stubber)


@pytest.fixture(autouse=True)
def _short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    delay_amount = ExponentialBackoff.delay_amount
    monkeypatch.setattr(
        ExponentialBackoff, "delay_amount", lambda self, context: delay_amount(self, context) / 50
    )


def total_attempts(client: Any) -> int:
    """How many HTTP attempts botocore makes for one call (first attempt + retries)."""
    attempts: int = client.meta.config.retries["total_max_attempts"]
    return attempts


@pytest.fixture
def dynamodb_faults(ingest_app: Any) -> Iterator[Faults]:
    faults = Faults(ingest_app.dynamodb)
    yield faults
    faults.clear()


@pytest.fixture
def s3_faults(ingest_app: Any) -> Iterator[Faults]:
    faults = Faults(ingest_app.ingestor._s3)
    yield faults
    faults.clear()


def every(_: int) -> bool:
    return True


def always(answer: Callable[[AWSPreparedRequest], AWSResponse]) -> Answer:
    return lambda request, attempt: answer(request)


def first_attempts(n: int, answer: Callable[[AWSPreparedRequest], AWSResponse]) -> Answer:
    return lambda request, attempt: answer(request) if attempt <= n else None


# -- (a) DynamoDB throttling in the middle of a big file ------------------------------


def test_throttling_in_the_middle_of_a_big_file_is_retried_until_every_story_is_stored(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    dynamodb_faults: Faults,
) -> None:
    """300 stories in one JSON Lines file; some are already stored in an older version (the
    file updates them, and they lose their old topics), some in a newer one (the file's
    version is stale). The 100th to 110th ``PutItem`` and the first ``TransactWriteItems``
    (topic entries) that starts after them are throttled on every attempt botocore makes."""
    n = 300
    slugs = [f"bulk-{i:03d}" for i in range(n)]
    in_file = {
        slug: story(slug, version=5, topics=[f"t{i % 7}", f"u{i % 5}"][: i % 3])
        for i, slug in enumerate(slugs)
    }
    older = {s: story(s, version=2, topics=["old", f"t{i % 7}"]) for i, s in enumerate(slugs)}
    newer = {s: story(s, version=9, topics=["kept"]) for s in slugs}
    seeded = {
        **{slugs[i]: older[slugs[i]] for i in range(0, n, 10)},
        **{slugs[i]: newer[slugs[i]] for i in range(5, n, 10)},
    }
    ingest_app.handler(
        upload(s3, bucket, {"incoming/seed.jsonl": jsonl(*seeded.values())}), lambda_context
    )
    key = "incoming/big.jsonl"
    body = jsonl(*in_file.values())
    event = upload(s3, bucket, {key: body})
    dynamodb_faults.fail(
        "PutItem",
        lambda number: 100 <= number <= 110,
        always(
            lambda r: dynamodb_error(r, 400, "ProvisionedThroughputExceededException", THROTTLED)
        ),
    )
    throttled_batches: list[int] = []

    def first_batch_after_the_throttled_puts(number: int) -> bool:
        # Topic entries are written by the stories' own tasks and in groups, concurrently:
        # throttle the first TransactWriteItems that starts once PutItem 100 has started.
        if throttled_batches or dynamodb_faults.calls["PutItem"] < 100:
            return False
        throttled_batches.append(number)
        return True

    dynamodb_faults.fail(
        "TransactWriteItems",
        first_batch_after_the_throttled_puts,
        always(lambda r: dynamodb_error(r, 400, "ThrottlingException", "Rate exceeded")),
    )

    with pytest.raises(ClientError) as raised:
        ingest_app.handler(event, lambda_context)

    assert raised.value.response["Error"]["Code"] in {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
    }
    # Nothing is left running when the invocation ends: Lambda freezes the container, and a
    # thread still writing would run on during the next invocation.
    assert dynamodb_faults.in_flight == 0
    # botocore retried each throttled call itself before giving up.
    failed = dict(dynamodb_faults.attempts)
    assert set(failed.values()) == {total_attempts(ingest_app.dynamodb)}
    assert ("PutItem", 100) in failed, (dynamodb_faults.calls, failed)
    assert [("TransactWriteItems", n) in failed for n in throttled_batches] == [True], (
        dynamodb_faults.calls,
        failed,
        throttled_batches,
    )
    assert {number for op, number in failed if op == "PutItem"} <= set(range(100, 111))
    stored_after_failure = [
        i
        for (pk, sk), i in table_items(dynamodb, stories_table, "pk, sk, updated_at").items()
        if sk == STORY_SK
    ]
    written = sum(i["updated_at"] == "2025-10-06T08:00:00Z" for i in stored_after_failure)
    assert 0 < written < n - n // 10  # the fault hit in the middle of the file
    dynamodb_faults.clear()

    result = ingest_app.handler(event, lambda_context)  # Lambda's retry of the same event

    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["error"] is None
    assert_complete(receipt, n)
    assert receipt["rejected"] == []
    results = {s["slug"]: s["result"] for s in receipt["stories"]}
    assert [s["slug"] for s in receipt["stories"]] == slugs
    for i, slug in enumerate(slugs):
        if i % 10 == 5:
            assert results[slug] == "stale"
        elif i % 10 == 0:
            assert results[slug] in {"updated", "unchanged"}
        else:
            assert results[slug] in {"created", "unchanged"}
    assert receipt["counts"]["stale"] == n // 10
    assert result["files"] == [
        {"key": key, "status": "ok", "counts": receipt["counts"], "error": None}
    ]
    newest = {s: newer[s] if s in seeded and seeded[s] is newer[s] else in_file[s] for s in slugs}
    assert_stored_with_topics(dynamodb, stories_table, newest)
    index = feed_index(dynamodb, stories_table)
    assert sorted(index.pop(ALL_STORIES_FEED)) == slugs  # each story once
    topics = {t for s in newest.values() for t in s["topics"]}
    assert {p.removeprefix(TOPIC_SK_PREFIX): sorted(listed) for p, listed in index.items()} == {
        t: sorted(s for s, v in newest.items() if t in v["topics"]) for t in topics
    }  # no "old" topic: the updated stories left it


# -- unprocessed items ------------------------------------------------------------------


def request_body(request: AWSPreparedRequest) -> bytes:
    """The body of a DynamoDB request (botocore's JSON protocol always sends bytes)."""
    body = request.body
    assert isinstance(body, bytes), type(body)
    return body


def unprocessed_writes(request: AWSPreparedRequest) -> AWSResponse:
    """DynamoDB's answer when it processed none of a ``BatchWriteItem``'s requests."""
    return dynamodb_answer(
        request, 200, {"UnprocessedItems": json.loads(request_body(request))["RequestItems"]}
    )


def unprocessed_reads(request: AWSPreparedRequest) -> AWSResponse:
    """DynamoDB's answer when it read none of a ``BatchGetItem``'s keys."""
    wanted = json.loads(request_body(request))["RequestItems"]
    return dynamodb_answer(
        request, 200, {"Responses": {t: [] for t in wanted}, "UnprocessedKeys": wanted}
    )


@pytest.mark.parametrize(
    ("operation", "answer"),
    [("BatchWriteItem", unprocessed_writes), ("BatchGetItem", unprocessed_reads)],
)
def test_unprocessed_batch_items_are_retried_within_the_invocation(
    operation: str,
    answer: Callable[[AWSPreparedRequest], AWSResponse],
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    dynamodb_faults: Faults,
) -> None:
    """Each batch comes back with nothing processed, twice, before it goes through."""
    # Enough for a prune of the markers of "ai" (its deletes are the BatchWriteItem).
    many = MARKERS_KEPT + PRUNE_SLACK + 10
    stories = {f"batch-{i}": story(f"batch-{i}", topics=["ai", f"t{i}"]) for i in range(many)}
    key = "incoming/unprocessed.jsonl"
    seen: Counter[bytes] = Counter()

    def twice_unprocessed(request: AWSPreparedRequest, attempt: int) -> AWSResponse | None:
        # The repository sends the unprocessed requests again as they were: same body.
        body = request_body(request)
        seen[body] += 1
        return answer(request) if seen[body] <= 2 else None

    dynamodb_faults.fail(operation, every, twice_unprocessed)

    ingest_app.handler(upload(s3, bucket, {key: jsonl(*stories.values())}), lambda_context)

    assert seen and set(seen.values()) == {3}
    assert dynamodb_faults.calls[operation] == 3 * len(seen)
    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["counts"]["created"] == many
    assert_stored_with_topics(dynamodb, stories_table, stories)
    assert sorted(feed_slugs(dynamodb, stories_table, topic_feed("ai"))) == sorted(stories)


def transaction_conflict(request: AWSPreparedRequest) -> AWSResponse:
    """DynamoDB's answer when a ``TransactWriteItems`` conflicted with another transaction on
    one of its items (a reason per action, in order)."""
    actions = len(json.loads(request_body(request))["TransactItems"])
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"}] * (actions - 1)
    return dynamodb_answer(
        request,
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific "
            "reasons [TransactionConflict]",
            "CancellationReasons": reasons,
        },
    )


def test_topic_transactions_conflicting_on_every_retry_raise_and_the_retry_heals(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    dynamodb_faults: Faults,
) -> None:
    stories = {f"stuck-{i}": story(f"stuck-{i}", topics=["ai"]) for i in range(5)}
    key = "incoming/stuck.jsonl"
    event = upload(s3, bucket, {key: jsonl(*stories.values())})
    dynamodb_faults.fail("TransactWriteItems", every, always(transaction_conflict))

    with pytest.raises(TransientAWSError):
        ingest_app.handler(event, lambda_context)

    assert feed_slugs(dynamodb, stories_table, topic_feed("ai")) == []
    assert sorted(feed_slugs(dynamodb, stories_table, ALL_STORIES_FEED)) == sorted(stories)
    dynamodb_faults.clear()

    ingest_app.handler(event, lambda_context)

    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["counts"]["unchanged"] == 5
    assert_stored_with_topics(dynamodb, stories_table, stories)


# -- (b) S3 GetObject -------------------------------------------------------------------

S3_TRANSIENT = [
    (500, "InternalError", "We encountered an internal error. Please try again."),
    (503, "SlowDown", "Please reduce your request rate."),
    (503, "ServiceUnavailable", "Service is unable to handle request."),
]


@pytest.mark.parametrize(("status", "code", "message"), S3_TRANSIENT)
def test_get_object_failing_once_is_retried_by_botocore(
    status: int,
    code: str,
    message: str,
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    key = "incoming/flaky.json"
    s3_faults.fail(
        "GetObject", every, first_attempts(1, lambda r: s3_error(r, status, code, message))
    )

    result = ingest_app.handler(
        upload(s3, bucket, {key: json.dumps(story("flaky")).encode()}), lambda_context
    )

    # The first attempt met the fault, botocore's second attempt reached S3.
    assert s3_faults.attempts == {("GetObject", 1): 2}
    assert result["files"][0]["status"] == "ok"
    assert read_receipt(key)["counts"]["created"] == 1
    assert_stored_with_topics(dynamodb, stories_table, {"flaky": story("flaky")})


@pytest.mark.parametrize(("status", "code", "message"), S3_TRANSIENT)
def test_get_object_failing_every_attempt_raises_for_lambda_to_retry(
    status: int,
    code: str,
    message: str,
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    """The failing file raises, after the event's other file was processed; the retry of
    the event completes the failing one."""
    failing, other = "incoming/unreachable.jsonl", "incoming/reachable.json"
    files = {
        failing: jsonl(story("far-one"), story("far-two")),
        other: json.dumps(story("near")).encode(),
    }
    event = upload(s3, bucket, files)
    s3_faults.fail(
        "GetObject",
        lambda number: number == 1,
        always(lambda r: s3_error(r, status, code, message)),
    )

    with pytest.raises(ClientError) as raised:
        ingest_app.handler(event, lambda_context)

    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert s3_faults.attempts == {("GetObject", 1): total_attempts(ingest_app.ingestor._s3)}
    assert read_receipt(other)["counts"]["created"] == 1
    assert not receipt_exists(s3, bucket, ingest_app, failing)
    assert_stored_with_topics(dynamodb, stories_table, {"near": story("near")})
    s3_faults.clear()

    result = ingest_app.handler(event, lambda_context)

    assert [(f["key"], f["status"]) for f in result["files"]] == [(failing, "ok"), (other, "ok")]
    assert read_receipt(failing)["counts"]["created"] == 2
    assert read_receipt(other)["counts"]["unchanged"] == 1
    assert_stored_with_topics(
        dynamodb,
        stories_table,
        {s: story(s) for s in ("far-one", "far-two", "near")},
    )


def test_get_object_not_found_gets_a_receipt_and_no_retry(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    """The object was deleted between the notification and the read (S3 answers 404)."""
    key = "incoming/vanished.json"
    event = upload(s3, bucket, {key: json.dumps(story("vanished")).encode()})
    s3_faults.fail(
        "GetObject",
        every,
        always(lambda r: s3_error(r, 404, "NoSuchKey", "The specified key does not exist.")),
    )

    result = ingest_app.handler(event, lambda_context)

    assert s3_faults.attempts == {("GetObject", 1): 1}  # a 404 is not retried
    receipt = read_receipt(key)
    assert receipt["status"] == "failed"
    assert receipt["error"]["code"] == "not_found"
    assert receipt["stories"] == receipt["rejected"] == []
    assert result["files"][0]["error"]["code"] == "not_found"
    assert table_items(dynamodb, stories_table) == {}


class _BreakingRaw(io.BytesIO):
    """A response body whose connection breaks after ``limit`` bytes, the way urllib3 reports
    it (``ProtocolError``, which botocore turns into ``ResponseStreamingError``)."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data[:limit])

    def read(self, amt: int | None = None) -> bytes:
        chunk = super().read(amt)
        if not chunk and amt != 0:
            raise ProtocolError(
                "Connection broken: ConnectionResetError(104, 'Connection reset by peer')"
            )
        return chunk


class _TruncatedRaw(io.BytesIO):
    """A response body that ends early: the connection closed cleanly before
    ``Content-Length`` bytes arrived (botocore raises ``IncompleteReadError``)."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data[:limit])


@pytest.mark.parametrize("broken", [_BreakingRaw, _TruncatedRaw], ids=["reset", "truncated"])
def test_get_object_body_breaking_mid_file_raises_and_the_retry_completes(
    broken: Callable[[bytes, int], io.BytesIO],
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    """The body of a long JSON Lines file breaks after about a third of it (mid-line). The
    stories read so far are stored with their topic entries; nothing is taken from the
    partial line; the event's other file is still processed; the handler raises (a
    transient network failure) and Lambda's retry completes the file."""
    long_key, other = "incoming/long.jsonl", "incoming/short.json"
    stories = {
        f"long-{i:02d}": story(f"long-{i:02d}", topics=["ai", f"t{i % 4}"]) for i in range(45)
    }
    long_body = jsonl(*stories.values())
    event = upload(s3, bucket, {long_key: long_body, other: json.dumps(story("short")).encode()})
    limit = len(long_body) // 3 + 17

    def break_the_body(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("ContentLength") == len(long_body):
            data = parsed["Body"].read()
            parsed["Body"] = StreamingBody(broken(data, limit), len(data))

    s3_faults.after_call("GetObject", break_the_body)

    with pytest.raises(Exception) as raised:
        ingest_app.handler(event, lambda_context)

    assert type(raised.value).__name__ in {"ResponseStreamingError", "IncompleteReadError"}
    assert read_receipt(other)["counts"]["created"] == 1  # the other file was not held up
    assert not receipt_exists(s3, bucket, ingest_app, long_key)
    complete_lines = long_body[:limit].count(b"\n")
    read_so_far = dict(list(stories.items())[:complete_lines])
    assert_stored_with_topics(dynamodb, stories_table, {**read_so_far, "short": story("short")})
    s3_faults.clear()

    ingest_app.handler(event, lambda_context)

    receipt = read_receipt(long_key)
    assert receipt["status"] == "ok"
    assert_complete(receipt, len(stories))
    assert receipt["counts"]["unchanged"] == complete_lines
    assert receipt["counts"]["created"] == len(stories) - complete_lines
    assert_stored_with_topics(dynamodb, stories_table, {**stories, "short": story("short")})


# -- (c) writing the receipt ------------------------------------------------------------


def test_receipt_write_failing_once_is_retried_by_botocore(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    key = "incoming/receipt-flaky.json"
    s3_faults.fail(
        "PutObject", every, first_attempts(1, lambda r: s3_error(r, 503, "SlowDown", "Slow down"))
    )

    ingest_app.handler(upload(s3, bucket, {key: json.dumps(story("r")).encode()}), lambda_context)

    assert s3_faults.attempts == {("PutObject", 1): 2}
    receipt = read_receipt(key)
    assert receipt["status"] == "ok"
    assert receipt["counts"]["created"] == 1


def test_receipt_write_failing_every_attempt_raises_and_the_retry_writes_it(
    ingest_app: ModuleType,
    lambda_context: LambdaContext,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    read_receipt: ReadReceipt,
    s3_faults: Faults,
) -> None:
    failing, other = "incoming/no-receipt.jsonl", "incoming/with-receipt.json"
    stories = {s: story(s, topics=["ai", "chips"]) for s in ("kept-one", "kept-two")}
    event = upload(
        s3,
        bucket,
        {failing: jsonl(*stories.values()), other: json.dumps(story("beside")).encode()},
    )
    s3_faults.fail(
        "PutObject",
        lambda number: number == 1,
        always(lambda r: s3_error(r, 503, "ServiceUnavailable", "Please try again.")),
    )

    with pytest.raises(ClientError) as raised:
        ingest_app.handler(event, lambda_context)

    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert s3_faults.attempts == {("PutObject", 1): total_attempts(ingest_app.ingestor._s3)}
    assert not receipt_exists(s3, bucket, ingest_app, failing)
    assert read_receipt(other)["counts"]["created"] == 1
    every_story = {**stories, "beside": story("beside")}
    assert_stored_with_topics(dynamodb, stories_table, every_story)
    before_retry = table_items(dynamodb, stories_table)
    s3_faults.clear()

    result = ingest_app.handler(event, lambda_context)

    receipt = read_receipt(failing)
    assert receipt["status"] == "ok"
    assert_complete(receipt, 2)
    assert receipt["counts"]["unchanged"] == 2
    assert [f["status"] for f in result["files"]] == ["ok", "ok"]
    assert table_items(dynamodb, stories_table) == before_retry  # the retry rewrote nothing
