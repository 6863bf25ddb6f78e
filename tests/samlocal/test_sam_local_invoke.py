"""``sam local invoke`` of every event in ``events/`` (the function in a Lambda container,
calling the seeded embedded backend on 127.0.0.1), each with its expected result."""

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devtools import samlocal
from devtools.samlocal import EVENTS_DIR
from newsroom.newsletter.digest_runs import run_key, stories_key
from tests.support.clock import sleep_until
from tests.support.samlocal import INVOKE_TIMEOUT, Backend, Invocation

pytestmark = pytest.mark.samlocal

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
SEEDED_STORY = "russia-china-ai-partnership-putin-sberbank"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


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


@dataclass(frozen=True)
class Planned:
    """The digest planner's reply: the day planned (or nothing new to send), nothing sent by
    the planner itself (its senders mail the batches it queued)."""

    def check(self, result: Any) -> None:
        assert set(result) == {"day", "outcome", "stories", "rate", "messages", "subscribers"}
        assert result["outcome"] in {"planned", "nothing new"}, result
        if result["outcome"] == "planned":  # at the rate SES gives (moto: 1/s)
            assert result["rate"] >= 1 and result["messages"] >= 0, result
        else:  # the samples are older than a week: nothing is queued
            assert (result["stories"], result["messages"]) == (0, 0), result


@dataclass(frozen=True)
class Mailed:
    """The mailer's partial batch response: no record failed."""

    def check(self, result: Any) -> None:
        assert result == {"batchItemFailures": []}, result


@dataclass(frozen=True)
class Fed:
    """The bounces function's counts for one SES bounce: its recipient is no subscriber of
    the seeded backend, so it is counted unknown and nothing is suppressed."""

    def check(self, result: Any) -> None:
        assert result == {"bounced": 0, "complained": 0, "ignored": 0, "unknown": 1}, result


def _json(check: Callable[[Any], bool]) -> Callable[[str], bool]:
    return lambda body: check(json.loads(body))


EXPECTED: dict[str, Ingested | Response | Planned | Mailed | Fed] = {
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
    "api-topics.json": Response(
        200,
        "application/json",
        _json(lambda b: any(t["topic"] == "ai" and t["count"] > 0 for t in b["data"])),
    ),
    "api-sitemap.json": Response(
        200, "application/xml", lambda b: "<urlset" in b and f"/{SEEDED_STORY}</loc>" in b
    ),
    "api-sitemap-day.json": Response(  # the samples of 2025-10-17
        200, "application/xml", lambda b: "<urlset" in b and b.count("<url>") > 0
    ),
    "api-news-sitemap.json": Response(  # the samples are older than 48 hours: none listed
        200, "application/xml", lambda b: "xmlns:news=" in b and "<url>" not in b
    ),
    "api-preflight.json": Response(
        (200, 204),
        headers=(("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET")),
    ),
    # SubscriptionsFunction (the confirmation goes through the backend's SES)
    "api-subscribe.json": Response(
        202,
        "application/json",
        _json(lambda b: b["status"] == "accepted" and "@" not in json.dumps(b)),
        headers=(("Cache-Control", "no-store"),),
    ),
    "api-subscribe-invalid.json": Response(
        400,
        "application/problem+json",
        _json(lambda b: b["status"] == 400 and b["errors"][0]["loc"] == ["body", "email"]),
    ),
    "api-confirm-invalid.json": Response(
        400,
        "application/problem+json",
        _json(lambda b: b["status"] == 400 and b["type"].endswith("/invalid-link")),
    ),
    # DigestFunction (EventBridge schedule)
    "schedule-digest.json": Planned(),
    # MailerFunction (SignupQueue): the record acknowledged (the email through the backend)
    "sqs-signup.json": Mailed(),
    # BouncesFunction (FeedbackTopic): SES's bounce event as SNS delivers it
    "sns-bounce.json": Fed(),
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


def test_sam_local_digest_mails_a_confirmed_subscriber_links_to_the_api(
    sam: samlocal.SamCli,
    built_template: Path,
    backend: Backend,
    invocations: dict[str, Invocation],  # the events above ran first, against the same backend
) -> None:
    """The env-vars reach DigestFunction in its container: the subscribers table and the
    digest queue (a confirmed subscriber is planned and gets the digest from the senders) and
    the senders' PUBLIC_API_URL (its unsubscribe link works)."""
    stack = backend.stack

    def call(url: str, method: str = "GET", body: bytes | None = None, **headers: str) -> int:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback
            return int(response.status)

    address = "sam.local.reader@example.com"
    body = json.dumps({"email": address}).encode()
    status = call(stack.api_url + "/subscriptions", "POST", body, **{"Content-Type": JSON})
    assert status == 202
    deadline = time.monotonic() + 10  # the stack's mailer sends it from the signup queue
    while stack.sent_emails()[-1:] == [] or stack.sent_emails()[-1]["to"] != address:
        assert time.monotonic() < deadline, "no confirmation email"
        time.sleep(0.05)
    confirmation = stack.sent_emails()[-1]
    assert confirmation["to"] == address
    assert call(next(u for u in confirmation["links"] if "/subscriptions/confirm?" in u)) == 200
    published = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    story = {
        "slug": "sam-local-digest-story",
        "title": "sam local digest story",
        "summary": "Published after the confirmation.",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    key = "incoming/newsletter/sam-local-digest-story.json"
    s3 = stack.backend.client("s3")
    s3.put_object(Bucket=stack.backend.bucket, Key=key, Body=json.dumps(story).encode())
    assert stack.wait_for_receipt(key, timeout=60)["status"] == "ok"
    sleep_until(published)  # public from then on: the digest takes public stories only

    # schedule-digest.json above already planned today (with no confirmed subscriber): a
    # second plan of one day queues nothing, so forget it, as the next day would.
    dynamodb = stack.backend.client("dynamodb")
    day = datetime.now(UTC).date().isoformat()
    for run_item in (run_key(day), stories_key(day)):
        dynamodb.delete_item(TableName=stack.backend.subscribers_table, Key=run_item)
    result = sam.invoke(
        "DigestFunction",
        EVENTS_DIR / "schedule-digest.json",
        template=built_template,
        env_file=backend.env_file,
        timeout=INVOKE_TIMEOUT,
    )
    plan = samlocal.parse_invoke_result(result.stdout)
    assert (plan["outcome"], plan["subscribers"]) == ("planned", 1), (plan, result.stderr[-2000:])
    deadline = time.monotonic() + 30  # the stack's senders mail the batch the planner queued
    while not (digests := [m for m in stack.sent_emails() if "List-Unsubscribe" in m["headers"]]):
        assert time.monotonic() < deadline, "no digest email"
        time.sleep(0.05)
    (digest,) = digests
    assert digest["to"] == address
    assert "sam local digest story" in digest["text"]
    unsubscribe = digest["headers"]["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(stack.api_url + "/subscriptions/unsubscribe?token=")
    one_click = b"List-Unsubscribe=One-Click"
    assert call(unsubscribe, "POST", one_click, **{"Content-Type": FORM}) == 200
