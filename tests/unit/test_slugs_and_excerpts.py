"""Slugs derived from titles, and excerpts cut from summaries."""

import re

import pytest

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN, slugify
from newsroom.stories.items import EXCERPT_MAX_LENGTH, make_excerpt

ELLIPSIS = "…"

# --- slugify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Zürich São Paulo", "zurich-sao-paulo"),
        ("Crème brûlée à Noël", "creme-brulee-a-noel"),
        ("Straße", "strasse"),
        ("Ærø, Łódź, Œuvre", "aero-lodz-oeuvre"),
        ("ﬁnance", "finance"),  # compatibility ligature folded by NFKD
    ],
)
def test_accents_and_special_letters_are_folded_to_ascii(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slug_is_lowercased() -> None:
    assert slugify("ECB Holds RATES") == "ecb-holds-rates"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Rates -- held!!! (again)", "rates-held-again"),
        ("  ...Leading and trailing...  ", "leading-and-trailing"),
        ("a_b.c/d\\e\tf\ng", "a-b-c-d-e-f-g"),
        ("Q3 2025: 4.25% → 4%", "q3-2025-4-25-4"),
        ("東京 and Kyoto", "and-kyoto"),
    ],
)
def test_runs_of_other_characters_become_one_dash(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_short_slug_is_not_trimmed() -> None:
    text = "-".join(["abc"] * 24)  # exactly 95 characters
    assert slugify(text) == text


def test_slug_of_exactly_96_characters_is_kept_whole() -> None:
    text = "a" * 47 + " " + "b" * 48
    assert len(slugify(text)) == SLUG_MAX_LENGTH
    assert slugify(text) == "a" * 47 + "-" + "b" * 48


def test_long_slug_is_trimmed_at_a_dash_boundary() -> None:
    words = ["inflation", "expectations", "remain", "anchored"] * 6
    slug = slugify(" ".join(words))
    assert len(slug) <= SLUG_MAX_LENGTH
    assert slug == "-".join(words[:9])  # 87 characters; a 10th word would make 100
    assert not slug.endswith("-")


def test_long_slug_ending_exactly_before_a_dash_keeps_its_last_word() -> None:
    text = "a" * 47 + " " + "b" * 48 + " more words"
    assert slugify(text) == "a" * 47 + "-" + "b" * 48


def test_single_long_word_is_cut_hard() -> None:
    assert slugify("x" * 150) == "x" * SLUG_MAX_LENGTH


def test_long_first_word_followed_by_others_is_cut_hard() -> None:
    assert slugify("y" * 120 + " tail") == "y" * SLUG_MAX_LENGTH


def test_max_length_can_be_chosen() -> None:
    assert slugify("alpha beta gamma", max_length=12) == "alpha-beta"


@pytest.mark.parametrize("text", ["", "   ", "!!! ???", "東京", "✓ — ✓", "Ω"])
def test_text_without_ascii_letters_or_digits_gives_an_empty_slug(text: str) -> None:
    assert slugify(text) == ""


@pytest.mark.parametrize(
    "text",
    ["Zürich São Paulo", "--a--", "x" * 300, " ".join(["word"] * 60), "9 to 5", "Ærø"],
)
def test_derived_slugs_match_the_slug_format(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(SLUG_PATTERN, slug)
    assert len(slug) <= SLUG_MAX_LENGTH


# --- make_excerpt -------------------------------------------------------------------------


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
