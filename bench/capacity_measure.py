"""What the capacity model measures of this code, in the run of ``make capacity``.

- Stored items: the sample stories (``samples/stories``) go through the real ingest handler
  into moto (table and bucket from ``template.yaml``); every DynamoDB call the ingest makes is
  recorded and priced by DynamoDB's rules (``bench.capacity_units``) on the items it wrote,
  each item a transaction writes at twice its units (``TRANSACTION_FACTOR``). The signing
  key the ingest reads for the preview links of drafts and scheduled stories is a fresh
  random one in moto's SSM.
- Responses: the real API handler answers each read route from that table (a list page at
  the default limit, a topic's page, every published story, both feeds): body bytes, gzip
  bytes, header bytes, DynamoDB calls and read units, and the log lines it writes.
- Handler time: the same requests timed warm with ``bench.warm``'s method (DynamoDB answered
  in-process by botocore's ``Stubber`` with the responses moto gave, batches timed).
- Ingest CPU: the real ingest handler in its own process, AWS answered in-process by
  ``bench.ingest_latency``'s fake, CPU seconds of the ingest process per story without the
  fake's.
- A subscriber item: created, confirmed and claimed by the real ``SubscriberRepository``.
"""

import base64
import contextlib
import gc
import gzip
import io
import json
import os
import re
import secrets
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
from botocore.stub import Stubber
from moto import mock_aws

from bench.capacity_units import item_size, projected, read_units, write_units
from bench.common import REGION, lambda_environment, median, say, use_environment
from devtools.backend import make_dynamodb_requests_atomic
from devtools.events import apigw_event, s3_event, s3_record
from devtools.functions import LambdaContext, load_function_module
from devtools.template import ROOT, create_table_kwargs, load_template, resource, s3_event_prefix

TABLE = "signal-noise-stories"
SUBSCRIBERS_TABLE = "signal-noise-subscribers"
BUCKET = "signal-noise-content"
SAMPLES = ROOT / "samples" / "stories"
STORY_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson")
ROUTE_METHODS = {  # the API Gateway method (resource) each route is throttled as
    "story": "GET /stories/{slug}",
    "list": "GET /stories",
    "list_topic": "GET /stories",
    "feed_json": "GET /feed.json",
    "feed_xml": "GET /feed.xml",
}
Item = dict[str, Any]
Key = tuple[str, str]
# "Transactional write requests require two write capacity units for each 1-KB write" (one to
# prepare, one to commit): Amazon DynamoDB Developer Guide, "Amazon DynamoDB transactions:
# capacity management" (the table's write of each action; ConditionCheck likewise). The copies
# in a global secondary index are propagated after the transaction commits, as ordinary
# writes (same guide, "TransactWriteItems API"): priced once, as for PutItem (an assumption:
# the guide names no index factor).
TRANSACTION_FACTOR = 2


# -- the table's rules, from the template ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableShape:
    """A table's key attributes and global secondary indexes, as the template declares."""

    keys: tuple[str, ...]
    indexes: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, logical_id: str) -> "TableShape":
        props = resource(logical_id)
        return cls(
            tuple(k["AttributeName"] for k in props["KeySchema"]),
            tuple(props.get("GlobalSecondaryIndexes", [])),
        )

    def key_of(self, item: Mapping[str, Any]) -> Key:
        hash_key, range_key = (*self.keys, "")[:2]
        return str(item[hash_key]), str(item.get(range_key, "")) if range_key else ""

    def index(self, name: str) -> dict[str, Any]:
        return next(i for i in self.indexes if i["IndexName"] == name)

    def index_entries(self, item: Mapping[str, Any]) -> Iterator[tuple[str, str, Item]]:
        """``(index name, its partition key value, projected item)`` for each index the item
        is in."""
        for index in self.indexes:
            entry = projected(item, index, self.keys)
            if entry is not None:
                hash_key = index["KeySchema"][0]["AttributeName"]
                yield index["IndexName"], str(item[hash_key]), entry


# -- a meter of DynamoDB calls, priced afterwards on the stored items ------------------------


def plain(typed: Mapping[str, Any]) -> Item:
    from newsroom.core.dynamo import from_dynamo

    return from_dynamo(typed)


@dataclass(slots=True)
class Costs:
    """What a series of DynamoDB calls consumed, by DynamoDB's rules."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0  # table and index writes together
    index_writes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (index, pk value)
    transactional_write_units: float = 0.0  # of write_units: table writes in transactions (2x)

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())


@dataclass(slots=True)
class Meter:
    """Records every call a client makes (``before-call`` / ``after-call`` hooks) so that
    ``costs`` can price them on the stored items afterwards."""

    shape: TableShape
    records: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        # before-parameter-build sees the API parameters (before-call sees the serialized
        # request); both share the request's context with after-call.
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-parameter-build.dynamodb", self._before)
        client.meta.events.unregister("after-call.dynamodb", self._after)

    def _before(self, model: Any, params: dict[str, Any], context: Any, **_: Any) -> None:
        context["capacity_params"] = dict(params)

    def _after(self, model: Any, parsed: dict[str, Any], context: Any, **_: Any) -> None:
        self.records.append((model.name, context.get("capacity_params", {}), parsed))

    def reset(self) -> None:
        self.records.clear()

    def costs(self, stored: Mapping[Key, Item]) -> Costs:
        """Price the recorded calls: reads by the sizes of the stored items they touched
        (a projection does not lower the cost), writes by the items written."""
        costs = Costs()
        for operation, params, parsed in self.records:
            costs.calls[operation] += 1
            if operation == "GetItem":
                found = stored.get(self.shape.key_of(plain(params["Key"])))
                sizes = [item_size(found)] if found else []
                costs.read_units += read_units(sizes, consistent=bool(params.get("ConsistentRead")))
            elif operation == "Query":
                costs.read_units += self._query_units(params, parsed, stored)
            elif operation == "BatchGetItem":
                for request in params["RequestItems"].values():
                    for key in request["Keys"]:
                        found = stored.get(self.shape.key_of(plain(key)))
                        sizes = [item_size(found)] if found else []
                        consistent = bool(request.get("ConsistentRead"))
                        costs.read_units += read_units(sizes, consistent=consistent)
            elif operation == "PutItem":
                self._write(costs, plain(params["Item"]))
            elif operation == "UpdateItem":
                self._write(costs, self._stored_or_key(stored, params["Key"]))
            elif operation == "TransactWriteItems":
                for action in params["TransactItems"]:
                    ((kind, request),) = action.items()
                    if kind == "Put":
                        item = plain(request["Item"])
                    else:  # the item as stored (an Update's after, a Delete's before is gone)
                        item = self._stored_or_key(stored, request["Key"])
                    self._write(
                        costs, item, factor=TRANSACTION_FACTOR, index=kind != "ConditionCheck"
                    )
            elif operation == "BatchWriteItem":
                for requests in params["RequestItems"].values():
                    for request in requests:
                        if "PutRequest" in request:
                            self._write(costs, plain(request["PutRequest"]["Item"]))
                        else:
                            old = stored.get(
                                self.shape.key_of(plain(request["DeleteRequest"]["Key"]))
                            )
                            self._write(costs, old or {}, delete=True)
        return costs

    def _query_units(
        self, params: dict[str, Any], parsed: dict[str, Any], stored: Mapping[Key, Item]
    ) -> float:
        index_name = params.get("IndexName")
        # A table Query projected to the sort key (the prune's) returns no partition key: it
        # is the key condition's. The projection does not lower what the read costs.
        partition = {} if index_name else {self.shape.keys[0]: _query_partition(params)}
        sizes = []
        for raw in parsed.get("Items", []):
            found = stored.get(self.shape.key_of(partition | plain(raw)))
            if found is None:
                continue
            if index_name:
                entry = projected(found, self.shape.index(index_name), self.shape.keys)
                sizes.append(item_size(entry or {}))
            else:
                sizes.append(item_size(found))
        return read_units(sizes, consistent=bool(params.get("ConsistentRead")))

    def _stored_or_key(self, stored: Mapping[Key, Item], key: Mapping[str, Any]) -> Item:
        """The stored item of ``key`` (after the run: an update's new version, priced for
        the larger of before and after since items here only grow), else the key alone (a
        deleted key-only item, such as a marker, is exactly that)."""
        plain_key = plain(key)
        return stored.get(self.shape.key_of(plain_key)) or plain_key

    def _write(
        self,
        costs: Costs,
        item: Item,
        *,
        delete: bool = False,
        factor: int = 1,
        index: bool = True,
    ) -> None:
        table_units = factor * write_units(item_size(item)) if item or delete else 0
        costs.write_units += table_units
        if factor != 1:
            costs.transactional_write_units += table_units
        for index_name, partition, entry in (
            self.shape.index_entries(item) if item and index else ()
        ):
            units = write_units(item_size(entry))
            costs.write_units += units
            costs.index_writes[index_name, partition] += units


# -- log capture -------------------------------------------------------------------------


@dataclass(slots=True)
class LogCapture:
    """What a function printed (Powertools' logger stream and stdout, e.g. EMF metrics)."""

    buffer: io.StringIO = field(default_factory=io.StringIO)

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        from newsroom.core.observability import logger

        handler = logger.registered_handler
        previous = handler.setStream(self.buffer)  # type: ignore[attr-defined]
        try:
            with contextlib.redirect_stdout(self.buffer):
                yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]

    def take(self) -> tuple[int, int]:
        """``(events, bytes)`` written since the last take (one event per line)."""
        lines = [line for line in self.buffer.getvalue().splitlines() if line.strip()]
        self.buffer.seek(0)
        self.buffer.truncate()
        return len(lines), sum(len(line.encode("utf-8")) for line in lines)


# -- results ----------------------------------------------------------------------------------


@dataclass(slots=True)
class RouteMeasure:
    """One read route, as the real handler answered it (averaged over ``samples`` requests
    where a route has several URLs, e.g. every story)."""

    name: str
    method: str
    samples: int
    status: int
    body_bytes: float
    gzip_bytes: float
    header_bytes: float
    dynamodb_calls: float
    read_units: float
    partition: str  # the index partition (feed_pk) a list route reads; "" for a GetItem
    function_log_events: float
    function_log_bytes: float
    handler_us: float = 0.0  # warm, in-process, DynamoDB stubbed (bench.warm's method)
    handler_us_spread: str = ""


@dataclass(slots=True)
class ItemsMeasure:
    """The stored items of the sample stories, sized by DynamoDB's rules."""

    stories: int  # published stories
    story_item_bytes_mean: float
    story_item_bytes_max: int
    topic_entry_bytes_mean: float
    feed_entry_bytes_mean: float  # the story's entry in the feed index, as projected
    topics_per_story: float
    top_topic: str
    top_topic_share: float  # of published stories carrying the most common topic
    top_topic_request_share: float  # of topic lists, if asked for as often as topics are used


@dataclass(slots=True)
class IngestMeasure:
    """The real ingest of the sample files: calls and units per published story."""

    files: int
    stories_created: int
    calls_per_story: dict[str, float]
    write_units_per_story: float
    read_units_per_story: float
    feed_partition_write_units_per_story: float  # on the feed index's "feed" partition
    log_bytes_per_file: float
    log_events_per_file: float
    cpu_ms_per_story: float = 0.0  # ingest process, without the fake AWS's (own process)
    cpu_stories: int = 0


@dataclass(slots=True)
class SubscriberMeasure:
    item_bytes: int
    confirmed_entry_bytes: int  # as the "confirmed" index projects it
    claim_write_units: int  # claim_digest: the table item and its index entry


@dataclass(slots=True)
class Measured:
    routes: dict[str, RouteMeasure]
    items: ItemsMeasure
    ingest: IngestMeasure
    subscriber: SubscriberMeasure
    timing_requests: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the moto session: ingest the samples, then read them through the API ----------------------


def _restore_patches() -> tuple[Callable[[Any, str, Any], None], Callable[[], None]]:
    """A ``setattr`` that remembers what it replaced, and the function that undoes it."""
    replaced: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, name: str, value: Any) -> None:
        replaced.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def undo() -> None:
        for obj, name, value in reversed(replaced):
            setattr(obj, name, value)

    return patch, undo


@contextlib.contextmanager
def saved_environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def deployed_environment(logical_id: str, parameters: Mapping[str, str]) -> dict[str, str]:
    """The function's Lambda environment with ``parameters`` (a samconfig environment's values)
    in place of the template defaults for variables that reference a parameter."""
    env = lambda_environment(logical_id, table=TABLE)
    template = load_template()
    variables = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    variables.update(resource(logical_id).get("Environment", {}).get("Variables", {}))
    for name, value in variables.items():
        if (
            isinstance(value, dict)
            and value.get("Ref") in parameters
            and name != "AWS_ENDPOINT_URL"
        ):
            env[name] = str(parameters[value["Ref"]])
    return env


def sample_files(folder: Path = SAMPLES) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in STORY_FILE_SUFFIXES)


def _scan(client: Any, table: str) -> dict[Key, Item]:
    from devtools.tables import table_items

    return dict(table_items(client, table))


def _header_bytes(response: Mapping[str, Any]) -> int:
    """Bytes of the status line and headers as HTTP/1.1 writes them (a conservative stand-in
    for HTTP/2's compressed headers)."""
    lines = [f"HTTP/1.1 {response['statusCode']} X"]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        lines += [f"{name}: {value}" for value in values]
    for name, value in (response.get("headers") or {}).items():
        if name not in (response.get("multiValueHeaders") or {}):
            lines.append(f"{name}: {value}")
    return sum(len(line.encode("utf-8")) + 2 for line in lines) + 2


def _body(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


@dataclass(slots=True)
class _RouteCall:
    """One request's answer and what it cost, with the DynamoDB responses for the Stubber
    (``(operation, response)`` in the order the handler made the calls)."""

    status: int
    body: bytes
    header_bytes: int
    costs: Costs
    log_events: int
    log_bytes: int
    event: dict[str, Any]
    responses: list[tuple[str, dict[str, Any]]]
    partition: str


class MotoSession:
    """The table, bucket and functions in moto (in this process) for one measurement."""

    def __init__(self, parameters: Mapping[str, str]) -> None:
        self.parameters = parameters
        self.shape = TableShape.of("StoriesTable")
        self.logs = LogCapture()

    def ingest_samples(self, files: list[Path]) -> tuple[IngestMeasure, dict[Key, Item]]:
        environment = deployed_environment("IngestFunction", self.parameters)
        use_environment(environment)
        from newsroom.core import aws

        aws.client.cache_clear()
        ingest = load_function_module("ingest")
        meter = Meter(self.shape)
        meter.attach(ingest.dynamodb)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        _signing_key(environment)
        created = 0
        with self.logs.capturing():
            for path in files:
                key = f"{s3_event_prefix('IngestFunction')}samples/{path.name}"
                s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
                event = s3_event(s3_record(BUCKET, key, size=path.stat().st_size))
                result = ingest.handler(event, LambdaContext("signal-noise-IngestFunction", 1024))
                created += sum(f["counts"].get("created", 0) for f in result["files"])
        log_events, log_bytes = self.logs.take()
        stored = _scan(boto3.client("dynamodb", region_name=REGION), TABLE)
        costs = meter.costs(stored)
        n = max(created, 1)  # per story uploaded (drafts and retractions included)
        feed_writes = sum(u for (index, pk), u in costs.index_writes.items() if pk == "feed")
        measure = IngestMeasure(
            files=len(files),
            stories_created=created,
            calls_per_story={op: count / n for op, count in sorted(costs.calls.items())},
            write_units_per_story=costs.write_units / n,
            read_units_per_story=costs.read_units / n,
            feed_partition_write_units_per_story=feed_writes / n,
            log_bytes_per_file=log_bytes / max(len(files), 1),
            log_events_per_file=log_events / max(len(files), 1),
        )
        return measure, stored

    def items(self, stored: Mapping[Key, Item]) -> ItemsMeasure:
        published = [i for i in stored.values() if i["sk"] == "story" and "feed_pk" in i]
        entries = [i for i in stored.values() if i["sk"].startswith("topic#")]
        feed = self.shape.index("feed")
        topics: Counter[str] = Counter(t for i in published for t in i.get("topics", []))
        top, top_count = topics.most_common(1)[0] if topics else ("", 0)
        return ItemsMeasure(
            stories=len(published),
            story_item_bytes_mean=statistics.fmean(item_size(i) for i in published),
            story_item_bytes_max=max(item_size(i) for i in published),
            topic_entry_bytes_mean=statistics.fmean(item_size(i) for i in entries)
            if entries
            else 0.0,
            feed_entry_bytes_mean=statistics.fmean(
                item_size(projected(i, feed, self.shape.keys) or {}) for i in published
            ),
            topics_per_story=statistics.fmean(len(i.get("topics", [])) for i in published),
            top_topic=top,
            top_topic_share=top_count / max(len(published), 1),
            top_topic_request_share=top_count / max(sum(topics.values()), 1),
        )

    def read_routes(
        self, stored: Mapping[Key, Item], top_topic: str
    ) -> tuple[dict[str, list[_RouteCall]], Any]:
        """Every read route through the real API handler, with what each request cost."""
        use_environment(deployed_environment("ApiFunction", self.parameters))
        from newsroom.core import aws

        aws.client.cache_clear()
        api = load_function_module("api")
        meter = Meter(self.shape)
        meter.attach(api.dynamodb)
        origins = str(self.parameters.get("CorsAllowedOrigins", "*")).split(",")
        origin = origins[0] if origins[0] != "*" else "https://signal-noise.example"
        headers = {"Origin": origin, "Accept-Encoding": "gzip, br"}
        published = sorted(
            (i for i in stored.values() if i["sk"] == "story" and "feed_pk" in i),
            key=lambda i: str(i["slug"]),
        )
        requests: dict[str, list[dict[str, Any]]] = {
            "story": [
                apigw_event(
                    "GET", f"/stories/{i['slug']}", resource="/stories/{slug}",
                    path_parameters={"slug": str(i["slug"])}, headers=headers,
                )
                for i in published
            ],
            "list": [apigw_event("GET", "/stories", resource="/stories", headers=headers)],
            "list_topic": [
                apigw_event(
                    "GET", "/stories", resource="/stories", query={"topic": top_topic},
                    headers=headers,
                )
            ],
            "feed_json": [apigw_event("GET", "/feed.json", resource="/feed.json", headers=headers)],
            "feed_xml": [apigw_event("GET", "/feed.xml", resource="/feed.xml", headers=headers)],
        }  # fmt: skip
        results: dict[str, list[_RouteCall]] = {}
        context = LambdaContext("signal-noise-ApiFunction", 512)
        for name, events in requests.items():
            results[name] = []
            for event in events:
                meter.reset()
                with self.logs.capturing():
                    response = api.handler(event, context)
                log_events, log_bytes = self.logs.take()
                costs = meter.costs(stored)
                # The route's own read is its first call (a story's GetItem, a list's Query);
                # the reads after it (e.g. the next scheduled story) go with it.
                operation, params, _ = meter.records[0]
                partition = _query_partition(params) if operation == "Query" else ""
                replies = [
                    (_snake(op), {k: v for k, v in parsed.items() if k != "ResponseMetadata"})
                    for op, _, parsed in meter.records
                ]
                results[name].append(
                    _RouteCall(
                        status=int(response["statusCode"]),
                        body=_body(response),
                        header_bytes=_header_bytes(response),
                        costs=costs,
                        log_events=log_events,
                        log_bytes=log_bytes,
                        event=event,
                        responses=replies,
                        partition=partition,
                    )
                )
        meter.detach(api.dynamodb)
        return results, api

    def subscriber(self) -> SubscriberMeasure:
        from newsroom.newsletter.subscribers import Subscriber, SubscriberRepository

        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**create_table_kwargs("SubscribersTable", SUBSCRIBERS_TABLE))
        shape = TableShape.of("SubscribersTable")
        meter = Meter(shape)
        meter.attach(client)
        repository = SubscriberRepository(client, SUBSCRIBERS_TABLE)
        address_id = uuid.uuid5(uuid.NAMESPACE_URL, "reader").hex * 2  # a 64-hex-digit id
        email = "reader.000123@mail.example.com"
        repository.create_pending(address_id, email, 1_760_000_000, "2025-10-09T08:53:20Z")
        repository.confirm(address_id, "2025-10-09T08:55:00Z")
        item = plain(
            client.get_item(TableName=SUBSCRIBERS_TABLE, Key={"id": {"S": f"sub#{address_id}"}})[
                "Item"
            ]
        )
        meter.reset()
        subscriber = Subscriber.from_item(item)
        repository.claim_digest(subscriber, "2025-10-10", "2025-10-10T07:00:00Z")
        claimed = plain(
            client.get_item(TableName=SUBSCRIBERS_TABLE, Key={"id": {"S": f"sub#{address_id}"}})[
                "Item"
            ]
        )
        # An UpdateItem costs the larger of the item before and after; its index entry changes
        # (last_digest_on is projected), one more write of the projected entry.
        entry = projected(claimed, shape.index("confirmed"), shape.keys) or {}
        return SubscriberMeasure(
            item_bytes=item_size(claimed),
            confirmed_entry_bytes=item_size(entry),
            claim_write_units=write_units(max(item_size(item), item_size(claimed)))
            + write_units(item_size(entry)),
        )


def _signing_key(environment: Mapping[str, str]) -> None:
    """A fresh random signing key in the SSM SecureString parameter the function is given, as
    the account setup creates it (``devtools.backend``): the samples' drafts and scheduled
    stories get preview links in their receipts, which read it."""
    name = environment.get("SIGNING_KEY_PARAMETER")
    if name:
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=name, Value=secrets.token_urlsafe(32), Type="SecureString", Overwrite=True
        )


def _query_partition(params: Mapping[str, Any]) -> str:
    """The partition key value a Query reads (the value its key condition's ``=`` names)."""
    match = re.search(r"=\s*(:\w+)", str(params["KeyConditionExpression"]))
    assert match, params["KeyConditionExpression"]
    return str(plain(params["ExpressionAttributeValues"])[match.group(1)])


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _route_measure(name: str, calls: list[_RouteCall]) -> RouteMeasure:
    ok = [c for c in calls if c.status == 200] or calls
    return RouteMeasure(
        name=name,
        method=ROUTE_METHODS[name],
        samples=len(ok),
        status=ok[0].status,
        body_bytes=statistics.fmean(len(c.body) for c in ok),
        gzip_bytes=statistics.fmean(len(gzip.compress(c.body, compresslevel=6)) for c in ok),
        header_bytes=statistics.fmean(c.header_bytes for c in ok),
        dynamodb_calls=statistics.fmean(c.costs.call_count for c in ok),
        read_units=statistics.fmean(c.costs.read_units for c in ok),
        partition=ok[0].partition,
        function_log_events=statistics.fmean(c.log_events for c in ok),
        function_log_bytes=statistics.fmean(c.log_bytes for c in ok),
    )


def _time_batch(handler: Any, stubber: Stubber, call: _RouteCall, context: Any, size: int) -> float:
    """Seconds per request over ``size`` requests of ``call`` (``bench.warm.time_batch``'s
    method, with every DynamoDB response of a request queued before the timer)."""
    for _ in range(size):
        for operation, response in call.responses:
            stubber.add_response(operation, response)
    gc.collect()
    started = time.perf_counter()
    for _ in range(size):
        handler(call.event, context)
    elapsed = time.perf_counter() - started
    stubber.assert_no_pending_responses()
    return elapsed / size


def time_routes(
    api: Any, calls: dict[str, list[_RouteCall]], requests: int
) -> dict[str, list[float]]:
    """Seconds per request of each route, in batches, the real handler with its DynamoDB
    client answered by a ``Stubber`` from moto's responses (all of a request's calls)."""
    batch = 25 if requests < 1000 else 40
    stubber = Stubber(api.dynamodb)
    stubber.activate()
    context = LambdaContext("signal-noise-ApiFunction", 512)
    cases = {}
    for name, route_calls in calls.items():
        ok = [c for c in route_calls if c.status == 200]
        typical = sorted(ok, key=lambda c: len(c.body))[len(ok) // 2]  # the median-sized answer
        for operation, response in typical.responses:  # answered as in the measured request
            stubber.add_response(operation, response)
        status = api.handler(typical.event, context)["statusCode"]
        stubber.assert_no_pending_responses()
        if status != 200:
            raise RuntimeError(f"{name}: {status} from the stubbed responses")
        cases[name] = typical
    for call in cases.values():  # warm-up
        _time_batch(api.handler, stubber, call, context, batch)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(max(requests // batch, 1)):
        for name, call in cases.items():  # interleaved, so load elsewhere hits every route
            samples[name].append(_time_batch(api.handler, stubber, call, context, batch))
    stubber.deactivate()
    return samples


# -- ingest CPU against moto's server in its own process -------------------------------------


def stories_for_cpu(stored: Mapping[Key, Item], count: int, path: Path) -> int:
    """A JSON Lines file of ``count`` stories made from the published samples (each copy its
    own slug); returns its size in bytes."""
    from newsroom.core.slugs import SLUG_MAX_LENGTH
    from newsroom.stories.items import StoryItem, to_story

    published = sorted(
        (i for i in stored.values() if i["sk"] == "story" and "feed_pk" in i),
        key=lambda i: str(i["slug"]),
    )
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            story: dict[str, Any] = dict(to_story(cast("StoryItem", published[n % len(published)])))
            suffix = f"-c{n:06d}"
            story["slug"] = str(story["slug"])[: SLUG_MAX_LENGTH - len(suffix)] + suffix
            story = {k: v for k, v in story.items() if v is not None}
            handle.write(json.dumps(story, ensure_ascii=False) + "\n")
    return path.stat().st_size


def ingest_cpu_ms_per_story(stored: Mapping[Key, Item], count: int) -> float:
    """CPU milliseconds of the ingest process per story, without what answering AWS cost it:
    ``bench.ingest_latency``'s child run (the real handler, every AWS call answered in its
    process after a round trip's delay, the fake's own CPU subtracted). moto's server cannot
    take the ingest's concurrent transactions: its ``TransactWriteItems`` copies the whole
    table per call and is not thread-safe (500s; serialized, over a minute for 200
    stories)."""
    from bench.ingest_latency import Bench

    with saved_environment(), tempfile.TemporaryDirectory(prefix="capacity-ingest-") as tmp:
        bench = Bench(Path(tmp), delay=0.008)
        path = Path(tmp) / f"stories-{count}.jsonl"
        stories_for_cpu(stored, count, path)
        bench.files[count] = path  # the samples' stories instead of the bench's own
        run = bench.run("handler", count)
    return (run.cpu - run.fake_cpu) * 1000 / run.stories


# -- everything ------------------------------------------------------------------------------


def measure(parameters: Mapping[str, str], *, requests: int, ingest_stories: int) -> Measured:
    """Measure this code: the samples ingested and read back in moto, handler times, the ingest's
    CPU per story and a subscriber item."""
    patch, undo = _restore_patches()
    make_dynamodb_requests_atomic(patch)  # moto's in-process table is not thread-safe
    try:
        with saved_environment(), mock_aws():
            session = MotoSession(parameters)
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(**create_table_kwargs("StoriesTable", TABLE))
            files = sample_files()
            ingest, stored = session.ingest_samples(files)
            items = session.items(stored)
            say(f"capacity: {len(files)} sample files ingested, {items.stories} published stories")
            calls, api = session.read_routes(stored, items.top_topic)
            routes = {
                name: _route_measure(name, route_calls) for name, route_calls in calls.items()
            }
            say(f"capacity: timing {len(routes)} routes warm, {requests} requests each")
            timings = time_routes(api, calls, requests)
            for name, samples in timings.items():
                routes[name].handler_us = median(samples) * 1e6
                ordered = sorted(s * 1e6 for s in samples)
                q = (
                    statistics.quantiles(ordered, n=4)
                    if len(ordered) >= 4
                    else [ordered[0], 0, ordered[-1]]
                )
                routes[
                    name
                ].handler_us_spread = (
                    f"{median(ordered):.0f} [{q[0]:.0f}-{q[2]:.0f}] µs (n={len(ordered)} batches)"
                )
            subscriber = session.subscriber()
    finally:
        undo()
    say(f"capacity: ingest CPU, {ingest_stories} stories, the real handler (fake AWS)")
    ingest.cpu_ms_per_story = ingest_cpu_ms_per_story(stored, ingest_stories)
    ingest.cpu_stories = ingest_stories
    return Measured(routes, items, ingest, subscriber, requests)
