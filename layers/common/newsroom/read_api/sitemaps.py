"""Sitemaps of the public stories: sitemaps.org 0.9 URL sets and the index that lists them
(https://www.sitemaps.org/protocol.html), and a Google News sitemap of the newest stories
(https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap).

Pure renderers: the routes query the stories and pass them in the order to list them.
ElementTree escapes every text, so a title is never markup; the characters XML 1.0 cannot
carry at all are dropped (``newsroom.http.xml_text``).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from newsroom.http.xml_text import xml_text

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

SITEMAP_CONTENT_TYPE = "application/xml"
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"

# sitemaps.org allows 50,000 URLs or 50 MB per sitemap, but a Lambda function's synchronous
# response is at most 6 MB (Lambda quotas page) and 50,000 URLs of about 120 bytes are about
# 6 MB; 10,000 keeps a page near 1.2 MB (under 2 MB with slugs of the longest, 96 characters).
MAX_URLS_PER_SITEMAP = 10_000

# Google News reads at most 1,000 news:news entries per news sitemap ("Build and submit a
# news sitemap", Google Search Central). The caller queries at most this many; the renderer
# writes what it is given.
MAX_NEWS_URLS = 1_000

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class SitemapEntry(TypedDict):
    """What a URL set needs of a story; a ``StorySummary`` or ``FeedEntry`` has it."""

    slug: str
    updated_at: str


class NewsEntry(TypedDict):
    """What a news sitemap needs of a story; a ``StorySummary`` or ``FeedEntry`` has it."""

    slug: str
    title: str
    published_at: str


def _document(root: "Element") -> str:
    from xml.etree.ElementTree import tostring

    return _XML_DECLARATION + tostring(root, encoding="unicode")


def url_set(entries: Iterable[SitemapEntry], *, story_url: str) -> str:
    """A sitemaps.org 0.9 ``<urlset>``: one ``<url>`` per entry in the given order, its
    ``<loc>`` the ``story_url`` template (with ``{slug}``) filled in and its ``<lastmod>`` the
    stored ``updated_at`` (``YYYY-MM-DDTHH:MM:SSZ``, already a W3C datetime). Slugs are
    ``[a-z0-9-]`` (``core.slugs``), so the URL needs no percent-encoding."""
    from xml.etree.ElementTree import Element, SubElement  # only the sitemap routes need it

    urlset = Element("urlset", {"xmlns": SITEMAP_NAMESPACE})
    for entry in entries:
        url = SubElement(urlset, "url")
        SubElement(url, "loc").text = xml_text(story_url.format(slug=entry["slug"]))
        SubElement(url, "lastmod").text = xml_text(entry["updated_at"])
    return _document(urlset)


def sitemap_index(pages: Iterable[tuple[str, str | None]]) -> str:
    """A sitemaps.org 0.9 ``<sitemapindex>``: one ``<sitemap>`` per ``(url, lastmod)`` in the
    given order, with a ``<lastmod>`` only when it is not ``None``."""
    from xml.etree.ElementTree import Element, SubElement  # only the sitemap routes need it

    index = Element("sitemapindex", {"xmlns": SITEMAP_NAMESPACE})
    for url, lastmod in pages:
        sitemap = SubElement(index, "sitemap")
        SubElement(sitemap, "loc").text = xml_text(url)
        if lastmod is not None:
            SubElement(sitemap, "lastmod").text = xml_text(lastmod)
    return _document(index)


def news_sitemap(
    entries: Iterable[NewsEntry], *, story_url: str, publication_name: str, language: str
) -> str:
    """A Google News sitemap: a ``<urlset>`` with one ``<url>`` per entry in the given order,
    its ``<loc>`` built from ``story_url`` (with ``{slug}``) and a ``<news:news>`` naming the
    publication and ``language`` (ISO 639), the stored ``published_at`` (a W3C datetime) and
    the title as text. Which stories belong (Google reads those of the last two days, at
    most ``MAX_NEWS_URLS``) is the caller's query."""
    from xml.etree.ElementTree import Element, SubElement  # only the sitemap routes need it

    urlset = Element("urlset", {"xmlns": SITEMAP_NAMESPACE, "xmlns:news": NEWS_NAMESPACE})
    name, lang = xml_text(publication_name), xml_text(language)
    for entry in entries:
        url = SubElement(urlset, "url")
        SubElement(url, "loc").text = xml_text(story_url.format(slug=entry["slug"]))
        news = SubElement(url, "news:news")
        publication = SubElement(news, "news:publication")
        SubElement(publication, "news:name").text = name
        SubElement(publication, "news:language").text = lang
        SubElement(news, "news:publication_date").text = xml_text(entry["published_at"])
        SubElement(news, "news:title").text = xml_text(entry["title"])
    return _document(urlset)
