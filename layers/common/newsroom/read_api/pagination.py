"""Keyset pagination over the ``feed`` index with opaque cursors.

A cursor is ``base64url(payload || check)`` where the payload is compact JSON
``{"v": 1, "f": <feed>, "p": <published_at>, "s": <slug>}`` (the last item of the page) and
``check`` is 8 bytes of its SHA-256. The check catches truncated or edited cursors; it is
not a secret, because nothing is gained by forging one: decoding validates every field and
rebuilds the ``ExclusiveStartKey`` from them, so DynamoDB only ever sees keys of the shape
the index has, for the feed the request asks for. Only the exact text this module encodes
is accepted (canonical base64url, canonical JSON), so each position has one cursor.
"""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsroom.core.slugs import is_slug
from newsroom.core.timestamps import STORED_FORMAT
from newsroom.stories.items import feed_start_key, is_feed_name

CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 400
_CHECK_BYTES = 8
_STORED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", re.ASCII)


class InvalidCursor(ValueError):
    """The cursor is malformed, tampered with, or belongs to another query."""


@dataclass(frozen=True, slots=True)
class Position:
    """A position in a feed: the last item of the previous page."""

    feed: str
    published_at: str
    slug: str

    def exclusive_start_key(self) -> dict[str, Any]:
        """The GSI ``ExclusiveStartKey`` that resumes after this position."""
        return feed_start_key(self.feed, self.published_at, self.slug)


def _payload(position: Position) -> bytes:
    return json.dumps(
        {"v": CURSOR_VERSION, "f": position.feed, "p": position.published_at, "s": position.slug},
        separators=(",", ":"),
    ).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode_cursor(position: Position) -> str:
    payload = _payload(position)
    check = hashlib.sha256(payload).digest()[:_CHECK_BYTES]
    return _b64(payload + check)


def _is_stored_time(value: str) -> bool:
    if not _STORED_TIME.fullmatch(value):
        return False
    try:
        datetime.strptime(value, STORED_FORMAT)
    except ValueError:  # e.g. month 13
        return False
    return True


def decode_cursor(cursor: str, feed: str) -> Position:
    """Validate ``cursor`` strictly for ``feed``; raises ``InvalidCursor``."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("cursor is too long")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise InvalidCursor("cursor is not base64url")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor("cursor is not base64url") from None
    if _b64(raw) != cursor:  # non-zero padding bits: another spelling of the same bytes
        raise InvalidCursor("cursor is not base64url")
    payload, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if len(raw) <= _CHECK_BYTES or hashlib.sha256(payload).digest()[:_CHECK_BYTES] != check:
        raise InvalidCursor("cursor is damaged or was not issued by this API")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise InvalidCursor("cursor is damaged") from None
    if not isinstance(data, dict) or set(data) != {"v", "f", "p", "s"}:
        raise InvalidCursor("cursor is damaged")
    if data["v"] != CURSOR_VERSION:
        raise InvalidCursor("cursor is from another version of this API")
    if data["f"] != feed:
        raise InvalidCursor("cursor belongs to another query (a different topic)")
    published_at, slug = data["p"], data["s"]
    if not (
        isinstance(published_at, str)
        and _is_stored_time(published_at)
        and isinstance(slug, str)
        and is_slug(slug)
        and is_feed_name(feed)
    ):
        raise InvalidCursor("cursor is damaged")
    position = Position(feed, published_at, slug)
    if _payload(position) != payload:  # e.g. "v": true, reordered keys, spaces, escapes
        raise InvalidCursor("cursor was not issued by this API")
    return position
