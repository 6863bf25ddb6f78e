"""How long public answers may be reused (``newsroom.http.caching``): one number drives
browsers, the CDN and the freshness promise the README makes."""

from newsroom.http.caching import Freshness


def test_browsers_and_the_cdn_reuse_for_the_same_seconds_then_revalidate_in_the_background() -> (
    None
):
    assert Freshness(60).cache_control == (
        "public, max-age=60, s-maxage=60, stale-while-revalidate=60, stale-if-error=86400"
    )


def test_a_change_reaches_every_reader_within_twice_the_cache_seconds() -> None:
    # A copy fetched just before the change is fresh for s-maxage, then served stale for at
    # most stale-while-revalidate more (RFC 5861 section 3).
    for seconds in (1, 60, 3600):
        freshness = Freshness(seconds)
        assert freshness.freshness_bound == seconds + seconds


def test_a_failing_api_is_hidden_for_a_day_by_the_last_good_copy() -> None:
    assert "stale-if-error=86400" in Freshness(5).cache_control
