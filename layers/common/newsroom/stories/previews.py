"""Preview links of stories that are not public yet (drafts, scheduled stories):
``/stories/<slug>?preview=<expiry>.<mac>``, HMAC-SHA256 with the stack's signing key
(``newsroom.core.signing``) over the slug and the expiry, so a token opens one story until
it expires. Its own domain prefix keeps it apart from the newsletter's tokens, which use
the same key.
"""

import base64
import hashlib
import hmac
import re

PREVIEW_TTL_DAYS = 7  # the PreviewLinkDays parameter's default
_TOKEN = re.compile(r"^([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
TOKEN_MAX_LENGTH = 56


class InvalidPreview(ValueError):
    """Tampered, expired, malformed or made for another story."""


def _mac(key: bytes, slug: str, expires: int) -> str:
    digest = hmac.new(key, f"preview:{slug}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def preview_token(key: bytes, slug: str, expires: int) -> str:
    """The token that opens the preview of ``slug`` until ``expires`` (epoch seconds)."""
    return f"{expires}.{_mac(key, slug, expires)}"


def check_preview_token(key: bytes, token: str, slug: str, now: int) -> int:
    """The expiry of ``token`` when it is genuine, for ``slug`` and not expired; otherwise
    ``InvalidPreview`` (one message whatever the reason: the caller answers 404 anyway)."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise InvalidPreview("not a preview token")
    expires = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _mac(key, slug, expires)) or expires < now:
        raise InvalidPreview("not a valid preview token for this story")
    return expires
