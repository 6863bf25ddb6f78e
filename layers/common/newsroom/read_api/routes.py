"""The read API: Powertools' REST resolver with the routes of ``newsroom.read_api.operations``.

The hot path uses plain dicts and hand-declared parameters; pydantic and the OpenAPI
builder are imported only by the rare routes that need them (``/openapi.json``, ``/docs``).
"""

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN
from newsroom.http.params import LIST_PARAMS, parse_query
from newsroom.http.problems import Gone, InvalidParameters, NotFound
from newsroom.http.responses import (
    cors_config,
    install_problem_handlers,
    problem_response,
    representation,
    url,
)
from newsroom.read_api import feeds
from newsroom.read_api.operations import LIST_MAX_AGE, OPERATIONS, STORY_MAX_AGE
from newsroom.read_api.pagination import (
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
    feed_for,
)
from newsroom.read_api.settings import ApiSettings
from newsroom.stories.items import to_story, to_summary
from newsroom.stories.repository import StoryRepository

_JSON_SEPARATORS = (",", ":")


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=_JSON_SEPARATORS)


class ReadApi:
    """Route handlers of the read API, bound to one repository and one resolver."""

    def __init__(self, settings: ApiSettings, repository: StoryRepository, logger: Logger):
        self.settings = settings
        self.repository = repository
        self.logger = logger
        self.app = APIGatewayRestResolver(cors=cors_config(settings.cors_origins))
        handlers = {
            "listStories": self.list_stories,
            "getStory": self.get_story,
            "jsonFeed": self.json_feed,
            "rssFeed": self.rss_feed,
            "openapi": self.openapi,
            "docs": self.docs,
        }
        for operation in OPERATIONS:
            # Powertools writes path parameters as <name>; API Gateway and OpenAPI as {name}.
            path = re.sub(r"\{(\w+)\}", r"<\1>", operation.path)
            register = self.app.route(path, method=operation.method)
            register(handlers[operation.operation_id])  # type: ignore[type-var]
        install_problem_handlers(self.app, logger, "the story database")
        self.app.not_found(self._not_found)

    # -- routes -------------------------------------------------------------------------

    def list_stories(self) -> Response[str]:
        event = self.app.current_event
        if event.get("resource", "/stories") != "/stories":
            # "/stories/%0A": API Gateway routed it to /stories/{slug}, Powertools to this route
            # (its pattern ends in "$", which matches before a trailing newline).
            raise _not_a_slug()
        query = parse_query(LIST_PARAMS, event.multi_value_query_string_parameters)
        limit, topic = query["limit"], query["topic"]
        feed = feed_for(topic)
        start = None
        if query["cursor"] is not None:
            try:
                start = decode_cursor(query["cursor"], feed)
            except InvalidCursor as exc:
                raise InvalidParameters(
                    "the cursor is invalid", errors=[{"loc": ["query", "cursor"], "msg": str(exc)}]
                ) from None
        # limit + 1 items tell whether a next page exists (no empty last page).
        items, _ = self.repository.query_feed(
            feed, limit + 1, start.exclusive_start_key() if start else None
        )
        page = items[:limit]
        next_cursor = None
        if len(items) > limit:
            last = page[-1]
            next_cursor = encode_cursor(Position(feed, last["published_at"], last["slug"]))
        self_url = url(
            event, "/stories", {"limit": limit, "topic": topic, "cursor": query["cursor"]}
        )
        next_url = (
            url(event, "/stories", {"limit": limit, "topic": topic, "cursor": next_cursor})
            if next_cursor
            else None
        )
        body = _dumps(
            {
                "data": [to_summary(item) for item in page],
                "meta": {"limit": limit, "next_cursor": next_cursor},
                "links": {"self": self_url, "next": next_url},
            }
        )
        headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
        return representation(event, body, "application/json", LIST_MAX_AGE, headers)

    def get_story(self, slug: str) -> Response[str]:
        # API Gateway's path parameter, not Powertools' match of the path: its pattern ends
        # in "$", which also matches before a trailing newline ("/stories/x%0A" gives "x").
        slug = (self.app.current_event.path_parameters or {}).get("slug", slug)
        if len(slug) > SLUG_MAX_LENGTH or not _is_slug(slug):
            raise _not_a_slug()
        item = self.repository.get_story(slug)
        if item is None or item.get("status") == "draft":
            raise NotFound(f"there is no story {slug!r}")
        if item.get("status") == "retracted":
            raise Gone(f"the story {slug!r} was retracted")
        body = _dumps({"data": to_story(item)})
        return representation(self.app.current_event, body, "application/json", STORY_MAX_AGE)

    def _feed(self, render: Callable[..., str], path: str, content_type: str) -> Response[str]:
        """The 20 newest stories rendered by ``render`` (one Query on the feed index)."""
        event = self.app.current_event
        items, _ = self.repository.query_feed(feed_for(None), feeds.FEED_SIZE)
        body = render(
            [to_summary(item) for item in items],
            feed_url=url(event, path),
            home_url=self.settings.site_url,
            story_url=self.settings.story_url_template,
        )
        return representation(event, body, content_type, LIST_MAX_AGE)

    def json_feed(self) -> Response[str]:
        return self._feed(feeds.json_feed, "/feed.json", "application/feed+json")

    def rss_feed(self) -> Response[str]:
        return self._feed(feeds.rss_feed, "/feed.xml", "application/rss+xml")

    def openapi(self) -> Response[str]:
        from newsroom.read_api.openapi import openapi_json  # pydantic only for this rare route

        event = self.app.current_event
        return representation(event, openapi_json(url(event, "")), "application/json", 300)

    def docs(self) -> Response[str]:
        if not self.settings.docs_enabled:
            raise NotFound("API documentation is disabled on this stage")
        from newsroom.read_api.openapi import swagger_html

        event = self.app.current_event
        return representation(event, swagger_html(url(event, "")), "text/html", 300)

    # -- errors -------------------------------------------------------------------------

    def _not_found(self, _: NotFoundError) -> Response[str]:
        event = self.app.current_event
        # API Gateway routes a slug of any characters to /stories/{slug}, but Powertools only
        # matches path parameters of its own character class: a slug with others (a NUL, an
        # emoji, "#") is not found by it. It is not a slug: 400, like every malformed slug.
        problem = _not_a_slug() if event.get("resource") == "/stories/{slug}" else None
        try:
            request_id = str(event.request_context.request_id)
        except (AttributeError, KeyError, TypeError):
            request_id = None
        return problem_response(problem or NotFound("no such resource"), request_id)


def _not_a_slug() -> InvalidParameters:
    return InvalidParameters(
        "the slug is not in the slug format",
        errors=[{"loc": ["path", "slug"], "msg": f"must match {SLUG_PATTERN}"}],
    )


_SLUG = re.compile(SLUG_PATTERN)


def _is_slug(value: str) -> bool:
    return _SLUG.fullmatch(value) is not None
