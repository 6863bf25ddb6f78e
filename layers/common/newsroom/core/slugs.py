"""URL slugs: the format stories and topics share, and the derivation of a slug from a title."""

import re
import unicodedata

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 96
SLUG_RE = re.compile(SLUG_PATTERN)

_NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
# Letters that NFKD does not decompose into ASCII but have an obvious ASCII spelling.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
    }
)


def is_slug(value: str) -> bool:
    """Whether ``value`` is a slug: the slug format, at most ``SLUG_MAX_LENGTH`` characters."""
    return len(value) <= SLUG_MAX_LENGTH and SLUG_RE.fullmatch(value) is not None


def slugify(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """Derive a slug: accents folded to ASCII, lowercased, runs of other characters
    become one ``-``, trimmed to ``max_length`` at a ``-`` boundary.

    Returns an empty string when ``text`` has no ASCII letter or digit to keep.
    """
    folded = unicodedata.normalize("NFKD", text.translate(_SPECIAL_FOLDS))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG_CHARS.sub("-", ascii_text).strip("-")
    if len(slug) <= max_length:
        return slug
    cut = slug[: max_length + 1]
    # Cut at the last '-' so no word is split; a single over-long word is cut hard.
    boundary = cut.rfind("-")
    return (cut[:boundary] if boundary > 0 else slug[:max_length]).strip("-")
