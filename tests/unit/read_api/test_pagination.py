"""``newsroom.read_api.pagination``: a keyset cursor encodes a feed position as a short
base64url string that decodes back to the same position and to the exclusive start key of the
feed index; anything but a cursor this API wrote for the same feed (one of another feed,
truncated, changed in any character, padded or re-encoded, oversized, with another version,
other fields, a bad slug, timestamp or feed, or a payload not written as the API writes it) is
rejected with ``InvalidCursor``. The check is for integrity, not a signature: a forged cursor
naming a valid position is accepted."""

import base64
import hashlib
import json
import re
from typing import Any

import pytest

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
