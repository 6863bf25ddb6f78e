"""``newsroom.ingest.checker.StoryChecker``: each candidate read from a file becomes a valid
``StoryIn`` or is rejected with pydantic-style locations: an invalid story, a duplicate key in
any JSON object of it, a value that is not a JSON object, and a slug (given or derived from
the title) already used by an earlier story of the same file; a rejected story does not claim
its slug."""

from typing import Any

import pytest

from devtools.factories import valid_story
from tests.support.uploads import check_all, encoded, jsonl, read


def test_valid_candidate_becomes_a_story() -> None:
    [checked] = check_all(read("json", encoded(valid_story())))
    assert checked.errors == []
    assert checked.story is not None
    assert checked.story.key == "rates-held-steady"


def test_invalid_story_is_rejected_with_pydantic_locations() -> None:
    story = valid_story(sections=[{"body": "no heading"}])
    [checked] = check_all(read("json", encoded(story)))
    assert checked.story is None
    assert checked.errors == [{"loc": ["sections", 0, "heading"], "msg": "Field required"}]


def test_duplicate_key_at_the_top_level_is_rejected_with_its_loc() -> None:
    data = b'{"title": "A", "summary": "s", "published_at": "2025-10-17T09:30:00Z", "title": "B"}'
    [checked] = check_all(read("json", data))
    assert checked.story is None
    assert checked.errors == [{"loc": ["title"], "msg": "duplicate key in the same object"}]


def test_duplicate_key_inside_a_section_is_rejected_with_its_loc() -> None:
    data = (
        b'{"title": "A", "summary": "s", "published_at": "2025-10-17T09:30:00Z", "sections": ['
        b'{"heading": "h", "body": "b"}, {"heading": "h", "body": "b", "body": "c"}]}'
    )
    [checked] = check_all(read("jsonl", data))
    assert checked.story is None
    assert checked.errors == [
        {"loc": ["sections", 1, "body"], "msg": "duplicate key in the same object"}
    ]


def test_duplicate_key_in_a_batch_story_is_rejected_with_its_loc() -> None:
    data = (
        b'{"stories": [{"title": "A", "summary": "s", "published_at": "2025-10-17T09:30:00Z",'
        b' "source": {"name": "W", "url": "https://w.example", "name": "X"}}]}'
    )
    [checked] = check_all(read("json", data))
    assert checked.errors == [
        {"loc": ["source", "name"], "msg": "duplicate key in the same object"}
    ]


def test_same_slug_twice_in_one_file_rejects_the_later_story() -> None:
    data = jsonl(
        encoded(valid_story(slug="rates")),
        encoded(valid_story(slug="other")),
        encoded(valid_story(slug="rates", summary="A second version.")),
    )
    checked = check_all(read("jsonl", data))
    assert [c.story.key if c.story else None for c in checked] == ["rates", "other", None]
    [error] = checked[2].errors
    assert error["loc"] == ["slug"]
    assert "already used by the story at index 0" in error["msg"]


def test_same_derived_slug_twice_in_one_file_is_rejected_too() -> None:
    stories = [valid_story(), valid_story(title="  Rates held, steady! ")]
    checked = check_all(read("json", encoded({"stories": stories})))
    assert checked[0].story is not None
    assert checked[1].story is None
    assert checked[1].errors[0]["loc"] == ["slug"]
    assert "'rates-held-steady'" in checked[1].errors[0]["msg"]


def test_rejected_story_does_not_claim_its_slug() -> None:
    stories = [valid_story(slug="rates", summary=""), valid_story(slug="rates")]
    checked = check_all(read("json", encoded({"stories": stories})))
    assert checked[0].story is None
    assert checked[1].story is not None


@pytest.mark.parametrize("value", ["a story", 42, None, [valid_story()], True])
def test_story_that_is_not_an_object_is_rejected(value: Any) -> None:
    checked = check_all(read("json", encoded({"stories": [valid_story(), value]})))
    assert checked[0].story is not None
    assert checked[1].story is None
    assert checked[1].errors == [{"loc": [], "msg": "a story must be a JSON object"}]


def test_jsonl_line_that_is_not_an_object_is_rejected() -> None:
    checked = check_all(read("jsonl", jsonl(b'"a story"', b"[1, 2]", b"7")))
    assert [c.errors for c in checked] == [
        [{"loc": [], "msg": "a story must be a JSON object"}]
    ] * 3
