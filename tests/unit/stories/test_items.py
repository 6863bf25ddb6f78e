"""``newsroom.stories.items``: the stored story item (its keys, normalised content, excerpt and
bookkeeping, and feed keys only when published), the topic entries of a published story (one
per topic, with the summary attributes only), the feed names, and ``make_excerpt``, which
collapses whitespace and cuts a long summary at a word boundary to at most
``EXCERPT_MAX_LENGTH`` characters, ellipsis included."""

from typing import Any

import pytest

from devtools.factories import valid_story
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import (
    EXCERPT_MAX_LENGTH,
    feed_name,
    make_excerpt,
    story_item,
    topic_entries,
)

SOURCE_KEY = "incoming/2025/oct.jsonl"
INGESTED_AT = "2025-10-22T14:05:10Z"
SUMMARY_ATTRIBUTES = {"slug", "title", "excerpt", "published_at", "updated_at", "topics"}
ELLIPSIS = "…"


def item_of(**overrides: Any) -> dict[str, Any]:
    story = StoryIn.model_validate(valid_story(**overrides))
    return story_item(story, source_key=SOURCE_KEY, ingested_at=INGESTED_AT)


# --- story items ------------------------------------------------------------------------------


def test_published_story_item_has_keys_content_and_feed_keys() -> None:
    story = StoryIn.model_validate(valid_story(slug="rates", topics=["economy"]))
    item = story_item(story, source_key=SOURCE_KEY, ingested_at=INGESTED_AT)
    assert item == {
        "pk": "story#rates",
        "sk": "story",
        **story.content(),
        "excerpt": "The central bank kept its rate unchanged.",
        "content_hash": story.content_hash(),
        "ingested_at": INGESTED_AT,
        "source_key": SOURCE_KEY,
        "feed_pk": "feed",
        "feed_sk": "2025-10-17T13:30:00Z#rates",
    }


def test_feed_sort_key_is_utc_published_at_then_slug() -> None:
    item = item_of(slug="late-night", published_at="2025-10-17T23:30:00-05:00")
    assert item["feed_sk"] == "2025-10-18T04:30:00Z#late-night"


@pytest.mark.parametrize("status", ["draft", "retracted"])
def test_unpublished_story_item_has_no_feed_keys(status: str) -> None:
    item = item_of(slug="rates", status=status)
    assert item["status"] == status
    assert (item["pk"], item["sk"]) == ("story#rates", "story")
    assert "feed_pk" not in item
    assert "feed_sk" not in item


def test_story_item_excerpt_is_made_from_the_summary() -> None:
    summary = " ".join(["word"] * 100)
    item = item_of(summary=summary)
    assert item["summary"] == summary
    assert item["excerpt"] == make_excerpt(summary)
    assert item["excerpt"].endswith("…")


# --- topic entries ----------------------------------------------------------------------------


def test_topic_entries_one_per_topic_with_the_summary_attributes() -> None:
    item = item_of(slug="rates", topics=["economy", "central-banks"])
    entries = topic_entries(item)
    assert list(entries) == ["economy", "central-banks"]
    for topic, entry in entries.items():
        assert entry == {
            "pk": "story#rates",
            "sk": f"topic#{topic}",
            **{name: item[name] for name in SUMMARY_ATTRIBUTES},
            "content_hash": item["content_hash"],
            "feed_pk": f"topic#{topic}",
            "feed_sk": "2025-10-17T13:30:00Z#rates",
        }


def test_topic_entries_do_not_carry_the_full_content() -> None:
    item = item_of(topics=["economy"], author="Ada", sections=[{"heading": "h", "body": "b"}])
    entry = topic_entries(item)["economy"]
    for name in ("summary", "sections", "author", "source_key", "ingested_at"):
        assert name not in entry


def test_published_story_without_topics_has_no_topic_entries() -> None:
    assert topic_entries(item_of()) == {}


@pytest.mark.parametrize("status", ["draft", "retracted"])
def test_unpublished_story_has_no_topic_entries(status: str) -> None:
    assert topic_entries(item_of(status=status, topics=["economy", "rates"])) == {}


# --- feed names -------------------------------------------------------------------------------


def test_feed_name() -> None:
    assert feed_name(None) == "feed"
    assert feed_name("ai") == "topic#ai"


# --- make_excerpt -----------------------------------------------------------------------------


def test_short_summary_is_the_excerpt() -> None:
    assert make_excerpt("Rates held steady.") == "Rates held steady."


def test_excerpt_collapses_whitespace() -> None:
    assert make_excerpt("  Rates\n\nheld\t steady.  ") == "Rates held steady."


def test_summary_of_exactly_280_characters_is_not_cut() -> None:
    summary = ("abcd " * 56)[:-1] + "e"  # 280 characters
    assert len(summary) == EXCERPT_MAX_LENGTH
    assert make_excerpt(summary) == summary


def test_summary_of_280_characters_after_collapsing_whitespace_is_not_cut() -> None:
    summary = "word " * 55 + "abcde"  # 280 characters once whitespace is collapsed
    assert make_excerpt(summary.replace(" ", "   ")) == summary


def test_long_summary_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    words = [f"word{i:03d}" for i in range(100)]  # 7 characters each
    excerpt = make_excerpt(" ".join(words))
    assert len(excerpt) <= EXCERPT_MAX_LENGTH
    assert excerpt.endswith(ELLIPSIS)
    assert excerpt == " ".join(words[:35]) + ELLIPSIS  # 279 + 1; a 36th word would not fit


def test_cut_excerpt_is_never_longer_than_280_characters() -> None:
    # The word ending at character 280 would fit only without the ellipsis: it is dropped.
    summary = "a" * 270 + " " + "b" * 9 + " c"
    excerpt = make_excerpt(summary)
    assert excerpt == "a" * 270 + ELLIPSIS
    assert len(excerpt) <= EXCERPT_MAX_LENGTH


def test_cut_keeps_a_word_that_ends_right_before_the_ellipsis() -> None:
    summary = "a" * 270 + " " + "b" * 8 + " c"  # "b"*8 ends at character 279
    assert make_excerpt(summary) == "a" * 270 + " " + "b" * 8 + ELLIPSIS


def test_cut_drops_trailing_punctuation_before_the_ellipsis() -> None:
    summary = "a" * 250 + ", " + "b" * 40
    assert make_excerpt(summary) == "a" * 250 + ELLIPSIS


def test_long_single_word_is_cut_hard() -> None:
    excerpt = make_excerpt("x" * 500)
    assert excerpt == "x" * (EXCERPT_MAX_LENGTH - 1) + ELLIPSIS
    assert len(excerpt) == EXCERPT_MAX_LENGTH


def test_excerpt_limit_can_be_chosen() -> None:
    assert make_excerpt("alpha beta gamma", limit=12) == "alpha beta" + ELLIPSIS
