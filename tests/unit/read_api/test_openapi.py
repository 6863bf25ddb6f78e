"""``newsroom.read_api.openapi.openapi_document``: a valid OpenAPI 3.1 document, plain JSON, of
exactly the documented operations of the operations table (their ids, summaries and
statuses), with the list parameters and the story's slug path parameter as the API checks
them, every ``$ref`` resolving to a component schema that is a valid JSON Schema, the problem
schema, and every client and server error documented as a problem document."""

import json
import re
from typing import Any

from openapi_spec_validator import validate

from newsroom.read_api.openapi import openapi_document
from newsroom.read_api.operations import OPERATIONS, PROBLEM, Operation
from tests.support.api_answers import schema_validator

SERVER = "https://x/v1"


def documented(op: Operation) -> dict[str, Any]:
    entry: dict[str, Any] = openapi_document(SERVER)["paths"][op.path][op.method.lower()]
    return entry


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in a JSON document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


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
    assert list(params) == ["limit", "cursor", "topic", "date"]
    assert not any(p["required"] for p in params.values())
    limit = params["limit"]["schema"]
    assert limit == {"type": "integer", "default": 10, "minimum": 1, "maximum": 50}
    assert params["cursor"]["schema"]["type"] == "string"
    assert params["cursor"]["schema"]["maxLength"] == 400
    assert params["topic"]["schema"]["type"] == "string"
    assert re.fullmatch(params["topic"]["schema"]["pattern"], "machine-learning")
    assert not re.fullmatch(params["topic"]["schema"]["pattern"], "Machine Learning")
    assert params["date"]["schema"] == {"type": "string", "format": "date"}
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
