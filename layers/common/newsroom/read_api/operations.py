"""The read API's operations: one declaration per route that the resolver registers and the
OpenAPI document describes (``template.yaml`` declares the same routes; a test keeps the
three in step)."""

from dataclasses import dataclass, field

from newsroom.http.params import LIST_PARAMS, PREVIEW_PARAM, SITEMAP_PARAMS, QueryParam

JSON = "application/json"
XML = "application/xml"
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
        "GET", "/stories/{slug}", "getStory",
        "One public story with every field, and the stories around it: related, previous, "
        "next, recent.",
        params=(PREVIEW_PARAM,),
        responses={
            200: Response("The story.", JSON, "StoryEnvelope"),
            304: _NOT_MODIFIED,
            400: Response("The slug is not in the slug format.", PROBLEM, "Problem"),
            404: Response(
                "No such story (or a draft, or scheduled for later, or a preview token that "
                "is not valid).", PROBLEM, "Problem"
            ),
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
        "GET", "/topics", "listTopics",
        "Every topic with at least one public story: how many, and the newest's time; by "
        "count, then name.",
        responses={
            200: Response("The topics.", JSON, "TopicList"),
            304: _NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/sitemap.xml", "sitemap",
        "Sitemap (sitemaps.org 0.9) of the public stories; beyond 10,000 a sitemap index of "
        "one sitemap per UTC day (?date=).",
        params=SITEMAP_PARAMS,
        responses={
            200: Response("A urlset, or a sitemapindex.", XML, "Sitemap"),
            304: _NOT_MODIFIED,
            400: Response("Invalid date.", PROBLEM, "Problem"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/news-sitemap.xml", "newsSitemap",
        "Google News sitemap of the stories published in the last 48 hours.",
        responses={
            200: Response("A Google News urlset.", XML, "Sitemap"),
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
