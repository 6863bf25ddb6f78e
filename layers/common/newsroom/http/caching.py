"""How long public representations may be reused, by browsers and by the CDN in front.

Freshness is kept by short TTLs, not by invalidations: every public 200 and 304 says
``public, max-age=C, s-maxage=C, stale-while-revalidate=C, stale-if-error=E`` with one
number ``C`` (the ``CacheSeconds`` parameter). A published, updated or retracted story
therefore reaches every reader within ``freshness_bound`` seconds of its receipt: a shared
cache serves a copy at most ``s-maxage`` old, then stale for at most
``stale-while-revalidate`` more while it refetches; a browser's own copy obeys ``max-age``
counted from the origin (CloudFront sends ``Age``) plus its own stale-while-revalidate
(RFC 9111 4.2.3, RFC 5861). ``stale-if-error`` lets the CDN keep serving the last good
copy for a day while the origin fails (CloudFront honours both extensions:
CloudFront developer guide, "Managing how long content stays in the cache").
"""

from dataclasses import dataclass, replace

from newsroom.core.timestamps import parse_stored

# Query parameters and request headers that change a response: the CDN's cache key (the
# template's ApiCachePolicy) and the local nginx cache key are built from these. Every
# other query parameter and header is dropped before the origin, so it cannot split the
# cache or reach the API.
CACHE_KEY_HEADERS = ("Origin",)  # CORS: Access-Control-Allow-Origin echoes it (Vary: Origin)
NO_STORE = "no-store"
PRIVATE_NO_STORE = "private, no-store"  # previews: for the one who holds the link, never kept


@dataclass(frozen=True, slots=True)
class Freshness:
    seconds: int = 60  # max-age and s-maxage
    stale_if_error: int = 86400
    revalidate: int | None = None  # stale-while-revalidate; None: ``seconds``

    @property
    def cache_control(self) -> str:
        c = self.seconds
        swr = c if self.revalidate is None else self.revalidate
        return (
            f"public, max-age={c}, s-maxage={c}, stale-while-revalidate={swr}, "
            f"stale-if-error={self.stale_if_error}"
        )

    def until(self, instant: str | None, now: str) -> "Freshness":
        """This freshness, shortened so that no cache reuses the copy at or after
        ``instant`` (stored format; ``None``: no limit), counted from ``now``: a scheduled
        story becomes public then, and every list, feed and page changes with it. Fresh
        for at most the time left, stale-while-revalidate for at most what remains after."""
        if instant is None:
            return self
        # ``now`` is whole seconds, truncated: up to a second has passed since it already.
        left = max(0, int((parse_stored(instant) - parse_stored(now)).total_seconds()) - 1)
        fresh = min(self.seconds, left)
        if fresh == self.seconds and left - fresh >= self.seconds:
            return self
        return replace(self, seconds=fresh, revalidate=min(self.seconds, left - fresh))

    @property
    def freshness_bound(self) -> int:
        """Seconds after which no cache, shared or private, serves a replaced copy:
        max(max-age, s-maxage) + stale-while-revalidate."""
        return self.seconds + (self.seconds if self.revalidate is None else self.revalidate)
