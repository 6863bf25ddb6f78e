"""Keyset cursors, query parameters, the syndication feeds and the API's base URL."""

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devtools.events import apigw_event
from newsroom.http.params import LIST_PARAMS, parse_query
from newsroom.http.problems import InvalidParameters
from newsroom.http.responses import base_url
from newsroom.read_api.feeds import FEED_TITLE, json_feed, rss_feed
from newsroom.read_api.pagination import (
    CURSOR_VERSION,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
)
from newsroom.stories.items import feed_name

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
WHEN = "2025-10-22T09:30:00Z"
ALL = Position("feed", WHEN, "russia-china-ai-partnership-putin-sberbank")
TOPIC = Position("topic#ai", "2025-10-17T13:00:00Z", "credo-purple-cables-ai-data-center-boom")
# Slugs of every length modulo 3, so the encoded bytes end in every base64 padding case.
POSITIONS = [ALL, TOPIC] + [Position("feed", WHEN, "a" * n) for n in (1, 2, 3, 4, 96)]


def forge(fields: Any, *, raw: bytes | None = None) -> str:
    """A cursor with a correct check over an arbitrary payload: what anyone can make,
    because the check is not a secret."""
    payload = raw if raw is not None else json.dumps(fields, separators=(",", ":")).encode()
    check = hashlib.sha256(payload).digest()[:8]
    return base64.urlsafe_b64encode(payload + check).rstrip(b"=").decode()


def fields(**changes: Any) -> dict[str, Any]:
    return {"v": CURSOR_VERSION, "f": "feed", "p": WHEN, "s": "some-story", **changes}


def rejected(cursor: str, feed: str = "feed") -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, feed)


# -- cursors ----------------------------------------------------------------------------


def test_feed_name() -> None:
    assert feed_name(None) == "feed"
    assert feed_name("ai") == "topic#ai"


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: f"{p.feed}-{len(p.slug)}")
def test_cursor_round_trip(position: Position) -> None:
    cursor = encode_cursor(position)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_cursor(cursor, position.feed) == position
    assert encode_cursor(decode_cursor(cursor, position.feed)) == cursor


def test_forged_but_well_formed_cursor_is_accepted() -> None:
    # The check is an integrity check, not a signature: a cursor naming any valid position
    # is fine, because it only ever becomes a key of the shape the index has.
    assert decode_cursor(forge(fields()), "feed") == Position("feed", WHEN, "some-story")


def test_exclusive_start_key_of_the_all_stories_feed() -> None:
    key = decode_cursor(encode_cursor(ALL), "feed").exclusive_start_key()
    assert key == {
        "feed_pk": {"S": "feed"},
        "feed_sk": {"S": f"{WHEN}#russia-china-ai-partnership-putin-sberbank"},
        "pk": {"S": "story#russia-china-ai-partnership-putin-sberbank"},
        "sk": {"S": "story"},
    }


def test_exclusive_start_key_of_a_topic_feed() -> None:
    key = decode_cursor(encode_cursor(TOPIC), feed_name("ai")).exclusive_start_key()
    assert key == {
        "feed_pk": {"S": "topic#ai"},
        "feed_sk": {"S": "2025-10-17T13:00:00Z#credo-purple-cables-ai-data-center-boom"},
        "pk": {"S": "story#credo-purple-cables-ai-data-center-boom"},
        "sk": {"S": "topic#ai"},  # a topic entry's sk is its feed_pk
    }


def test_cursor_of_another_feed_is_rejected() -> None:
    rejected(encode_cursor(ALL), "topic#ai")
    rejected(encode_cursor(TOPIC), "feed")
    rejected(encode_cursor(TOPIC), "topic#policy")
    rejected(encode_cursor(TOPIC), "topic#ai-")  # a prefix of another feed is another feed


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: f"{p.feed}-{len(p.slug)}")
def test_truncated_cursor_is_rejected(position: Position) -> None:
    cursor = encode_cursor(position)
    for end in range(len(cursor)):
        rejected(cursor[:end], position.feed)
    for start in range(1, len(cursor)):
        rejected(cursor[start:], position.feed)


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: f"{p.feed}-{len(p.slug)}")
def test_every_one_character_change_is_rejected(position: Position) -> None:
    # Including the last character, whose low bits are padding: base64 decoders ignore
    # them, so only a canonical-encoding check catches that change.
    cursor = encode_cursor(position)
    for i, original in enumerate(cursor):
        for replacement in B64URL:
            if replacement != original:
                rejected(cursor[:i] + replacement + cursor[i + 1 :], position.feed)


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: f"{p.feed}-{len(p.slug)}")
def test_padding_tricks_are_rejected(position: Position) -> None:
    cursor = encode_cursor(position)
    padded = base64.urlsafe_b64encode(base64.urlsafe_b64decode(cursor + "==")).decode()
    for variant in (
        cursor + "=",
        cursor + "==",
        cursor + "===",
        padded if padded != cursor else cursor + "=",
        cursor + "A",  # one more character: a length no base64 has, or an extra byte
        cursor + "AA",
        cursor + "AAAA",  # three zero bytes after the check
        "=" + cursor,
        cursor[:-1] + "=",  # the last character replaced by padding
        cursor[:-2] + "==",
    ):
        rejected(variant, position.feed)
    # The standard-alphabet spelling of the same bytes, with and without its padding.
    standard = base64.b64encode(base64.urlsafe_b64decode(cursor + "==")).decode()
    for variant in {standard, standard.rstrip("=")} - {cursor}:
        rejected(variant, position.feed)


@pytest.mark.parametrize("version", [0, 2, -1, "1", None, True, 1.0, [1]])
def test_other_version_is_rejected(version: Any) -> None:
    rejected(forge(fields(v=version)))


def test_extra_or_missing_fields_are_rejected() -> None:
    rejected(forge(fields(x=1)))
    rejected(forge(fields(slug="some-story")))
    for name in ("v", "f", "p", "s"):
        partial = fields()
        del partial[name]
        rejected(forge(partial))
    rejected(forge([1, "feed", WHEN, "some-story"]))
    rejected(forge("feed"))
    rejected(forge(None))


def test_payload_not_as_this_api_writes_it_is_rejected() -> None:
    canonical = json.dumps(fields(), separators=(",", ":"))
    for payload in (
        json.dumps(fields()),  # spaces
        json.dumps(dict(reversed(fields().items())), separators=(",", ":")),  # key order
        canonical.replace('"v":1', '"v":1,"v":1'),  # duplicate key
        canonical.replace('"some-story"', '"\\u0073ome-story"'),  # escaped letter
        canonical + " ",
    ):
        rejected(forge(None, raw=payload.encode()))
    rejected(forge(None, raw=b"\xff\xfe not utf-8"))
    rejected(forge(None, raw=b"{not json"))


@pytest.mark.parametrize(
    "slug",
    ["", "Some-Story", "some_story", "some story", "-some", "some-", "some--story", "a" * 97,
     "some-story\n", "\u00e9t\u00e9", 7, None, ["some-story"]],
)  # fmt: skip
def test_bad_slug_is_rejected(slug: Any) -> None:
    rejected(forge(fields(s=slug)))


@pytest.mark.parametrize(
    "published_at",
    ["", "2025-10-22", "2025-10-22T09:30:00", "2025-10-22T09:30:00+00:00",
     "2025-10-22T09:30:00.000Z", "2025-10-22 09:30:00Z", "2025-10-22T09:30:00z",
     "2025-10-22T09:30:00Z\n", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
     "2025-10-22T25:00:00Z", "\uff12025-10-22T09:30:00Z", 1761125400, None],
)  # fmt: skip
def test_bad_timestamp_is_rejected(published_at: Any) -> None:
    rejected(forge(fields(p=published_at)))


def test_bad_feed_is_rejected() -> None:
    rejected(forge(fields(f="topic#AI")), "topic#AI")
    rejected(forge(fields(f="feed\n")), "feed\n")
    rejected(forge(fields(f="story")), "story")


def test_oversized_cursor_is_rejected() -> None:
    rejected("A" * (MAX_CURSOR_LENGTH + 1))
    rejected("A" * 100_000)
    # Even with a correct check: no real position needs a cursor that long.
    long_cursor = forge(fields(s="a" * 400))
    assert len(long_cursor) > MAX_CURSOR_LENGTH
    rejected(long_cursor)


@pytest.mark.parametrize(
    "char", ["+", "/", "=", " ", "%", ".", "~", "\n", "\t", "\x00", "\u00e9", "\uff21", "\u0661"]
)
def test_non_base64url_characters_are_rejected(char: str) -> None:
    cursor = encode_cursor(ALL)
    for at in (0, len(cursor) // 2, len(cursor)):
        rejected(cursor[:at] + char + cursor[at:])
    rejected(cursor[:-1] + char)


def test_empty_cursor_is_rejected() -> None:
    rejected("")


# -- query parameters -------------------------------------------------------------------


def test_parse_query_defaults() -> None:
    expected = {"limit": 10, "cursor": None, "topic": None}
    assert parse_query(LIST_PARAMS, None) == expected
    assert parse_query(LIST_PARAMS, {}) == expected


def test_parse_query_values() -> None:
    cursor = encode_cursor(ALL)
    query = {"limit": ["50"], "cursor": [cursor], "topic": ["machine-learning"]}
    assert parse_query(LIST_PARAMS, query) == {
        "limit": 50,
        "cursor": cursor,
        "topic": "machine-learning",
    }
    assert parse_query(LIST_PARAMS, {"limit": ["1"]})["limit"] == 1
    assert parse_query(LIST_PARAMS, {"limit": ["007"]})["limit"] == 7


def errors_of(query: dict[str, list[str]]) -> list[dict[str, Any]]:
    with pytest.raises(InvalidParameters) as caught:
        parse_query(LIST_PARAMS, query)
    assert caught.value.status == 400
    assert caught.value.errors is not None
    return caught.value.errors


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("limit", "0"), ("limit", "51"), ("limit", "-1"), ("limit", ""), ("limit", "ten"),
        ("limit", "1.5"), ("limit", "1e1"), ("limit", " 5"), ("limit", "+5"),
        ("limit", "9999999999"), ("limit", "\uff15"), ("limit", "\u0665"),
        ("cursor", ""), ("cursor", "abc+def"), ("cursor", "abc=="), ("cursor", "a" * 401),
        ("topic", ""), ("topic", "AI"), ("topic", "machine learning"), ("topic", "ai-"),
        ("topic", "a" * 97), ("topic", "ai\n"),
    ],
)  # fmt: skip
def test_parse_query_error(name: str, raw: str) -> None:
    errors = errors_of({name: [raw]})
    assert len(errors) == 1
    assert errors[0]["loc"] == ["query", name]
    assert isinstance(errors[0]["msg"], str) and errors[0]["msg"]


def test_parse_query_collects_every_error() -> None:
    errors = errors_of({"limit": ["0"], "cursor": ["%%%"], "topic": ["AI"]})
    assert [e["loc"] for e in errors] == [
        ["query", "limit"],
        ["query", "cursor"],
        ["query", "topic"],
    ]


@pytest.mark.parametrize("name", ["limit", "cursor", "topic"])
def test_repeated_parameter_is_an_error(name: str) -> None:
    value = {"limit": "5", "cursor": encode_cursor(ALL), "topic": "ai"}[name]
    errors = errors_of({name: [value, value]})
    assert errors == [{"loc": ["query", name], "msg": "must be given at most once"}]


def test_unknown_parameters_are_ignored() -> None:
    query = {"limit": ["5"], "utm_source": ["newsletter"], "_": ["1761141909"], "Limit": ["x"]}
    assert parse_query(LIST_PARAMS, query) == {"limit": 5, "cursor": None, "topic": None}


# -- feeds ------------------------------------------------------------------------------

FEED_URL = "https://api.example/v1/feed"
HOME_URL = "https://signal-noise.example/"
STORY_URL = "https://signal-noise.example/stories/{slug}"
MARKUP = "<script>alert(1)</script> & \"quotes\" 'apostrophes' ]]> <![CDATA[x]]> &amp;"


def summary(slug: str, **changes: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Title of {slug}",
        "excerpt": f"Excerpt of {slug}…",
        "published_at": "2025-10-17T13:00:00Z",
        "updated_at": "2025-10-18T08:15:00Z",
        "topics": ["ai", "chips"],
        **changes,
    }


SUMMARIES = [
    summary("newest", published_at="2025-10-22T09:30:00Z", updated_at="2025-10-22T10:00:00Z"),
    summary("markup", title=MARKUP, excerpt=MARKUP, topics=[]),
    summary("older", published_at="2025-09-01T00:00:05Z", updated_at="2025-09-01T00:00:05Z"),
]


def feeds_of(summaries: list[dict[str, Any]]) -> tuple[dict[str, Any], ET.Element]:
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


# -- base_url ---------------------------------------------------------------------------

HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"


def event_with(path: str, context_path: str, **kwargs: Any) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent(apigw_event("GET", path, context_path=context_path, **kwargs))


def test_base_url_with_stage_prefix() -> None:
    event = APIGatewayProxyEvent(apigw_event("GET", "/stories"))
    assert event.request_context.path == "/v1/stories"
    assert base_url(event) == f"https://{HOST}/v1"
    story = apigw_event(
        "GET", "/stories/a-b", resource="/stories/{slug}", path_parameters={"slug": "a-b"}
    )
    assert base_url(APIGatewayProxyEvent(story)) == f"https://{HOST}/v1"


def test_base_url_without_stage_prefix() -> None:
    # A custom domain mapped at its root, or sam local: requestContext.path == path.
    event = event_with("/stories", "/stories", headers={"Host": "api.signal-noise.example"})
    assert base_url(event) == "https://api.signal-noise.example"
    local = event_with(
        "/feed.json",
        "/feed.json",
        headers={"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http"},
    )
    assert base_url(local) == "http://127.0.0.1:3000"


def test_base_url_with_custom_domain_base_path() -> None:
    event = event_with("/stories", "/content/stories", headers={"Host": "api.example"})
    assert base_url(event) == "https://api.example/content"


def test_base_url_with_lower_case_headers_or_none() -> None:
    raw = apigw_event("GET", "/stories")
    raw["headers"] = {"host": "api.example", "x-forwarded-proto": "https"}
    raw["multiValueHeaders"] = {k: [v] for k, v in raw["headers"].items()}
    assert base_url(APIGatewayProxyEvent(raw)) == "https://api.example/v1"
    raw["headers"] = raw["multiValueHeaders"] = None
    assert base_url(APIGatewayProxyEvent(raw)) == "https://localhost/v1"
