"""The published OpenAPI document (``newsroom/openapi.json``): the file ``make openapi``
writes from the operations tables, committed up to date; a valid OpenAPI 3.1 document of
exactly the documented operations of the read API and the subscription routes (ids, tags,
summaries, statuses, parameters as the API checks them), every ``$ref`` resolving to a valid
JSON Schema, an example for every body that its schema accepts, every client and server
error a problem document; and what ``/openapi.json`` serves is that file with the caller's
server."""

import json
import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from devtools.openapi import TAGS, render
from newsroom.http.operations import PROBLEM, Operation
from newsroom.newsletter.operations import SUBSCRIPTION_OPERATIONS
from newsroom.read_api.document import DOCUMENT, openapi_json
from newsroom.read_api.operations import OPERATIONS
from tests.support.api_answers import schema_validator

SERVER = "https://x/v1"
DOCUMENTED = [op for op in (*OPERATIONS, *SUBSCRIPTION_OPERATIONS) if op.documented]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    published: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return published


def entry_of(document: dict[str, Any], op: Operation) -> dict[str, Any]:
    entry: dict[str, Any] = document["paths"][op.path][op.method.lower()]
    return entry


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in a JSON document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_committed_document_is_the_one_the_operations_make() -> None:
    assert DOCUMENT.read_text() == render(), "newsroom/openapi.json is stale: run make openapi"


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises OpenAPIValidationError


def test_the_api_serves_the_document_with_the_callers_server(document: dict[str, Any]) -> None:
    served = json.loads(openapi_json(SERVER))
    assert served["servers"] == [{"url": SERVER}]
    assert {**served, "servers": document["servers"]} == document


def test_every_documented_operation_of_both_functions_is_in_the_document(
    document: dict[str, Any],
) -> None:
    actual = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert actual == {(op.method.lower(), op.path) for op in DOCUMENTED}
    assert {"/subscriptions", "/subscriptions/confirm", "/subscriptions/unsubscribe"} <= set(
        document["paths"]
    )
    for op in DOCUMENTED:
        entry = entry_of(document, op)
        assert entry["operationId"] == op.operation_id
        assert entry["summary"] == op.summary
        assert entry["description"]
        assert entry["tags"] == [op.tag] and op.tag in TAGS
        assert set(entry["responses"]) == {str(status) for status in op.responses}
    assert "/docs" not in document["paths"]  # undocumented: Swagger UI itself
    assert [tag["name"] for tag in document["tags"]] == list(TAGS)


def test_list_stories_parameters(document: dict[str, Any]) -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "listStories")
    params = {p["name"]: p for p in entry_of(document, op)["parameters"] if p["in"] == "query"}
    assert list(params) == ["limit", "cursor", "topic", "date"]
    assert not any(p["required"] for p in params.values())
    limit = params["limit"]["schema"]
    assert limit == {"type": "integer", "default": 10, "minimum": 1, "maximum": 50}
    assert params["cursor"]["schema"]["type"] == "string"
    assert params["cursor"]["schema"]["maxLength"] == 400
    assert re.fullmatch(params["topic"]["schema"]["pattern"], "machine-learning")
    assert not re.fullmatch(params["topic"]["schema"]["pattern"], "Machine Learning")
    assert params["date"]["schema"] == {"type": "string", "format": "date"}
    headers = [p["name"] for p in entry_of(document, op)["parameters"] if p["in"] == "header"]
    assert headers == ["If-None-Match"]


def test_get_story_has_a_required_slug_path_parameter(document: dict[str, Any]) -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "getStory")
    (slug,) = [p for p in entry_of(document, op)["parameters"] if p["in"] == "path"]
    assert slug["name"] == "slug" and slug["required"] is True
    assert slug["schema"]["maxLength"] == 96


def test_subscription_links_require_one_token(document: dict[str, Any]) -> None:
    for op in SUBSCRIPTION_OPERATIONS:
        params = entry_of(document, op)["parameters"]
        if op.path == "/subscriptions":
            assert params == []
            continue
        (token,) = params
        assert token["name"] == "token" and token["in"] == "query" and token["required"]


def test_a_signup_sends_only_an_email_as_json_or_a_form(document: dict[str, Any]) -> None:
    op = next(op for op in SUBSCRIPTION_OPERATIONS if op.operation_id == "subscribe")
    body = entry_of(document, op)["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    validator = schema_validator(document, "SubscriptionRequest")
    assert validator.is_valid({"email": "reader@example.com"})
    assert not validator.is_valid({"email": "reader@example.com", "name": "Ann"})
    assert not validator.is_valid({})
    assert not validator.is_valid({"email": "r" * 250 + "@x.io"})


def test_subscription_answers_are_not_conditional(document: dict[str, Any]) -> None:
    """Nothing a subscription route answers is cached or revalidated: no ETag, no
    If-None-Match (each is Cache-Control: no-store)."""
    for op in SUBSCRIPTION_OPERATIONS:
        entry = entry_of(document, op)
        assert all(p["in"] != "header" for p in entry["parameters"])
        assert all("ETag" not in r.get("headers", {}) for r in entry["responses"].values())


def test_every_reference_resolves_to_a_valid_component_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for name in schemas:
        schema_validator(document, name)


def test_every_body_has_an_example_its_schema_accepts(document: dict[str, Any]) -> None:
    for op in DOCUMENTED:
        entry = entry_of(document, op)
        bodies = [
            (str(status), response.bodies, entry["responses"][str(status)])
            for status, response in op.responses.items()
        ]
        if op.request:
            bodies.append(("request", op.request, entry["requestBody"]))
        for where, declared, documented in bodies:
            content = documented.get("content", {})
            assert set(content) == {b.content_type for b in declared}, (op.path, where)
            for body in declared:
                media = content[body.content_type]
                assert media["schema"] == {"$ref": f"#/components/schemas/{body.model}"}
                try:
                    schema_validator(document, body.model).validate(media["example"])
                except jsonschema.ValidationError as error:
                    pytest.fail(f"{op.operation_id} {where} {body.content_type}: {error}")


def test_client_and_server_errors_are_problem_documents(document: dict[str, Any]) -> None:
    for op in DOCUMENTED:
        for status, response in entry_of(document, op)["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {PROBLEM}, (op.path, status)
                example = response["content"][PROBLEM]["example"]
                assert example["status"] == int(status), (op.path, status)
    statuses = {s for op in DOCUMENTED for s in entry_of(document, op)["responses"]}
    assert "400" in statuses


def test_problem_schema(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    for name in ("type", "title", "status", "detail", "request_id"):
        assert name in problem["properties"], name
        assert name in problem["required"], name
    assert problem["properties"]["status"]["type"] == "integer"
    assert "errors" in problem["properties"]
