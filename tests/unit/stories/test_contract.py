"""The upload contract, ``newsroom.stories.contract``: ``StoryIn`` accepts exactly the stories
the contract allows (one test per rule, valid and invalid), normalises them into the content
and content hash that are stored, and the published JSON Schema (``story_json_schema`` and the
committed ``schema/story.schema.json``) describes the same contract."""

import json
from typing import Any

import pytest

from devtools.factories import valid_story
from devtools.template import ROOT
from newsroom.stories.contract import StoryIn, story_json_schema
from tests.support.contract import contract_errors

SCHEMA_FILE = ROOT / "schema" / "story.schema.json"


def without(field: str) -> dict[str, Any]:
    story = valid_story()
    del story[field]
    return story


def section(**overrides: Any) -> dict[str, Any]:
    return {"heading": "Why it matters", "body": "Borrowing stays expensive.", **overrides}


def assert_rejected(data: dict[str, Any], loc: tuple[str | int, ...], fragment: str) -> None:
    """``data`` is rejected with an error at ``loc`` whose message contains ``fragment``."""
    errors = contract_errors(data)
    messages = [e["msg"] for e in errors if e["loc"] == loc]
    assert messages, f"no error at {loc}: {errors}"
    assert any(fragment in m for m in messages), f"{fragment!r} not in {messages}"


def accepted(data: dict[str, Any]) -> StoryIn:
    return StoryIn.model_validate(data)


# --- slug -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["rates", "rates-held-2025", "a", "9-to-5", "x" * 96])
def test_slug_in_slug_format_is_accepted(slug: str) -> None:
    assert accepted(valid_story(slug=slug)).slug == slug


@pytest.mark.parametrize(
    "slug",
    ["Rates", "rates_held", "rates--held", "-rates", "rates-", "rates held", "ráte", ""],
)
def test_slug_must_match_the_slug_format(slug: str) -> None:
    assert_rejected(valid_story(slug=slug), ("slug",), "should match pattern")


def test_slug_is_at_most_96_characters() -> None:
    assert_rejected(valid_story(slug="x" * 97), ("slug",), "at most 96 characters")


def test_missing_slug_is_derived_from_the_title() -> None:
    story = accepted(valid_story(title="Zürich & São Paulo: rates held!"))
    assert story.slug == "zurich-sao-paulo-rates-held"
    assert story.key == "zurich-sao-paulo-rates-held"


def test_given_slug_wins_over_the_title() -> None:
    assert accepted(valid_story(title="Anything at all", slug="chosen")).slug == "chosen"


def test_derived_slug_is_trimmed_to_96_at_a_dash_boundary() -> None:
    title = " ".join(["word"] * 40)  # "word-word-...": 199 characters as a slug
    slug = accepted(valid_story(title=title)).key
    assert slug == "-".join(["word"] * 19)  # 94 characters; a 20th word would make 99
    assert len(slug) <= 96


def test_title_without_ascii_letters_or_digits_needs_a_slug() -> None:
    assert_rejected(valid_story(title="東京 — ✓"), (), "slug")
    assert accepted(valid_story(title="東京 — ✓", slug="tokyo")).slug == "tokyo"


# --- title and summary --------------------------------------------------------------------


def test_title_is_trimmed_and_required() -> None:
    assert accepted(valid_story(title="  Rates held  ")).title == "Rates held"
    assert_rejected(without("title"), ("title",), "Field required")
    assert_rejected(valid_story(title="   "), ("title",), "at least 1 character")


def test_title_is_at_most_200_characters_after_trimming() -> None:
    assert accepted(valid_story(title=" " + "t" * 200 + " ")).title == "t" * 200
    assert_rejected(valid_story(title="t" * 201), ("title",), "at most 200 characters")


def test_summary_is_required_and_1_to_5000_characters() -> None:
    assert accepted(valid_story(summary="s" * 5_000)).summary == "s" * 5_000
    assert_rejected(without("summary"), ("summary",), "Field required")
    assert_rejected(valid_story(summary=""), ("summary",), "at least 1 character")
    assert_rejected(valid_story(summary="s" * 5_001), ("summary",), "at most 5000 characters")


# --- published_at and updated_at --------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2025-10-17T09:30:00-04:00", "2025-10-17T13:30:00Z"),
        ("2025-10-17T13:30:00Z", "2025-10-17T13:30:00Z"),
        ("2025-10-17t13:30:00z", "2025-10-17T13:30:00Z"),
        ("2025-10-17 15:30:00+02:00", "2025-10-17T13:30:00Z"),
        ("2025-10-17T13:30:00.987654321+00:00", "2025-10-17T13:30:00Z"),
        ("2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00Z"),
    ],
)
def test_published_at_is_rfc3339_with_offset_stored_in_utc(sent: str, stored: str) -> None:
    story = accepted(valid_story(published_at=sent))
    assert story.content()["published_at"] == stored
    assert story.model_dump(mode="json")["published_at"] == stored


def test_published_at_is_required() -> None:
    assert_rejected(without("published_at"), ("published_at",), "Field required")


@pytest.mark.parametrize(
    ("sent", "fragment"),
    [
        ("2025-10-17T09:30:00", "with an offset"),
        ("2025-10-17", "with an offset"),
        ("17/10/2025 09:30", "with an offset"),
        ("2025-13-17T09:30:00Z", "month must be in 1..12"),
        ("2025-02-30T09:30:00Z", "not a valid date-time"),
        ("2025-10-17T25:00:00Z", "not a valid date-time"),
        (1760707800, "date-time string"),
        (1760707800.5, "date-time string"),
        ("1760707800", "with an offset"),
    ],
)
def test_published_at_rejects_anything_but_rfc3339_with_offset(sent: object, fragment: str) -> None:
    assert_rejected(valid_story(published_at=sent), ("published_at",), fragment)


def test_updated_at_defaults_to_published_at() -> None:
    content = accepted(valid_story()).content()
    assert content["updated_at"] == content["published_at"] == "2025-10-17T13:30:00Z"


def test_updated_at_is_stored_in_utc() -> None:
    story = accepted(valid_story(updated_at="2025-10-18T00:00:00+02:00"))
    assert story.content()["updated_at"] == "2025-10-17T22:00:00Z"


def test_updated_at_is_not_earlier_than_published_at() -> None:
    assert_rejected(valid_story(updated_at="2025-10-17T13:29:59Z"), (), "not be earlier")


def test_updated_at_equal_instant_with_another_offset_is_accepted() -> None:
    story = accepted(valid_story(updated_at="2025-10-17T08:30:00-05:00"))
    assert story.updated_at == story.published_at


def test_updated_at_must_be_rfc3339_with_offset() -> None:
    assert_rejected(valid_story(updated_at="2025-10-18"), ("updated_at",), "with an offset")


# --- sections -----------------------------------------------------------------------------


def test_sections_have_a_heading_and_a_body_or_bullets() -> None:
    story = accepted(
        valid_story(
            sections=[
                section(),
                {"heading": "Numbers", "bullets": ["4.25%", "unchanged"]},
                {"heading": "Both", "body": "Lead.", "bullets": ["one"]},
            ]
        )
    )
    assert [s.heading for s in story.sections] == ["Why it matters", "Numbers", "Both"]
    assert story.sections[1].body is None


def test_section_without_body_or_bullets_is_rejected() -> None:
    data = valid_story(sections=[{"heading": "Empty", "bullets": []}])
    assert_rejected(data, ("sections", 0), "a body or at least one bullet")


def test_section_heading_is_required_and_1_to_200_characters() -> None:
    assert_rejected(valid_story(sections=[{"body": "b"}]), ("sections", 0, "heading"), "required")
    assert_rejected(
        valid_story(sections=[section(heading=" ")]), ("sections", 0, "heading"), "at least 1"
    )
    assert_rejected(
        valid_story(sections=[section(heading="h" * 201)]),
        ("sections", 0, "heading"),
        "at most 200",
    )


def test_section_body_is_at_most_10000_characters() -> None:
    assert accepted(valid_story(sections=[section(body="b" * 10_000)]))
    assert_rejected(
        valid_story(sections=[section(body="b" * 10_001)]),
        ("sections", 0, "body"),
        "at most 10000",
    )


def test_section_bullets_are_at_most_50_strings_of_1_to_2000_characters() -> None:
    assert accepted(valid_story(sections=[section(bullets=["b" * 2_000] * 50)]))
    assert_rejected(
        valid_story(sections=[section(bullets=["b"] * 51)]),
        ("sections", 0, "bullets"),
        "at most 50 items",
    )
    assert_rejected(
        valid_story(sections=[section(bullets=["ok", ""])]),
        ("sections", 0, "bullets", 1),
        "at least 1 character",
    )
    assert_rejected(
        valid_story(sections=[section(bullets=["b" * 2_001])]),
        ("sections", 0, "bullets", 0),
        "at most 2000",
    )


def test_at_most_50_sections() -> None:
    assert len(accepted(valid_story(sections=[section()] * 50)).sections) == 50
    assert_rejected(valid_story(sections=[section()] * 51), ("sections",), "at most 50 items")


# --- topics -------------------------------------------------------------------------------


def test_topics_are_in_the_slug_format() -> None:
    assert accepted(valid_story(topics=["economy", "central-banks"])).topics == [
        "economy",
        "central-banks",
    ]
    assert_rejected(valid_story(topics=["economy", "Central Banks"]), ("topics", 1), "pattern")


def test_topics_duplicates_are_dropped_and_order_kept() -> None:
    story = accepted(valid_story(topics=["rates", "economy", "rates", "banks", "economy"]))
    assert story.topics == ["rates", "economy", "banks"]


def test_at_most_10_topics() -> None:
    assert len(accepted(valid_story(topics=[f"t{i}" for i in range(10)])).topics) == 10
    assert_rejected(
        valid_story(topics=[f"t{i}" for i in range(11)]), ("topics",), "at most 10 items"
    )


# --- author, source, status ---------------------------------------------------------------


def test_author_is_optional_and_at_most_200_characters() -> None:
    assert accepted(valid_story(author=" Ada Lovelace ")).author == "Ada Lovelace"
    assert accepted(valid_story()).author is None
    assert_rejected(valid_story(author="a" * 201), ("author",), "at most 200 characters")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=c#d",
        "http://example.com",
        "https://Example.COM/Path/",
    ],
)
def test_source_url_is_http_or_https_and_kept_as_written(url: str) -> None:
    story = accepted(valid_story(source={"name": "Example Wire", "url": url}))
    assert story.content()["source"] == {"name": "Example Wire", "url": url}


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/file", "scheme should be 'http' or 'https'"),
        ("/news/rates", "relative URL"),
        ("example.com/rates", "relative URL"),
        ("mailto:desk@example.com", "scheme should be 'http' or 'https'"),
    ],
)
def test_source_url_other_than_http_is_rejected(url: str, fragment: str) -> None:
    data = valid_story(source={"name": "Wire", "url": url})
    assert_rejected(data, ("source", "url"), fragment)


def test_source_name_is_required_and_1_to_200_characters() -> None:
    url = "https://example.com"
    assert_rejected(valid_story(source={"url": url}), ("source", "name"), "Field required")
    assert_rejected(valid_story(source={"name": "", "url": url}), ("source", "name"), "at least 1")
    assert_rejected(
        valid_story(source={"name": "n" * 201, "url": url}), ("source", "name"), "at most 200"
    )


def test_source_url_is_required() -> None:
    assert_rejected(valid_story(source={"name": "Wire"}), ("source", "url"), "Field required")


@pytest.mark.parametrize("status", ["published", "draft", "retracted"])
def test_status_is_published_draft_or_retracted(status: str) -> None:
    assert accepted(valid_story(status=status)).status == status


def test_status_defaults_to_published() -> None:
    assert accepted(valid_story()).status == "published"


def test_status_other_values_are_rejected() -> None:
    assert_rejected(valid_story(status="archived"), ("status",), "'published', 'draft'")
    assert_rejected(valid_story(status="Published"), ("status",), "'published', 'draft'")


# --- unknown fields, types, null ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (valid_story(titel="typo"), ("titel",)),
        (valid_story(sections=[section(bulets=["x"])]), ("sections", 0, "bulets")),
        (
            valid_story(source={"name": "W", "url": "https://w.example", "uri": "x"}),
            ("source", "uri"),
        ),
    ],
)
def test_unknown_field_is_rejected_with_its_name(
    data: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    assert_rejected(data, loc, "Extra inputs are not permitted")


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (valid_story(title=2025), ("title",)),
        (valid_story(summary=1.5), ("summary",)),
        (valid_story(slug=123), ("slug",)),
        (valid_story(author=7), ("author",)),
        (valid_story(topics=[1]), ("topics", 0)),
        (valid_story(sections=[{"heading": 1, "body": "b"}]), ("sections", 0, "heading")),
        (valid_story(sections=[section(bullets=[3])]), ("sections", 0, "bullets", 0)),
        (valid_story(source={"name": 5, "url": "https://w.example"}), ("source", "name")),
        (valid_story(title=True), ("title",)),
    ],
)
def test_numbers_are_not_accepted_where_strings_belong(
    data: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    assert_rejected(data, loc, "valid string")


@pytest.mark.parametrize(
    "field", ["slug", "updated_at", "sections", "topics", "author", "source", "status"]
)
def test_null_for_an_optional_field_means_absent(field: str) -> None:
    assert accepted(valid_story(**{field: None})) == accepted(valid_story())


def test_null_inside_a_section_means_absent() -> None:
    story = accepted(valid_story(sections=[{"heading": "h", "body": None, "bullets": ["x"]}]))
    assert story.sections[0].body is None
    story = accepted(valid_story(sections=[{"heading": "h", "body": "b", "bullets": None}]))
    assert story.sections[0].bullets == []


@pytest.mark.parametrize("field", ["title", "summary", "published_at"])
def test_null_for_a_required_field_is_an_error(field: str) -> None:
    errors = contract_errors(valid_story(**{field: None}))
    assert [e["loc"] for e in errors] == [(field,)]


def test_null_for_an_unknown_field_is_still_an_error() -> None:
    assert_rejected(valid_story(titel=None), ("titel",), "Extra inputs are not permitted")


# --- the normalised content and its hash ----------------------------------------------------


def test_content_is_the_normalised_story_without_absent_fields() -> None:
    story = accepted(
        valid_story(
            title="  Rates held steady ",
            topics=["rates", "rates", "economy"],
            sections=[{"heading": "Numbers", "bullets": ["4.25%"]}],
        )
    )
    assert story.content() == {
        "slug": "rates-held-steady",
        "title": "Rates held steady",
        "summary": "The central bank kept its rate unchanged.",
        "published_at": "2025-10-17T13:30:00Z",
        "updated_at": "2025-10-17T13:30:00Z",
        "sections": [{"heading": "Numbers", "bullets": ["4.25%"]}],
        "topics": ["rates", "economy"],
        "status": "published",
    }


def test_content_includes_every_given_field() -> None:
    source = {"name": "Example Wire", "url": "https://example.com/r"}
    content = accepted(
        valid_story(slug="r", author="Ada", source=source, status="draft", sections=[section()])
    ).content()
    assert content["author"] == "Ada"
    assert content["source"] == source
    assert content["status"] == "draft"
    assert content["sections"] == [section(bullets=[])]
    json.dumps(content)  # JSON-ready: plain types only


def test_content_hash_is_stable_for_equal_content() -> None:
    a = accepted(valid_story(title="Rates held", topics=["a", "b"]))
    b = accepted(
        valid_story(
            title="  Rates held ",
            slug="rates-held",
            published_at="2025-10-17T13:30:00Z",
            updated_at="2025-10-17T15:30:00+02:00",
            topics=["a", "b", "a"],
            status="published",
            author=None,
        )
    )
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 32


@pytest.mark.parametrize(
    "change",
    [
        {"slug": "other"},
        {"title": "Rates held steady!"},
        {"summary": "Something else."},
        {"published_at": "2025-10-17T09:30:01-04:00"},
        {"updated_at": "2025-10-18T00:00:00Z"},
        {"sections": [{"heading": "h", "body": "b"}]},
        {"topics": ["rates"]},
        {"author": "Ada"},
        {"source": {"name": "Wire", "url": "https://example.com"}},
        {"status": "draft"},
    ],
)
def test_content_hash_changes_when_any_field_changes(change: dict[str, Any]) -> None:
    assert accepted(valid_story(**change)).content_hash() != accepted(valid_story()).content_hash()


# --- the published JSON Schema ----------------------------------------------------------------


def test_json_schema_forbids_additional_properties() -> None:
    schema = story_json_schema()
    assert schema["additionalProperties"] is False
    for definition in ("Section", "Source"):
        assert schema["$defs"][definition]["additionalProperties"] is False


def test_json_schema_lists_the_required_fields() -> None:
    assert sorted(story_json_schema()["required"]) == ["published_at", "summary", "title"]


def test_json_schema_describes_every_field_of_the_contract() -> None:
    assert set(story_json_schema()["properties"]) == {
        "slug",
        "title",
        "summary",
        "published_at",
        "updated_at",
        "sections",
        "topics",
        "author",
        "source",
        "status",
    }


def test_committed_schema_file_matches_the_model() -> None:
    with SCHEMA_FILE.open(encoding="utf-8") as file:
        assert json.load(file) == story_json_schema(), "run `make schema`"
