"""The read API's operations: one declaration per route that the resolver registers and the
OpenAPI document describes (``template.yaml`` declares the same routes; a test keeps the
three in step)."""

from dataclasses import dataclass, field

from newsroom.http.params import LIST_PARAMS, QueryParam

JSON = "application/json"
PROBLEM = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Response:
    description: str
    content_type: str | None = None
    model: str | None = None  # a schema name in newsroom.read_api.openapi


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    params: tuple[QueryParam, ...] = ()
    responses: dict[int, Response] = field(default_factory=dict)
    documented: bool = True


_NOT_MODIFIED = Response("Not modified: the representation matches If-None-Match.")
_UNAVAILABLE = Response(
    "The database is unavailable or throttled; retry later.", PROBLEM, "Problem"
)

OPERATIONS = (
    Operation(
        "GET", "/stories", "listStories",
        "Recent Stories: published stories, newest first, with keyset pagination.",
        params=LIST_PARAMS,
        responses={
            200: Response("A page of story summaries.", JSON, "StoryList"),
            304: _NOT_MODIFIED,
            400: Response("Invalid query parameters or cursor.", PROBLEM, "Problem"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/stories/{slug}", "getStory", "One published story with every field.",
        responses={
            200: Response("The story.", JSON, "StoryEnvelope"),
            304: _NOT_MODIFIED,
            400: Response("The slug is not in the slug format.", PROBLEM, "Problem"),
            404: Response("No such story (or still a draft).", PROBLEM, "Problem"),
            410: Response("The story was retracted.", PROBLEM, "Problem"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/feed.json", "jsonFeed", "JSON Feed 1.1 of the 20 newest stories.",
        responses={
            200: Response("The feed.", "application/feed+json", "JsonFeed"),
            304: _NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/feed.xml", "rssFeed", "RSS 2.0 feed of the 20 newest stories.",
        responses={
            200: Response("The feed.", "application/rss+xml", "RssFeed"),
            304: _NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/openapi.json", "openapi", "This document.",
        responses={200: Response("The OpenAPI 3 document.", JSON, "OpenApiDocument"),
                   304: _NOT_MODIFIED},
    ),
    Operation(
        "GET", "/docs", "docs", "Swagger UI (only where the stack enables it).",
        responses={200: Response("Swagger UI.", "text/html", "Html"),
                   404: Response("Disabled on this stage.", PROBLEM, "Problem")},
        documented=False,
    ),
)  # fmt: skip

# The query parameters any route reads: the CDN's cache key keeps exactly these (template.yaml
# ApiCachePolicy, devtools/cdn.py's nginx key; a test keeps the three in step).
CACHE_KEY_QUERY_PARAMETERS = tuple(sorted({p.name for op in OPERATIONS for p in op.params}))
