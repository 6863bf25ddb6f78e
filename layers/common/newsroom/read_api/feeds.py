"""Syndication feeds of the newest stories: JSON Feed 1.1 and RSS 2.0."""

import json
from email.utils import format_datetime

from newsroom.core.timestamps import parse_stored
from newsroom.http.xml_text import xml_text as _xml_text
from newsroom.stories.items import StorySummary

FEED_TITLE = "SIGNAL/NOISE"
FEED_DESCRIPTION = "The newest stories from SIGNAL/NOISE."
FEED_SIZE = 20


def json_feed(
    summaries: list[StorySummary], *, feed_url: str, home_url: str, story_url: str
) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); ``story_url`` has ``{slug}``."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": FEED_TITLE,
        "description": FEED_DESCRIPTION,
        "home_page_url": home_url,
        "feed_url": feed_url,
        "language": "en",
        "items": [
            {
                "id": s["slug"],
                "url": story_url.format(slug=s["slug"]),
                "title": s["title"],
                "content_text": s["excerpt"],
                "summary": s["excerpt"],
                "date_published": s["published_at"],
                "date_modified": s["updated_at"],
                "tags": s["topics"],
            }
            for s in summaries
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def rss_feed(summaries: list[StorySummary], *, feed_url: str, home_url: str, story_url: str) -> str:
    """RSS 2.0; ElementTree escapes every text, so story text is never markup (characters
    XML cannot carry at all are dropped)."""
    from xml.etree import ElementTree as ET  # only this route needs it (cold start)

    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": "http://www.w3.org/2005/Atom"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = FEED_TITLE
    ET.SubElement(channel, "link").text = home_url
    ET.SubElement(channel, "description").text = FEED_DESCRIPTION
    ET.SubElement(channel, "language").text = "en"
    ET.SubElement(
        channel, "atom:link", {"href": feed_url, "rel": "self", "type": "application/rss+xml"}
    )
    if summaries:
        newest = max(parse_stored(s["updated_at"]) for s in summaries)
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(newest, usegmt=True)
    for s in summaries:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _xml_text(s["title"])
        ET.SubElement(item, "link").text = _xml_text(story_url.format(slug=s["slug"]))
        ET.SubElement(item, "description").text = _xml_text(s["excerpt"])
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = s["slug"]
        ET.SubElement(item, "pubDate").text = format_datetime(
            parse_stored(s["published_at"]), usegmt=True
        )
        for topic in s["topics"]:
            ET.SubElement(item, "category").text = _xml_text(topic)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode")
