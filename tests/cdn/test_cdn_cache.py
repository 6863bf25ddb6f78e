"""The cache rules of the CDN, proven with a real shared cache (nginx, devtools/cdn.py) in
front of the real local stack: what reaches the API and what the cache keys on. How soon an
upload is seen through it: test_cdn_freshness.py."""

import gzip
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devtools.cdn import nginx_binary
from tests.support.cdn import CachedStack, OriginCalls, fetch, stack_behind_cdn
from tests.support.dev_process import dev_process, stop_with_sigterm
from tests.support.tiers import unavailable

ORIGINS = ("https://one.example", "https://two.example")


@pytest.fixture(scope="module")
def cached() -> Iterator[CachedStack]:
    """The seeded stack with the default lifetime (60 s: nothing expires during a test) and
    two CORS origins, so that the Origin header changes the answer."""
    with stack_behind_cdn(
        cache_seconds=60, seeded=True, api_env={"CORS_ALLOWED_ORIGINS": ",".join(ORIGINS)}
    ) as running:
        yield running


def test_a_thousand_list_requests_reach_the_api_a_handful_of_times(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    path = "/stories?limit=7"
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent misses, then hits
        answers = list(pool.map(lambda _: cached.through_cache(path), range(1000)))

    assert {a.status for a in answers} == {200}
    assert len({a.body for a in answers}) == 1
    hits = sum(a.cache_status == "HIT" for a in answers)
    calls = origin_calls.to("GET", "/stories")
    assert len(calls) <= 5, f"{len(calls)} of 1000 requests reached the API"
    assert hits >= 995
    assert 1000 - hits == len(calls)  # each request the cache did not answer, the API did


def test_conditional_request_through_the_cache_gets_304_with_the_same_etag(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    first = cached.through_cache("/stories?limit=6")
    again = cached.through_cache(
        "/stories?limit=6", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert first.status == 200
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.cache_status == "HIT"  # answered by the cache from its copy
    assert len(origin_calls.to("GET", "/stories")) == 1


def test_parameters_outside_the_cache_key_neither_split_the_cache_nor_reach_the_api(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    plain = cached.through_cache("/stories?limit=5&topic=ai")
    tracked = cached.through_cache(
        "/stories?utm_source=newsletter&topic=ai&fbclid=x1&limit=5&LIMIT=9",
        headers={"X-Tracking": "campaign-7", "Cookie": "session=abc", "User-Agent": "reader/1"},
    )

    assert tracked.status == plain.status == 200
    assert tracked.cache_status == "HIT"
    assert tracked.body == plain.body
    (call,) = origin_calls.to("GET", "/stories")
    assert origin_calls.query(call) == {"limit": ["5"], "topic": ["ai"]}
    # Only the origin's Host, the hop-by-hop Connection and what the local API Gateway adds
    # itself reach the API.
    assert set(call["headers"]) <= {"Host", "Connection", "X-Forwarded-Proto"}
    assert call["headers"]["Host"] == cached.stack.api_url.removeprefix("http://")


def test_repeated_key_parameter_still_gets_the_apis_own_answer(cached: CachedStack) -> None:
    path = "/stories?limit=1&utm_source=x&limit=2"
    through = cached.through_cache(path)
    direct = cached.at_origin(path)

    assert through.status == direct.status == 400
    assert through.json()["errors"] == direct.json()["errors"]


def test_origin_header_splits_the_cache(cached: CachedStack, origin_calls: OriginCalls) -> None:
    one, two = ORIGINS
    first = cached.through_cache("/stories?limit=4", headers={"Origin": one})
    second = cached.through_cache("/stories?limit=4", headers={"Origin": two})
    none = cached.through_cache("/stories?limit=4")
    first_again = cached.through_cache("/stories?limit=4", headers={"Origin": one})

    assert first.headers["Access-Control-Allow-Origin"] == one
    assert second.headers["Access-Control-Allow-Origin"] == two
    assert second.cache_status == "MISS"  # not the copy made for the first origin
    assert "Access-Control-Allow-Origin" not in none.headers
    assert first_again.cache_status == "HIT"
    assert first_again.headers["Access-Control-Allow-Origin"] == one
    calls = origin_calls.to("GET", "/stories")
    assert [c["headers"].get("Origin") for c in calls] == [one, two, None]


def test_answers_are_compressed_by_the_cache(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    answer = cached.through_cache("/stories?limit=20", headers={"Accept-Encoding": "gzip"})

    assert answer.headers["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(answer.body))["data"]) == 20
    (call,) = origin_calls.to("GET", "/stories")
    assert "Accept-Encoding" not in call["headers"]  # the cache keeps one plain copy


def test_links_point_through_the_cache(cached: CachedStack) -> None:
    page = cached.through_cache("/stories?limit=2").json()

    assert page["links"]["self"] == f"{cached.cdn.url}/stories?limit=2"
    assert page["links"]["next"].startswith(f"{cached.cdn.url}/stories?")


def test_subscription_posts_reach_the_api_every_time(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    body = json.dumps({"email": "reader@example.com"}).encode()
    answers = [
        cached.through_cache(
            "/subscriptions",
            method="POST",
            body=body,
            headers={"Content-Type": "application/json", "Origin": ORIGINS[0]},
        )
        for _ in range(3)
    ]

    assert [a.status for a in answers] == [202, 202, 202]
    assert {a.cache_status for a in answers} == {None}  # not even looked up in the cache
    calls = origin_calls.to("POST", "/subscriptions")
    assert [c["body"] for c in calls] == [body.decode()] * 3
    assert calls[0]["headers"]["Content-Type"] == "application/json"


def test_subscription_links_pass_every_query_parameter_and_are_never_cached(
    cached: CachedStack, origin_calls: OriginCalls
) -> None:
    path = "/subscriptions/confirm?token=not-a-real-token&utm_source=email"
    answers = [cached.through_cache(path) for _ in range(2)]

    assert answers[0].status == answers[1].status
    assert answers[0].headers["Cache-Control"] == "no-store"
    calls = origin_calls.to("GET", "/subscriptions/confirm")
    assert [origin_calls.query(c) for c in calls] == [
        {"token": ["not-a-real-token"], "utm_source": ["email"]}
    ] * 2


def test_make_dev_cdn_serves_the_stack_through_the_cache_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    if nginx_binary() is None:
        unavailable("nginx (the local CDN)", "not installed (fix: make nginx)")
    env = {"DEV_STATE_DIR": str(tmp_path), "PORT": "0", "CDN_PORT": "0"}
    with dev_process("devtools.cdn", "--no-seed", env=env) as process:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:  # ends if the process dies
            if line.startswith("through the cache: "):
                url = line.split()[3].rstrip("/")
                break
        assert url.startswith("http://127.0.0.1:")
        answers = [fetch(url, "/stories?limit=1") for _ in range(2)]
        output = stop_with_sigterm(process)
    assert [a.status for a in answers] == [200, 200]
    assert [a.cache_status for a in answers] == ["MISS", "HIT"]
    assert process.returncode == 0
    assert "stopped." in output
    with pytest.raises(OSError):  # nginx went with it
        fetch(url, "/stories?limit=1")
