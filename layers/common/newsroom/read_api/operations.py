"""The read API's operations: one declaration per route that the resolver registers and the
OpenAPI document describes (``template.yaml`` declares the same routes; a test keeps the
three in step)."""

from newsroom.http.operations import JSON, NOT_MODIFIED, PROBLEM, XML, Operation, Response
from newsroom.http.params import LIST_PARAMS, PREVIEW_PARAM, SITEMAP_PARAMS

_UNAVAILABLE = Response(
    "The database is unavailable or throttled; retry after Retry-After seconds.",
    PROBLEM,
    "Problem",
    "unavailable",
)
STORIES, FEEDS, DISCOVERY, CONTRACT = "Stories", "Feeds", "Discovery", "Contract"

OPERATIONS = (
    Operation(
        "GET", "/stories", "listStories",
        "Recent Stories: published stories, newest first, with keyset pagination.",
        STORIES,
        "A page of story summaries, newest first. Follow `meta.next_cursor` (or the `Link: "
        "rel=\"next\"` header) for the next page: cursors are opaque and only valid for the "
        "same topic and date. `topic` narrows the list to one topic, `date` to one UTC day "
        "(the daily archive); they combine.",
        params=LIST_PARAMS,
        responses={
            200: Response("A page of story summaries.", JSON, "StoryList", "storyList"),
            304: NOT_MODIFIED,
            400: Response("Invalid query parameters or cursor.", PROBLEM, "Problem",
                          "invalidParameters"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/stories/{slug}", "getStory",
        "One public story with every field, and the stories around it: related, previous, "
        "next, recent.",
        STORIES,
        "The story page: the story (plain text, never HTML) with its related stories, the "
        "previous and next public stories and the Recent Stories box. With `preview`, a draft "
        "or scheduled story as it will be published, never cached.",
        params=(PREVIEW_PARAM,),
        responses={
            200: Response("The story.", JSON, "StoryEnvelope", "storyEnvelope"),
            304: NOT_MODIFIED,
            400: Response("The slug is not in the slug format.", PROBLEM, "Problem",
                          "invalidSlug"),
            404: Response(
                "No such story (or a draft, or scheduled for later, or a preview token that "
                "is not valid).", PROBLEM, "Problem", "notFound"
            ),
            410: Response("The story was retracted.", PROBLEM, "Problem", "gone"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/feed.json", "jsonFeed", "JSON Feed 1.1 of the 20 newest stories.", FEEDS,
        "The 20 newest public stories as a JSON Feed 1.1 document.",
        responses={
            200: Response("The feed.", "application/feed+json", "JsonFeed", "jsonFeed"),
            304: NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/feed.xml", "rssFeed", "RSS 2.0 feed of the 20 newest stories.", FEEDS,
        "The 20 newest public stories as an RSS 2.0 document.",
        responses={
            200: Response("The feed.", "application/rss+xml", "RssFeed", "rssFeed"),
            304: NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/topics", "listTopics",
        "Every topic with at least one public story: how many, and the newest's time; by "
        "count, then name.",
        STORIES,
        "The topics for a topic filter: each with its count of public stories and the time "
        "of its newest, most stories first, then by name.",
        responses={
            200: Response("The topics.", JSON, "TopicList", "topicList"),
            304: NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/sitemap.xml", "sitemap",
        "Sitemap (sitemaps.org 0.9) of the public stories; beyond 10,000 a sitemap index of "
        "one sitemap per UTC day (?date=).",
        DISCOVERY,
        "For search engines: a urlset of every public story, or beyond 10,000 stories a "
        "sitemapindex whose pages are `?date=` urlsets of one UTC day each.",
        params=SITEMAP_PARAMS,
        responses={
            200: Response("A urlset, or a sitemapindex.", XML, "Sitemap", "sitemap"),
            304: NOT_MODIFIED,
            400: Response("Invalid date.", PROBLEM, "Problem", "invalidDate"),
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/news-sitemap.xml", "newsSitemap",
        "Google News sitemap of the stories published in the last 48 hours.",
        DISCOVERY,
        "For Google News: the public stories of the last 48 hours (at most 1,000).",
        responses={
            200: Response("A Google News urlset.", XML, "Sitemap", "newsSitemap"),
            304: NOT_MODIFIED,
            503: _UNAVAILABLE,
        },
    ),
    Operation(
        "GET", "/openapi.json", "openapi", "This document.", CONTRACT,
        "This OpenAPI 3.1 document, with the stack's own URL as its server.",
        responses={200: Response("The OpenAPI 3 document.", JSON, "OpenApiDocument",
                                 "openapiDocument"),
                   304: NOT_MODIFIED},
    ),
    Operation(
        "GET", "/docs", "docs", "Swagger UI (only where the stack enables it).", CONTRACT,
        responses={200: Response("Swagger UI.", "text/html", "Html"),
                   404: Response("Disabled on this stage.", PROBLEM, "Problem")},
        documented=False,
    ),
)  # fmt: skip

# The query parameters any route reads: the CDN's cache key keeps exactly these (template.yaml
# ApiCachePolicy, devtools/cdn.py's nginx key; a test keeps the three in step).
CACHE_KEY_QUERY_PARAMETERS = tuple(sorted({p.name for op in OPERATIONS for p in op.params}))
