"""Ingest under real latency: every AWS call the ingest makes answered in-process, after a
fixed delay, so that what is measured is the ingest's own work and how it waits on AWS, not
an emulator's CPU (``bench.ingest_scale`` runs against moto's server, whose CPU dominates).

The fake (``FakeAWS``) answers through a botocore ``before-send`` hook on the real clients
of the handler: requests are serialized and responses parsed by botocore as against AWS.
It implements only the operations the ingest calls, in the forms it calls them, and raises
on anything else, so the benchmark cannot silently measure something else. Items live in a
SQLite file and objects in a folder, so the fake's memory stays flat too.

Rows: a 1,000-story file through the handler vs the naive loop (``json.loads`` + one
``PutItem`` per story) under the same delay; a 10,000-story file's rate; the peak RSS of
10,000 stories vs 1,000; write units per story (``bench.capacity_measure.Meter``, DynamoDB's
rules) vs the naive loop's. Each run is a child process, as in ``bench.ingest_scale``.
"""

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from bench.common import (
    Goal,
    Row,
    child_environment,
    compared,
    lambda_environment,
    median,
    paired_ratio,
    say,
    spread,
    write_jsonl,
)
from bench.ingest_scale import (
    BUCKET,
    RSS_GOAL,
    SPEED_GOAL,
    TABLE,
    child_handler,
    child_reference,
    report_to_parent,
    run_child,
)

DELAY = 0.008  # seconds per AWS call: a same-region round trip to DynamoDB or S3
RATE_GOAL = Goal(">=", 1000, on="value")
# Nothing may reach a real endpoint: a request the fake does not answer goes to the discard
# port of this machine and fails.
SAFETY_ENDPOINT = "http://127.0.0.1:9"

_DYNAMODB_JSON = "application/x-amz-json-1.0"
_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
# The one condition the ingest writes with (StoryRepository.put_story); any other is refused.
_PUT_STORY_CONDITION = (
    "attribute_not_exists(pk) OR updated_at < :u OR (updated_at = :u AND content_hash <> :h)"
)
_BEGINS_WITH = re.compile(r"^pk = (:\w+) AND begins_with\(sk, (:\w+)\)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 100

Typed = dict[str, Any]  # an item in DynamoDB's typed JSON


class RefusedRequest(RuntimeError):
    """The fake does not implement this operation or this form of it."""


def _s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def _projection(expression: str | None) -> list[str] | None:
    """Top-level attribute names of a ``ProjectionExpression`` (no paths, no placeholders)."""
    if expression is None:
        return None
    names = [n.strip() for n in expression.split(",")]
    if not all(_NAME.match(n) for n in names):
        raise RefusedRequest(f"projection not implemented: {expression!r}")
    return names


def _project(item: Typed, names: list[str] | None) -> Typed:
    return item if names is None else {k: v for k, v in item.items() if k in names}


def _no_other_parameters(operation: str, body: Mapping[str, Any], allowed: set[str]) -> None:
    extra = set(body) - allowed
    if extra:
        raise RefusedRequest(f"{operation}: parameters not implemented: {sorted(extra)}")


class FakeAWS:
    """S3 and DynamoDB answered in-process after ``delay`` seconds per call (the calling
    thread sleeps, as it would wait on the network). One table and one bucket; counts every
    call by ``service.Operation`` in ``calls`` and the CPU it spent answering in
    ``cpu_seconds``. Thread-safe."""

    def __init__(
        self, folder: Path, *, delay: float = DELAY, table: str = TABLE, bucket: str = BUCKET
    ) -> None:
        self.delay = delay
        self.table = table
        self.bucket = bucket
        self.calls: Counter[str] = Counter()
        self.refused: list[str] = []
        self.cpu_seconds = 0.0  # spent answering (not sleeping): the fake's share of the CPU
        self._objects = folder / "s3" / bucket
        self._objects.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            folder / "table.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS items (pk TEXT, sk TEXT, item TEXT, PRIMARY KEY (pk, sk))"
            " WITHOUT ROWID"
        )
        self._dynamodb: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]] = {
            "PutItem": self._put_item,
            "BatchWriteItem": self._batch_write_item,
            "BatchGetItem": self._batch_get_item,
            "GetItem": self._get_item,
            "Query": self._query,
        }

    # -- wiring -----------------------------------------------------------------------------

    def attach(self, client: Any) -> None:
        """Answer every request of ``client`` (first, ahead of any other ``before-send``)."""
        client.meta.events.register_first("before-send", self._answer, unique_id=self._id)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-send", unique_id=self._id)

    @property
    def _id(self) -> str:
        return f"fake-aws-{id(self)}"

    def close(self) -> None:
        self._db.close()

    def _answer(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        started = time.thread_time()  # this thread's CPU: the sleep does not count
        service, operation = event_name.split(".", 2)[1:]
        time.sleep(self.delay)
        try:
            if service == "dynamodb" and operation in self._dynamodb:
                return self._dynamodb_answer(request, operation)
            if service == "s3" and operation == "GetObject":
                return self._get_object(request)
            if service == "s3" and operation == "PutObject":
                return self._put_object(request)
            raise RefusedRequest(f"{service}.{operation} is not implemented by the fake")
        except RefusedRequest as exc:
            with self._lock:
                self.refused.append(str(exc))
            raise
        finally:
            with self._lock:
                self.calls[f"{service}.{operation}"] += 1
                self.cpu_seconds += time.thread_time() - started

    # -- DynamoDB ---------------------------------------------------------------------------

    def _dynamodb_answer(self, request: AWSPreparedRequest, operation: str) -> AWSResponse:
        raw = request.body
        body = json.loads(raw if isinstance(raw, bytes | str) else b"")
        status, document = self._dynamodb[operation](body)
        headers = {"Content-Type": _DYNAMODB_JSON, "x-amzn-RequestId": "fake"}
        return AWSResponse(request.url, status, cast(Any, headers), _Raw(json.dumps(document)))

    def _table_of(self, name: str) -> None:
        if name != self.table:
            raise RefusedRequest(f"unknown table {name!r}")

    def _load(self, pk: str, sk: str) -> Typed | None:
        with self._lock:
            row = self._db.execute(
                "SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)
            ).fetchone()
        return None if row is None else cast(Typed, json.loads(row[0]))

    @staticmethod
    def _key(item: Mapping[str, Any]) -> tuple[str, str]:
        pk, sk = _s(item, "pk"), _s(item, "sk")
        if pk is None or sk is None:
            raise RefusedRequest(f"item without its key: {sorted(item)}")
        return pk, sk

    def _put_item(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        _no_other_parameters(
            "PutItem",
            body,
            {
                "TableName",
                "Item",
                "ConditionExpression",
                "ExpressionAttributeValues",
                "ReturnValues",
                "ReturnValuesOnConditionCheckFailure",
            },
        )
        self._table_of(body["TableName"])
        item: Typed = body["Item"]
        pk, sk = self._key(item)
        condition = body.get("ConditionExpression")
        if condition is not None and " ".join(condition.split()) != _PUT_STORY_CONDITION:
            raise RefusedRequest(f"condition not implemented: {condition!r}")
        if body.get("ReturnValues", "NONE") not in ("NONE", "ALL_OLD"):
            raise RefusedRequest(f"ReturnValues {body['ReturnValues']!r} not implemented")
        values = body.get("ExpressionAttributeValues", {})
        with self._lock:  # the check and the write as one, as DynamoDB does per item
            row = self._db.execute(
                "SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)
            ).fetchone()
            old: Typed | None = None if row is None else json.loads(row[0])
            if condition is not None and old is not None:
                stored_at, incoming_at = _s(old, "updated_at"), values[":u"]["S"]
                newer = stored_at is not None and stored_at < incoming_at
                changed = stored_at == incoming_at and _s(old, "content_hash") != values[":h"]["S"]
                if not (newer or changed):
                    error: dict[str, Any] = {
                        "__type": _DYNAMODB_ERROR + "ConditionalCheckFailedException",
                        "message": "The conditional request failed",
                    }
                    if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                        error["Item"] = old
                    return 400, error
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?)", (pk, sk, json.dumps(item))
            )
        if body.get("ReturnValues") == "ALL_OLD" and old is not None:
            return 200, {"Attributes": old}
        return 200, {}

    def _batch_write_item(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        _no_other_parameters("BatchWriteItem", body, {"RequestItems"})
        ((table, requests),) = body["RequestItems"].items()
        self._table_of(table)
        if not 1 <= len(requests) <= _BATCH_WRITE_MAX:
            return 400, _validation(f"{len(requests)} requests: 1 to 25 allowed")
        puts: list[tuple[str, str, str]] = []
        deletes: list[tuple[str, str]] = []
        for request in requests:
            if "PutRequest" in request:
                item = request["PutRequest"]["Item"]
                puts.append((*self._key(item), json.dumps(item)))
            else:
                deletes.append(self._key(request["DeleteRequest"]["Key"]))
        keys = [(pk, sk) for pk, sk, _ in puts] + deletes
        if len(set(keys)) != len(keys):
            return 400, _validation("Provided list of item keys contains duplicates")
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", puts)
            self._db.executemany("DELETE FROM items WHERE pk = ? AND sk = ?", deletes)
        return 200, {"UnprocessedItems": {}}

    def _batch_get_item(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        _no_other_parameters("BatchGetItem", body, {"RequestItems"})
        ((table, request),) = body["RequestItems"].items()
        self._table_of(table)
        _no_other_parameters(
            "BatchGetItem", request, {"Keys", "ConsistentRead", "ProjectionExpression"}
        )
        keys = [self._key(k) for k in request["Keys"]]
        if not 1 <= len(keys) <= _BATCH_GET_MAX or len(set(keys)) != len(keys):
            return 400, _validation("1 to 100 distinct keys allowed")
        names = _projection(request.get("ProjectionExpression"))
        found = [item for key in keys if (item := self._load(*key)) is not None]
        return 200, {
            "Responses": {table: [_project(item, names) for item in found]},
            "UnprocessedKeys": {},
        }

    def _get_item(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        _no_other_parameters(
            "GetItem", body, {"TableName", "Key", "ConsistentRead", "ProjectionExpression"}
        )
        self._table_of(body["TableName"])
        item = self._load(*self._key(body["Key"]))
        names = _projection(body.get("ProjectionExpression"))
        return 200, {} if item is None else {"Item": _project(item, names)}

    def _query(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``pk = :pk AND begins_with(sk, :prefix)`` on the table (the ingest's only Query);
        its results are a story's few topic entries, far below the 1 MB page."""
        _no_other_parameters(
            "Query",
            body,
            {
                "TableName",
                "KeyConditionExpression",
                "ExpressionAttributeValues",
                "ProjectionExpression",
                "ConsistentRead",
            },
        )
        self._table_of(body["TableName"])
        match = _BEGINS_WITH.match(" ".join(body["KeyConditionExpression"].split()))
        if match is None:
            raise RefusedRequest(f"key condition not implemented: {body['KeyConditionExpression']}")
        values = body["ExpressionAttributeValues"]
        pk, prefix = values[match[1]]["S"], values[match[2]]["S"]
        names = _projection(body.get("ProjectionExpression"))
        with self._lock:
            rows = self._db.execute(
                "SELECT sk, item FROM items WHERE pk = ? AND sk >= ? ORDER BY sk", (pk, prefix)
            ).fetchall()
        items = [_project(json.loads(i), names) for sk, i in rows if sk.startswith(prefix)]
        return 200, {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    def items(self) -> dict[tuple[str, str], Typed]:
        """Every stored item by ``(pk, sk)``, in typed JSON (for tests and pricing)."""
        with self._lock:
            rows = self._db.execute("SELECT pk, sk, item FROM items").fetchall()
        return {(pk, sk): json.loads(item) for pk, sk, item in rows}

    # -- S3 ---------------------------------------------------------------------------------

    def _object_path(self, request: AWSPreparedRequest) -> Path:
        # An IP endpoint makes botocore address buckets by path (/<bucket>/<key>), AWS's own
        # by host (<bucket>.s3.amazonaws.com/<key>).
        url = urlsplit(request.url)
        path = unquote(url.path).lstrip("/")
        if url.hostname and url.hostname.startswith(f"{self.bucket}.s3."):
            bucket, key = self.bucket, path
        else:
            bucket, _, key = path.partition("/")
        if bucket != self.bucket or not key or ".." in key.split("/"):
            raise RefusedRequest(f"unknown bucket or key: {request.url}")
        return self._objects / key

    def object_path(self, key: str) -> Path:
        """Where the object ``key`` of the bucket is kept (to upload or read it directly)."""
        return self._objects / key

    def _get_object(self, request: AWSPreparedRequest) -> AWSResponse:
        path = self._object_path(request)
        if not path.is_file():
            body = (
                "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                "<Message>The specified key does not exist.</Message></Error>"
            )
            headers = {"Content-Type": "application/xml"}
            return AWSResponse(request.url, 404, cast(Any, headers), _Raw(body))
        size = path.stat().st_size
        headers = {
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
            "ETag": f'"{size:x}-{path.stat().st_mtime_ns:x}"',
            "Last-Modified": formatdate(path.stat().st_mtime, usegmt=True),
        }
        # Streamed from the file: botocore wraps it in a StreamingBody, as a socket.
        return AWSResponse(request.url, 200, cast(Any, headers), path.open("rb"))

    def _put_object(self, request: AWSPreparedRequest) -> AWSResponse:
        path = self._object_path(request)
        raw: Any = request.body
        data = bytes(raw if isinstance(raw, bytes | bytearray) else raw.read() if raw else b"")
        if _header(request, "Content-Encoding") == "aws-chunked":
            data = _aws_chunked(data)
            if len(data) != int(_header(request, "X-Amz-Decoded-Content-Length") or -1):
                raise RefusedRequest("aws-chunked body of the wrong length")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        headers = {"ETag": f'"{len(data):x}"', "Content-Length": "0"}
        return AWSResponse(request.url, 200, cast(Any, headers), _Raw(""))


def _header(request: AWSPreparedRequest, name: str) -> str | None:
    value = request.headers.get(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _aws_chunked(data: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body (what botocore sends with a trailing checksum):
    ``<hex size>[;ext]\\r\\n<data>\\r\\n`` chunks up to a zero-size one, then trailers."""
    payload, position = bytearray(), 0
    while True:
        end = data.index(b"\r\n", position)
        size = int(data[position:end].split(b";")[0], 16)
        if size == 0:
            return bytes(payload)
        payload += data[end + 2 : end + 2 + size]
        position = end + 2 + size + 2


def _validation(message: str) -> dict[str, Any]:
    return {"__type": _DYNAMODB_ERROR + "ValidationException", "message": message}


class _Raw:
    """A response body as botocore reads it from urllib3 (``stream``; ``read`` for errors)."""

    def __init__(self, body: str) -> None:
        self._body = body.encode("utf-8")

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, amt: int | None = None) -> bytes:
        body, self._body = self._body, b""
        return body


# -- the child: one run against the fake ------------------------------------------------------


def _priced(fake: FakeAWS, meter: Any, stories: int) -> dict[str, float]:
    """Units per story of the metered calls, by DynamoDB's rules (``Meter.costs``): the story
    items (``PutItem``) and the topic entries (``BatchWriteItem``) apart, each with its copies
    in the feed index."""
    from bench.capacity_measure import Meter, plain

    stored = {key: plain(item) for key, item in fake.items().items()}
    per_story: dict[str, float] = {}
    for label, operation in (("story_item", "PutItem"), ("topic_entries", "BatchWriteItem")):
        records = [r for r in meter.records if r[0] == operation]
        costs = Meter(meter.shape, records).costs(stored)
        index_units = sum(costs.index_writes.values())
        per_story[label] = (costs.write_units - index_units) / stories
        per_story[f"{label}_index"] = index_units / stories
    costs = meter.costs(stored)
    per_story["write_units"] = costs.write_units / stories
    per_story["read_units"] = costs.read_units / stories
    return per_story


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["handler", "reference"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("key")
    parser.add_argument("--delay", type=float, default=DELAY)
    parser.add_argument("--meter", action="store_true", help="price the writes (not for RSS)")
    args = parser.parse_args(argv)
    fake = FakeAWS(args.folder, delay=args.delay)
    meter: Any = None
    if args.meter:
        from bench.capacity_measure import Meter, TableShape

        meter = Meter(TableShape.of("StoriesTable"))

    def hook(s3: Any, dynamodb: Any) -> None:
        fake.attach(s3)
        fake.attach(dynamodb)
        if meter is not None:
            meter.attach(dynamodb)

    def hook_module(module: ModuleType) -> None:
        hook(module.ingestor._s3, module.dynamodb)

    size = fake.object_path(args.key).stat().st_size
    if args.mode == "handler":
        result = child_handler(args.key, size, hook_module)
    else:
        result = child_reference(args.key, hook)
    if fake.refused:
        raise RefusedRequest(f"the run made calls the fake refused: {fake.refused[:5]}")
    result["calls"] = dict(fake.calls)
    result["fake_cpu"] = fake.cpu_seconds
    if meter is not None:
        result["units"] = _priced(fake, meter, result["counts"]["created"])
    fake.close()
    report_to_parent(result)


# -- the parent --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    mode: str
    stories: int
    elapsed: float
    cpu: float
    baseline_kib: int
    peak_kib: int
    fake_cpu: float  # of ``cpu``: the fake's answering, which real AWS would not cost here
    calls: dict[str, int]
    units: dict[str, float]


class Bench:
    """Story files, and one child run per measurement, each against a fresh fake."""

    def __init__(self, folder: Path, delay: float) -> None:
        self.folder = folder
        self.delay = delay
        home = folder / "home"
        home.mkdir()
        self.env = child_environment(
            lambda_environment("IngestFunction", table=TABLE, endpoint_url=SAFETY_ENDPOINT), home
        )
        self.files: dict[int, Path] = {}

    def story_file(self, stories: int) -> Path:
        if stories not in self.files:
            path = self.folder / f"stories-{stories}.jsonl"
            write_jsonl(path, stories)
            self.files[stories] = path
        return self.files[stories]

    def run(self, mode: str, stories: int, *, meter: bool = False) -> Run:
        from newsroom.ingest.settings import IngestSettings

        source = self.story_file(stories)
        key = f"incoming/bench/{source.name}"
        with tempfile.TemporaryDirectory(dir=self.folder) as state:
            fake = FakeAWS(Path(state), delay=self.delay)  # a fresh table and bucket
            fake.object_path(key).parent.mkdir(parents=True, exist_ok=True)
            fake.object_path(key).hardlink_to(source)
            args = [mode, state, key, "--delay", str(self.delay), *(["--meter"] if meter else [])]
            result = run_child("bench.ingest_latency", args, self.env)
            stored = {sk for _, sk in fake.items()}
            receipt = fake.object_path(IngestSettings(TABLE).receipt_key(key))
            if mode == "handler" and not receipt.is_file():
                raise RuntimeError(f"{mode} run wrote no receipt: {result}")
            fake.close()
        if result["status"] != "ok" or result["counts"]["created"] != stories:
            raise RuntimeError(f"{mode} run did not store every story: {result}")
        if mode == "handler" and not any(sk.startswith("topic#") for sk in stored):
            raise RuntimeError(f"{mode} run wrote no topic entries: {result}")
        return Run(
            mode,
            stories,
            result["elapsed"],
            result["cpu"],
            result["baseline_kib"],
            result["peak_kib"],
            result["fake_cpu"],
            result["calls"],
            result.get("units", {}),
        )


def _units_note(units: Mapping[str, float]) -> str:
    return (
        f"story item {units['story_item']:.2f} + its feed-index copy"
        f" {units['story_item_index']:.2f}, topic entries {units['topic_entries']:.2f}"
        f" + their index copies {units['topic_entries_index']:.2f}"
    )


def run(quick: bool, delay: float = DELAY) -> list[Row]:
    compared_size, rounds = (200, 2) if quick else (1_000, 3)
    large = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="bench-ingest-latency-") as tmp:
        bench = Bench(Path(tmp), delay)
        say(
            f"ingest under latency: every AWS call answered in-process after {delay * 1000:g} ms"
            f" (botocore before-send hook, SQLite table); files of {compared_size} and {large}"
            " stories"
        )
        runs: dict[str, list[Run]] = {"handler": [], "reference": []}
        for r in range(rounds):
            for mode in ("handler", "reference") if r % 2 == 0 else ("reference", "handler"):
                runs[mode].append(bench.run(mode, compared_size))
        large_run = bench.run("handler", large)
        metered = {mode: bench.run(mode, compared_size, meter=True) for mode in runs}

    handler_s = [r.elapsed for r in runs["handler"]]
    reference_s = [r.elapsed for r in runs["reference"]]
    ratio = paired_ratio(handler_s, reference_s)
    say(f"  {compared_size}-story file, {rounds} alternating runs each, seconds:")
    say(f"    handler   {spread(handler_s, digits=2)}  ratio {ratio:.3f} (paired)")
    say(f"    reference {spread(reference_s, digits=2)}  (json.loads + 1 PutItem per story)")
    for mode, mode_runs in runs.items():
        calls = mode_runs[0].calls
        say(
            f"    {mode:9} calls per story: "
            + ", ".join(f"{op} {n / compared_size:.3f}" for op, n in sorted(calls.items()))
            + f"; CPU s median {median([r.cpu for r in mode_runs]):.2f}"
            f" (the fake's {median([r.fake_cpu for r in mode_runs]):.2f})"
        )
    small_peak = median([r.peak_kib for r in runs["handler"]]) / 1024
    rate = large_run.stories / large_run.elapsed
    cpu_ms = large_run.cpu / large_run.stories * 1000
    own_ms = (large_run.cpu - large_run.fake_cpu) / large_run.stories * 1000
    say(
        f"  {large} stories in {large_run.elapsed:.2f} s = {rate:.0f} stories/s, CPU"
        f" {large_run.cpu:.1f} s (the fake's {large_run.fake_cpu:.1f});"
        f" {cpu_ms:.2f} ms CPU per story ({own_ms:.2f} without the fake's);"
        f" peak RSS {large_run.peak_kib / 1024:.1f} MiB"
        f" (after import {large_run.baseline_kib / 1024:.1f}) vs {small_peak:.1f} MiB"
        f" for {compared_size}"
    )
    units = {mode: one.units for mode, one in metered.items()}
    for mode, mode_units in units.items():
        say(
            f"  {mode:9} write units per story {mode_units['write_units']:.2f}"
            f" ({_units_note(mode_units)}); read units {mode_units['read_units']:.2f}"
        )
    reference_rate = compared_size / median(reference_s)
    delay_note = f"every AWS call answered in-process after {delay * 1000:g} ms"
    return [
        compared(
            f"ingest_latency.{compared_size}.seconds",
            median(handler_s),
            median(reference_s),
            "s",
            SPEED_GOAL,
            f"{compared_size}-story JSONL file through the handler (validation, conditional"
            f" writes, topic entries, receipt) vs json.loads + one PutItem per story; {delay_note};"
            f" {rounds} alternating runs each, ratio: median of paired runs",
            ratio,
        ),
        compared(
            f"ingest_latency.{large}.stories_per_second",
            rate,
            reference_rate,
            "stories/s",
            RATE_GOAL,
            f"{large}-story file through the handler; reference: the naive loop's rate on the"
            f" {compared_size}-story file; {delay_note}; CPU-bound (one GIL): {cpu_ms:.2f} ms"
            f" CPU per story in the ingest process, {own_ms:.2f} without the fake's answering",
        ),
        compared(
            "ingest_latency.peak_rss",
            large_run.peak_kib / 1024,
            small_peak,
            "MiB",
            RSS_GOAL,
            f"peak RSS of the ingest process: {large} stories vs {compared_size} (reference)",
        ),
        compared(
            "ingest_latency.write_units_per_story",
            units["handler"]["write_units"],
            units["reference"]["write_units"],
            "WCU/story",
            note=f"DynamoDB's rules (1 per KB per item written, again per index copy) on the"
            f" requests of a {compared_size}-story run: handler {_units_note(units['handler'])};"
            f" reference: the story item alone, without feed_pk so no index copy",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        print(__doc__)
        quick = "--quick" in sys.argv
        from bench.common import format_table

        print(format_table(run(quick)))
