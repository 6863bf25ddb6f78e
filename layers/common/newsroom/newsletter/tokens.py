"""Signed tokens for the links in emails: ``<purpose>.<address id>.<expiry>.<mac>``.

HMAC-SHA256 with the signing key from SSM; the token names its purpose and the address (by
its keyed id, never in clear) and expires (confirm: 48 h; unsubscribe: never — ``0``).
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["confirm", "unsubscribe"]
CONFIRM_TTL_SECONDS = 48 * 3600
_TOKEN = re.compile(r"^(confirm|unsubscribe)\.([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


class InvalidToken(ValueError):
    """Tampered, expired, malformed, or meant for something else."""


@dataclass(frozen=True, slots=True)
class Token:
    purpose: Purpose
    address_id: str
    expires: int  # epoch seconds; 0 = never


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, b"token:" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(key: bytes, purpose: Purpose, address_id: str, now: int) -> str:
    expires = now + CONFIRM_TTL_SECONDS if purpose == "confirm" else 0
    payload = f"{purpose}.{address_id}.{expires}"
    return f"{payload}.{_mac(key, payload)}"


def verify_token(key: bytes, token: str, purpose: Purpose, now: int) -> Token:
    """The token's contents when it is genuine, unexpired and for ``purpose``."""
    found = _TOKEN.fullmatch(token or "")
    if not found:
        raise InvalidToken("the link is not valid")
    kind, address_id, expires_text, mac = found.groups()
    payload = f"{kind}.{address_id}.{expires_text}"
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidToken("the link is not valid")
    if kind != purpose:
        raise InvalidToken(f"this link is not a {purpose} link")
    expires = int(expires_text)
    if expires and expires < now:
        raise InvalidToken("the link has expired; subscribe again to get a new one")
    return Token(purpose, address_id, expires)
