"""The read API function end to end against moto: real API Gateway REST proxy events in, the
response as API Gateway hands it to the client out (status, ``multiValueHeaders``, body).

Stories are seeded through the real write paths: the items the ingest stores
(``story_item``/``topic_entries``) written with the repository or ``BatchWriteItem``, or the
ingest handler itself. DynamoDB calls are observed (and failures injected) with botocore
event hooks on the function's own client, so what is asserted is what AWS would see.
"""

import base64
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from devtools.events import apigw_event, s3_event, s3_record
from devtools.functions import LambdaContext
from newsroom.core import aws
from newsroom.core.dynamo import to_dynamo
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import story_item, topic_entries
from newsroom.stories.repository import StoryRepository
from tests.support.aws import load_function

# Every public representation, at the template's default CacheSeconds (60): browsers and the
# CDN reuse it for 60 s, then serve it stale for 60 s more while they refetch, and for a day
# while the API fails (newsroom.http.caching).
PUBLIC_CACHE = "public, max-age=60, s-maxage=60, stale-while-revalidate=60, stale-if-error=86400"

REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # apigw_event's default
HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"
BASE_URL = f"https://{HOST}/v1"
INGESTED_AT = "2025-11-01T00:00:00Z"
TOPICS = ("ai", "climate", "space", "policy")
SUMMARY_FIELDS = {"slug", "title", "excerpt", "published_at", "updated_at", "topics"}
STORY_FIELDS = {
    "slug", "title", "summary", "published_at", "updated_at", "sections", "topics", "author",
    "source",
}  # fmt: skip
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id"}


# -- seeding ----------------------------------------------------------------------------


def story(
    slug: str,
    *,
    published_at: str = "2025-10-01T08:00:00Z",
    topics: Iterable[str] = ("ai",),
    status: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A valid story object as an uploader sends it."""
    value: dict[str, Any] = {
        "slug": slug,
        "title": f"Title of {slug}",
        "summary": f"Summary of {slug}.",
        "published_at": published_at,
        "topics": list(topics),
        **fields,
    }
    if status is not None:
        value["status"] = status
    return value


def build(value: dict[str, Any]) -> dict[str, Any]:
    """The stored item of a story, exactly as the ingest builds it."""
    validated = StoryIn.model_validate(value)
    return story_item(
        validated, source_key=f"incoming/{validated.key}.json", ingested_at=INGESTED_AT
    )


def store(dynamodb: Any, table: str, *values: dict[str, Any]) -> list[dict[str, Any]]:
    """Write stories one by one through the repository, as the ingest does (updates and
    retractions included: topic entries are reconciled)."""
    repository = StoryRepository(dynamodb, table)
    items = []
    for value in values:
        item = build(value)
        result = repository.put_story(item)
        repository.sync_topic_entries(item, known_empty=result.previous is None)
        items.append(item)
    return items


def seed(dynamodb: Any, table: str, values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write many new stories fast: the same items (story + topic entries) in batches of 25."""
    items, requests = [], []
    for value in values:
        item = build(value)
        items.append(item)
        for stored in (item, *topic_entries(item).values()):
            requests.append({"PutRequest": {"Item": to_dynamo(stored)}})
    for start in range(0, len(requests), 25):
        response = dynamodb.batch_write_item(RequestItems={table: requests[start : start + 25]})
        assert not response.get("UnprocessedItems")
    return items


def newest_first(items: Iterable[dict[str, Any]], topic: str | None = None) -> list[str]:
    """Slugs of the published items (of ``topic``) in the order the API must list them."""
    listed = [
        i
        for i in items
        if i.get("status", "published") == "published" and (topic is None or topic in i["topics"])
    ]
    listed.sort(key=lambda i: (i["published_at"], i["slug"]), reverse=True)
    return [i["slug"] for i in listed]


def catalogue(published: int = 300, drafts: int = 20, retracted: int = 15) -> list[dict[str, Any]]:
    """Stories over few distinct hours (many share ``published_at``), random topics,
    slugs whose string order differs from their number order, drafts and retractions
    interleaved with the published ones."""
    rng = random.Random(20251129)
    start = datetime(2025, 9, 1, tzinfo=UTC)

    def when() -> str:
        return (start + timedelta(hours=rng.randrange(120))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def topics() -> list[str]:
        return rng.sample(TOPICS, rng.randrange(0, 4))

    values = [story(f"story-{i}", published_at=when(), topics=topics()) for i in range(published)]
    # Slugs that differ only after a shared prefix, all at one instant: "-" sorts before
    # digits and letters, and "#" (the sort key's separator) before all of them.
    tie = "2025-09-03T12:00:00Z"
    values += [story(s, published_at=tie, topics=["ai"]) for s in ("tie", "tie-1", "tie1", "tie-z")]
    values += [
        story(f"draft-{i}", published_at=when(), topics=topics() or ["ai"], status="draft")
        for i in range(drafts)
    ]
    values += [
        story(f"retracted-{i}", published_at=when(), topics=topics() or ["ai"], status="retracted")
        for i in range(retracted)
    ]
    rng.shuffle(values)
    return values


# -- calling the API --------------------------------------------------------------------


@dataclass
class Reply:
    """An API Gateway proxy response as the client sees it."""

    status: int
    headers: dict[str, str]  # lower-case names; repeated values joined with ", "
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Sends API Gateway REST proxy events to the real handler."""

    def __init__(self, module: ModuleType, context: LambdaContext) -> None:
        self.module = module
        self.context = context

    def send(self, event: dict[str, Any]) -> Reply:
        raw = self.module.handler(event, self.context)
        assert isinstance(raw["statusCode"], int)
        headers = {k.lower(): ", ".join(v) for k, v in raw["multiValueHeaders"].items()}
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        return Reply(raw["statusCode"], headers, body)

    def get(
        self,
        path: str,
        query: dict[str, str | list[str]] | None = None,
        headers: dict[str, str] | None = None,
        request_id: str = REQUEST_ID,
    ) -> Reply:
        return self.send(
            apigw_event("GET", path, query=query, headers=headers, request_id=request_id)
        )

    def story(self, slug: str, headers: dict[str, str] | None = None, **kw: Any) -> Reply:
        return self.send(story_event(slug, headers=headers, **kw))

    def stories(self, headers: dict[str, str] | None = None, **query: str | list[str]) -> Reply:
        return self.get("/stories", query=query or None, headers=headers)


def story_event(slug: str, *, method: str = "GET", **kw: Any) -> dict[str, Any]:
    return apigw_event(
        method, f"/stories/{slug}", resource="/stories/{slug}", path_parameters={"slug": slug}, **kw
    )


@pytest.fixture
def api(api_app: ModuleType, lambda_context: LambdaContext) -> Client:
    return Client(api_app, lambda_context)


def assert_problem(
    reply: Reply,
    status: int,
    *,
    request_id: str = REQUEST_ID,
    errors_at: list[list[str]] | None = None,
) -> dict[str, Any]:
    """An RFC 9457 problem document with the request's id, never cached."""
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["cache-control"] == "no-store"
    assert "etag" not in reply.headers
    document: dict[str, Any] = reply.json()
    assert set(document) == PROBLEM_FIELDS | ({"errors"} if errors_at is not None else set())
    assert document["status"] == status
    assert document["request_id"] == request_id
    assert isinstance(document["type"], str) and document["type"]
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["detail"], str) and document["detail"]
    if errors_at is not None:
        assert [e["loc"] for e in document["errors"]] == errors_at
        for error in document["errors"]:
            assert set(error) == {"loc", "msg"}
            assert isinstance(error["msg"], str) and error["msg"]
    return document


def assert_page(
    reply: Reply, *, limit: int, topic: str | None, cursor: str | None, day: str | None = None
) -> dict[str, Any]:
    """One page of Recent Stories: shape, links, Link header, caching headers."""
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == PUBLIC_CACHE
    assert re.fullmatch(r'"[0-9a-f]+"', reply.headers["etag"])
    page: dict[str, Any] = reply.json()
    assert set(page) == {"data", "meta", "links"}
    assert set(page["meta"]) == {"limit", "next_cursor"}
    assert set(page["links"]) == {"self", "next"}
    assert page["meta"]["limit"] == limit
    for summary in page["data"]:
        assert set(summary) == SUMMARY_FIELDS
    asked = {"limit": [str(limit)]}
    if topic is not None:
        asked["topic"] = [topic]
    if day is not None:
        asked["date"] = [day]
    assert_url(page["links"]["self"], {**asked, **({"cursor": [cursor]} if cursor else {})})
    next_cursor = page["meta"]["next_cursor"]
    if next_cursor is None:
        assert page["links"]["next"] is None
        assert "link" not in reply.headers
    else:
        assert len(page["data"]) == limit
        assert_url(page["links"]["next"], {**asked, "cursor": [next_cursor]})
        assert reply.headers["link"] == f'<{page["links"]["next"]}>; rel="next"'
    return page


def assert_url(link: str, query: dict[str, list[str]]) -> None:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE_URL}/stories"
    assert parse_qs(parts.query) == query


def walk(
    api: Client,
    *,
    limit: int,
    topic: str | None = None,
    day: str | None = None,
    each: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Every page of a list, following ``links.next`` the way a client would (calling
    ``each`` after every page)."""
    query: dict[str, str | list[str]] = {"limit": str(limit)}
    if topic is not None:
        query["topic"] = topic
    if day is not None:
        query["date"] = day
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        reply = api.get("/stories", query)
        if each is not None:
            each()
        page = assert_page(reply, limit=limit, topic=topic, cursor=cursor, day=day)
        pages.append(page)
        if page["links"]["next"] is None:
            return pages
        assert len(pages) < 1000, "the walk does not end"
        query = {k: v[0] for k, v in parse_qs(urlsplit(page["links"]["next"]).query).items()}
        cursor = page["meta"]["next_cursor"]


def slugs_of(pages: list[dict[str, Any]]) -> list[str]:
    return [summary["slug"] for page in pages for summary in page["data"]]


# -- observing DynamoDB -----------------------------------------------------------------


NEXT_PUBLICATION = "feed_pk = :feed AND feed_sk > :until"


class DynamoCalls:
    """Every call the function's DynamoDB client makes (operation, parameters) and the
    ``ScannedCount`` of every ``Query`` response."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.scanned: list[int] = []
        client.meta.events.register("provide-client-params.dynamodb", self._on_call)
        client.meta.events.register("after-call.dynamodb.Query", self._on_query)

    def _on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def _on_query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned.append(parsed["ScannedCount"])

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def clear(self) -> None:
        self.calls.clear()
        self.scanned.clear()

    def drop_next_publication(self) -> None:
        """Check that the request asked once when the next scheduled story becomes public
        (every public representation's lifetime ends then: one Query reading at most one
        entry of the feed index above the public bound), and forget that call."""
        queries = [params for name, params in self.calls if name == "Query"]
        found = [
            n for n, params in enumerate(queries)
            if params["KeyConditionExpression"] == NEXT_PUBLICATION
        ]  # fmt: skip
        assert len(found) == 1, self.calls
        params = queries[found[0]]
        assert params["IndexName"] == "feed" and params["Limit"] == 1
        assert params["ScanIndexForward"] is True
        assert self.scanned.pop(found[0]) <= 1
        self.calls.remove(("Query", params))


def dynamo_client(api_app: ModuleType) -> Any:
    return api_app.dynamodb


@pytest.fixture
def calls(api_app: ModuleType) -> DynamoCalls:
    return DynamoCalls(dynamo_client(api_app))


def fail_dynamodb(api_app: ModuleType, error: BaseException) -> None:
    """Make every DynamoDB call of the function raise ``error`` (before anything is sent)."""

    def hook(**_: Any) -> None:
        raise error

    dynamo_client(api_app).meta.events.register("before-call.dynamodb", hook)


def client_error(code: str, http_status: int, operation: str = "Query") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} raised by the test"},
            # botocore-stubs require every ResponseMetadata key; ClientError needs none
            "ResponseMetadata": {"HTTPStatusCode": http_status},  # type: ignore[typeddict-item]
        },
        operation,
    )


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def few(dynamodb: Any, stories_table: str) -> list[dict[str, Any]]:
    """A handful of stories written through the repository: published, draft, retracted."""
    return store(
        dynamodb,
        stories_table,
        story(
            "first-story",
            published_at="2025-10-20T09:00:00Z",
            topics=["ai", "space"],
            author="Ada Reporter",
            source={"name": "Wire", "url": "https://wire.example/a?b=c"},
            sections=[
                {"heading": "What happened", "body": "Things.", "bullets": ["One", "Two"]},
                {"heading": "Why it matters", "bullets": ["Because"]},
            ],
        ),
        story("second-story", published_at="2025-10-19T09:00:00Z", topics=["climate"]),
        story("third-story", published_at="2025-10-18T09:00:00Z"),
        story("unfinished", published_at="2025-10-21T09:00:00Z", status="draft"),
        story("withdrawn", published_at="2025-10-22T09:00:00Z", status="retracted"),
    )


@pytest.fixture
def three_hundred(dynamodb: Any, stories_table: str) -> list[dict[str, Any]]:
    return seed(dynamodb, stories_table, catalogue())


@pytest.fixture
def sixty(dynamodb: Any, stories_table: str) -> list[dict[str, Any]]:
    return seed(dynamodb, stories_table, catalogue(published=60, drafts=5, retracted=5))


# -- Recent Stories ---------------------------------------------------------------------


def test_list_default_page_is_the_ten_newest_published_stories(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    items = seed(
        dynamodb,
        stories_table,
        [story(f"s-{i}", published_at=f"2025-10-{i + 1:02d}T08:00:00Z") for i in range(15)]
        + [story("newest-draft", published_at="2025-11-01T00:00:00Z", status="draft")]
        + [story("newest-retracted", published_at="2025-11-02T00:00:00Z", status="retracted")],
    )

    page = assert_page(api.stories(), limit=10, topic=None, cursor=None)

    assert [s["slug"] for s in page["data"]] == newest_first(items)[:10]
    assert page["data"][0]["slug"] == "s-14"
    assert page["meta"]["next_cursor"]
    assert page["links"]["self"] == f"{BASE_URL}/stories?limit=10"


def test_list_summary_has_exactly_the_summary_fields(
    api: Client, few: list[dict[str, Any]]
) -> None:
    page = assert_page(api.stories(), limit=10, topic=None, cursor=None)

    first = page["data"][0]
    assert first == {
        "slug": "first-story",
        "title": "Title of first-story",
        "excerpt": "Summary of first-story.",
        "published_at": "2025-10-20T09:00:00Z",
        "updated_at": "2025-10-20T09:00:00Z",
        "topics": ["ai", "space"],
    }
    assert [s["slug"] for s in page["data"]] == ["first-story", "second-story", "third-story"]
    assert page["meta"]["next_cursor"] is None


def test_list_timestamps_are_utc_in_the_stored_format(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    store(
        dynamodb,
        stories_table,
        story(
            "offset",
            published_at="2025-10-17T09:30:00.123-04:00",
            updated_at="2025-10-18T00:00:00+02:00",
        ),
    )

    (summary,) = api.stories().json()["data"]

    assert summary["published_at"] == "2025-10-17T13:30:00Z"
    assert summary["updated_at"] == "2025-10-17T22:00:00Z"


def _words(count: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(count))


EXCERPT_CASES = {
    "short": "A short summary.",
    "exactly-280": ("x" * 279) + ".",
    "long-words": _words(120),
    "whitespace-runs": "Lots   of\n\nspace\t" + _words(100),
    "one-huge-word": "y" * 600,
    "punctuation-at-cut": ", ".join(["abcdefghi"] * 60),
}


def test_list_excerpt_is_cut_at_a_word_boundary_with_ellipsis_only_when_cut(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    seed(dynamodb, stories_table, [story(k, summary=v) for k, v in EXCERPT_CASES.items()])

    excerpts = {s["slug"]: s["excerpt"] for s in api.stories(limit="50").json()["data"]}

    for slug, summary in EXCERPT_CASES.items():
        text = " ".join(summary.split())
        excerpt = excerpts[slug]
        assert len(excerpt) <= 280, slug
        if len(text) <= 280:
            assert excerpt == text, slug
            continue
        assert excerpt.endswith("…"), slug
        head = excerpt.removesuffix("…")
        assert "…" not in head and text.startswith(head), slug
        if " " in text[:280]:  # cut between words, never inside one
            assert not text[len(head)].isalnum(), slug
            assert head[-1].isalnum(), slug  # no dangling punctuation before the ellipsis
    assert excerpts["one-huge-word"] == "y" * 279 + "…"


def test_list_ties_on_published_at_are_broken_by_slug_descending(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    same = "2025-10-01T08:00:00Z"
    slugs = ["b", "a", "a-b", "ab", "a1", "a-a", "z", "0", "9-z", "a-b-c"]
    seed(dynamodb, stories_table, [story(s, published_at=same) for s in slugs])
    seed(dynamodb, stories_table, [story("later", published_at="2025-10-01T08:00:01Z")])

    by_three = slugs_of(walk(api, limit=3))

    assert by_three == ["later", *sorted(slugs, reverse=True)]
    assert slugs_of(walk(api, limit=50)) == by_three


@pytest.mark.parametrize("limit", [7, 50])
def test_list_cursor_walk_returns_every_published_story_once_in_order(
    api: Client, three_hundred: list[dict[str, Any]], limit: int
) -> None:
    pages = walk(api, limit=limit)

    expected = newest_first(three_hundred)
    assert len(expected) == 304
    assert slugs_of(pages) == expected  # each exactly once, newest first, ties by slug
    assert len(pages) == -(-len(expected) // limit)
    assert all(len(p["data"]) == limit for p in pages[:-1])
    assert 1 <= len(pages[-1]["data"]) <= limit  # no empty last page
    assert pages[-1]["meta"]["next_cursor"] is None
    assert not any(s.startswith(("draft-", "retracted-")) for s in slugs_of(pages))


@pytest.mark.parametrize("topic", TOPICS)
def test_list_topic_walk_returns_only_that_topics_published_stories(
    api: Client, three_hundred: list[dict[str, Any]], topic: str
) -> None:
    pages = walk(api, limit=7, topic=topic)

    expected = newest_first(three_hundred, topic)
    assert len(expected) > 20
    assert slugs_of(pages) == expected
    assert all(topic in s["topics"] for p in pages for s in p["data"])
    assert pages[-1]["data"] and pages[-1]["meta"]["next_cursor"] is None


def test_list_with_exactly_limit_stories_has_no_next_page(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    assert assert_page(api.stories(limit="5"), limit=5, topic=None, cursor=None)["data"] == []

    seed(
        dynamodb,
        stories_table,
        [story(f"s-{i}", published_at=f"2025-10-0{i + 1}T08:00:00Z") for i in range(5)],
    )
    single = assert_page(api.stories(limit="5"), limit=5, topic=None, cursor=None)
    assert len(single["data"]) == 5 and single["meta"]["next_cursor"] is None

    seed(
        dynamodb,
        stories_table,
        [story(f"t-{i}", published_at=f"2025-09-0{i + 1}T08:00:00Z") for i in range(5)],
    )
    pages = walk(api, limit=5)
    assert [len(p["data"]) for p in pages] == [5, 5]


def test_list_links_next_carries_the_cursor_and_keeps_limit_and_topic(
    api: Client, three_hundred: list[dict[str, Any]]
) -> None:
    reply = api.stories(limit="3", topic="space", ignored="cache-buster")

    page = assert_page(reply, limit=3, topic="space", cursor=None)
    cursor = page["meta"]["next_cursor"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert parse_qs(urlsplit(page["links"]["next"]).query) == {
        "limit": ["3"],
        "topic": ["space"],
        "cursor": [cursor],
    }
    second = assert_page(
        api.stories(limit="3", topic="space", cursor=cursor), limit=3, topic="space", cursor=cursor
    )
    assert slugs_of([page, second]) == newest_first(three_hundred, "space")[:6]


def test_list_cursor_can_be_followed_with_another_limit(
    api: Client, three_hundred: list[dict[str, Any]]
) -> None:
    first = api.stories(limit="5").json()

    rest = api.stories(limit="9", cursor=first["meta"]["next_cursor"]).json()

    assert [s["slug"] for s in rest["data"]] == newest_first(three_hundred)[5:14]


def test_list_walk_is_stable_when_stories_change_mid_walk(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    values = [story(f"s-{i:02d}", published_at=f"2025-10-{i + 1:02d}T08:00:00Z") for i in range(20)]
    seed(dynamodb, stories_table, values)
    first = api.stories(limit="5").json()
    assert [s["slug"] for s in first["data"]] == ["s-19", "s-18", "s-17", "s-16", "s-15"]

    # A newer story arrives and the last story shown is retracted: keyset cursors hold.
    store(
        dynamodb,
        stories_table,
        story("breaking", published_at="2025-10-30T08:00:00Z"),
        {**values[15], "status": "retracted", "updated_at": "2025-11-01T00:00:00Z"},
    )
    rest = api.stories(limit="50", cursor=first["meta"]["next_cursor"]).json()

    assert [s["slug"] for s in rest["data"]] == [f"s-{i:02d}" for i in range(14, -1, -1)]


def test_list_of_an_unknown_topic_is_an_empty_page(api: Client, few: list[dict[str, Any]]) -> None:
    page = assert_page(
        api.stories(topic="no-such-topic"), limit=10, topic="no-such-topic", cursor=None
    )

    assert page["data"] == [] and page["meta"]["next_cursor"] is None


@pytest.mark.parametrize(
    "limit",
    [
        "0",
        "-1",
        "51",
        "1e9",
        "abc",
        "",
        " 5",
        "5.0",
        "+5",
        "0x10",
        "9999999999",
        "\uff11\uff10",  # fullwidth digits: int() would take them
        "\u0665",  # Arabic-Indic five
        ["5", "5"],
    ],
)
def test_list_invalid_limit_is_a_400_problem(
    api: Client, calls: DynamoCalls, limit: str | list[str]
) -> None:
    assert_problem(api.stories(limit=limit), 400, errors_at=[["query", "limit"]])
    assert calls.operations == []


@pytest.mark.parametrize(
    "topic", ["AI", "a b", "a_b", "-ai", "ai-", "a--i", "x" * 97, "ai\n", ["ai", "space"]]
)
def test_list_invalid_topic_is_a_400_problem(
    api: Client, calls: DynamoCalls, topic: str | list[str]
) -> None:
    assert_problem(api.stories(topic=topic), 400, errors_at=[["query", "topic"]])
    assert calls.operations == []


def test_list_reports_every_invalid_parameter_at_once(api: Client) -> None:
    reply = api.stories(limit="0", cursor="!", topic="Bad Topic")

    document = assert_problem(
        reply, 400, errors_at=[["query", "limit"], ["query", "cursor"], ["query", "topic"]]
    )
    assert document["type"] == "https://signal-noise.example/problems/invalid-parameters"


@pytest.mark.parametrize("limit", ["1", "50", "007"])
def test_list_limit_bounds_are_accepted(
    api: Client, sixty: list[dict[str, Any]], limit: str
) -> None:
    page = assert_page(api.stories(limit=limit), limit=int(limit), topic=None, cursor=None)

    assert len(page["data"]) == int(limit)


# -- one story --------------------------------------------------------------------------


def test_story_is_returned_with_every_contract_field_and_nothing_else(
    api: Client, few: list[dict[str, Any]]
) -> None:
    reply = api.story("first-story")

    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    document = reply.json()
    assert set(document) == {"data", "related", "previous", "next", "recent"}
    assert set(document["data"]) == STORY_FIELDS
    assert document["data"] == {
        "slug": "first-story",
        "title": "Title of first-story",
        "summary": "Summary of first-story.",
        "published_at": "2025-10-20T09:00:00Z",
        "updated_at": "2025-10-20T09:00:00Z",
        "sections": [
            {"heading": "What happened", "body": "Things.", "bullets": ["One", "Two"]},
            {"heading": "Why it matters", "bullets": ["Because"]},
        ],
        "topics": ["ai", "space"],
        "author": "Ada Reporter",
        "source": {"name": "Wire", "url": "https://wire.example/a?b=c"},
    }
    around = [*document["related"], *document["recent"], document["previous"], document["next"]]
    assert all(set(summary) == SUMMARY_FIELDS for summary in around if summary is not None)
    for internal in ("pk", "sk", "feed_pk", "feed_sk", "content_hash", "status",
                     "ingested_at", "source_key"):  # fmt: skip
        assert f'"{internal}"' not in reply.body


def test_story_without_optional_fields_has_them_empty(
    api: Client, few: list[dict[str, Any]]
) -> None:
    data = api.story("third-story").json()["data"]

    assert set(data) == STORY_FIELDS
    assert data["sections"] == [] and data["author"] is None and data["source"] is None


def test_unknown_story_is_a_404_problem(api: Client, few: list[dict[str, Any]]) -> None:
    document = assert_problem(
        api.story("no-such-story", request_id="req-unknown"), 404, request_id="req-unknown"
    )

    assert document["title"] == "Not Found"


def test_draft_story_is_a_404_problem(api: Client, few: list[dict[str, Any]]) -> None:
    assert_problem(api.story("unfinished"), 404)


def test_retracted_story_is_a_410_problem(api: Client, few: list[dict[str, Any]]) -> None:
    document = assert_problem(api.story("withdrawn"), 410)

    assert document["title"] == "Gone"


def test_retracting_a_published_story_removes_it_from_lists_and_feeds(
    api: Client, dynamodb: Any, stories_table: str, few: list[dict[str, Any]]
) -> None:
    assert api.story("second-story").status == 200
    assert "second-story" in slugs_of(walk(api, limit=2, topic="climate"))

    store(
        dynamodb,
        stories_table,
        story(
            "second-story",
            published_at="2025-10-19T09:00:00Z",
            updated_at="2025-10-25T09:00:00Z",
            topics=["climate"],
            status="retracted",
        ),
    )

    assert_problem(api.story("second-story"), 410)
    assert slugs_of(walk(api, limit=2)) == ["first-story", "third-story"]
    assert slugs_of(walk(api, limit=2, topic="climate")) == []
    assert "second-story" not in api.get("/feed.json").body
    assert "second-story" not in api.get("/feed.xml").body


@pytest.mark.parametrize(
    "slug",
    [
        "First-Story",
        "FIRST-STORY",
        "..%2F",
        "..%2Fetc%2Fpasswd",
        "%2e%2e",
        "first-story%00",
        "a" * 97,
        "first-story-" + "x" * 90,
        "\U0001f600",
        "caf\u00e9",
        "a--b",
        "-a",
        "a-",
        "a_b",
        "a.json",
        " first-story",
        "story#first-story",
    ],
)
def test_malformed_slug_is_a_400_or_404_problem_never_5xx(
    api: Client, calls: DynamoCalls, few: list[dict[str, Any]], slug: str
) -> None:
    reply = api.story(slug)

    assert reply.status in (400, 404), reply.body
    assert_problem(
        reply, reply.status, errors_at=[["path", "slug"]] if reply.status == 400 else None
    )
    assert calls.operations == []  # nothing malformed reaches DynamoDB


def test_longest_valid_slug_is_looked_up(api: Client, calls: DynamoCalls) -> None:
    assert_problem(api.story("a" * 96), 404)

    assert calls.operations == ["GetItem"]


# -- feeds ------------------------------------------------------------------------------


@pytest.fixture
def twenty_five(dynamodb: Any, stories_table: str) -> list[dict[str, Any]]:
    """25 published stories (two at the same instant) and newer drafts and retractions."""
    values = [
        story(
            f"s-{i:02d}",
            published_at=f"2025-10-{i + 1:02d}T08:00:00Z",
            topics=["ai", "space"][: i % 3],
        )
        for i in range(24)
    ]
    values.append(story("s-23-b", published_at="2025-10-24T08:00:00Z", topics=[]))
    values += [
        story(f"draft-{i}", published_at=f"2025-11-0{i + 1}T00:00:00Z", status="draft")
        for i in range(3)
    ]
    values += [
        story(f"gone-{i}", published_at=f"2025-11-0{i + 1}T00:00:00Z", status="retracted")
        for i in range(2)
    ]
    return seed(dynamodb, stories_table, values)


def test_json_feed_lists_the_20_newest_published_stories(
    api: Client, twenty_five: list[dict[str, Any]]
) -> None:
    reply = api.get("/feed.json")

    assert reply.status == 200
    assert reply.headers["content-type"] == "application/feed+json"
    feed = reply.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"]
    assert feed["feed_url"] == f"{BASE_URL}/feed.json"
    assert feed["home_page_url"] == "https://signal-noise.example/"
    by_slug = {i["slug"]: i for i in twenty_five}
    assert [item["id"] for item in feed["items"]] == newest_first(twenty_five)[:20]
    for item in feed["items"]:
        stored = by_slug[item["id"]]
        assert {"id", "url", "title", "content_text", "date_published"} <= set(item)
        assert item["url"] == f"https://signal-noise.example/stories/{item['id']}"
        assert item["title"] == stored["title"]
        assert item["content_text"] == stored["excerpt"]
        assert item["date_published"] == stored["published_at"]


def test_rss_feed_lists_the_20_newest_published_stories_and_parses(
    api: Client, twenty_five: list[dict[str, Any]]
) -> None:
    reply = api.get("/feed.xml")

    assert reply.status == 200
    assert reply.headers["content-type"] == "application/rss+xml"
    rss = ET.fromstring(reply.body.encode())
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("./channel/item")
    by_slug = {i["slug"]: i for i in twenty_five}
    assert [i.findtext("guid") for i in items] == newest_first(twenty_five)[:20]
    for item in items:
        stored = by_slug[item.findtext("guid")]
        assert item.findtext("title") == stored["title"]
        assert item.findtext("link") == f"https://signal-noise.example/stories/{stored['slug']}"
        assert item.findtext("description") == stored["excerpt"]
        pub_date = item.findtext("pubDate")
        assert pub_date is not None
        published = parsedate_to_datetime(pub_date)
        assert published.strftime("%Y-%m-%dT%H:%M:%SZ") == stored["published_at"]
        assert [c.text for c in item.findall("category")] == stored["topics"]
    self_link = rss.find("./channel/{http://www.w3.org/2005/Atom}link")
    assert self_link is not None and self_link.get("href") == f"{BASE_URL}/feed.xml"


MARKUP_TITLE = 'Researchers warn that <script>alert("x")</script> & <img src=x onerror=1> slip past'


def test_rss_feed_escapes_markup_in_story_text(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    store(
        dynamodb,
        stories_table,
        story("markup", title=MARKUP_TITLE, summary="]]> <![CDATA[ <b>bold</b> &amp; done"),
    )

    reply = api.get("/feed.xml")

    assert "<script>" not in reply.body and "<img" not in reply.body and "<b>" not in reply.body
    (item,) = ET.fromstring(reply.body.encode()).findall("./channel/item")
    assert item.findtext("title") == MARKUP_TITLE
    assert item.findtext("description") == "]]> <![CDATA[ <b>bold</b> &amp; done"
    assert api.get("/feed.json").json()["items"][0]["title"] == MARKUP_TITLE


def test_rss_feed_stays_well_formed_with_characters_xml_cannot_carry(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    # Plain-text JSON strings may hold control characters; XML 1.0 cannot, even escaped.
    store(
        dynamodb,
        stories_table,
        story(
            "controls", title="Bell\x07 and\x0b tab\tstop \x1b[0m", summary="Null\x00 byte \ufffe."
        ),
    )

    reply = api.get("/feed.xml")

    assert reply.status == 200
    (item,) = ET.fromstring(reply.body.encode()).findall("./channel/item")
    assert item.findtext("title") == "Bell and tab\tstop [0m"
    assert api.get("/feed.json").json()["items"][0]["title"] == "Bell\x07 and\x0b tab\tstop \x1b[0m"


def test_feeds_of_an_empty_table_are_valid_and_empty(api: Client, stories_table: str) -> None:
    assert api.get("/feed.json").json()["items"] == []
    rss = ET.fromstring(api.get("/feed.xml").body.encode())
    assert rss.findall("./channel/item") == []


# -- the daily archive -----------------------------------------------------------------


def days_around(day: str) -> list[dict[str, Any]]:
    """Stories on ``day`` (UTC), at its first and last second included, and on the days
    either side of it, topics ai / space alternating; a draft and a retraction on ``day``."""
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    after = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    values = [
        story(f"on-{i:02d}", published_at=f"{day}T{i:02d}:30:00Z", topics=[("ai", "space")[i % 2]])
        for i in range(24)
    ]
    values += [
        story("first-second", published_at=f"{day}T00:00:00Z"),
        story("last-second", published_at=f"{day}T23:59:59Z"),
        story("the-day-before", published_at=f"{before}T23:59:59Z"),
        story("the-day-after", published_at=f"{after}T00:00:00Z"),
        story("a-draft-that-day", published_at=f"{day}T12:00:00Z", status="draft"),
        story("retracted-that-day", published_at=f"{day}T12:00:00Z", status="retracted"),
    ]
    return values


def on_day(items: list[dict[str, Any]], day: str, topic: str | None = None) -> list[str]:
    return [
        slug
        for slug in newest_first(items, topic)
        if next(i for i in items if i["slug"] == slug)["published_at"].startswith(day)
    ]


def test_the_archive_of_a_day_is_that_utc_days_published_stories_newest_first(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    items = seed(dynamodb, stories_table, days_around("2025-10-22"))

    pages = walk(api, limit=7, day="2025-10-22")

    assert slugs_of(pages) == on_day(items, "2025-10-22")
    assert len(slugs_of(pages)) == 26  # 24 + its first and last second; no draft, no retraction
    assert "the-day-before" not in slugs_of(pages) and "the-day-after" not in slugs_of(pages)


def test_the_archive_combines_with_a_topic(api: Client, dynamodb: Any, stories_table: str) -> None:
    items = seed(dynamodb, stories_table, days_around("2025-10-22"))

    pages = walk(api, limit=5, topic="space", day="2025-10-22")

    assert slugs_of(pages) == on_day(items, "2025-10-22", "space")
    assert all("space" in s["topics"] for p in pages for s in p["data"])


def test_a_day_without_stories_is_an_empty_page(api: Client, few: list[dict[str, Any]]) -> None:
    page = assert_page(
        api.stories(date="1999-01-01"), limit=10, topic=None, cursor=None, day="1999-01-01"
    )
    assert page["data"] == [] and page["meta"]["next_cursor"] is None


def test_each_archive_page_is_one_query_reading_only_that_day(
    api: Client, dynamodb: Any, stories_table: str, calls: DynamoCalls
) -> None:
    seed(dynamodb, stories_table, days_around("2025-10-22") + days_around("2025-10-25"))
    calls.clear()

    pages = walk(api, limit=10, day="2025-10-22", each=calls.drop_next_publication)

    assert calls.operations == ["Query"] * len(pages)
    for (_, params), scanned in zip(calls.calls, calls.scanned, strict=True):
        assert params["KeyConditionExpression"] == (
            "feed_pk = :feed AND feed_sk BETWEEN :first AND :last"
        )
        values = params["ExpressionAttributeValues"]
        assert values[":first"] == {"S": "2025-10-22T"} and values[":last"] == {"S": "2025-10-22U"}
        assert scanned <= 11  # the page and one more, whatever else the table holds


def test_a_cursor_from_another_days_archive_is_refused(
    api: Client, dynamodb: Any, stories_table: str
) -> None:
    seed(dynamodb, stories_table, days_around("2025-10-22") + days_around("2025-10-25"))
    other = api.stories(limit="5", date="2025-10-25").json()["meta"]["next_cursor"]

    reply = api.stories(limit="5", date="2025-10-22", cursor=other)

    document = assert_problem(reply, 400, errors_at=[["query", "cursor"]])
    assert document["errors"][0]["msg"] == "the cursor is not a position in this day's list"


def test_an_invalid_date_is_a_400_problem_naming_the_parameter(
    api: Client, few: list[dict[str, Any]]
) -> None:
    document = assert_problem(api.stories(date="2025-02-30"), 400, errors_at=[["query", "date"]])
    assert document["errors"][0]["msg"] == "must be a calendar date"


# -- OpenAPI and docs -------------------------------------------------------------------


def test_openapi_document_describes_every_public_route(api: Client) -> None:
    reply = api.get("/openapi.json")

    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    document = reply.json()
    assert document["openapi"].startswith("3.")
    assert {"/stories", "/stories/{slug}", "/feed.json", "/feed.xml"} <= set(document["paths"])
    assert "/docs" not in document["paths"]
    parameters = document["paths"]["/stories"]["get"]["parameters"]
    assert {p["name"] for p in parameters if p["in"] == "query"} == {
        "date",
        "limit",
        "cursor",
        "topic",
    }


def test_docs_are_a_404_problem_by_default(api: Client) -> None:
    assert_problem(api.get("/docs"), 404)


def test_docs_are_served_as_html_when_enabled(
    stories_table: str, monkeypatch: pytest.MonkeyPatch, lambda_context: LambdaContext
) -> None:
    module = load_function(
        "api",
        "ApiFunction",
        {"STORIES_TABLE": stories_table, "ENABLE_API_DOCS": "true"},
        monkeypatch,
    )

    reply = Client(module, lambda_context).get("/docs")

    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "<html" in reply.body.lower() and "openapi.json" in reply.body


# -- cursors ----------------------------------------------------------------------------


def signed(payload: bytes) -> str:
    """A cursor in the API's format (base64url of payload + 8 bytes of its SHA-256)."""
    raw = payload + hashlib.sha256(payload).digest()[:8]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fields(**overrides: Any) -> bytes:
    data = {"v": 1, "f": "feed", "p": "2025-09-03T12:00:00Z", "s": "story-1", **overrides}
    return json.dumps(
        {k: v for k, v in data.items() if v is not ...}, separators=(",", ":")
    ).encode()


def respelled() -> str:
    """A valid cursor spelled with non-zero padding bits in its last character: base64
    decoders ignore those bits, so it is a tampered cursor that decodes to valid bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for slug in ("story-1", "story-10", "story-100"):
        cursor = signed(fields(s=slug))
        if len(cursor) % 4:  # the last character carries 2 or 4 padding bits
            last = alphabet[alphabet.index(cursor[-1]) | 1]
            tampered = cursor[:-1] + last
            pad = "=" * (-len(cursor) % 4)
            assert base64.urlsafe_b64decode(tampered + pad) == base64.urlsafe_b64decode(
                cursor + pad
            )
            return tampered
    raise AssertionError("no cursor length with padding bits")


def flip(cursor: str, at: int) -> str:
    swapped = "B" if cursor[at] != "B" else "C"
    return cursor[:at] + swapped + cursor[at + 1 :]


# Each case: how to make the bad cursor from the real ones, and the topic it is sent with.
BAD_CURSORS: dict[str, tuple[Callable[[dict[str, str]], str], str | None]] = {
    "tampered-start": (lambda c: flip(c["feed"], 3), None),
    "tampered-middle": (lambda c: flip(c["feed"], len(c["feed"]) // 2), None),
    "tampered-check": (lambda c: flip(c["feed"], len(c["feed"]) - 3), None),
    "truncated-by-one": (lambda c: c["feed"][:-1], None),
    "truncated-by-four": (lambda c: c["feed"][:-4], None),
    "truncated-to-half": (lambda c: c["feed"][: len(c["feed"]) // 2], None),
    "padding-bits-set": (lambda c: respelled(), None),
    "extended": (lambda c: c["feed"] + "AAAA", None),
    "random-base64": (
        lambda c: base64.urlsafe_b64encode(random.Random(1).randbytes(60)).rstrip(b"=").decode(),
        None,
    ),
    "one-char": (lambda c: "A", None),
    "empty": (lambda c: "", None),
    "from-another-topic": (lambda c: c["ai"], "space"),
    "topic-cursor-without-topic": (lambda c: c["ai"], None),
    "feed-cursor-with-topic": (lambda c: c["feed"], "ai"),
    "oversized": (lambda c: "A" * 5000, None),
    "just-over-the-limit": (lambda c: signed(fields(s="a" * 300))[:401], None),
    "plus-slash": (lambda c: c["feed"][:10] + "+/" + c["feed"][12:], None),
    "padding-equals": (lambda c: c["feed"] + "==", None),
    "percent": (lambda c: "%00" + c["feed"], None),
    "space": (lambda c: c["feed"][:5] + " " + c["feed"][5:], None),
    "non-ascii": (lambda c: c["feed"][:5] + "é" + c["feed"][6:], None),
    "slug-path-traversal": (lambda c: signed(fields(s="../../etc/passwd")), None),
    "slug-uppercase": (lambda c: signed(fields(s="Story-1")), None),
    "slug-too-long": (lambda c: signed(fields(s="a" * 97)), None),
    "slug-trailing-newline": (lambda c: signed(fields(s="story-1\n")), None),
    "slug-with-hash": (lambda c: signed(fields(s="story-1#x")), None),
    "slug-not-a-string": (lambda c: signed(fields(s=["story-1"])), None),
    "slug-empty": (lambda c: signed(fields(s="")), None),
    "time-not-a-time": (lambda c: signed(fields(p="yesterday")), None),
    "time-with-offset": (lambda c: signed(fields(p="2025-09-03T12:00:00+02:00")), None),
    "time-trailing-newline": (lambda c: signed(fields(p="2025-09-03T12:00:00Z\n")), None),
    "time-impossible-date": (lambda c: signed(fields(p="2025-13-45T25:61:61Z")), None),
    "time-a-number": (lambda c: signed(fields(p=1756900800)), None),
    "version-2": (lambda c: signed(fields(v=2)), None),
    "version-true": (lambda c: signed(fields(v=True)), None),
    "feed-other": (lambda c: signed(fields(f="topic#ai")), None),
    "feed-missing": (lambda c: signed(fields(f=...)), None),
    "extra-field": (lambda c: signed(fields(x="y")), None),
    "json-list": (lambda c: signed(b'[1,"feed","2025-09-03T12:00:00Z","story-1"]'), None),
    "json-invalid": (lambda c: signed(b'{"v":1,'), None),
    "not-utf8": (lambda c: signed(b"\xff\xfe\xfd\xfc"), None),
    "empty-payload": (lambda c: signed(b""), None),
}


@pytest.mark.parametrize("case", BAD_CURSORS, ids=list(BAD_CURSORS))
def test_invalid_cursor_is_a_400_problem_and_never_reaches_dynamodb(
    api: Client, sixty: list[dict[str, Any]], api_app: ModuleType, case: str
) -> None:
    real = {
        "feed": api.stories(limit="5").json()["meta"]["next_cursor"],
        "ai": api.stories(limit="5", topic="ai").json()["meta"]["next_cursor"],
    }
    make, topic = BAD_CURSORS[case]
    cursor = make(real)
    calls = DynamoCalls(dynamo_client(api_app))

    query: dict[str, str | list[str]] = {
        "limit": "5",
        "cursor": cursor,
        **({"topic": topic} if topic else {}),
    }
    reply = api.get("/stories", query, request_id=f"req-{case}")

    assert_problem(reply, 400, request_id=f"req-{case}", errors_at=[["query", "cursor"]])
    assert calls.operations == []


def test_hand_made_cursor_in_the_api_format_is_accepted(
    api: Client, three_hundred: list[dict[str, Any]]
) -> None:
    # The check proves integrity, not authorship: a well-formed position is just a position.
    slugs = newest_first(three_hundred)
    stored = {i["slug"]: i for i in three_hundred}
    anchor = stored[slugs[99]]

    cursor = signed(fields(p=anchor["published_at"], s=anchor["slug"]))
    page = api.stories(limit="5", cursor=cursor).json()

    assert [s["slug"] for s in page["data"]] == slugs[100:105]


def test_cursor_keys_handed_to_dynamodb_are_rebuilt_from_validated_fields(
    api: Client, three_hundred: list[dict[str, Any]], calls: DynamoCalls
) -> None:
    first = api.stories(limit="4", topic="ai").json()
    last = first["data"][-1]
    calls.clear()

    api.stories(limit="4", topic="ai", cursor=first["meta"]["next_cursor"])

    calls.drop_next_publication()
    ((operation, params),) = calls.calls
    assert operation == "Query"
    assert params["ExclusiveStartKey"] == {
        "feed_pk": {"S": "topic#ai"},
        "feed_sk": {"S": f"{last['published_at']}#{last['slug']}"},
        "pk": {"S": f"story#{last['slug']}"},
        "sk": {"S": "topic#ai"},
    }


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/stories/a/b"),
        ("GET", "/feed.atom"),
        ("GET", "/"),
        ("POST", "/stories"),
        ("DELETE", "/stories/first-story"),
    ],
)
def test_unknown_route_is_a_404_problem(
    api: Client, calls: DynamoCalls, method: str, path: str
) -> None:
    reply = api.send(apigw_event(method, path, request_id="req-404"))

    assert_problem(reply, 404, request_id="req-404")
    assert calls.operations == []


def _list_event() -> dict[str, Any]:
    return apigw_event("GET", "/stories", request_id="req-err")


def _story_event() -> dict[str, Any]:
    return story_event("first-story", request_id="req-err")


def _feed_event() -> dict[str, Any]:
    return apigw_event("GET", "/feed.xml", request_id="req-err")


DATA_ROUTES = {"list": _list_event, "story": _story_event, "feed": _feed_event}

TRANSIENT: dict[str, Callable[[], BaseException]] = {
    "throttled": lambda: client_error("ProvisionedThroughputExceededException", 400),
    "throttling": lambda: client_error("ThrottlingException", 400),
    "request-limit": lambda: client_error("RequestLimitExceeded", 400),
    "internal-server-error": lambda: client_error("InternalServerError", 500),
    "service-unavailable": lambda: client_error("ServiceUnavailable", 503),
    "any-5xx": lambda: client_error("SomethingNew", 502),
    "connection": lambda: EndpointConnectionError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
    ),
    "read-timeout": lambda: ReadTimeoutError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
    ),
}


@pytest.mark.parametrize("route", DATA_ROUTES)
@pytest.mark.parametrize("failure", TRANSIENT)
def test_dynamodb_unavailable_is_a_503_with_retry_after(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]], route: str, failure: str
) -> None:
    fail_dynamodb(api_app, TRANSIENT[failure]())

    reply = api.send(DATA_ROUTES[route]())

    assert_problem(reply, 503, request_id="req-err")
    assert reply.headers["retry-after"].isdigit() and int(reply.headers["retry-after"]) >= 1


UNEXPECTED: dict[str, Callable[[], BaseException]] = {
    "runtime-error": lambda: RuntimeError("boom in /opt/python/newsroom/secret.py line 42"),
    "key-error": lambda: KeyError("secret_column"),
    "access-denied": lambda: client_error("AccessDeniedException", 400),
    "validation": lambda: client_error("ValidationException", 400),
    "resource-not-found": lambda: client_error("ResourceNotFoundException", 400),
}
LEAKS = (
    "Traceback", "File \"", ".py", "/opt/", "/var/task", "line 42", "boom", "secret",
    "RuntimeError", "KeyError", "ClientError", "AccessDenied", "ValidationException",
    "ResourceNotFound", "raised by the test", "botocore", "newsroom", "stories-test",
)  # fmt: skip


@pytest.mark.parametrize("route", DATA_ROUTES)
@pytest.mark.parametrize("failure", UNEXPECTED)
def test_unexpected_error_is_a_500_problem_without_internals(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]], route: str, failure: str
) -> None:
    fail_dynamodb(api_app, UNEXPECTED[failure]())

    reply = api.send(DATA_ROUTES[route]())

    assert_problem(reply, 500, request_id="req-err")
    assert "retry-after" not in reply.headers
    for leak in LEAKS:
        assert leak not in reply.body, leak


def test_the_function_recovers_after_an_error(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]]
) -> None:
    attempts: list[int] = []

    def flaky(**_: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise client_error("ProvisionedThroughputExceededException", 400, "GetItem")

    dynamo_client(api_app).meta.events.register("before-call.dynamodb", flaky)

    assert_problem(api.story("first-story"), 503)
    assert api.story("first-story").status == 200


# -- HTTP: ETags, caching, CORS ---------------------------------------------------------


ROUTES: dict[str, Callable[..., dict[str, Any]]] = {
    "list": lambda **kw: apigw_event("GET", "/stories", **kw),
    "topic-list-with-next": lambda **kw: apigw_event(
        "GET", "/stories", query={"limit": "1", "topic": "ai"}, **kw
    ),
    "story": lambda **kw: story_event("first-story", **kw),
    "json-feed": lambda **kw: apigw_event("GET", "/feed.json", **kw),
    "rss-feed": lambda **kw: apigw_event("GET", "/feed.xml", **kw),
    "openapi": lambda **kw: apigw_event("GET", "/openapi.json", **kw),
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_200_get_has_a_strong_etag(
    api: Client, few: list[dict[str, Any]], route: str
) -> None:
    reply = api.send(ROUTES[route]())

    assert reply.status == 200
    assert re.fullmatch(r'"[!#-~]+"', reply.headers["etag"])
    assert api.send(ROUTES[route]()).headers["etag"] == reply.headers["etag"]  # stable


@pytest.mark.parametrize("route", ROUTES)
def test_if_none_match_with_the_etag_is_a_304_with_empty_body(
    api: Client, few: list[dict[str, Any]], route: str
) -> None:
    etag = api.send(ROUTES[route]()).headers["etag"]

    reply = api.send(ROUTES[route](headers={"If-None-Match": etag}))

    assert reply.status == 304
    assert reply.body == ""
    assert reply.headers["etag"] == etag
    assert reply.headers["cache-control"] == PUBLIC_CACHE  # a new lifetime for the copy
    assert "link" not in reply.headers


@pytest.mark.parametrize(
    "header",
    [
        "W/{etag}",
        '"aaaa", {etag}',
        '"aaaa",{etag} , "bbbb"',
        'W/"aaaa", W/{etag}',
        "*",
    ],
)
@pytest.mark.parametrize("route", ["list", "story"])
def test_if_none_match_weak_form_and_lists_match(
    api: Client, few: list[dict[str, Any]], route: str, header: str
) -> None:
    etag = api.send(ROUTES[route]()).headers["etag"]

    reply = api.send(ROUTES[route](headers={"if-none-match": header.format(etag=etag)}))

    assert reply.status == 304 and reply.body == ""


@pytest.mark.parametrize(
    "header", ['"nope"', 'W/"nope"', '"nope", W/"other"', "{bare}", '"{bare}x"', ""]
)
def test_if_none_match_not_matching_is_a_200(
    api: Client, few: list[dict[str, Any]], header: str
) -> None:
    first = api.story("first-story")
    bare = first.headers["etag"].strip('"')

    reply = api.story("first-story", headers={"If-None-Match": header.format(bare=bare)})

    assert reply.status == 200 and reply.json() == first.json()


def test_etag_changes_when_the_story_changes(
    api: Client, dynamodb: Any, stories_table: str, few: list[dict[str, Any]]
) -> None:
    story_etag = api.story("third-story").headers["etag"]
    list_etag = api.stories().headers["etag"]

    corrected = story(
        "third-story",
        published_at="2025-10-18T09:00:00Z",
        updated_at="2025-10-26T00:00:00Z",
        title="Corrected",
    )
    store(dynamodb, stories_table, corrected)

    changed = api.story("third-story", headers={"If-None-Match": story_etag})
    assert changed.status == 200 and changed.json()["data"]["title"] == "Corrected"
    assert changed.headers["etag"] != story_etag
    assert api.stories(headers={"If-None-Match": list_etag}).status == 200


@pytest.mark.parametrize(
    ("event", "status", "cache_control"),
    [
        (lambda: story_event("first-story"), 200, PUBLIC_CACHE),
        (lambda: apigw_event("GET", "/stories"), 200, PUBLIC_CACHE),
        (
            lambda: apigw_event("GET", "/stories", query={"topic": "ai", "limit": "1"}),
            200,
            PUBLIC_CACHE,
        ),
        (lambda: apigw_event("GET", "/feed.json"), 200, PUBLIC_CACHE),
        (lambda: apigw_event("GET", "/feed.xml"), 200, PUBLIC_CACHE),
        (lambda: apigw_event("GET", "/stories", query={"limit": "0"}), 400, "no-store"),
        (lambda: story_event("BAD"), 400, "no-store"),
        (lambda: story_event("no-such-story"), 404, "no-store"),
        (lambda: story_event("unfinished"), 404, "no-store"),
        (lambda: story_event("withdrawn"), 410, "no-store"),
        (lambda: apigw_event("GET", "/nope"), 404, "no-store"),
        (lambda: apigw_event("GET", "/docs"), 404, "no-store"),
    ],
    ids=[
        "story",
        "list",
        "topic-list",
        "json-feed",
        "rss-feed",
        "bad-limit",
        "bad-slug",
        "unknown-story",
        "draft",
        "retracted",
        "unknown-route",
        "docs-off",
    ],
)
def test_cache_control_by_representation(
    api: Client,
    few: list[dict[str, Any]],
    event: Callable[[], dict[str, Any]],
    status: int,
    cache_control: str,
) -> None:
    reply = api.send(event())

    assert reply.status == status
    assert reply.headers["cache-control"] == cache_control


@pytest.mark.parametrize("failure", ["throttled", "unexpected"])
def test_cache_control_of_server_errors_is_no_store(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]], failure: str
) -> None:
    error = TRANSIENT["throttled"]() if failure == "throttled" else RuntimeError("x")
    fail_dynamodb(api_app, error)

    reply = api.stories()

    assert reply.status in (500, 503) and reply.headers["cache-control"] == "no-store"


READER = "https://reader.example"


def _expose(reply: Reply) -> set[str]:
    return {h.strip().lower() for h in reply.headers["access-control-expose-headers"].split(",")}


@pytest.mark.parametrize("route", ["list", "story", "json-feed", "rss-feed"])
def test_cors_response_allows_the_origin_and_exposes_etag_and_link(
    api: Client, few: list[dict[str, Any]], route: str
) -> None:
    reply = api.send(ROUTES[route](headers={"Origin": READER}))

    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] in ("*", READER)
    assert {"etag", "link"} <= _expose(reply)


def test_cors_error_responses_are_readable_by_the_browser(api: Client) -> None:
    reply = api.stories(limit="0", headers={"Origin": READER})

    assert_problem(reply, 400, errors_at=[["query", "limit"]])
    assert reply.headers["access-control-allow-origin"] in ("*", READER)


@pytest.mark.parametrize("route", ["/stories", "/stories/{slug}"])
def test_cors_preflight_allows_get_and_if_none_match(
    api: Client, calls: DynamoCalls, route: str
) -> None:
    headers = {
        "Origin": READER,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    event = (
        apigw_event("OPTIONS", "/stories", headers=headers)
        if route == "/stories"
        else story_event("first-story", method="OPTIONS", headers=headers)
    )

    reply = api.send(event)

    assert reply.status in (200, 204)
    assert reply.headers["access-control-allow-origin"] in ("*", READER)
    assert "GET" in {m.strip() for m in reply.headers["access-control-allow-methods"].split(",")}
    allowed = {h.strip().lower() for h in reply.headers["access-control-allow-headers"].split(",")}
    assert "if-none-match" in allowed
    assert calls.operations == []


@pytest.fixture
def listed_origins(
    stories_table: str, monkeypatch: pytest.MonkeyPatch, lambda_context: LambdaContext
) -> Client:
    origins = "https://a.example,https://b.example"
    env = {"STORIES_TABLE": stories_table, "CORS_ALLOWED_ORIGINS": origins}
    return Client(load_function("api", "ApiFunction", env, monkeypatch), lambda_context)


def test_cors_allowed_origins_list_echoes_only_listed_origins(listed_origins: Client) -> None:
    b = listed_origins.stories(headers={"Origin": "https://b.example"})
    a = listed_origins.stories(headers={"Origin": "https://a.example"})
    other = listed_origins.stories(headers={"Origin": "https://evil.example"})
    none = listed_origins.stories()

    assert b.status == a.status == other.status == none.status == 200
    assert b.headers["access-control-allow-origin"] == "https://b.example"
    assert a.headers["access-control-allow-origin"] == "https://a.example"
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in none.headers

    preflight = listed_origins.send(
        apigw_event(
            "OPTIONS",
            "/stories",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("origins", ["default", "listed"])
@pytest.mark.parametrize("origin", ["https://a.example", "https://evil.example", None])
def test_cors_cacheable_responses_vary_on_origin(
    api: Client, listed_origins: Client, few: list[dict[str, Any]], origins: str, origin: str | None
) -> None:
    # The CORS headers depend on Origin (absent without one, echoed from a list) and the
    # responses are "public": a shared cache must not hand one origin's copy to another.
    client = api if origins == "default" else listed_origins
    headers = {"Origin": origin} if origin else None

    for event in (ROUTES["list"], ROUTES["story"], ROUTES["json-feed"]):
        reply = client.send(event(headers=headers))
        assert reply.status == 200
        assert "origin" in {v.strip().lower() for v in reply.headers["vary"].split(",")}
        etag = reply.headers["etag"]
        not_modified = client.send(event(headers={**(headers or {}), "If-None-Match": etag}))
        assert not_modified.status == 304
        assert not_modified.headers["vary"] == reply.headers["vary"]


# -- cost: DynamoDB calls per request ---------------------------------------------------


def _assert_one_page_query(
    calls: DynamoCalls, *, limit: int, feed: str, after: dict[str, Any] | None
) -> None:
    assert calls.operations == ["Query"], calls.operations
    params = calls.calls[0][1]
    assert params["IndexName"] == "feed"
    assert params["Limit"] == limit + 1
    assert params["ScanIndexForward"] is False
    assert params["KeyConditionExpression"] == "feed_pk = :feed AND feed_sk < :until"
    values = params["ExpressionAttributeValues"]
    assert values[":feed"] == {"S": feed}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\$", values[":until"]["S"])  # now
    assert "FilterExpression" not in params
    if after is None:
        assert "ExclusiveStartKey" not in params
    else:
        sk = "story" if feed == "feed" else feed
        assert params["ExclusiveStartKey"] == {
            "feed_pk": {"S": feed},
            "feed_sk": {"S": f"{after['published_at']}#{after['slug']}"},
            "pk": {"S": f"story#{after['slug']}"},
            "sk": {"S": sk},
        }
    assert calls.scanned == [calls.scanned[0]] and calls.scanned[0] <= limit + 1


def _walk_counting(
    api: Client, calls: DynamoCalls, *, limit: int, pages: int, topic: str | None = None
) -> list[str]:
    feed = "feed" if topic is None else f"topic#{topic}"
    query: dict[str, str | list[str]] = {"limit": str(limit), **({"topic": topic} if topic else {})}
    seen: list[str] = []
    after = None
    for _ in range(pages):
        calls.clear()
        page = api.get("/stories", query).json()
        calls.drop_next_publication()
        _assert_one_page_query(calls, limit=limit, feed=feed, after=after)
        seen += [s["slug"] for s in page["data"]]
        if page["meta"]["next_cursor"] is None:
            break
        after = page["data"][-1]
        query["cursor"] = page["meta"]["next_cursor"]
    return seen


def test_list_page_costs_one_query_on_the_feed_index_with_100_stories(
    api: Client, dynamodb: Any, stories_table: str, api_app: ModuleType
) -> None:
    rng = random.Random(100)
    items = seed(
        dynamodb,
        stories_table,
        [
            story(
                f"s-{i}",
                published_at=f"2025-10-{rng.randrange(1, 29):02d}T08:00:00Z",
                topics=rng.sample(TOPICS, 2),
            )
            for i in range(100)
        ],
    )
    calls = DynamoCalls(dynamo_client(api_app))

    assert _walk_counting(api, calls, limit=10, pages=50) == newest_first(items)
    assert _walk_counting(api, calls, limit=50, pages=1) == newest_first(items)[:50]
    assert _walk_counting(api, calls, limit=7, pages=50, topic="ai") == newest_first(items, "ai")


def test_list_page_50_costs_one_query_on_the_feed_index_with_10000_stories(
    api: Client, dynamodb: Any, stories_table: str, api_app: ModuleType
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    values = (
        {
            "slug": f"s-{i}",
            "title": f"Story {i}",
            "summary": "A summary of a story.",
            "published_at": (start + timedelta(minutes=7 * (i // 3))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        }
        for i in range(10_000)
    )
    items = seed(dynamodb, stories_table, values)
    calls = DynamoCalls(dynamo_client(api_app))

    seen = _walk_counting(api, calls, limit=10, pages=50)  # pages 1 to 50 by their cursors

    assert seen == newest_first(items)[:500]
    assert _walk_counting(api, calls, limit=50, pages=1) == seen[:50]


def test_an_unknown_draft_or_retracted_story_costs_one_get_item(
    api: Client, few: list[dict[str, Any]], calls: DynamoCalls
) -> None:
    for slug, status in (("unfinished", 404), ("withdrawn", 410), ("nope", 404)):
        calls.clear()

        assert api.story(slug).status == status

        ((operation, params),) = calls.calls
        assert operation == "GetItem"
        assert params["Key"] == {"pk": {"S": f"story#{slug}"}, "sk": {"S": "story"}}
        assert not params.get("ConsistentRead")


def test_a_story_page_costs_a_get_item_three_queries_and_one_per_topic(
    api: Client, few: list[dict[str, Any]], calls: DynamoCalls
) -> None:
    assert api.story("first-story").status == 200  # topics ai and space

    calls.drop_next_publication()
    assert calls.operations == ["GetItem"] + ["Query"] * 5
    queries = [params for name, params in calls.calls if name == "Query"]
    assert [
        (q["IndexName"], q["ExpressionAttributeValues"][":feed"]["S"], q["Limit"]) for q in queries
    ] == [
        ("feed", "feed", 1),  # previous
        ("feed", "feed", 1),  # next
        ("feed", "feed", 4),  # recent: the three newest others
        ("feed", "topic#ai", 20),  # related: candidates of each topic
        ("feed", "topic#space", 20),
    ]
    assert all(scanned <= q["Limit"] for scanned, q in zip(calls.scanned, queries, strict=True))


@pytest.mark.parametrize("path", ["/feed.json", "/feed.xml"])
def test_feed_costs_one_query_of_20(
    api: Client, twenty_five: list[dict[str, Any]], calls: DynamoCalls, path: str
) -> None:
    assert api.get(path).status == 200

    calls.drop_next_publication()
    ((operation, params),) = calls.calls
    assert operation == "Query" and params["IndexName"] == "feed" and params["Limit"] == 20
    assert calls.scanned[0] <= 20


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/nope"])
def test_routes_without_data_make_no_dynamodb_calls(
    api: Client, calls: DynamoCalls, path: str
) -> None:
    api.get(path)

    assert calls.operations == []


def test_handler_reuses_the_resolver_and_client_across_invocations(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]]
) -> None:
    resolver, client = api_app.api, dynamo_client(api_app)
    seen_clients: list[int] = []
    client.meta.events.register(
        "provide-client-params.dynamodb", lambda **_: seen_clients.append(id(client))
    )

    assert api.stories().status == 200
    assert api.story("first-story").status == 200

    assert api_app.api is resolver and dynamo_client(api_app) is client
    # Both requests went through this very client: the list (its page, the next scheduled
    # story) and the story (its item, 3 lists around it, 2 topics, the next scheduled story).
    assert len(seen_clients) == 2 + 7
    assert client is aws.client("dynamodb")  # the container's shared client


def test_request_path_creates_no_aws_clients(
    api: Client, api_app: ModuleType, few: list[dict[str, Any]]
) -> None:
    created: list[str] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        created.append(repr(args[:2]))
        raise AssertionError("AWS client created during a request")

    # Its own MonkeyPatch: undone before the moto fixture's teardown uses aws.client.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3, "client", forbidden)
        patch.setattr(boto3, "resource", forbidden)
        patch.setattr(boto3.session.Session, "client", forbidden)
        patch.setattr(boto3.session.Session, "resource", forbidden)
        patch.setattr(botocore.session.Session, "create_client", forbidden)
        patch.setattr(aws, "client", forbidden)

        replies = [api.send(ROUTES[r]()) for r in ("list", "story", "rss-feed", "json-feed")]

    assert [r.status for r in replies] == [200, 200, 200, 200]
    assert created == []


# -- end to end with the ingest ---------------------------------------------------------


def test_stories_ingested_from_the_sample_files_are_served(
    api: Client,
    ingest_app: ModuleType,
    s3: Any,
    bucket: str,
    dynamodb: Any,
    stories_table: str,
    lambda_context: LambdaContext,
    sample_files: list[Path],
) -> None:
    for path in sample_files:
        key = f"incoming/samples/{path.name}"
        data = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        ingest_app.handler(
            s3_event(s3_record(bucket, key, size=len(data), etag=hashlib.md5(data).hexdigest())),
            lambda_context,
        )
    index = dynamodb.query(
        TableName=stories_table,
        IndexName="feed",
        KeyConditionExpression="feed_pk = :f",
        ExpressionAttributeValues={":f": {"S": "feed"}},
        ScanIndexForward=False,
    )
    indexed = [item["slug"]["S"] for item in index["Items"]]
    assert len(indexed) > 20

    listed = slugs_of(walk(api, limit=4))

    assert listed == indexed
    assert "ai-filters-markup-payloads" in listed
    for slug in listed:
        reply = api.story(slug)
        assert reply.status == 200 and set(reply.json()["data"]) == STORY_FIELDS
    assert_problem(api.story("chip-design-agents-verification"), 404)  # the draft sample
    assert_problem(api.story("startup-room-temperature-chip-breakthrough"), 410)  # retracted
    feed = ET.fromstring(api.get("/feed.xml").body.encode())
    assert [i.findtext("guid") for i in feed.iter("item")] == listed[:20]
    titles = {i.findtext("guid"): i.findtext("title") for i in feed.iter("item")}
    markup = api.story("ai-filters-markup-payloads").json()["data"]["title"]
    assert "<script>" in markup
    assert titles["ai-filters-markup-payloads"] == markup  # text in the XML, not markup
