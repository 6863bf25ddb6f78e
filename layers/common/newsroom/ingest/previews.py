"""The preview links that receipts carry for stories that are not public yet: drafts and
stories scheduled for later (``newsroom.stories.previews`` signs them; the read API checks
them on ``GET /stories/{slug}?preview=``)."""

import time
from collections.abc import Callable
from urllib.parse import quote

from newsroom.core.signing import SigningKey
from newsroom.stories.previews import preview_token

DAY_SECONDS = 86400


class PreviewLinks:
    """Signed links to ``<base>/stories/<slug>?preview=<token>`` that expire ``days`` after
    they are made. The signing key is read on the first link, so a file without drafts or
    scheduled stories costs no SSM call."""

    def __init__(
        self, base_url: str, key: SigningKey, days: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = key
        self._seconds = days * DAY_SECONDS
        self._clock = clock

    def url(self, slug: str) -> str:
        expires = int(self._clock()) + self._seconds
        token = preview_token(self._key.value, slug, expires)
        return f"{self._base}/stories/{quote(slug)}?preview={token}"
