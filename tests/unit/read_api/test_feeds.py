"""``newsroom.read_api.feeds``: the syndication feeds of the Recent Stories summaries, a JSON
Feed 1.1 and an RSS 2.0 document with one plain-text item per story in the given order (link,
title, excerpt, dates, topics as tags or categories; RSS dates in RFC 822 and the newest
update as ``lastBuildDate``), markup in titles and excerpts kept as escaped text, the
characters XML cannot carry dropped from RSS, and well-formed empty feeds for no stories."""

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast
from xml.etree import ElementTree as ET

from newsroom.read_api.feeds import FEED_TITLE, json_feed, rss_feed
from newsroom.stories.items import StorySummary

FEED_URL = "https://api.example/v1/feed"
HOME_URL = "https://signal-noise.example/"
STORY_URL = "https://signal-noise.example/stories/{slug}"
MARKUP = "<script>alert(1)</script> & \"quotes\" 'apostrophes' ]]> <![CDATA[x]]> &amp;"


def summary(slug: str, **changes: Any) -> StorySummary:
    return cast(
        StorySummary,
        {
            "slug": slug,
            "title": f"Title of {slug}",
            "excerpt": f"Excerpt of {slug}…",
            "published_at": "2025-10-17T13:00:00Z",
            "updated_at": "2025-10-18T08:15:00Z",
            "topics": ["ai", "chips"],
            **changes,
        },
    )


# Any, not StorySummary: the feeds take them as summaries, and the tests also read their fields
# by computed names (which a TypedDict does not allow).
SUMMARIES: list[Any] = [
    summary("newest", published_at="2025-10-22T09:30:00Z", updated_at="2025-10-22T10:00:00Z"),
    summary("markup", title=MARKUP, excerpt=MARKUP, topics=[]),
    summary("older", published_at="2025-09-01T00:00:05Z", updated_at="2025-09-01T00:00:05Z"),
]


def feeds_of(summaries: list[StorySummary]) -> tuple[dict[str, Any], ET.Element]:
    urls = {"feed_url": FEED_URL, "home_url": HOME_URL, "story_url": STORY_URL}
    document = json.loads(json_feed(summaries, **urls))
    text = rss_feed(summaries, **urls)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert ET.tostring(ET.fromstring(text)) == ET.tostring(root)
    return document, root


def test_json_feed_1_1() -> None:
    document, _ = feeds_of(SUMMARIES)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == FEED_TITLE
    assert document["home_page_url"] == HOME_URL
    assert document["feed_url"] == FEED_URL
    assert [item["id"] for item in document["items"]] == ["newest", "markup", "older"]
    for item, source in zip(document["items"], SUMMARIES, strict=True):
        assert isinstance(item["id"], str)
        assert item["url"] == f"https://signal-noise.example/stories/{source['slug']}"
        assert item["title"] == source["title"]
        # A plain-text item: content_text, never content_html.
        assert item["content_text"] == source["excerpt"] and "content_html" not in item
        for name, stored in (("date_published", "published_at"), ("date_modified", "updated_at")):
            assert datetime.fromisoformat(item[name]) == datetime.fromisoformat(source[stored])
            assert item[name].endswith("Z")
        assert item["tags"] == source["topics"]
    assert document["items"][1]["title"] == MARKUP  # JSON carries markup as text


def test_rss_2_0() -> None:
    _, rss = feeds_of(SUMMARIES)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == FEED_TITLE
    assert channel.findtext("link") == HOME_URL
    assert channel.findtext("description")
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert self_link is not None
    assert self_link.attrib == {"href": FEED_URL, "rel": "self", "type": "application/rss+xml"}
    items = channel.findall("item")
    assert [i.findtext("guid") for i in items] == ["newest", "markup", "older"]
    for item, source in zip(items, SUMMARIES, strict=True):
        assert item.findtext("title") == source["title"]
        assert item.findtext("description") == source["excerpt"]
        assert item.findtext("link") == f"https://signal-noise.example/stories/{source['slug']}"
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert [c.text for c in item.findall("category")] == source["topics"]
    # lastBuildDate: the newest updated_at.
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == datetime(
        2025, 10, 22, 10, 0, tzinfo=UTC
    )


RFC_822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT"
)


def test_rss_pub_date_is_rfc_822() -> None:
    _, rss = feeds_of(SUMMARIES)
    dates = [item.findtext("pubDate") or "" for item in rss.iter("item")]
    assert dates[0] == "Wed, 22 Oct 2025 09:30:00 GMT"
    assert dates[2] == "Mon, 01 Sep 2025 00:00:05 GMT"
    for date, source in zip(dates, SUMMARIES, strict=True):
        assert RFC_822.fullmatch(date), date
        expected = datetime.fromisoformat(source["published_at"])
        assert parsedate_to_datetime(date) == expected


def test_markup_in_titles_is_escaped_text() -> None:
    text = rss_feed(SUMMARIES, feed_url=FEED_URL, home_url=HOME_URL, story_url=STORY_URL)
    assert "<script>" not in text and "<![CDATA[x" not in text
    assert "&lt;script&gt;" in text
    _, rss = feeds_of(SUMMARIES)
    (item,) = [i for i in rss.iter("item") if i.findtext("guid") == "markup"]
    assert item.findtext("title") == MARKUP
    assert item.findtext("description") == MARKUP
    title = item.find("title")
    assert title is not None and len(title) == 0  # text, no child elements


def test_characters_xml_cannot_carry_are_dropped_from_rss() -> None:
    odd = summary("odd", title="tab\there\x00\x0b\x1f\ufffe end", excerpt="bell\x07 ok \U0001f4a1")
    document, rss = feeds_of([odd])  # parses: the document is well-formed
    item = rss.find("channel/item")
    assert item is not None
    assert item.findtext("title") == "tab\there end"
    assert item.findtext("description") == "bell ok \U0001f4a1"
    assert document["items"][0]["title"] == odd["title"]  # JSON escapes them instead


def test_feeds_of_no_stories() -> None:
    document, rss = feeds_of([])
    assert document["items"] == []
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findall("item") == [] and channel.findtext("title") == FEED_TITLE
    assert channel.find("lastBuildDate") is None
