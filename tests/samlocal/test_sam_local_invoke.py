"""``sam local invoke`` of every event in ``events/`` (the function in a Lambda container,
calling the seeded embedded backend on 127.0.0.1), each with its expected result."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.samlocal import EVENTS_DIR
from tests.samlocal.support import Invocation

pytestmark = pytest.mark.samlocal

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
SEEDED_STORY = "russia-china-ai-partnership-putin-sberbank"


@dataclass(frozen=True)
class Ingested:
    """The ingest function's ``{"files": [...]}``: (key, status, error code) per file."""

    files: tuple[tuple[str, str, str | None], ...]

    def check(self, result: Any) -> None:
        got = [(f["key"], f["status"], (f["error"] or {}).get("code")) for f in result["files"]]
        assert got == list(self.files)
        for file in result["files"]:
            if file["status"] == "ok":  # already seeded: stored again, nothing rejected
                assert file["counts"]["rejected"] == 0
                assert sum(file["counts"].values()) > 0


@dataclass(frozen=True)
class Response:
    """An API Gateway proxy response: status, content type and a check of the body."""

    status: int | tuple[int, ...]
    content_type: str | None = None
    body: Callable[[str], object] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, a substring of its value)

    def check(self, result: Any) -> None:
        statuses = self.status if isinstance(self.status, tuple) else (self.status,)
        assert result["statusCode"] in statuses, result
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = values[0]
        if self.content_type:
            assert headers.get("content-type", "").split(";")[0] == self.content_type
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        if self.body:
            assert self.body(body) is not False, body[:500]
        for name, value in self.headers:
            assert value in headers.get(name.lower(), ""), (name, headers)


def _json(check: Callable[[Any], bool]) -> Callable[[str], bool]:
    return lambda body: check(json.loads(body))


EXPECTED: dict[str, Ingested | Response] = {
    "s3-put-story.json": Ingested((("incoming/samples/signal-noise-2025-10-22.json", "ok", None),)),
    "s3-put-batch.json": Ingested(
        (
            ("incoming/samples/archive-2025-09.jsonl", "ok", None),
            ("incoming/Weekly batch/São Paulo recent-2025-10-17.json", "ok", None),
        )
    ),
    "s3-missing-object.json": Ingested(
        (("incoming/deleted before processing.json", "failed", "not_found"),)
    ),
    "s3-test-event.json": Ingested(()),
    "api-list-stories.json": Response(
        200, "application/json", _json(lambda b: 0 < len(b["data"]) <= 5)
    ),
    "api-list-stories-topic.json": Response(
        200,
        "application/json",
        _json(lambda b: bool(b["data"]) and all("ai" in s["topics"] for s in b["data"])),
    ),
    "api-get-story.json": Response(
        200, "application/json", _json(lambda b: b["data"]["slug"] == SEEDED_STORY)
    ),
    "api-get-story-missing.json": Response(
        404, "application/problem+json", _json(lambda b: b["status"] == 404)
    ),
    "api-bad-limit.json": Response(
        400, "application/problem+json", _json(lambda b: b["status"] == 400)
    ),
    "api-feed-json.json": Response(
        200,
        "application/feed+json",
        _json(lambda b: "jsonfeed.org" in b["version"] and bool(b["items"])),
    ),
    "api-feed-xml.json": Response(
        200, "application/rss+xml", lambda b: "<rss" in b and "<item>" in b
    ),
    "api-openapi.json": Response(
        200, "application/json", _json(lambda b: str(b["openapi"]).startswith("3."))
    ),
    "api-preflight.json": Response(
        (200, 204),
        headers=(("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET")),
    ),
}


def test_every_expectation_has_its_event_file() -> None:
    stale = sorted(set(EXPECTED) - {p.name for p in EVENT_FILES})
    assert not stale, f"expectations for files that are not in events/: {stale}"


@pytest.mark.parametrize("event", EVENT_FILES, ids=lambda p: p.name)
def test_sam_local_invoke(event: Path, request: pytest.FixtureRequest) -> None:
    expectation = EXPECTED.get(event.name)
    if expectation is None:
        pytest.fail(
            f"events/{event.name} has no expected result: add it to EXPECTED in {__file__}",
            pytrace=False,
        )
    invocations: dict[str, Invocation] = request.getfixturevalue("invocations")
    invocation = invocations[event.name]
    result = invocation.result()
    expectation.check(result)
