"""``newsroom.read_api.sitemaps``: sitemaps.org 0.9 URL sets (one ``<url>`` per story in the
given order, ``loc`` from the story URL template, ``lastmod`` the stored ``updated_at``), the
sitemap index (``lastmod`` only when known) and the Google News sitemap (publication, language,
publication date, title), every text escaped, the characters XML cannot carry dropped, and a
full page well inside a Lambda response."""

import io
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

from newsroom.read_api.sitemaps import (
    MAX_URLS_PER_SITEMAP,
    NEWS_NAMESPACE,
    SITEMAP_CONTENT_TYPE,
    SITEMAP_NAMESPACE,
    news_sitemap,
    sitemap_index,
    url_set,
)
from newsroom.stories.items import StorySummary
from tests.unit.read_api.test_feeds import summary

STORY_URL = "https://signal-noise.example/stories/{slug}"
SM = f"{{{SITEMAP_NAMESPACE}}}"
NEWS = f"{{{NEWS_NAMESPACE}}}"
MARKUP = "<b>A & B</b> \"quotes\" 'apostrophes' ]]> &amp;"
# Lambda's synchronous response payload quota (Lambda quotas page).
LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
NEWS_ARGS: dict[str, Any] = {
    "story_url": STORY_URL,
    "publication_name": "SIGNAL/NOISE",
    "language": "en",
}


SUMMARIES = [
    summary("newest", published_at="2025-10-22T09:30:00Z", updated_at="2025-10-22T10:00:00Z"),
    summary("markup", title=MARKUP),
    summary("older", published_at="2025-09-01T00:00:05Z", updated_at="2025-09-01T00:00:05Z"),
]


def parsed(text: str) -> ET.Element:
    """The document's root, after checking the declaration every sitemap starts with."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def news_of(summaries: list[StorySummary], name: str = "SIGNAL/NOISE") -> ET.Element:
    return parsed(
        news_sitemap(summaries, story_url=STORY_URL, publication_name=name, language="en")
    )


def test_sitemaps_are_served_as_xml() -> None:
    assert SITEMAP_CONTENT_TYPE == "application/xml"


def test_url_set_lists_one_url_per_entry_in_the_given_order() -> None:
    root = parsed(url_set(SUMMARIES, story_url=STORY_URL))
    assert root.tag == f"{SM}urlset"
    urls = list(root)
    assert [u.tag for u in urls] == [f"{SM}url"] * 3
    assert [u.findtext(f"{SM}loc") for u in urls] == [
        "https://signal-noise.example/stories/newest",
        "https://signal-noise.example/stories/markup",
        "https://signal-noise.example/stories/older",
    ]


def test_url_set_lastmod_is_the_stored_updated_at() -> None:
    root = parsed(url_set(SUMMARIES, story_url=STORY_URL))
    assert [u.findtext(f"{SM}lastmod") for u in root] == [
        "2025-10-22T10:00:00Z",
        "2025-10-18T08:15:00Z",
        "2025-09-01T00:00:05Z",
    ]
    assert [[child.tag for child in u] for u in root] == [[f"{SM}loc", f"{SM}lastmod"]] * 3


def test_url_set_takes_any_iterable_of_mappings_with_slug_and_updated_at() -> None:
    def entries() -> Iterator[Any]:
        yield {"slug": "only-keys", "updated_at": "2025-01-02T03:04:05Z"}

    (url,) = parsed(url_set(entries(), story_url=STORY_URL))
    assert url.findtext(f"{SM}loc") == "https://signal-noise.example/stories/only-keys"
    assert url.findtext(f"{SM}lastmod") == "2025-01-02T03:04:05Z"


def test_ampersand_and_quotes_in_the_url_template_are_escaped() -> None:
    template = "https://signal-noise.example/s?slug={slug}&ref=\"map\"&x='<y>'"
    text = url_set([summary("a")], story_url=template)
    assert "&ref=" not in text and "&amp;ref=" in text and "<y>" not in text
    (url,) = parsed(text)
    assert url.findtext(f"{SM}loc") == "https://signal-noise.example/s?slug=a&ref=\"map\"&x='<y>'"


def test_no_entries_make_a_valid_empty_url_set() -> None:
    for text in (url_set([], story_url=STORY_URL), news_sitemap([], **NEWS_ARGS)):
        root = parsed(text)
        assert root.tag == f"{SM}urlset" and len(root) == 0


def test_sitemap_index_lists_pages_with_and_without_lastmod() -> None:
    pages = [
        ("https://api.example/v1/sitemaps/stories/1.xml", "2025-10-22T10:00:00Z"),
        ("https://api.example/v1/sitemaps/stories/2.xml?a=1&b=2", None),
    ]
    root = parsed(sitemap_index(pages))
    assert root.tag == f"{SM}sitemapindex"
    first, second = root
    assert first.tag == second.tag == f"{SM}sitemap"
    assert first.findtext(f"{SM}loc") == pages[0][0]
    assert first.findtext(f"{SM}lastmod") == "2025-10-22T10:00:00Z"
    assert second.findtext(f"{SM}loc") == pages[1][0]
    assert second.find(f"{SM}lastmod") is None


def test_empty_sitemap_index_is_valid() -> None:
    root = parsed(sitemap_index([]))
    assert root.tag == f"{SM}sitemapindex" and len(root) == 0


def test_news_sitemap_fields() -> None:
    root = news_of(SUMMARIES)
    assert root.tag == f"{SM}urlset"
    urls = root.findall(f"{SM}url")
    assert len(urls) == 3
    for url, source in zip(urls, SUMMARIES, strict=True):
        assert url.findtext(f"{SM}loc") == f"https://signal-noise.example/stories/{source['slug']}"
        news = url.find(f"{NEWS}news")
        assert news is not None
        assert news.findtext(f"{NEWS}publication/{NEWS}name") == "SIGNAL/NOISE"
        assert news.findtext(f"{NEWS}publication/{NEWS}language") == "en"
        assert news.findtext(f"{NEWS}publication_date") == source["published_at"]
        assert news.findtext(f"{NEWS}title") == source["title"]


def test_news_sitemap_declares_both_namespaces_with_the_news_prefix() -> None:
    text = news_sitemap(SUMMARIES, **NEWS_ARGS)
    declared = [
        ns for _, ns in ET.iterparse(io.BytesIO(text.encode("utf-8")), events=("start-ns",))
    ]
    assert declared == [("", SITEMAP_NAMESPACE), ("news", NEWS_NAMESPACE)]


def test_markup_in_titles_and_names_is_escaped_text() -> None:
    text = news_sitemap(
        [summary("markup", title=MARKUP)],
        story_url=STORY_URL,
        publication_name=MARKUP,
        language="en",
    )
    assert "<b>" not in text and "&lt;b&gt;A &amp; B" in text
    root = parsed(text)
    title = root.find(f"{SM}url/{NEWS}news/{NEWS}title")
    assert title is not None and title.text == MARKUP and len(title) == 0
    assert root.findtext(f"{SM}url/{NEWS}news/{NEWS}publication/{NEWS}name") == MARKUP


def test_characters_xml_cannot_carry_are_dropped() -> None:
    odd = summary("odd", title="tab\there\x00\x0b\x1f\ufffe end \U0001f4a1")
    root = news_of([odd], name="SIGNAL\x07/NOISE\x1b")  # parses: the document is well-formed
    news = root.find(f"{SM}url/{NEWS}news")
    assert news is not None
    assert news.findtext(f"{NEWS}title") == "tab\there end \U0001f4a1"
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "SIGNAL/NOISE"
    index = parsed(sitemap_index([("https://api.example/\x01sitemap.xml", None)]))
    assert index.findtext(f"{SM}sitemap/{SM}loc") == "https://api.example/sitemap.xml"


def test_a_full_page_with_the_longest_slugs_fits_a_lambda_response() -> None:
    """MAX_URLS_PER_SITEMAP, not sitemaps.org's 50,000: a page of the longest slugs (96
    characters) must fit in Lambda's 6 MB response with room to spare."""
    entries = [summary(f"{i:06d}-" + "s" * 89) for i in range(MAX_URLS_PER_SITEMAP)]
    assert {len(e["slug"]) for e in entries} == {96}
    text = url_set(entries, story_url=STORY_URL)
    size = len(text.encode("utf-8"))
    assert len(parsed(text)) == MAX_URLS_PER_SITEMAP
    assert size < LAMBDA_RESPONSE_BYTES / 2, size
