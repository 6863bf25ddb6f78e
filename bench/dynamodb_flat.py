"""DynamoDB work per request is flat: the same number of calls and items read for a list
page whatever the table size and however deep the page, and for a page of the daily archive
(``date=``) whatever the table holds on other days.

moto in-process (``mock_aws``), the table created from ``template.yaml``, seeded fast with
``BatchWriteItem`` of the items the ingest builds (``story_item`` + ``topic_entries``). The
real API handler walks the list by its cursors (``limit=10``); botocore hooks on the
function's own client count calls (``before-call.dynamodb``) and items read
(``ScannedCount`` of ``after-call.dynamodb.Query``). moto reports ``ScannedCount`` like
DynamoDB for a ``Query`` with ``Limit`` (``ConsumedCapacity`` it does not: not used).
"""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.common import (
    REGION,
    TOPICS,
    Goal,
    Row,
    compared,
    lambda_environment,
    say,
    use_environment,
)
from devtools.events import apigw_event
from devtools.functions import LambdaContext, load_function_module
from devtools.template import create_table_kwargs

TABLE = "signal-noise-stories"
LIMIT = 10
DEEP_PAGE = 50
SAME = Goal("==", 1.0)
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Meter:
    """Calls and ``ScannedCount`` seen on one client since the last ``reset``."""

    operations: Counter[str] = field(default_factory=Counter)
    scanned: int = 0

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.dynamodb", self._on_call)
        client.meta.events.register("after-call.dynamodb.Query", self._on_query)

    def _on_call(self, model: Any, **_: Any) -> None:
        self.operations[model.name] += 1

    def _on_query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        self.operations.clear()
        self.scanned = 0

    @property
    def calls(self) -> int:
        return sum(self.operations.values())


@dataclass(frozen=True, slots=True)
class PageCost:
    page: int
    calls: int
    items_read: int
    operations: str
    returned: int


def small_story(i: int) -> dict[str, Any]:
    """A story with what the list shows; two topics (topic entries share the index)."""
    published = START + timedelta(minutes=7 * (i // 3))  # 3 per instant: slug breaks ties
    return {
        "slug": f"s-{i}",
        "title": f"Story {i}",
        "summary": f"A summary of story {i}, long enough to look like one.",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topics": [TOPICS[i % 4], TOPICS[4 + i % 4]],
    }


def seed(client: Any, count: int) -> None:
    from newsroom.core.dynamo import to_dynamo
    from newsroom.stories.contract import StoryIn
    from newsroom.stories.items import story_item, topic_entries

    requests: list[dict[str, Any]] = []

    def flush() -> None:
        response = client.batch_write_item(RequestItems={TABLE: requests[:25]})
        assert not response.get("UnprocessedItems"), response
        del requests[:25]

    for i in range(count):
        item = story_item(
            StoryIn.model_validate(small_story(i)),
            source_key="incoming/bench.jsonl",
            ingested_at="2026-01-01T00:00:00Z",
        )
        for stored in (item, *topic_entries(item).values()):
            requests.append({"PutRequest": {"Item": to_dynamo(stored)}})
        while len(requests) >= 25:
            flush()
    while requests:
        flush()


def walk(count: int, pages: int) -> tuple[list[PageCost], PageCost, PageCost]:
    """Seed ``count`` stories in a fresh moto, then follow the list's cursors for up to
    ``pages`` pages; returns each page's cost, a story's (``GET /stories/{slug}``) and the
    first page of the first day's archive."""
    with mock_aws():
        from newsroom.core import aws

        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**create_table_kwargs("StoriesTable", TABLE))
        started = time.monotonic()
        seed(client, count)
        say(f"  seeded {count} stories ({3 * count} items) in {time.monotonic() - started:.1f} s")
        aws.client.cache_clear()
        api = load_function_module("api")
        meter = Meter()
        meter.attach(api.dynamodb)
        context = LambdaContext("signal-noise-ApiFunction")
        costs: list[PageCost] = []
        query: dict[str, str | list[str]] = {"limit": str(LIMIT)}
        for page in range(1, pages + 1):
            meter.reset()
            response = api.handler(
                apigw_event("GET", "/stories", resource="/stories", query=query), context
            )
            assert response["statusCode"] == 200, response
            body = json.loads(response["body"])
            ops = ",".join(f"{k}x{v}" for k, v in sorted(meter.operations.items()))
            costs.append(PageCost(page, meter.calls, meter.scanned, ops, len(body["data"])))
            if body["meta"]["next_cursor"] is None:
                break
            query["cursor"] = body["meta"]["next_cursor"]
        meter.reset()
        slug = "s-1"
        response = api.handler(
            apigw_event(
                "GET",
                f"/stories/{slug}",
                resource="/stories/{slug}",
                path_parameters={"slug": slug},
            ),
            context,
        )
        assert response["statusCode"] == 200, response
        story = PageCost(0, meter.calls, 0, ",".join(meter.operations), 1)
        meter.reset()
        archive_query = {"limit": str(LIMIT), "date": START.date().isoformat()}
        response = api.handler(
            apigw_event("GET", "/stories", resource="/stories", query=archive_query), context
        )
        assert response["statusCode"] == 200, response
        returned = len(json.loads(response["body"])["data"])
        archive = PageCost(1, meter.calls, meter.scanned, ",".join(meter.operations), returned)
        aws.client.cache_clear()
    return costs, story, archive


def deepest_full(costs: list[PageCost], wanted: int) -> PageCost:
    """Page ``wanted``, or the deepest page that has a next page (a full ``limit + 1``
    read) when the list is shorter."""
    for cost in costs:
        if cost.page == wanted:
            return cost
    return costs[-2] if len(costs) >= 2 else costs[-1]


def run(quick: bool) -> list[Row]:
    small, large = 100, (2_000 if quick else 10_000)
    use_environment(lambda_environment("ApiFunction", table=TABLE))
    say(f"dynamodb flat: list pages of {LIMIT} at {small} and {large} stories (moto in-process)")
    results = {}
    for count in (small, large):
        costs, story, archive = walk(count, DEEP_PAGE)
        results[count] = (costs, story, archive)
        for cost in costs:
            if cost.page in (1, 2, len(costs) - 1, len(costs), DEEP_PAGE):
                say(
                    f"    {count:>6} stories page {cost.page:>2}: {cost.calls} call(s)"
                    f" [{cost.operations}], {cost.items_read} items read,"
                    f" {cost.returned} returned"
                )
        worst = max(costs, key=lambda c: (c.calls, c.items_read))
        say(
            f"    {count:>6} stories: worst page of {len(costs)} walked: page {worst.page},"
            f" {worst.calls} call(s), {worst.items_read} items read; story: {story.calls}"
            f" call(s) [{story.operations}]"
        )

    (
        (small_costs, small_story_cost, small_archive),
        (large_costs, large_story_cost, large_archive),
    ) = (
        results[small],
        results[large],
    )
    small_deep = deepest_full(small_costs, DEEP_PAGE)
    large_deep = deepest_full(large_costs, DEEP_PAGE)
    deep_note = (
        f"value: page {large_deep.page} of {large} stories; reference: page {small_deep.page}"
        f" of {small} (its deepest page with a next page: {small} stories make"
        f" {len(small_costs)} pages of {LIMIT})"
    )
    first_note = f"value: page 1 at {large} stories; reference: page 1 at {small}"
    rows = [
        compared(
            "dynamodb.list.page1.calls",
            large_costs[0].calls,
            small_costs[0].calls,
            "calls/request",
            SAME,
            first_note,
        ),
        compared(
            "dynamodb.list.page1.items_read",
            large_costs[0].items_read,
            small_costs[0].items_read,
            "items/request",
            SAME,
            first_note + " (ScannedCount)",
        ),
        compared(
            f"dynamodb.list.page{DEEP_PAGE}.calls",
            large_deep.calls,
            small_deep.calls,
            "calls/request",
            SAME,
            deep_note,
        ),
        compared(
            f"dynamodb.list.page{DEEP_PAGE}.items_read",
            large_deep.items_read,
            small_deep.items_read,
            "items/request",
            SAME,
            deep_note + " (ScannedCount)",
        ),
        compared(
            "dynamodb.story.calls",
            large_story_cost.calls,
            small_story_cost.calls,
            "calls/request",
            SAME,
            f"GET /stories/{{slug}} at {large} vs {small} stories",
        ),
    ]
    archive_note = (
        f"GET /stories?date={START.date()}&limit={LIMIT}: page 1 of that day's archive at"
        f" {large} stories over {large * 7 // 3 // 1440 + 1} days vs {small} stories all on it"
    )
    for what, unit in (("calls", "calls/request"), ("items_read", "items/request")):
        rows.append(
            compared(
                f"dynamodb.archive.page1.{what}",
                getattr(large_archive, what),
                getattr(small_archive, what),
                unit,
                SAME,
                archive_note + (" (ScannedCount)" if what == "items_read" else ""),
            )
        )
    return rows
