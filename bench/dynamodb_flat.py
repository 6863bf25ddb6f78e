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


def topic_stats_items(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The topic stats partition of these topic entries as the ingest leaves it at its
    largest between two prunes: a count item per topic and the markers of its newest
    ``MARKERS_KEPT + PRUNE_SLACK`` entries (``newsroom.stories.topic_stats``)."""
    from newsroom.stories.topic_stats import (
        MARKERS_KEPT,
        PRUNE_SLACK,
        STATS_PK,
        count_sk,
        marker_sk,
    )

    by_topic: dict[str, list[str]] = {}
    for entry in entries:
        by_topic.setdefault(entry["feed_pk"].removeprefix("topic#"), []).append(entry["feed_sk"])
    items = []
    for topic, keys in by_topic.items():
        keys.sort(reverse=True)
        kept, pruned = keys[: MARKERS_KEPT + PRUNE_SLACK], keys[MARKERS_KEPT + PRUNE_SLACK :]
        count = {"pk": STATS_PK, "sk": count_sk(topic), "topic": topic, "count": len(keys)}
        if pruned:
            count["pruned_below"] = pruned[0]
        items.append(count)
        items += [{"pk": STATS_PK, "sk": marker_sk(topic, key)} for key in kept]
    return items


def seed(client: Any, count: int) -> None:
    from newsroom.core.dynamo import to_dynamo
    from newsroom.stories.contract import StoryIn
    from newsroom.stories.items import story_item, topic_entries

    requests: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []

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
        entries += topic_entries(item).values()
        for stored in (item, *topic_entries(item).values()):
            requests.append({"PutRequest": {"Item": to_dynamo(stored)}})
        while len(requests) >= 25:
            flush()
    requests += [{"PutRequest": {"Item": to_dynamo(i)}} for i in topic_stats_items(entries)]
    while requests:
        flush()


def topics_read_bound() -> int:
    """What ``GET /topics`` reads at most here: a count item and at most
    ``MARKERS_KEPT + PRUNE_SLACK`` public markers per topic (``topic_stats``)."""
    from newsroom.stories.topic_stats import MARKERS_KEPT, PRUNE_SLACK

    return len(TOPICS) * (1 + MARKERS_KEPT + PRUNE_SLACK)


# The other routes measured at both sizes: (row name, path, resource, query, path params).
FIRST_DAY = START.date().isoformat()
ROUTES: tuple[tuple[str, str, str, dict[str, str] | None, dict[str, str] | None], ...] = (
    ("story", "/stories/s-1", "/stories/{slug}", None, {"slug": "s-1"}),
    ("archive.page1", "/stories", "/stories", {"limit": str(LIMIT), "date": FIRST_DAY}, None),
    ("topics", "/topics", "/topics", None, None),
    ("sitemap.day", "/sitemap.xml", "/sitemap.xml", {"date": FIRST_DAY}, None),
    ("news_sitemap", "/news-sitemap.xml", "/news-sitemap.xml", None, None),
)


def walk(count: int, pages: int) -> tuple[list[PageCost], dict[str, PageCost]]:
    """Seed ``count`` stories in a fresh moto, then follow the list's cursors for up to
    ``pages`` pages; returns each page's cost and each of ``ROUTES``'."""
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
        routes = {}
        for name, path, resource, route_query, params in ROUTES:
            meter.reset()
            event = apigw_event(
                "GET", path, resource=resource, query=route_query, path_parameters=params
            )
            response = api.handler(event, context)
            assert response["statusCode"] == 200, (name, response)
            ops = ",".join(f"{k}x{v}" for k, v in sorted(meter.operations.items()))
            routes[name] = PageCost(1, meter.calls, meter.scanned, ops, 1)
        aws.client.cache_clear()
    return costs, routes


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
        costs, routes = walk(count, DEEP_PAGE)
        results[count] = (costs, routes)
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
            f" {worst.calls} call(s), {worst.items_read} items read"
        )
        for name, cost in routes.items():
            say(
                f"    {count:>6} stories {name}: {cost.calls} call(s) [{cost.operations}],"
                f" {cost.items_read} items read"
            )

    (small_costs, small_routes), (large_costs, large_routes) = results[small], results[large]
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
    ]
    notes = {
        "story": "GET /stories/s-1 (2 topics): the story, previous, next, recent, related",
        "archive.page1": f"GET /stories?date={FIRST_DAY}&limit={LIMIT}: page 1 of that day",
        "topics": "GET /topics: the topic stats partition (8 topics)",
        "news_sitemap": "GET /news-sitemap.xml: the last 48 hours (every story is older: none"
        " of them is read)",
    }
    bound = topics_read_bound()
    for name, note in notes.items():
        for what, unit in (("calls", "calls/request"), ("items_read", "items/request")):
            goal, extra = SAME, ""
            if (name, what) == ("topics", "items_read"):
                # The stats partition holds a count and at most MARKERS_KEPT + PRUNE_SLACK
                # public markers per topic: 100 stories have fewer than that (a smaller
                # reference), larger tables reach the bound and stay there.
                goal = Goal("<=", bound, on="value")
                extra = f"; bound: {len(TOPICS)} topics x (1 + markers kept) = {bound}"
            rows.append(
                compared(
                    f"dynamodb.{name}.{what}",
                    getattr(large_routes[name], what),
                    getattr(small_routes[name], what),
                    unit,
                    goal,
                    f"{note}, at {large} vs {small} stories"
                    + (" (ScannedCount)" if what == "items_read" else "")
                    + extra,
                )
            )
    # A day's page of the sitemap reads that day's stories, and nothing else.
    day_note = (
        f"GET /sitemap.xml?date={FIRST_DAY}: calls, and items read per story of that day, at"
        f" {large} stories ({stories_on_first_day(large)} that day) vs {small}"
        f" ({stories_on_first_day(small)})"
    )
    rows.append(
        compared(
            "dynamodb.sitemap.day.calls",
            large_routes["sitemap.day"].calls,
            small_routes["sitemap.day"].calls,
            "calls/request",
            SAME,
            day_note,
        )
    )
    rows.append(
        compared(
            "dynamodb.sitemap.day.items_read_per_story",
            large_routes["sitemap.day"].items_read / stories_on_first_day(large),
            small_routes["sitemap.day"].items_read / stories_on_first_day(small),
            "items/story",
            SAME,
            day_note,
        )
    )
    return rows


def stories_on_first_day(count: int) -> int:
    return sum(1 for i in range(count) if small_story(i)["published_at"].startswith(FIRST_DAY))
