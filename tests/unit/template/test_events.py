"""The sample events in ``events/`` (for ``sam local invoke``), checked against what
``template.yaml`` declares: pretty JSON, shaped exactly as AWS sends them, that are REST proxy
events for the read API's declared routes (every documented GET route has one, and the real
API function answers each with the expected, documented answer), S3 notifications (or the S3
test event) of keys below the ingest function's prefix, REST proxy events for the
subscriptions function's routes, and the EventBridge event of the digest's schedule."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from devtools.template import ROOT, load_template, s3_event_prefix
from newsroom.http.operations import Operation
from newsroom.read_api.operations import OPERATIONS
from tests.support.api_answers import EVENT_BASE_URL, assert_matches_document, published_document
from tests.support.template_routes import function_events, template_routes

EVENTS = ROOT / "events"


def route_of(event: dict[str, Any]) -> Operation | None:
    for op in OPERATIONS:
        if (op.method, op.path) == (event["httpMethod"], event["resource"]):
            return op
    return None


# -- the read API's events and the S3 events --------------------------------------------

APIGW_KEYS = {
    "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
    "body", "isBase64Encoded",
}  # fmt: skip
# The read API's events; the subscription events (api-subscribe*.json, api-confirm-*.json:
# SubscriptionsFunction) are checked below.
API_EVENT_FILES = sorted(
    p
    for p in EVENTS.glob("api-*.json")
    if not json.loads(p.read_text())["resource"].startswith("/subscriptions")
)
S3_EVENT_FILES = sorted(EVENTS.glob("s3-*.json"))
# What the real API function answers each event with, once the samples are ingested.
EXPECTED_STATUS = {
    "api-list-stories.json": 200,
    "api-list-stories-topic.json": 200,
    "api-get-story.json": 200,
    "api-get-story-missing.json": 404,
    "api-feed-json.json": 200,
    "api-feed-xml.json": 200,
    "api-openapi.json": 200,
    "api-topics.json": 200,
    "api-sitemap.json": 200,
    "api-sitemap-day.json": 200,
    "api-news-sitemap.json": 200,
    "api-bad-limit.json": 400,
    "api-preflight.json": 204,
}


def test_events_folder_has_the_api_events() -> None:
    assert {p.name for p in API_EVENT_FILES} == set(EXPECTED_STATUS)
    assert S3_EVENT_FILES
    # Every documented GET route has a sample event.
    covered = set()
    for path in API_EVENT_FILES:
        event = json.loads(path.read_text())
        covered.add((event["httpMethod"], event["resource"]))
    assert {(op.method, op.path) for op in OPERATIONS if op.documented} <= covered


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda p: p.name)
def test_api_event_is_a_rest_proxy_event_for_a_declared_route(path: Path) -> None:
    text = path.read_text()
    event = json.loads(text)
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n", "not pretty JSON"
    assert set(event) == APIGW_KEYS
    method, resource_ = event["httpMethod"], event["resource"]
    assert (method, resource_) in template_routes(), (method, resource_)
    # The path is the resource with its path parameters filled in.
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource_))
    match = re.fullmatch(pattern, event["path"])
    assert match, (resource_, event["path"])
    assert event["pathParameters"] == (match.groupdict() or None)
    context = event["requestContext"]
    assert context["httpMethod"] == method
    assert context["resourcePath"] == resource_
    assert context["stage"] == "v1"
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert context["requestId"] and context["identity"]["sourceIp"]
    assert re.fullmatch(r"\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["requestTime"])
    assert isinstance(context["requestTimeEpoch"], int)
    assert event["headers"]["Host"] == context["domainName"]
    assert {k: [v] for k, v in event["headers"].items()} == event["multiValueHeaders"]
    multi = event["multiValueQueryStringParameters"]
    single = event["queryStringParameters"]
    assert (multi is None) == (single is None)
    if multi is not None:
        assert single == {k: v[-1] for k, v in multi.items()}
    assert event["isBase64Encoded"] is False and event["body"] is None
    if method == "OPTIONS":
        assert event["headers"]["Origin"] and event["headers"]["Access-Control-Request-Method"]


def test_api_events_get_the_expected_answers(loaded_api: Any) -> None:
    for path in API_EVENT_FILES:
        event = json.loads(path.read_text())
        answer = loaded_api(event)
        assert answer.status == EXPECTED_STATUS[path.name], (path.name, answer.text[:300])
        op = route_of(event)
        if op is not None:  # GET: the answer is the documented one
            assert_matches_document(answer, op, published_document(EVENT_BASE_URL))
        else:  # preflight
            assert "GET" in answer.headers["access-control-allow-methods"]
            assert "if-none-match" in answer.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("path", S3_EVENT_FILES, ids=lambda p: p.name)
def test_s3_event_is_an_s3_notification_or_test_event(path: Path) -> None:
    event = json.loads(path.read_text())
    if "Records" not in event:
        assert event["Event"] == "s3:TestEvent"
        assert event["Service"] == "Amazon S3" and event["Bucket"]
        return
    assert set(event) == {"Records"} and event["Records"]
    prefix = s3_event_prefix("IngestFunction")
    for record in event["Records"]:
        assert record["eventSource"] == "aws:s3"
        assert record["eventName"].startswith("ObjectCreated:")
        assert record["s3"]["s3SchemaVersion"] == "1.0"
        bucket = record["s3"]["bucket"]
        assert bucket["name"] and bucket["arn"] == f"arn:aws:s3:::{bucket['name']}"
        key = record["s3"]["object"]["key"]
        assert unquote_plus(key).startswith(prefix), key
        assert " " not in key  # S3 URL-encodes keys in notifications
        assert isinstance(record["s3"]["object"]["size"], int)


# -- the newsletter's events ------------------------------------------------------------


SUBSCRIPTION_EVENTS = {
    "api-subscribe.json": ("POST", "/subscriptions"),
    "api-subscribe-invalid.json": ("POST", "/subscriptions"),
    "api-confirm-invalid.json": ("GET", "/subscriptions/confirm"),
}


def test_every_subscription_event_is_checked_here() -> None:
    under_subscriptions = {
        p.name
        for p in EVENTS.glob("api-*.json")
        if json.loads(p.read_text())["resource"].startswith("/subscriptions")
    }
    assert under_subscriptions == set(SUBSCRIPTION_EVENTS)
    assert {p.name for p in EVENTS.glob("schedule-*.json")} == {"schedule-digest.json"}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTION_EVENTS))
def test_subscription_events_are_rest_proxy_events_for_the_subscriptions_function(
    name: str,
) -> None:
    path = EVENTS / name
    text = path.read_text()
    event = json.loads(text)
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n", "not pretty JSON"
    route = (event["httpMethod"], event["resource"])
    assert route == SUBSCRIPTION_EVENTS[name]
    events = function_events("SubscriptionsFunction", "Api").values()
    declared = {(e["Method"].upper(), e["Path"]) for e in events}
    assert route in declared
    assert event["path"] == event["resource"]
    context = event["requestContext"]
    assert (context["httpMethod"], context["resourcePath"]) == route
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert {k: [v] for k, v in event["headers"].items()} == event["multiValueHeaders"]
    if event["httpMethod"] == "POST":
        assert event["headers"]["Content-Type"] == "application/json"
        assert set(json.loads(event["body"])) == {"email"}
    multi = event["multiValueQueryStringParameters"]
    assert event["queryStringParameters"] == (
        None if multi is None else {k: v[-1] for k, v in multi.items()}
    )


def test_the_schedule_event_is_what_eventbridge_sends_the_digest() -> None:
    path: Path = EVENTS / "schedule-digest.json"
    text = path.read_text()
    event = json.loads(text)
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n", "not pretty JSON"
    assert set(event) == {
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    }  # fmt: skip
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", event["time"])
    assert re.fullmatch(r"arn:aws:events:us-east-1:\d{12}:rule/.+", event["resources"][0])
    # The digest is the function with the schedule, and its schedule fires at that hour.
    scheduled = [
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and function_events(logical_id, "Schedule")
    ]
    assert scheduled == ["DigestFunction"]
    assert load_template()["Parameters"]["DigestSchedule"]["Default"] == "cron(0 7 * * ? *)"
    assert event["time"].endswith("T07:00:00Z")
