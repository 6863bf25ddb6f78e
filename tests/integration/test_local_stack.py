"""The local stack (`make dev`): the template's routes over real HTTP, S3 uploads reaching the
real ingest through moto's bucket notifications, and a clean stop."""

import gzip
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devtools.gateway import routes_from_template
from devtools.stack import Stack
from devtools.template import load_template
from tests.support.clock import sleep_until
from tests.support.dev_process import dev_process, stop_with_sigterm
from tests.support.stack import running_stack

SEED_SLUG = "russia-china-ai-partnership-putin-sberbank"


@pytest.fixture(scope="module", params=["in-process", "workers"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Every behaviour in both modes: all in this process, and as ``make dev`` runs it."""
    with running_stack(workers=request.param == "workers") as running:
        yield running


def request(
    stack: Stack, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(stack.api_url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def test_serves_exactly_the_routes_the_template_declares() -> None:
    declared = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for res in load_template()["Resources"].values()
        if res["Type"] == "AWS::Serverless::Function"
        for event in res["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert {(r.method, r.resource) for r in routes_from_template()} == declared


def test_seeded_stories_are_served_newest_first(stack: Stack) -> None:
    status, headers, body = request(stack, "/stories?limit=50")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)["data"]
    assert len(data) == 33  # 35 samples minus one draft and one retraction
    dates = [item["published_at"] for item in data]
    assert dates == sorted(dates, reverse=True)


def test_the_daily_archive_serves_the_samples_of_one_utc_day(stack: Stack) -> None:
    _, _, body = request(stack, "/stories?limit=50")
    everything = json.loads(body)["data"]
    day = everything[0]["published_at"][:10]
    status, _, body = request(stack, f"/stories?limit=50&date={day}")
    assert status == 200
    archive = json.loads(body)["data"]
    assert archive  # the newest sample's own day
    assert [s["slug"] for s in archive] == [
        s["slug"] for s in everything if s["published_at"].startswith(day)
    ]


def test_topics_sitemaps_and_the_stories_around_a_story_are_served(stack: Stack) -> None:
    everything = json.loads(request(stack, "/stories?limit=50")[2])["data"]
    counts: dict[str, int] = {}
    for summary in everything:
        for topic in summary["topics"]:
            counts[topic] = counts.get(topic, 0) + 1

    status, _, body = request(stack, "/topics")
    assert status == 200
    topics = json.loads(body)["data"]
    assert {t["topic"]: t["count"] for t in topics} == counts  # the samples' public stories
    assert [t["count"] for t in topics] == sorted(counts.values(), reverse=True)

    status, headers, body = request(stack, "/sitemap.xml")
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert body.count(b"<url>") == len(everything)
    assert request(stack, "/news-sitemap.xml")[0] == 200

    middle = everything[1]["slug"]
    page = json.loads(request(stack, f"/stories/{middle}")[2])
    assert page["next"]["slug"] == everything[0]["slug"]
    assert page["previous"]["slug"] == everything[2]["slug"]
    assert [s["slug"] for s in page["recent"]] == [
        s["slug"] for s in everything[:4] if s["slug"] != middle
    ][:3]
    shared = set(page["data"]["topics"])
    assert all(shared & set(s["topics"]) for s in page["related"])


def test_story_route_passes_the_path_parameter(stack: Stack) -> None:
    status, _, body = request(stack, f"/stories/{SEED_SLUG}")
    assert status == 200
    story = json.loads(body)["data"]
    assert [s["heading"] for s in story["sections"]][:2] == [
        "Key development",
        "Strategic implications",
    ]


def test_unknown_route_answers_like_api_gateway(stack: Stack) -> None:
    config = load_template()["Resources"]["ContentApi"]["Properties"]["GatewayResponses"]
    expected_status = int(config["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"])
    for path, method in (("/nope", "GET"), ("/stories", "DELETE"), ("/stories/a/b", "GET")):
        status, headers, body = request(stack, path, method=method)
        assert status == expected_status
        assert headers["Content-Type"] == "application/problem+json"
        assert json.loads(body)["request_id"] == headers["x-amzn-RequestId"]


def test_multi_value_query_parameters_reach_the_handler(stack: Stack) -> None:
    status, _, body = request(stack, "/stories?limit=1&limit=2")
    assert status == 400
    assert json.loads(body)["errors"] == [
        {"loc": ["query", "limit"], "msg": "must be given at most once"}
    ]


def test_conditional_request_gets_304_without_body(stack: Stack) -> None:
    _, headers, _ = request(stack, "/stories?limit=3")
    status, again, body = request(
        stack, "/stories?limit=3", headers={"If-None-Match": headers["ETag"]}
    )
    assert status == 304
    assert body == b""
    assert again["ETag"] == headers["ETag"]


def test_large_responses_are_gzipped_like_api_gateway(stack: Stack) -> None:
    minimum = load_template()["Resources"]["ContentApi"]["Properties"]["MinimumCompressionSize"]
    status, headers, body = request(stack, "/stories?limit=20", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    plain = gzip.decompress(body)
    assert len(plain) >= minimum
    assert json.loads(plain)["meta"]["limit"] == 20
    _, small_headers, _ = request(
        stack, "/stories?limit=1&topic=zzz", headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in small_headers
    _, no_gzip, _ = request(stack, "/stories?limit=20")
    assert "Content-Encoding" not in no_gzip


def test_cors_preflight_over_http(stack: Stack) -> None:
    status, headers, _ = request(
        stack,
        "/stories",
        method="OPTIONS",
        headers={"Origin": "http://localhost:8080", "Access-Control-Request-Method": "GET"},
    )
    assert status in (200, 204)
    assert "GET" in headers["Access-Control-Allow-Methods"]


def test_uploaded_story_is_served_within_two_seconds(stack: Stack) -> None:
    story = {
        "slug": "fresh-upload-from-any-s3-client",
        "title": "A story uploaded with a plain S3 client",
        "summary": "It reaches the ingest through the bucket's notification.",
        "published_at": "2026-01-01T00:00:00Z",  # newer than the samples, and past
        "topics": ["ai"],
    }
    s3 = stack.backend.client("s3")
    started = time.monotonic()
    s3.put_object(
        Bucket=stack.backend.bucket,
        Key="incoming/editors/fresh upload.json",
        Body=json.dumps(story).encode(),
    )
    while time.monotonic() - started < 2:
        status, _, body = request(stack, f"/stories/{story['slug']}")
        if status == 200:
            break
        time.sleep(0.05)
    assert status == 200, "not served within 2 seconds of the upload"
    assert json.loads(body)["data"]["title"] == story["title"]
    receipt = stack.wait_for_receipt("incoming/editors/fresh upload.json")
    assert receipt["counts"]["created"] == 1


def test_a_scheduled_upload_becomes_public_at_its_instant_and_previews_before(
    stack: Stack,
) -> None:
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    story = {
        "slug": f"scheduled-{stack.api_url.rsplit(':', 1)[-1]}-{instant.timestamp():.0f}",
        "title": "A story scheduled a few seconds ahead",
        "summary": "Stored now, public at its instant, with no other upload.",
        "published_at": instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topics": ["ai"],
    }
    key = f"incoming/editors/{story['slug']}.json"
    stack.backend.client("s3").put_object(
        Bucket=stack.backend.bucket, Key=key, Body=json.dumps(story).encode()
    )
    (entry,) = stack.wait_for_receipt(key)["stories"]
    assert entry["status"] == "scheduled"
    preview_path = entry["preview_url"].removeprefix(stack.api_url)
    assert preview_path.startswith(f"/stories/{story['slug']}?preview=")

    assert request(stack, f"/stories/{story['slug']}")[0] == 404
    status, headers, body = request(stack, preview_path)
    assert status == 200 and headers["Cache-Control"] == "private, no-store"
    assert json.loads(body)["preview"]["status"] == "scheduled"
    _, headers, _ = request(stack, "/stories")
    max_age = int(headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert max_age <= 4  # no copy outlives the instant

    sleep_until(instant)
    status, _, body = request(stack, f"/stories/{story['slug']}")
    assert status == 200
    newest = json.loads(request(stack, "/stories")[2])["data"][0]
    assert newest["slug"] == story["slug"]


def test_reader_page_is_served_at_the_root(stack: Stack) -> None:
    status, headers, body = request(stack, "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"<html" in body.lower()


def test_static_files_cannot_escape_the_web_folder(stack: Stack) -> None:
    status, _, body = request(stack, "/../template.yaml")
    assert status == 404
    assert b"Transform" not in body


def test_make_dev_writes_stack_json_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {"DEV_STATE_DIR": str(tmp_path), "PORT": "0"}
    with dev_process("devtools.dev", "--no-seed", env=env) as process:
        state = tmp_path / "stack.json"
        deadline = time.monotonic() + 30
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        info: dict[str, Any] = json.loads(state.read_text())
        assert set(info) == {"api_url", "aws_endpoint_url", "region", "bucket", "table"}
        assert info["api_url"].startswith("http://127.0.0.1:")
        assert info["aws_endpoint_url"].startswith("http://127.0.0.1:")
        with urllib.request.urlopen(info["api_url"] + "/stories", timeout=5) as response:
            assert response.status == 200
        output = stop_with_sigterm(process)
    assert process.returncode == 0
    assert "stopped." in output
