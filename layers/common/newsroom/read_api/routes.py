"""The read API: Powertools' REST resolver with the routes of ``newsroom.read_api.operations``.

The hot path uses plain dicts and hand-declared parameters, never pydantic; ``/openapi.json``
serves the published document (``newsroom/openapi.json``, written by ``make openapi``).
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from newsroom.core.public_url import PublicBaseUrl
from newsroom.core.signing import SigningKey
from newsroom.core.slugs import SLUG_PATTERN, is_slug
from newsroom.core.timestamps import format_utc, parse_stored, utc_now
from newsroom.http.caching import PRIVATE_NO_STORE, Freshness
from newsroom.http.operations import register_operations
from newsroom.http.params import LIST_PARAMS, SITEMAP_PARAMS, parse_query
from newsroom.http.problems import InvalidParameters, NotFound
from newsroom.http.responses import (
    cors_config,
    install_problem_handlers,
    problem_response,
    representation,
    url,
)
from newsroom.read_api import feeds, sitemaps
from newsroom.read_api.document import openapi_json, swagger_html
from newsroom.read_api.operations import OPERATIONS
from newsroom.read_api.service import StoryReader
from newsroom.read_api.settings import ApiSettings
from newsroom.stories.items import is_scheduled
from newsroom.stories.previews import InvalidPreview, check_preview_token
from newsroom.stories.repository import StoryRepository

_JSON_SEPARATORS = (",", ":")
BACKEND = "the story database"  # as 503 answers name it


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=_JSON_SEPARATORS)


class ReadApi:
    """Route handlers of the read API: each parses its request, asks the ``StoryReader``
    and builds the representation."""

    def __init__(
        self,
        settings: ApiSettings,
        repository: StoryRepository,
        logger: Logger,
        public: PublicBaseUrl | None = None,
        preview_key: SigningKey | None = None,
        clock: Callable[[], str] = utc_now,
    ):
        self.settings = settings
        self.public = public or PublicBaseUrl(settings.public_base_url, "", lambda: None)
        self.freshness = Freshness(settings.cache_seconds)
        self.reader = StoryReader(repository)
        self.preview_key = preview_key  # None: no preview link opens anything
        self.clock = clock
        self.app = APIGatewayRestResolver(cors=cors_config(settings.cors_origins))
        handlers: dict[str, Callable[..., Response[str]]] = {
            "listStories": self.list_stories,
            "getStory": self.get_story,
            "jsonFeed": self.json_feed,
            "rssFeed": self.rss_feed,
            "listTopics": self.list_topics,
            "sitemap": self.sitemap,
            "newsSitemap": self.news_sitemap,
            "openapi": self.openapi,
            "docs": self.docs,
        }
        register_operations(self.app, OPERATIONS, handlers)
        install_problem_handlers(self.app, logger, BACKEND)
        self.app.not_found(self._not_found)

    def _fresh_until_next_publication(self, now: str) -> Freshness:
        """The freshness of a public representation made at ``now``: no cache may keep it
        past the instant the next scheduled story becomes public (one ``Query``)."""
        return self.freshness.until(self.reader.next_publication(now), now)

    def _url(self, path: str, query: dict[str, Any] | None = None) -> str:
        """A link for the client: on the public base URL (the CDN) when the stack has one."""
        return url(self.app.current_event, path, query, self.public.value)

    # -- routes -------------------------------------------------------------------------

    def list_stories(self) -> Response[str]:
        event = self.app.current_event
        if event.get("resource", "/stories") != "/stories":
            # "/stories/%0A": API Gateway routed it to /stories/{slug}, Powertools to this route
            # (its pattern ends in "$", which matches before a trailing newline).
            raise not_a_slug()
        query = parse_query(LIST_PARAMS, event.multi_value_query_string_parameters)
        limit, topic, day, cursor = query["limit"], query["topic"], query["date"], query["cursor"]
        now = self.clock()
        page = self.reader.page(topic, limit, cursor, now, day)
        listed = {"limit": limit, "topic": topic, "date": day}
        self_url = self._url("/stories", {**listed, "cursor": cursor})
        next_url = (
            self._url("/stories", {**listed, "cursor": page.next_cursor})
            if page.next_cursor
            else None
        )
        body = _dumps(
            {
                "data": page.summaries,
                "meta": {"limit": limit, "next_cursor": page.next_cursor},
                "links": {"self": self_url, "next": next_url},
            }
        )
        headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
        freshness = self._fresh_until_next_publication(now)
        return representation(event, body, "application/json", freshness, headers)

    def get_story(self, slug: str) -> Response[str]:
        # API Gateway's path parameter, not Powertools' match of the path: its pattern ends
        # in "$", which also matches before a trailing newline ("/stories/x%0A" gives "x").
        slug = (self.app.current_event.path_parameters or {}).get("slug", slug)
        if not is_slug(slug):
            raise not_a_slug()
        event, now = self.app.current_event, self.clock()
        tokens = (event.multi_value_query_string_parameters or {}).get("preview")
        if tokens is not None:
            return self._preview(slug, tokens, now)
        page = self.reader.story_page(self.reader.story(slug, now), now)
        freshness = self._fresh_until_next_publication(now)
        return representation(event, _dumps(page), "application/json", freshness)

    def _preview(self, slug: str, tokens: list[str], now: str) -> Response[str]:
        """The story as it will be published, for whoever holds its preview link. A token
        that is not genuine, expired or for another story gets the answer an unknown story
        gets, before anything is read: nothing tells whether the story exists."""
        try:
            if self.preview_key is None or len(tokens) != 1:
                raise InvalidPreview("no preview")
            expires = check_preview_token(
                self.preview_key.value, tokens[0], slug, int(parse_stored(now).timestamp())
            )
        except InvalidPreview:
            raise NotFound(f"there is no story {slug!r}") from None
        item = self.reader.unpublished(slug)
        status = "scheduled" if is_scheduled(item, now) else str(item["status"])
        body = _dumps(
            {
                **self.reader.story_page(item, now),
                "preview": {"status": status, "expires_at": format_utc(_epoch(expires))},
            }
        )
        headers = {"Cache-Control": PRIVATE_NO_STORE, "X-Robots-Tag": "noindex"}
        event = self.app.current_event
        return representation(event, body, "application/json", self.freshness, headers)

    def _feed(self, render: Callable[..., str], path: str, content_type: str) -> Response[str]:
        """The newest stories rendered by ``render``."""
        event, now = self.app.current_event, self.clock()
        body = render(
            self.reader.newest(feeds.FEED_SIZE, now),
            feed_url=self._url(path),
            home_url=self.settings.site_url,
            story_url=self.settings.story_url_template,
        )
        return representation(event, body, content_type, self._fresh_until_next_publication(now))

    def json_feed(self) -> Response[str]:
        return self._feed(feeds.json_feed, "/feed.json", "application/feed+json")

    def rss_feed(self) -> Response[str]:
        return self._feed(feeds.rss_feed, "/feed.xml", "application/rss+xml")

    def list_topics(self) -> Response[str]:
        event, now = self.app.current_event, self.clock()
        body = _dumps({"data": self.reader.topics(now)})
        return representation(
            event, body, "application/json", self._fresh_until_next_publication(now)
        )

    def sitemap(self) -> Response[str]:
        """A urlset of every public story; beyond ``MAX_URLS_PER_SITEMAP`` a sitemap index of
        one page per UTC day (``?date=``), each a urlset of that day."""
        event, now = self.app.current_event, self.clock()
        day = parse_query(SITEMAP_PARAMS, event.multi_value_query_string_parameters)["date"]
        story_url = self.settings.story_url_template
        entries = self.reader.sitemap_stories(now, day)
        if day is None and len(entries) > sitemaps.MAX_URLS_PER_SITEMAP:
            pages = [
                (self._url("/sitemap.xml", {"date": d}), None)
                for d in self.reader.publication_days(now)
            ]
            body = sitemaps.sitemap_index(pages)
        else:  # a day of more than MAX_URLS_PER_SITEMAP keeps its newest
            body = sitemaps.url_set(entries[: sitemaps.MAX_URLS_PER_SITEMAP], story_url=story_url)
        freshness = self._fresh_until_next_publication(now)
        return representation(event, body, sitemaps.SITEMAP_CONTENT_TYPE, freshness)

    def news_sitemap(self) -> Response[str]:
        event, now = self.app.current_event, self.clock()
        body = sitemaps.news_sitemap(
            self.reader.news(now),
            story_url=self.settings.story_url_template,
            publication_name=self.settings.news_publication_name,
            language=self.settings.news_publication_language,
        )
        freshness = self._fresh_until_next_publication(now)
        return representation(event, body, sitemaps.SITEMAP_CONTENT_TYPE, freshness)

    def openapi(self) -> Response[str]:
        body = openapi_json(self._url(""))
        return representation(self.app.current_event, body, "application/json", self.freshness)

    def docs(self) -> Response[str]:
        if not self.settings.docs_enabled:
            raise NotFound("API documentation is disabled on this stage")
        html = swagger_html(openapi_json(self._url("")))
        return representation(self.app.current_event, html, "text/html", self.freshness)

    # -- errors -------------------------------------------------------------------------

    def _not_found(self, _: NotFoundError) -> Response[str]:
        event = self.app.current_event
        # API Gateway routes a slug of any characters to /stories/{slug}, but Powertools only
        # matches path parameters of its own character class: a slug with others (a NUL, an
        # emoji, "#") is not found by it. It is not a slug: 400, like every malformed slug.
        problem = not_a_slug() if event.get("resource") == "/stories/{slug}" else None
        try:
            request_id = str(event.request_context.request_id)
        except (AttributeError, KeyError, TypeError):
            request_id = None
        return problem_response(problem or NotFound("no such resource"), request_id)


def _epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def not_a_slug() -> InvalidParameters:
    return InvalidParameters(
        "the slug is not in the slug format",
        errors=[{"loc": ["path", "slug"], "msg": f"must match {SLUG_PATTERN}"}],
    )
