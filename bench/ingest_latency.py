"""Ingest under real latency: every AWS call the ingest makes answered in-process, after a
fixed delay, so that what is measured is the ingest's own work and how it waits on AWS, not
an emulator's CPU (``bench.ingest_scale`` runs against moto's server, whose CPU dominates).

The fake (``FakeAWS``) answers through a botocore ``before-send`` hook on the real clients
of the handler: requests are serialized and responses parsed by botocore as against AWS.
It implements only the operations the ingest calls, in the forms it calls them, and raises
on anything else, so the benchmark cannot silently measure something else: ``PutItem`` with
the story's condition; ``TransactWriteItems`` (``Put``, ``Update``, ``Delete``,
``ConditionCheck``) with the topic write path's conditions and count update, all or nothing,
cancelled with a reason per action as DynamoDB does; the prune's conditional ``UpdateItem``;
``Query`` by ``begins_with`` or ``BETWEEN`` on the sort key, with ``Limit`` and pages;
``BatchWriteItem``, ``BatchGetItem``, ``GetItem``; S3 ``GetObject`` and ``PutObject``. No
SSM: the bench's stories are all published in the past (``bench.common.story_value``), so
no receipt has a preview link and the signing key is never read (a read would go to the
discard port and fail the run). Items live in a SQLite file and objects in a folder, so the
fake's memory stays flat too.

Rows: a 1,000-story file through the handler vs the naive loop (``json.loads`` + one
``PutItem`` per story) under the same delay; a 10,000-story file's rate; the peak RSS of
10,000 stories vs 1,000; write units per story (``bench.capacity_measure.Meter``, DynamoDB's
rules: twice the units of an item written in a transaction) vs the naive loop's. Each run
is a child process, as in ``bench.ingest_scale``.
"""

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
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
# The conditions the ingest writes with (StoryRepository), each evaluated on the stored item
# (None: there is none) and the request's values; any other is refused.
_PUT_STORY_CONDITION = (
    "attribute_not_exists(pk) OR updated_at < :u OR (updated_at = :u AND content_hash <> :h)"
)
_ENTRY_IS_NEW = "attribute_not_exists(pk)"  # a new topic entry (_create_entry)
_ENTRY_AS_READ = "feed_sk = :f"  # an entry moved, changed or deleted as it was read
_PRUNED_BELOW_RAISED = "attribute_not_exists(pruned_below) OR pruned_below < :b"
_ADD_TO_COUNT = "SET #topic = :t ADD #count :n"  # _add_to_count
_ADD_TO_COUNT_NAMES = {"#count": "count", "#topic": "topic"}
_SET_PRUNED_BELOW = "SET pruned_below = :b"  # _raise_pruned_below
_BEGINS_WITH = re.compile(r"^pk = (:\w+) AND begins_with\(sk, (:\w+)\)$")
_BETWEEN = re.compile(r"^pk = (:\w+) AND sk BETWEEN (:\w+) AND (:\w+)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 100
_TRANSACT_MAX = 100
# Which conditions each kind of write may carry (None: unconditional), as the ingest sends them.
_TRANSACT_CONDITIONS: dict[str, set[str | None]] = {
    "Put": {None, _ENTRY_IS_NEW, _ENTRY_AS_READ},
    "Delete": {None, _ENTRY_AS_READ},
    "Update": {None},
    "ConditionCheck": {_ENTRY_IS_NEW, _ENTRY_AS_READ},
}

Typed = dict[str, Any]  # an item in DynamoDB's typed JSON


def _s_value(values: Mapping[str, Any], name: str) -> str:
    return str(values[name]["S"])


def _condition_holds(condition: str, old: Typed | None, values: Mapping[str, Any]) -> bool:
    """Whether ``condition`` (one of the ingest's, whitespace normalized) holds for the stored
    item ``old`` (``None``: there is none) with the request's ``values``."""
    if condition == _PUT_STORY_CONDITION:
        if old is None:
            return True
        stored_at, incoming_at = _s(old, "updated_at"), _s_value(values, ":u")
        newer = stored_at is not None and stored_at < incoming_at
        changed = stored_at == incoming_at and _s(old, "content_hash") != _s_value(values, ":h")
        return newer or changed
    if condition == _ENTRY_IS_NEW:
        return old is None
    if condition == _ENTRY_AS_READ:  # a comparison with a missing attribute is false
        return old is not None and _s(old, "feed_sk") == _s_value(values, ":f")
    if condition == _PRUNED_BELOW_RAISED:
        below = None if old is None else _s(old, "pruned_below")
        return below is None or below < _s_value(values, ":b")
    raise RefusedRequest(f"condition not implemented: {condition!r}")


def _updated(
    key: Typed, old: Typed | None, expression: str, names: Mapping[str, str], values: Typed
) -> Typed:
    """The item after one of the ingest's ``UpdateExpression``s (created from its key when
    missing, as DynamoDB does)."""
    item: Typed = dict(old) if old is not None else dict(key)
    if expression == _ADD_TO_COUNT and dict(names) == _ADD_TO_COUNT_NAMES:
        item["topic"] = values[":t"]
        # ADD on a missing number starts from 0; DynamoDB keeps numbers as decimal strings.
        count = int(item.get("count", {"N": "0"})["N"]) + int(values[":n"]["N"])
        item["count"] = {"N": str(count)}
        return item
    if expression == _SET_PRUNED_BELOW and not names:
        item["pruned_below"] = values[":b"]
        return item
    raise RefusedRequest(f"update not implemented: {expression!r} {dict(names)}")


def _normalized(expression: str | None) -> str | None:
    return None if expression is None else " ".join(expression.split())


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
        self._transactions: dict[str, str] = {}  # ClientRequestToken: its TransactItems
        self._dynamodb: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]] = {
            "PutItem": self._put_item,
            "UpdateItem": self._update_item,
            "TransactWriteItems": self._transact_write_items,
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
        condition = _normalized(body.get("ConditionExpression"))
        if condition not in (None, _PUT_STORY_CONDITION):
            raise RefusedRequest(f"condition not implemented: {condition!r}")
        if body.get("ReturnValues", "NONE") not in ("NONE", "ALL_OLD"):
            raise RefusedRequest(f"ReturnValues {body['ReturnValues']!r} not implemented")
        values = body.get("ExpressionAttributeValues", {})
        with self._lock:  # the check and the write as one, as DynamoDB does per item
            old = self._row(pk, sk)
            if condition is not None and not _condition_holds(condition, old, values):
                error = _conditional_check_failed()
                if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
                    error["Item"] = old
                return 400, error
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?)", (pk, sk, json.dumps(item))
            )
        if body.get("ReturnValues") == "ALL_OLD" and old is not None:
            return 200, {"Attributes": old}
        return 200, {}

    def _row(self, pk: str, sk: str) -> Typed | None:
        """The stored item (the caller holds the lock)."""
        row = self._db.execute(
            "SELECT item FROM items WHERE pk = ? AND sk = ?", (pk, sk)
        ).fetchone()
        return None if row is None else cast(Typed, json.loads(row[0]))

    def _update_item(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The prune's ``SET pruned_below = :b`` under its condition (``ReturnValues`` NONE)."""
        _no_other_parameters(
            "UpdateItem",
            body,
            {
                "TableName",
                "Key",
                "UpdateExpression",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
            },
        )
        self._table_of(body["TableName"])
        key: Typed = body["Key"]
        pk, sk = self._key(key)
        condition = _normalized(body.get("ConditionExpression"))
        if condition not in (None, _PRUNED_BELOW_RAISED):
            raise RefusedRequest(f"condition not implemented: {condition!r}")
        expression = _normalized(body["UpdateExpression"]) or ""
        names, values = body.get("ExpressionAttributeNames", {}), body["ExpressionAttributeValues"]
        with self._lock:
            old = self._row(pk, sk)
            if condition is not None and not _condition_holds(condition, old, values):
                return 400, _conditional_check_failed()
            item = _updated(key, old, expression, names, values)
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?)", (pk, sk, json.dumps(item))
            )
        return 200, {}

    def _transact_write_items(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``Put``, ``Update``, ``Delete`` and ``ConditionCheck`` actions with the ingest's
        conditions and update expressions, all or nothing: one failed condition cancels the
        transaction with a reason per action (``ConditionalCheckFailed`` or ``None``, in
        order), as DynamoDB answers (API reference, ``TransactWriteItems``)."""
        _no_other_parameters("TransactWriteItems", body, {"TransactItems", "ClientRequestToken"})
        # botocore adds an idempotency token: a repeat of a written transaction (a retry of a
        # timed-out call) changes nothing; the same token with other actions is an error.
        token, request = body.get("ClientRequestToken"), json.dumps(body["TransactItems"])
        if token is not None and token in self._transactions:
            if self._transactions[token] != request:
                return 400, {
                    "__type": _DYNAMODB_ERROR + "IdempotentParameterMismatchException",
                    "message": "The request uses the same client token as a previous request",
                }
            return 200, {}
        actions: list[tuple[str, dict[str, Any]]] = []
        for entry in body["TransactItems"]:
            ((kind, action),) = entry.items()
            if kind not in _TRANSACT_CONDITIONS:
                raise RefusedRequest(f"transaction action not implemented: {kind}")
            _no_other_parameters(
                f"TransactWriteItems {kind}",
                action,
                {
                    "TableName",
                    "Item" if kind == "Put" else "Key",
                    "ConditionExpression",
                    "ExpressionAttributeNames",
                    "ExpressionAttributeValues",
                    *(["UpdateExpression"] if kind == "Update" else []),
                },
            )
            self._table_of(action["TableName"])
            condition = _normalized(action.get("ConditionExpression"))
            if condition not in _TRANSACT_CONDITIONS[kind]:
                raise RefusedRequest(f"{kind} condition not implemented: {condition!r}")
            actions.append((kind, action))
        if not 1 <= len(actions) <= _TRANSACT_MAX:
            return 400, _validation(f"{len(actions)} actions: 1 to 100 allowed")
        keys = [self._key(a["Item"] if k == "Put" else a["Key"]) for k, a in actions]
        if len(set(keys)) != len(keys):
            return 400, _validation(
                "Transaction request cannot include multiple operations on one item"
            )
        with self._lock:  # every check, then every write, as one
            olds = [self._row(*key) for key in keys]
            reasons: list[dict[str, str]] = []
            for (_, action), old in zip(actions, olds, strict=True):
                condition = _normalized(action.get("ConditionExpression"))
                values = action.get("ExpressionAttributeValues", {})
                if condition is None or _condition_holds(condition, old, values):
                    reasons.append({"Code": "None"})
                else:
                    reasons.append(
                        {
                            "Code": "ConditionalCheckFailed",
                            "Message": "The conditional request failed",
                        }
                    )
            if any(r["Code"] != "None" for r in reasons):
                codes = ", ".join(r["Code"] for r in reasons)
                return 400, {
                    "__type": _DYNAMODB_ERROR + "TransactionCanceledException",
                    "message": "Transaction cancelled, please refer cancellation reasons for"
                    f" specific reasons [{codes}]",
                    "CancellationReasons": reasons,
                }
            writes: list[tuple[str, str, str]] = []
            deletes: list[tuple[str, str]] = []
            for (kind, action), key, old in zip(actions, keys, olds, strict=True):
                if kind == "Put":
                    writes.append((*key, json.dumps(action["Item"])))
                elif kind == "Update":
                    expression = _normalized(action["UpdateExpression"]) or ""
                    names = action.get("ExpressionAttributeNames", {})
                    values = action.get("ExpressionAttributeValues", {})
                    item = _updated(action["Key"], old, expression, names, values)
                    writes.append((*key, json.dumps(item)))
                elif kind == "Delete":
                    deletes.append(key)
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?)", writes)
            self._db.executemany("DELETE FROM items WHERE pk = ? AND sk = ?", deletes)
            self._db.execute("COMMIT")
            if token is not None:
                self._transactions[token] = request
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
        """The ingest's two key conditions on the table: ``pk = :pk AND begins_with(sk,
        :prefix)`` (a story's topic entries) and ``pk = :pk AND sk BETWEEN :first AND :last``
        (the prune's markers of a topic, with ``Limit``, descending, paged by
        ``ExclusiveStartKey``). Both read far below the 1 MB page, so only ``Limit`` ends a
        page; as DynamoDB, a page that reached ``Limit`` has a ``LastEvaluatedKey`` even when
        nothing follows."""
        _no_other_parameters(
            "Query",
            body,
            {
                "TableName",
                "KeyConditionExpression",
                "ExpressionAttributeValues",
                "ProjectionExpression",
                "ConsistentRead",
                "ScanIndexForward",
                "Limit",
                "ExclusiveStartKey",
            },
        )
        self._table_of(body["TableName"])
        condition = _normalized(body["KeyConditionExpression"]) or ""
        values = body["ExpressionAttributeValues"]
        bounds: tuple[str | int, ...]
        if match := _BEGINS_WITH.match(condition):
            pk, prefix = _s_value(values, match[1]), _s_value(values, match[2])
            sql, bounds = "sk >= ? AND substr(sk, 1, ?) = ?", (prefix, len(prefix), prefix)
        elif match := _BETWEEN.match(condition):
            pk = _s_value(values, match[1])
            bounds = (_s_value(values, match[2]), _s_value(values, match[3]))
            sql = "sk BETWEEN ? AND ?"
        else:
            raise RefusedRequest(f"key condition not implemented: {condition!r}")
        forward = bool(body.get("ScanIndexForward", True))
        start = body.get("ExclusiveStartKey")
        if start is not None:
            start_pk, start_sk = self._key(start)
            if start_pk != pk:
                return 400, _validation("The provided starting key is invalid")
            sql += " AND sk > ?" if forward else " AND sk < ?"
            bounds = (*bounds, start_sk)
        limit = int(body.get("Limit", 0))
        if limit < 0 or ("Limit" in body and limit < 1):
            return 400, _validation("Limit must be at least 1")
        order = "ASC" if forward else "DESC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT sk, item FROM items WHERE pk = ? AND {sql} ORDER BY sk {order}"
                + (" LIMIT ?" if limit else ""),
                (pk, *bounds, *([limit] if limit else [])),
            ).fetchall()
        names = _projection(body.get("ProjectionExpression"))
        items = [_project(json.loads(i), names) for _, i in rows]
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if limit and len(rows) == limit:
            answer["LastEvaluatedKey"] = {"pk": {"S": pk}, "sk": {"S": rows[-1][0]}}
        return 200, answer

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


def _conditional_check_failed() -> dict[str, Any]:
    return {
        "__type": _DYNAMODB_ERROR + "ConditionalCheckFailedException",
        "message": "The conditional request failed",
    }


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


def _kind_of(action: Mapping[str, Any]) -> str:
    """What a transaction action writes: a story's topic entry, a topic's marker or count
    (``newsroom.stories.topic_stats``)."""
    from newsroom.stories.topic_stats import STATS_PK, parse_stats_sk

    ((kind, request),) = action.items()
    pk, sk = FakeAWS._key(request["Item"] if kind == "Put" else request["Key"])
    if pk != STATS_PK:
        return "topic_entries"
    return "markers" if parse_stats_sk(sk)[1] is not None else "counts"


# What each row of the breakdown prices: the calls of an operation, or the actions of a kind
# in the transactions.
_PRICED = (
    ("story_item", "PutItem", None),
    ("topic_entries", "TransactWriteItems", "topic_entries"),
    ("markers", "TransactWriteItems", "markers"),
    ("counts", "TransactWriteItems", "counts"),
    ("prune", "UpdateItem", None),
    ("prune", "BatchWriteItem", None),
)


def _priced(fake: FakeAWS, meter: Any, stories: int) -> dict[str, float]:
    """Units per story of the metered calls, by DynamoDB's rules (``Meter.costs``: twice the
    units of each item a transaction writes): the story items (``PutItem``), the topic
    entries, markers and count updates (``TransactWriteItems``) and the prune's writes
    apart, each with its copies in the feed index (``<row>_index``)."""
    from bench.capacity_measure import Meter, plain

    stored = {key: plain(item) for key, item in fake.items().items()}
    per_story: defaultdict[str, float] = defaultdict(float)
    for label, operation, kind in _PRICED:
        records = []
        for name, params, parsed in meter.records:
            if name != operation:
                continue
            if kind is not None:
                actions = [a for a in params["TransactItems"] if _kind_of(a) == kind]
                params = {**params, "TransactItems": actions}
            records.append((name, params, parsed))
        costs = Meter(meter.shape, records).costs(stored)
        index_units = sum(costs.index_writes.values())
        per_story[label] += (costs.write_units - index_units) / stories
        per_story[f"{label}_index"] += index_units / stories
    costs = meter.costs(stored)
    per_story["write_units"] = costs.write_units / stories
    per_story["transactional_write_units"] = costs.transactional_write_units / stories
    per_story["read_units"] = costs.read_units / stories
    return dict(per_story)


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
        f" {units['story_item_index']:.2f}; in transactions (2 units per KB): topic entries"
        f" {units.get('topic_entries', 0):.2f} + their index copies"
        f" {units.get('topic_entries_index', 0):.2f}, markers {units.get('markers', 0):.2f},"
        f" count updates {units.get('counts', 0):.2f}; prune {units.get('prune', 0):.2f}"
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
            note=f"DynamoDB's rules (1 per KB per item written, 2 in a transaction, again 1"
            f" per index copy) on the"
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
