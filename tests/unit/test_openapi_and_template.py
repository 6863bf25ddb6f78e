"""The read API is declared once and every description of it agrees: the routes in
``template.yaml``, the operations table, the OpenAPI document, what the handler really
answers, the security and shape of the template, and the sample events in ``events/``."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from devtools.events import apigw_event, s3_event, s3_record
from devtools.template import (
    ROOT,
    function_environment,
    load_template,
    parameter_default,
    resource,
    s3_event_prefix,
)
from newsroom.read_api.openapi import openapi_document
from newsroom.read_api.operations import OPERATIONS, PROBLEM, Operation
from newsroom.read_api.settings import ApiSettings

EVENTS = ROOT / "events"
SERVER = "https://x/v1"
# Where apigw_event (and so events/api-*.json) says the client called.
EVENT_BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"
STORY_SLUG = "russia-china-ai-partnership-putin-sberbank"
DRAFT_SLUG = "chip-design-agents-verification"
RETRACTED_SLUG = "startup-room-temperature-chip-breakthrough"


# -- helpers ----------------------------------------------------------------------------


def api_events(logical_id: str = "ApiFunction") -> dict[str, dict[str, Any]]:
    """The function's API Gateway events, by logical id."""
    return {
        name: event["Properties"]
        for name, event in resource(logical_id).get("Events", {}).items()
        if event["Type"] == "Api"
    }


def template_routes(method: str | None = None) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of ApiFunction's API events, optionally of one method only."""
    routes = {(e["Method"].upper(), e["Path"]) for e in api_events().values()}
    return {r for r in routes if method is None or r[0] == method}


def documented(op: Operation) -> dict[str, Any]:
    return openapi_document(SERVER)["paths"][op.path][op.method.lower()]


def schema_validator(document: dict[str, Any], model: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of one component schema of ``document``; the
    ``#/components/schemas/...`` references resolve inside the wrapper."""
    schema = {"$ref": f"#/components/schemas/{model}", "components": document["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in a JSON document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def policy_statements(logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resource(logical_id).get("Policies", []):
        # Only inline documents: a SAM policy template or managed policy name would hide
        # what is granted.
        assert isinstance(policy, dict) and "Statement" in policy, policy
        statements.extend(policy["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Answer:
    """A proxy integration response, decoded."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        headers = {k: ",".join(v) for k, v in (raw.get("multiValueHeaders") or {}).items()}
        headers.update(raw.get("headers") or {})
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.text: str = raw.get("body") or ""

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";")[0].strip() if value else None

    def json(self) -> Any:
        return json.loads(self.text)


def route_of(event: dict[str, Any]) -> Operation | None:
    for op in OPERATIONS:
        if (op.method, op.path) == (event["httpMethod"], event["resource"]):
            return op
    return None


@pytest.fixture
def loaded_api(
    api_app: ModuleType,
    ingest_app: ModuleType,
    s3: Any,
    bucket: str,
    lambda_context: Any,
    sample_files: list[Path],
) -> Any:
    """``call(event) -> Answer`` through the real API function, with every sample file
    ingested by the real ingest function."""
    prefix = s3_event_prefix("IngestFunction")
    for path in sample_files:
        key = f"{prefix}samples/{path.name}"
        data = path.read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        ingest_app.handler(s3_event(s3_record(bucket, key, size=len(data))), lambda_context)

    def call(event: dict[str, Any]) -> Answer:
        return Answer(api_app.handler(event, lambda_context))

    return call


def get(path: str, **kwargs: Any) -> dict[str, Any]:
    if path.startswith("/stories/") and "resource" not in kwargs:
        slug = path.removeprefix("/stories/")
        kwargs.update(resource="/stories/{slug}", path_parameters={"slug": slug})
    return apigw_event("GET", path, **kwargs)


# -- routes: template == operations table -----------------------------------------------


def test_template_get_routes_are_the_operations() -> None:
    assert template_routes("GET") == {(op.method, op.path) for op in OPERATIONS}
    assert all(op.method == "GET" for op in OPERATIONS)
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)


def test_every_api_event_is_on_the_content_api_with_get_or_options() -> None:
    for name, props in api_events().items():
        assert props["RestApiId"] == {"Ref": "ContentApi"}, name
        assert props["Method"].upper() in {"GET", "OPTIONS"}, name


def test_every_get_path_has_a_preflight_event() -> None:
    get_paths = {path for _, path in template_routes("GET")}
    options_paths = {path for _, path in template_routes("OPTIONS")}
    assert get_paths == options_paths, f"missing OPTIONS for {get_paths - options_paths}"


def test_no_greedy_proxy_route_anywhere() -> None:
    assert "proxy+" not in (ROOT / "template.yaml").read_text()
    for logical_id, res in load_template()["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for props in api_events(logical_id).values():
            assert "+}" not in props["Path"] and props["Method"].lower() != "any", logical_id


def test_read_routes_and_subscription_routes_are_served_by_separate_functions() -> None:
    # The read API's function stays read-only: the newsletter's routes have their own.
    serving = {
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and api_events(logical_id)
    }
    assert serving == {"ApiFunction", "SubscriptionsFunction"}
    paths = {event["Path"] for event in api_events("SubscriptionsFunction").values()}
    assert all(path.startswith("/subscriptions") for path in paths)
    assert not any(
        event["Path"].startswith("/subscriptions") for event in api_events("ApiFunction").values()
    )


# -- the OpenAPI document ---------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1() -> None:
    document = openapi_document(SERVER)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": SERVER}]
    validate(document)  # raises OpenAPIValidationError
    json.dumps(document)  # plain JSON, nothing pydantic-specific left in it


def test_openapi_documents_every_documented_operation() -> None:
    paths = openapi_document(SERVER)["paths"]
    expected = {(op.method.lower(), op.path) for op in OPERATIONS if op.documented}
    actual = {(method, path) for path, ops in paths.items() for method in ops}
    assert actual == expected
    for op in OPERATIONS:
        if op.documented:
            entry = documented(op)
            assert entry["operationId"] == op.operation_id
            assert entry["summary"] == op.summary
            assert set(entry["responses"]) == {str(status) for status in op.responses}
    assert "/docs" not in paths  # undocumented: Swagger UI itself


def test_list_stories_parameters() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "listStories")
    params = {p["name"]: p for p in documented(op)["parameters"] if p["in"] == "query"}
    assert list(params) == ["limit", "cursor", "topic"]
    assert not any(p["required"] for p in params.values())
    limit = params["limit"]["schema"]
    assert limit == {"type": "integer", "default": 10, "minimum": 1, "maximum": 50}
    assert params["cursor"]["schema"]["type"] == "string"
    assert params["cursor"]["schema"]["maxLength"] == 400
    assert params["topic"]["schema"]["type"] == "string"
    assert re.fullmatch(params["topic"]["schema"]["pattern"], "machine-learning")
    assert not re.fullmatch(params["topic"]["schema"]["pattern"], "Machine Learning")
    headers = [p["name"] for p in documented(op)["parameters"] if p["in"] == "header"]
    assert headers == ["If-None-Match"]


def test_get_story_has_a_required_slug_path_parameter() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "getStory")
    (slug,) = [p for p in documented(op)["parameters"] if p["in"] == "path"]
    assert slug["name"] == "slug" and slug["required"] is True
    assert slug["schema"]["maxLength"] == 96


def test_every_reference_resolves_to_a_component_schema() -> None:
    document = openapi_document(SERVER)
    schemas = document["components"]["schemas"]
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for op in OPERATIONS:
        if not op.documented:
            continue
        for status, response in op.responses.items():
            content = documented(op)["responses"][str(status)].get("content")
            if response.model is None:
                assert content is None, (op.path, status)
                continue
            assert response.model in schemas, (op.path, status)
            assert content == {
                response.content_type: {
                    "schema": {"$ref": f"#/components/schemas/{response.model}"}
                }
            }


def test_every_component_schema_is_a_valid_json_schema() -> None:
    document = openapi_document(SERVER)
    for name in document["components"]["schemas"]:
        schema_validator(document, name)


def test_problem_schema() -> None:
    problem = openapi_document(SERVER)["components"]["schemas"]["Problem"]
    for name in ("type", "title", "status", "detail", "request_id"):
        assert name in problem["properties"], name
        assert name in problem["required"], name
    assert problem["properties"]["status"]["type"] == "integer"
    assert "errors" in problem["properties"]


def test_client_errors_are_problem_documents() -> None:
    for op in OPERATIONS:
        if not op.documented:
            continue
        for status, entry in documented(op)["responses"].items():
            if status.startswith(("4", "5")):
                assert set(entry["content"]) == {PROBLEM}, (op.path, status)
    statuses = {s for op in OPERATIONS if op.documented for s in documented(op)["responses"]}
    assert "400" in statuses


# -- the schemas describe what the handler really answers -------------------------------


def assert_matches_document(answer: Answer, op: Operation, document: dict[str, Any]) -> None:
    """The answer's status is documented for ``op`` and its body validates against the
    documented schema for its documented content type."""
    assert answer.status in op.responses, (op.path, answer.status, answer.text[:300])
    response = op.responses[answer.status]
    assert answer.content_type == response.content_type, (op.path, answer.status)
    if response.model is None:
        return
    body = answer.json() if response.content_type != "application/rss+xml" else answer.text
    errors = sorted(schema_validator(document, response.model).iter_errors(body), key=str)
    assert not errors, f"{op.path} {answer.status}: " + "; ".join(e.message for e in errors)


def test_list_and_story_bodies_match_the_schemas(loaded_api: Any) -> None:
    document = openapi_document(EVENT_BASE_URL)
    list_op, story_op = OPERATIONS[0], OPERATIONS[1]
    assert (list_op.operation_id, story_op.operation_id) == ("listStories", "getStory")
    slugs: list[str] = []
    event = get("/stories", query={"limit": "3"})
    pages = 0
    while True:
        answer = loaded_api(event)
        assert answer.status == 200
        assert_matches_document(answer, list_op, document)
        page = answer.json()
        slugs += [s["slug"] for s in page["data"]]
        pages += 1
        if page["meta"]["next_cursor"] is None:
            break
        event = get("/stories", query={"limit": "3", "cursor": page["meta"]["next_cursor"]})
    assert pages > 1 and STORY_SLUG in slugs
    assert DRAFT_SLUG not in slugs and RETRACTED_SLUG not in slugs

    topic = loaded_api(get("/stories", query={"topic": "ai"}))
    assert topic.status == 200 and topic.json()["data"]
    assert_matches_document(topic, list_op, document)

    for slug in slugs:  # every published sample story, whatever optional fields it has
        answer = loaded_api(get(f"/stories/{slug}"))
        assert answer.status == 200
        assert_matches_document(answer, story_op, document)


def test_problem_bodies_match_the_schema(loaded_api: Any) -> None:
    document = openapi_document(EVENT_BASE_URL)
    list_op, story_op = OPERATIONS[0], OPERATIONS[1]
    cases = [
        (list_op, get("/stories", query={"limit": "0"}), 400),
        (list_op, get("/stories", query={"limit": "ten", "topic": "Not A Topic"}), 400),
        (list_op, get("/stories", query={"cursor": "bm90LWEtY3Vyc29y"}), 400),
        (story_op, get("/stories/Not_A_Slug"), 400),
        (story_op, get("/stories/no-such-story"), 404),
        (story_op, get(f"/stories/{DRAFT_SLUG}"), 404),
        (story_op, get(f"/stories/{RETRACTED_SLUG}"), 410),
    ]
    for op, event, status in cases:
        answer = loaded_api(event)
        assert answer.status == status, (event["path"], answer.text)
        assert_matches_document(answer, op, document)
        problem = answer.json()
        assert problem["status"] == status
        assert problem["request_id"] == event["requestContext"]["requestId"]
        if status == 400:
            assert problem["errors"] and all(
                e["loc"][0] in {"query", "path"} for e in problem["errors"]
            )


def test_feed_and_openapi_bodies_match_the_schemas(loaded_api: Any) -> None:
    document = openapi_document(EVENT_BASE_URL)
    ops = {op.operation_id: op for op in OPERATIONS}
    feed = loaded_api(get("/feed.json"))
    assert feed.status == 200 and feed.json()["items"]
    assert_matches_document(feed, ops["jsonFeed"], document)
    rss = loaded_api(get("/feed.xml"))
    assert rss.status == 200 and rss.text.startswith("<?xml")
    assert_matches_document(rss, ops["rssFeed"], document)
    served = loaded_api(get("/openapi.json"))
    assert served.status == 200
    assert_matches_document(served, ops["openapi"], document)
    assert served.json() == document  # the server URL is the stage URL the client called
    validate(served.json())


def test_a_matching_etag_gives_a_documented_304(loaded_api: Any) -> None:
    for op in OPERATIONS:
        if not op.documented:
            continue
        path = op.path.replace("{slug}", STORY_SLUG)
        first = loaded_api(get(path))
        assert first.status == 200
        again = loaded_api(get(path, headers={"If-None-Match": first.headers["etag"]}))
        assert again.status == 304 and again.text == ""
        assert 304 in op.responses and "etag" in again.headers


# -- template: security and shape of the read API ---------------------------------------


def test_api_function_can_only_read_the_table() -> None:
    statements = policy_statements("ApiFunction")
    granted = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert "*" not in action, action
            for resource_ in as_list(statement["Resource"]):
                assert resource_ != "*"
                granted.add((action, json.dumps(resource_, sort_keys=True)))
    assert granted == {
        ("dynamodb:GetItem", json.dumps({"Fn::GetAtt": ["StoriesTable", "Arn"]})),
        ("dynamodb:Query", json.dumps({"Fn::Sub": "${StoriesTable.Arn}/index/feed"})),
    }
    # The index the policy names is the one the table declares.
    indexes = [i["IndexName"] for i in resource("StoriesTable")["GlobalSecondaryIndexes"]]
    assert indexes == ["feed"]


def test_api_gateway_compression_and_throttling() -> None:
    api = resource("ContentApi")
    assert isinstance(api["MinimumCompressionSize"], int) and api["MinimumCompressionSize"] > 0
    settings = api["MethodSettings"]
    assert settings, "no stage throttling"
    for setting in settings:
        assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
        assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    parameters = load_template()["Parameters"]
    for name in ("ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"):
        assert parameters[name]["Type"] == "Number"
        assert int(parameters[name]["Default"]) > 0
    rate = int(parameter_default("ApiThrottlingRateLimit"))
    assert int(parameter_default("ApiThrottlingBurstLimit")) >= rate


def test_cors_origins_come_from_the_parameter() -> None:
    variables = resource("ApiFunction")["Environment"]["Variables"]
    assert variables["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}
    assert parameter_default("CorsAllowedOrigins") == "*"
    env = function_environment("ApiFunction")
    assert env["CORS_ALLOWED_ORIGINS"] == "*"
    assert ApiSettings.from_env({**env, "STORIES_TABLE": "t"}).cors_origins == ("*",)
    deployed = {
        **env,
        "STORIES_TABLE": "t",
        "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    }
    assert ApiSettings.from_env(deployed).cors_origins == ("https://a.example", "https://b.example")
    # The function answers preflights itself; SAM's own Cors would add conflicting OPTIONS.
    assert "Cors" not in resource("ContentApi")


def test_api_docs_are_off_by_default() -> None:
    assert parameter_default("EnableApiDocs") == "false"
    variables = resource("ApiFunction")["Environment"]["Variables"]
    assert variables["ENABLE_API_DOCS"] == {"Ref": "EnableApiDocs"}
    env = {**function_environment("ApiFunction"), "STORIES_TABLE": "t"}
    assert ApiSettings.from_env(env).docs_enabled is False


def test_every_function_runs_python_3_13() -> None:
    template = load_template()
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"
    functions = [
        (name, res["Properties"])
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    assert {name for name, _ in functions} >= {"ApiFunction", "IngestFunction"}
    for name, props in functions:
        assert props.get("Runtime", "python3.13") == "python3.13", name
    layer = template["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    # The layer is built by its own Makefile, for CPython 3.13 wheels.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert "--python-version 3.13" in makefile
    assert "PYTHON ?= python3.13" in makefile


def test_layer_ships_no_boto3_or_botocore() -> None:
    # Lambda's runtime provides them; the layer's pins leave them (and theirs) out, and its
    # Makefile installs with --no-deps so nothing drags them back in.
    pins = (ROOT / "layers" / "common" / "requirements.txt").read_text().lower()
    for package in ("boto3", "botocore", "s3transfer", "urllib3"):
        assert f"{package}==" not in pins, package
    assert "--no-deps" in (ROOT / "layers" / "common" / "Makefile").read_text()


def test_stage_is_v1() -> None:
    assert resource("ContentApi")["StageName"] == "v1"
    api_url = load_template()["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert api_url.endswith("/v1") and "${ContentApi}" in api_url


def sam_cli() -> str | None:
    offline = Path("/tmp/sam-local-offline/venv/bin/sam")
    if offline.is_file() and os.access(offline, os.X_OK):
        return str(offline)
    return shutil.which("sam")


@pytest.mark.samlocal
def test_sam_validate_lint() -> None:
    sam = sam_cli()
    if sam is None:
        pytest.skip("no SAM CLI installed (pip install aws-sam-cli, or put `sam` on PATH)")
    result = subprocess.run(
        [sam, "validate", "--lint", "--region", "us-east-1", "--template", "template.yaml"],
        cwd=ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# -- events/ ----------------------------------------------------------------------------

APIGW_KEYS = {
    "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
    "body", "isBase64Encoded",
}  # fmt: skip
# The read API's events; the subscription events (api-subscribe*.json, api-confirm-*.json:
# SubscriptionsFunction) are checked in test_newsletter_units.py.
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
            assert_matches_document(answer, op, openapi_document(EVENT_BASE_URL))
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
