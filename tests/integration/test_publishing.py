"""Issue 15 on the read API, end to end against moto: scheduled publishing, the stories
around a story (related, previous, next, recent), preview links, topics and sitemaps.

The API's clock is set per test (``at``): a story scheduled for later is stored and in the
feed index, and becomes public at its ``published_at`` without another write.
"""

import json
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from newsroom.stories.previews import preview_token
from tests.integration.test_api import (
    PUBLIC_CACHE,
    Client,
    DynamoCalls,
    api,
    assert_problem,
    dynamo_client,
    seed,
    store,
    story,
)
from tests.support.aws import lazy_client

__all__ = ["api"]  # fixtures used by name

NOW = "2025-10-20T12:00:00Z"
LATER = "2025-10-20T12:00:30Z"  # 30 s after NOW
MUCH_LATER = "2025-10-25T08:00:00Z"
STORY_URL = "https://signal-noise.example/stories/{slug}"
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
NEWS_NS = {**SITEMAP_NS, "news": "http://www.google.com/schemas/sitemap-news/0.9"}
EPOCH_NOW = 1760961600  # NOW in epoch seconds


@pytest.fixture
def at(api_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the instant the API answers at (and check the SSM client it makes for its first
    preview against its role, as the clients it made while loading)."""
    lazy_client(api_app, "ssm")

    def set_now(now: str) -> None:
        monkeypatch.setattr(api_app.api, "clock", lambda: now)

    set_now(NOW)
    return set_now


@pytest.fixture
def newsroom(dynamodb: Any, stories_table: str) -> list[dict[str, Any]]:
    """Three public stories, one scheduled 30 s after NOW and one much later, a draft."""
    return store(
        dynamodb,
        stories_table,
        story("oldest", published_at="2025-10-18T09:00:00Z", topics=["ai", "chips"]),
        story("middle", published_at="2025-10-19T09:00:00Z", topics=["climate"]),
        story("newest", published_at="2025-10-20T09:00:00Z", topics=["ai", "chips", "policy"]),
        story("soon", published_at=LATER, topics=["ai", "space"]),
        story("next-week", published_at=MUCH_LATER, topics=["space"]),
        story("unfinished", published_at="2025-10-19T10:00:00Z", status="draft"),
    )


def slugs(summaries: list[dict[str, Any]]) -> list[str]:
    return [s["slug"] for s in summaries]


def cache_control(reply: Any) -> dict[str, str]:
    parts = (part.partition("=") for part in reply.headers["cache-control"].split(", "))
    return {name: value for name, _, value in parts}


# -- scheduled publishing ---------------------------------------------------------------


def test_a_scheduled_story_is_not_found_until_its_instant(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    before, unknown = api.story("soon"), api.story("no-such-story")

    assert before.status == 404
    assert before.json()["detail"] == "there is no story 'soon'"
    assert before.headers["cache-control"] == unknown.headers["cache-control"] == "no-store"

    at(LATER)
    assert api.story("soon").status == 200


def test_a_scheduled_story_is_in_no_list_or_feed_until_its_instant(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    def everywhere() -> list[list[str]]:
        feed = api.get("/feed.json").json()
        rss = ET.fromstring(api.get("/feed.xml").body)
        return [
            slugs(api.stories().json()["data"]),
            slugs(api.stories(topic="ai").json()["data"]),
            slugs(api.stories(date="2025-10-20").json()["data"]),
            [item["id"] for item in feed["items"]],
            [guid.text or "" for guid in rss.iter("guid")],
            slugs(api.story("newest").json()["recent"]),
        ]

    assert all("soon" not in listed for listed in everywhere())
    at(LATER)
    listed = everywhere()
    assert all(found[0] == "soon" for found in listed[:5]), listed
    assert listed[5][0] == "soon"  # the newest other story
    assert all("next-week" not in found for found in listed)


def test_no_answer_is_cached_past_the_next_scheduled_publication(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    # 30 s before "soon": fresh for 29 s (a second for the clock's truncation), not stale after.
    for reply in (api.stories(), api.story("newest"), api.get("/feed.json"), api.get("/topics")):
        assert reply.status == 200
        assert cache_control(reply)["max-age"] == cache_control(reply)["s-maxage"] == "29"
        assert cache_control(reply)["stale-while-revalidate"] == "0"
    at("2025-10-20T11:58:00Z")  # 150 s before: fresh 60 s, then stale for at most 60 s more
    assert cache_control(api.stories())["stale-while-revalidate"] == "60"
    at("2025-10-20T11:59:00Z")  # 90 s before: fresh 60 s, then at most 29 s
    assert cache_control(api.stories())["stale-while-revalidate"] == "29"
    at("2025-10-21T00:00:00Z")  # long before "next-week": the usual lifetime
    assert api.stories().headers["cache-control"] == PUBLIC_CACHE


def test_the_public_bound_keeps_every_scheduled_story_out_of_the_feed_index_reads(
    newsroom: list[dict[str, Any]], dynamodb: Any, stories_table: str
) -> None:
    from newsroom.stories.items import public_until
    from newsroom.stories.repository import StoryRepository

    repository = StoryRepository(dynamodb, stories_table)
    entries = repository.query_feed("feed", 10, until=public_until(NOW))
    assert slugs(entries) == ["newest", "middle", "oldest"]  # type: ignore[arg-type]
    assert repository.next_scheduled(public_until(NOW)) == LATER
    assert repository.next_scheduled(public_until(LATER)) == MUCH_LATER
    assert repository.next_scheduled(public_until(MUCH_LATER)) is None


# -- the stories around a story ---------------------------------------------------------


def test_a_story_lists_previous_next_and_recent_public_stories(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    page = api.story("middle").json()

    assert page["previous"]["slug"] == "oldest"
    assert page["next"]["slug"] == "newest"
    assert slugs(page["recent"]) == ["newest", "oldest"]  # the draft and "soon" are not public
    newest = api.story("newest").json()
    assert newest["next"] is None  # "soon" is not public yet
    assert api.story("oldest").json()["previous"] is None
    at(LATER)
    assert api.story("newest").json()["next"]["slug"] == "soon"


def test_related_stories_share_most_topics_first_then_are_newest(
    api: Client, dynamodb: Any, stories_table: str, at: Callable[[str], None]
) -> None:
    store(
        dynamodb,
        stories_table,
        story("subject", published_at="2025-10-10T09:00:00Z", topics=["ai", "chips", "policy"]),
        story("two-shared-old", published_at="2025-10-01T09:00:00Z", topics=["ai", "chips"]),
        story(
            "three-shared", published_at="2025-09-01T09:00:00Z", topics=["policy", "ai", "chips"]
        ),
        story("one-shared-new", published_at="2025-10-15T09:00:00Z", topics=["policy"]),
        story("two-shared-new", published_at="2025-10-12T09:00:00Z", topics=["chips", "policy"]),
        story("unrelated", published_at="2025-10-16T09:00:00Z", topics=["climate"]),
        story("related-draft", published_at="2025-10-11T09:00:00Z", topics=["ai"], status="draft"),
    )

    related = api.story("subject").json()["related"]

    assert slugs(related) == ["three-shared", "two-shared-new", "two-shared-old"]
    assert set(related[0]) == {"slug", "title", "excerpt", "published_at", "updated_at", "topics"}


def test_a_story_without_topics_has_no_related_stories(
    api: Client, dynamodb: Any, stories_table: str, at: Callable[[str], None]
) -> None:
    store(dynamodb, stories_table, story("alone", topics=[]), story("other", topics=["ai"]))

    assert api.story("alone").json()["related"] == []


def test_the_story_pages_dynamodb_work_is_the_same_for_10_and_1000_stories(
    api: Client, api_app: ModuleType, dynamodb: Any, stories_table: str, at: Callable[[str], None]
) -> None:
    seen = []
    for total in (10, 1000):
        seed(
            dynamodb,
            stories_table,
            (
                story(f"s{total}-{i}", published_at=f"2025-10-{1 + i % 19:02d}T{i % 24:02d}:00:00Z",
                      topics=["ai", "chips"])
                for i in range(total)
            ),
        )  # fmt: skip
        calls = DynamoCalls(dynamo_client(api_app))
        assert api.story(f"s{total}-5").status == 200
        seen.append((calls.operations, sum(calls.scanned)))
    assert seen[0][0] == seen[1][0] == ["GetItem"] + ["Query"] * 6
    assert seen[1][1] <= 1 + 1 + 4 + 20 + 20 + 1  # previous, next, recent, 2 topics, schedule


# -- previews ---------------------------------------------------------------------------


def preview(api: Client, slug: str, token: str | list[str]) -> Any:
    return api.story(slug, query={"preview": token})


def test_a_preview_link_shows_a_draft_as_it_will_be_published_never_cached(
    api: Client, newsroom: list[dict[str, Any]], signing_key: bytes, at: Callable[[str], None]
) -> None:
    token = preview_token(signing_key, "unfinished", EPOCH_NOW + 3600)

    reply = preview(api, "unfinished", token)

    assert reply.status == 200
    assert reply.headers["cache-control"] == "private, no-store"
    assert reply.headers["x-robots-tag"] == "noindex"
    document = reply.json()
    assert document["data"]["slug"] == "unfinished"
    assert document["preview"] == {"status": "draft", "expires_at": "2025-10-20T13:00:00Z"}
    assert document["previous"]["slug"] == "middle"  # where it will be among the public ones


def test_a_preview_link_shows_a_scheduled_story(
    api: Client, newsroom: list[dict[str, Any]], signing_key: bytes, at: Callable[[str], None]
) -> None:
    token = preview_token(signing_key, "next-week", EPOCH_NOW + 60)

    document = preview(api, "next-week", token).json()

    assert document["preview"]["status"] == "scheduled"
    assert document["data"]["published_at"] == MUCH_LATER


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda key: preview_token(key, "unfinished", EPOCH_NOW - 1), id="expired"),
        pytest.param(lambda key: preview_token(key, "middle", EPOCH_NOW + 60), id="other-slug"),
        pytest.param(
            lambda key: preview_token(b"not-the-key", "unfinished", EPOCH_NOW + 60), id="other-key"
        ),
        pytest.param(
            lambda key: re.sub(
                r"\.(.)",
                lambda m: "." + ("A" if m[1] != "A" else "B"),
                preview_token(key, "unfinished", EPOCH_NOW + 60),
            ),
            id="tampered",
        ),
        pytest.param(
            lambda key: (
                str(EPOCH_NOW + 999) + preview_token(key, "unfinished", EPOCH_NOW + 60)[10:]
            ),
            id="extended",
        ),
        pytest.param(lambda key: "garbage", id="malformed"),
        pytest.param(lambda key: "", id="empty"),
        pytest.param(
            lambda key: [preview_token(key, "unfinished", EPOCH_NOW + 60)] * 2, id="twice"
        ),
    ],
)
def test_a_preview_token_that_is_not_valid_gets_the_answer_of_an_unknown_story(
    api: Client,
    api_app: ModuleType,
    newsroom: list[dict[str, Any]],
    signing_key: bytes,
    at: Callable[[str], None],
    make_token: Callable[[bytes], str | list[str]],
) -> None:
    unknown = api.story("unfinished")  # a draft: the public answer is "no such story"
    calls = DynamoCalls(dynamo_client(api_app))

    reply = preview(api, "unfinished", make_token(signing_key))

    assert (reply.status, reply.headers, reply.body) == (
        unknown.status,
        unknown.headers,
        unknown.body,
    )
    assert calls.operations == []  # refused before anything is read
    # The same for a public story: a bad token never reveals what exists.
    public = preview(api, "newest", make_token(signing_key))
    assert_problem(public, 404)


def test_a_preview_of_a_story_that_was_retracted_is_gone(
    api: Client, dynamodb: Any, stories_table: str, signing_key: bytes, at: Callable[[str], None]
) -> None:
    store(dynamodb, stories_table, story("pulled", status="retracted"))

    reply = preview(api, "pulled", preview_token(signing_key, "pulled", EPOCH_NOW + 60))

    assert_problem(reply, 410)


# -- topics -----------------------------------------------------------------------------


def test_topics_counts_public_stories_by_count_then_name(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    reply = api.get("/topics")

    assert reply.status == 200
    assert reply.json() == {
        "data": [
            {"topic": "ai", "count": 2, "latest_published_at": "2025-10-20T09:00:00Z"},
            {"topic": "chips", "count": 2, "latest_published_at": "2025-10-20T09:00:00Z"},
            {"topic": "climate", "count": 1, "latest_published_at": "2025-10-19T09:00:00Z"},
            {"topic": "policy", "count": 1, "latest_published_at": "2025-10-20T09:00:00Z"},
        ]
    }
    at(LATER)  # "soon" (ai, space) is public now, without a write
    topics = {
        t["topic"]: (t["count"], t["latest_published_at"])
        for t in api.get("/topics").json()["data"]
    }
    assert topics["ai"] == (3, LATER) and topics["space"] == (1, LATER)
    assert [t["topic"] for t in api.get("/topics").json()["data"]][:2] == ["ai", "chips"]


# -- sitemaps ---------------------------------------------------------------------------


def test_the_sitemap_lists_every_public_story_with_its_lastmod(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    reply = api.get("/sitemap.xml")

    assert reply.status == 200 and reply.headers["content-type"] == "application/xml"
    root = ET.fromstring(reply.body)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    urls = [
        (u.findtext("s:loc", namespaces=SITEMAP_NS), u.findtext("s:lastmod", namespaces=SITEMAP_NS))
        for u in root.findall("s:url", SITEMAP_NS)
    ]
    assert (
        urls
        == [
            (STORY_URL.format(slug=item["slug"]), item["updated_at"])
            for item in newsroom
            if item["slug"] in ("newest", "middle", "oldest")
        ][::-1]
    )


def test_beyond_10000_stories_the_sitemap_is_an_index_of_daily_sitemaps(
    api: Client, api_app: ModuleType, dynamodb: Any, stories_table: str, at: Callable[[str], None]
) -> None:
    at("2025-10-01T00:00:00Z")
    day_and_hour = ((1 + i // 400, i % 24) for i in range(10_001))  # 400 stories a day
    seed(
        dynamodb,
        stories_table,
        (
            story(f"s-{i}", published_at=f"2025-09-{day:02d}T{hour:02d}:00:00Z", topics=[])
            for i, (day, hour) in enumerate(day_and_hour)
        ),
    )
    calls = DynamoCalls(dynamo_client(api_app))

    root = ET.fromstring(api.get("/sitemap.xml").body)

    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    pages = [loc.text or "" for loc in root.iterfind("s:sitemap/s:loc", SITEMAP_NS)]
    assert pages[0].endswith("/sitemap.xml?date=2025-09-26") and len(pages) == 26
    assert pages[-1].endswith("/sitemap.xml?date=2025-09-01")
    assert len(calls.operations) <= 8  # 1 MB pages of 10,001 entries, the ends, the schedule
    day = ET.fromstring(api.get("/sitemap.xml", {"date": "2025-09-02"}).body)
    assert len(day.findall("s:url", SITEMAP_NS)) == 400


def test_the_news_sitemap_has_the_last_48_hours(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    root = ET.fromstring(api.get("/news-sitemap.xml").body)

    entries = [
        (
            url.findtext("s:loc", namespaces=NEWS_NS),
            url.findtext("news:news/news:title", namespaces=NEWS_NS),
            url.findtext("news:news/news:publication_date", namespaces=NEWS_NS),
            url.findtext("news:news/news:publication/news:name", namespaces=NEWS_NS),
            url.findtext("news:news/news:publication/news:language", namespaces=NEWS_NS),
        )
        for url in root.findall("s:url", NEWS_NS)
    ]
    assert entries == [
        (STORY_URL.format(slug=slug), f"Title of {slug}", published, "SIGNAL/NOISE", "en")
        for slug, published in (
            ("newest", "2025-10-20T09:00:00Z"),
            ("middle", "2025-10-19T09:00:00Z"),
        )
    ]  # "oldest" is 51 hours old; "soon" is not public yet


def test_sitemap_and_topic_answers_are_documented_and_cacheable(
    api: Client, newsroom: list[dict[str, Any]], at: Callable[[str], None]
) -> None:
    at("2025-10-21T00:00:00Z")
    for path in ("/sitemap.xml", "/news-sitemap.xml", "/topics"):
        reply = api.get(path)
        assert reply.status == 200 and reply.headers["cache-control"] == PUBLIC_CACHE
        assert api.get(path, headers={"If-None-Match": reply.headers["etag"]}).status == 304
    assert json.loads(api.get("/openapi.json").body)["paths"].keys() >= {
        "/topics",
        "/sitemap.xml",
        "/news-sitemap.xml",
    }


# -- receipts ---------------------------------------------------------------------------


def test_the_receipt_says_who_can_read_each_story_and_links_previews_that_open_them(
    ingest_app: ModuleType,
    lambda_context: Any,
    s3: Any,
    bucket: str,
    read_receipt: Any,
    api: Client,
    at: Callable[[str], None],
) -> None:
    from tests.integration.test_ingest import batch, upload

    lazy_client(ingest_app, "ssm")  # made for the first preview link: checked against its role
    file = [
        story("out-now", published_at="2025-10-01T09:00:00Z"),
        story("later-on", published_at="2099-01-01T09:00:00Z"),
        story("in-the-works", status="draft"),
        story("taken-down", status="retracted"),
    ]
    key = "incoming/editors/mixed.json"
    ingest_app.handler(upload(s3, bucket, key, batch(*file)), lambda_context)

    entries = {e["slug"]: e for e in read_receipt(key)["stories"]}
    assert {slug: e["status"] for slug, e in entries.items()} == {
        "out-now": "public", "later-on": "scheduled", "in-the-works": "draft",
        "taken-down": "retracted",
    }  # fmt: skip
    assert {slug for slug, e in entries.items() if "preview_url" in e} == {
        "later-on",
        "in-the-works",
    }
    for slug in ("later-on", "in-the-works"):
        path, _, token = entries[slug]["preview_url"].partition("?preview=")
        assert path.endswith(f"/stories/{slug}")
        reply = preview(api, slug, token)
        assert reply.status == 200 and reply.json()["data"]["slug"] == slug
        assert preview(api, "out-now", token).status == 404  # made for another story
