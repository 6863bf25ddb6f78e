"""How soon an upload is seen through a real shared cache (nginx, devtools/cdn.py) in front
of the real local stack: within ``newsroom.http.caching.Freshness.freshness_bound`` of its
receipt, and a failing origin does not take the last good copy away (stale-if-error).

Each test has its own stack with a short ``CACHE_SECONDS`` (moto keeps one state per
process: two stacks cannot run at once)."""

import time

from newsroom.http.caching import Freshness
from tests.support.cdn import Answer, stack_behind_cdn
from tests.support.story_files import story

# nginx counts time in whole seconds (a copy stored at 10.9 s with s-maxage=2 is fresh while
# the clock reads 12, i.e. until 13.0 s): a copy can outlive its lifetime by up to 1 s there.
# CloudFront, which the README's bound is about, is not limited to whole seconds.
NGINX_CLOCK_SECONDS = 1


def slugs(answer: Answer) -> list[str]:
    return [item["slug"] for item in answer.json()["data"]]


def test_upload_is_visible_through_the_cache_within_the_freshness_bound() -> None:
    with stack_behind_cdn(cache_seconds=2, seeded=True) as cached:
        bound = Freshness(cached.cache_seconds).freshness_bound
        path = "/stories?limit=3"
        slug = "visible-through-the-cache"
        before = cached.through_cache(path)
        assert slug not in slugs(before)

        cached.upload(
            "incoming/editors/through-the-cache.json",
            story(slug, published_at="2026-01-01T00:00:00Z", topics=["ai"]),
        )
        received = time.monotonic()
        assert slug in slugs(cached.at_origin(path))  # stored

        # A reader asking four times a second from the receipt on: some still get the copy
        # made before the upload (the cache is in the way), none once the bound has passed.
        seen: list[tuple[float, Answer]] = []
        while not seen or seen[-1][0] < bound + NGINX_CLOCK_SECONDS + 1:
            seen.append((time.monotonic() - received, cached.through_cache(path)))
            time.sleep(0.25)

    assert slug not in slugs(seen[0][1])
    late = [answer for elapsed, answer in seen if elapsed >= bound + NGINX_CLOCK_SECONDS]
    assert late
    assert all(slug in slugs(answer) for answer in late)


def test_after_the_bound_the_first_request_is_fresh() -> None:
    """No reader traffic while the copy ages: once stale-while-revalidate has run out, nginx
    must ask the origin rather than serve the old copy and update it in the background."""
    with stack_behind_cdn(cache_seconds=2) as cached:
        bound = Freshness(cached.cache_seconds).freshness_bound
        path = "/stories?limit=2"
        slug = "first-request-after-the-bound"
        assert slug not in slugs(cached.through_cache(path))

        cached.upload(
            "incoming/editors/first-after-the-bound.json",
            story(slug, published_at="2026-01-02T00:00:00Z", topics=["ai"]),
        )
        time.sleep(bound + NGINX_CLOCK_SECONDS)
        answer = cached.through_cache(path)

    assert slug in slugs(answer)
    assert answer.cache_status in ("EXPIRED", "REVALIDATED", "MISS")  # asked the origin


def test_a_failing_origin_leaves_the_last_good_copy_in_service() -> None:
    with stack_behind_cdn(cache_seconds=1) as cached:
        bound = Freshness(cached.cache_seconds).freshness_bound
        good = cached.through_cache("/stories?limit=2")
        # Past max-age and stale-while-revalidate: only stale-if-error lets it be served.
        time.sleep(bound + NGINX_CLOCK_SECONDS)
        cached.stack.http.shutdown()  # the origin stops answering
        cached.stack.http.server_close()

        during = cached.through_cache("/stories?limit=2")
        never_cached = cached.through_cache("/stories?limit=3")

    assert good.status == during.status == 200
    assert during.body == good.body
    assert during.cache_status == "STALE"
    assert never_cached.status == 502
