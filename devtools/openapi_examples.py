"""The OpenAPI document's examples, made by the code that makes the real answers (the
renderers, the problem types, the cursor codec) from the sample stories: an example cannot
drift from what the API sends. Deterministic, so ``make openapi`` writes the same file."""

import json
from collections import Counter
from functools import cache
from typing import Any, cast

from devtools.stack import SAMPLES
from newsroom.http.params import LIST_PARAMS, SITEMAP_PARAMS, parse_query
from newsroom.http.problems import (
    ApiProblem,
    Gone,
    InvalidParameters,
    NotFound,
    backend_busy,
    problem_body,
)
from newsroom.newsletter import routes as subscription_routes
from newsroom.newsletter.addresses import InvalidAddress, normalize_address
from newsroom.newsletter.routes import ANSWERS, InvalidLink, answer_page
from newsroom.read_api import feeds, sitemaps
from newsroom.read_api import routes as read_routes
from newsroom.read_api.pagination import Position, encode_cursor
from newsroom.read_api.service import RECENT_COUNT, related_stories
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import ALL_STORIES_FEED, StoryItem, story_item, to_story, to_summary

SERVER = "https://api.signal-noise.example/v1"
SITE = "https://signal-noise.example"
STORY_URL = SITE + "/stories/{slug}"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
NOW = "2025-10-22T06:00:00Z"
KEY = "stories/sample.json"
PAGE_SIZE = 2
SEED_SLUG = "russia-china-ai-partnership-putin-sberbank"  # the story page of shared/seed


def _problem(problem: ApiProblem) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(problem_body(problem, REQUEST_ID))
    return document


def _rejection(params: Any, query: dict[str, list[str]]) -> dict[str, Any]:
    """The problem ``parse_query`` raises for ``query``."""
    try:
        parse_query(params, query)
    except InvalidParameters as problem:
        return _problem(problem)
    raise AssertionError(f"{query} is valid")


def _invalid_address() -> dict[str, Any]:
    try:
        normalize_address("reader@")
    except InvalidAddress as exc:
        # As SubscriptionsApi.subscribe names it.
        return _problem(
            InvalidParameters(
                "the email address is not valid",
                errors=[{"loc": ["body", "email"], "msg": str(exc)}],
            )
        )
    raise AssertionError("reader@ is an address")


@cache
def _items() -> list[StoryItem]:
    """The seed story and the stories of the 17 October sample, as stored, newest first."""
    seed = json.loads((SAMPLES / "signal-noise-2025-10-22.json").read_text())
    recent = json.loads((SAMPLES / "recent-2025-10-17.json").read_text())["stories"]
    items = [
        cast(StoryItem, story_item(StoryIn.model_validate(raw), source_key=KEY, ingested_at=NOW))
        for raw in [seed, *recent]
    ]
    return sorted(items, key=lambda i: (i["published_at"], i["slug"]), reverse=True)


def _envelope() -> dict[str, Any]:
    """The seed story's page: its story and the stories around it."""
    items = _items()
    summaries = [to_summary(i) for i in items]
    story = next(i for i in items if i["slug"] == SEED_SLUG)
    index = items.index(story)
    return {
        "data": to_story(story),
        "related": related_stories(story, [summaries]),
        "previous": summaries[index + 1] if index + 1 < len(summaries) else None,
        "next": summaries[index - 1] if index > 0 else None,
        "recent": [s for s in summaries if s["slug"] != story["slug"]][:RECENT_COUNT],
    }


def _list() -> dict[str, Any]:
    summaries = [to_summary(i) for i in _items()[:PAGE_SIZE]]
    last = summaries[-1]
    cursor = encode_cursor(Position(ALL_STORIES_FEED, last["published_at"], last["slug"]))
    return {
        "data": summaries,
        "meta": {"limit": PAGE_SIZE, "next_cursor": cursor},
        "links": {
            "self": f"{SERVER}/stories?limit={PAGE_SIZE}",
            "next": f"{SERVER}/stories?limit={PAGE_SIZE}&cursor={cursor}",
        },
    }


def _topics() -> dict[str, Any]:
    items = _items()
    counts = Counter(topic for item in items for topic in item["topics"])
    latest = {t: max(i["published_at"] for i in items if t in i["topics"]) for t in counts}
    ranked = sorted(counts, key=lambda t: (-counts[t], t))
    return {
        "data": [{"topic": t, "count": counts[t], "latest_published_at": latest[t]} for t in ranked]
    }


def _feed(render: Any, path: str) -> str:
    summaries = [to_summary(i) for i in _items()]
    return str(render(summaries, feed_url=SERVER + path, home_url=SITE, story_url=STORY_URL))


@cache
def examples() -> dict[str, Any]:
    """Every example the operations name, by name."""
    summaries = [to_summary(i) for i in _items()]
    title, message = ANSWERS["accepted"]
    return {
        "storyList": _list(),
        "storyEnvelope": _envelope(),
        "topicList": _topics(),
        "jsonFeed": json.loads(_feed(feeds.json_feed, "/feed.json")),
        "rssFeed": _feed(feeds.rss_feed, "/feed.xml"),
        "sitemap": sitemaps.url_set(summaries, story_url=STORY_URL),
        "newsSitemap": sitemaps.news_sitemap(
            summaries[:1], story_url=STORY_URL, publication_name="SIGNAL/NOISE", language="en"
        ),
        "openapiDocument": {"openapi": "3.1.0", "info": {"title": "…", "version": "…"}},
        "invalidParameters": _rejection(LIST_PARAMS, {"limit": ["0"], "topic": ["AI!"]}),
        "invalidDate": _rejection(SITEMAP_PARAMS, {"date": ["2025-02-30"]}),
        "invalidSlug": _problem(read_routes.not_a_slug()),
        "notFound": _problem(NotFound("there is no story 'no-such-story'")),
        "gone": _problem(Gone("the story 'startup-room-temperature-chip' was retracted")),
        "unavailable": _problem(backend_busy(read_routes.BACKEND)),
        "subscriptionsUnavailable": _problem(backend_busy(subscription_routes.BACKEND)),
        "subscriptionRequest": {"email": "reader@example.com"},
        "oneClick": {"List-Unsubscribe": "One-Click"},
        "invalidAddress": _invalid_address(),
        "invalidLink": _problem(
            InvalidLink(
                "the link has no token",
                errors=[{"loc": ["query", "token"], "msg": "give exactly one token"}],
            )
        ),
        **{status: {"status": status, "detail": detail} for status, (_, detail) in ANSWERS.items()},
        "page": answer_page(title, message),
    }
