"""``newsroom.core.slugs.slugify``: a title becomes a slug in the slug format
(``SLUG_PATTERN``): accents and special letters folded to ASCII, lower case, every run of other
characters one dash, at most ``SLUG_MAX_LENGTH`` characters (cut at a dash boundary, or hard
for a single long word), and an empty slug when no ASCII letter or digit is left."""

import re

import pytest

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN, slugify


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
