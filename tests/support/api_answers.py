"""The read API's answers as the tests read them (``Answer``, a decoded proxy integration
response), and their check against the OpenAPI document (``assert_matches_document``, with
``schema_validator``), with the base URL that ``devtools.events.apigw_event`` events (and so
``events/api-*.json``) were called at."""

import json
from typing import Any

from jsonschema import Draft202012Validator

from newsroom.http.operations import Operation
from newsroom.read_api.document import openapi_json

# Where apigw_event (and so events/api-*.json) says the client called.
EVENT_BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"


def published_document(server_url: str = EVENT_BASE_URL) -> dict[str, Any]:
    """The OpenAPI document as the API serves it to a client that called ``server_url``."""
    document: dict[str, Any] = json.loads(openapi_json(server_url))
    return document


def schema_validator(document: dict[str, Any], model: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of one component schema of ``document``; the
    ``#/components/schemas/...`` references resolve inside the wrapper."""
    schema = {"$ref": f"#/components/schemas/{model}", "components": document["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


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


def assert_matches_document(answer: Answer, op: Operation, document: dict[str, Any]) -> None:
    """The answer's status is documented for ``op`` and its body validates against the
    documented schema for its documented content type."""
    assert answer.status in op.responses, (op.path, answer.status, answer.text[:300])
    response = op.responses[answer.status]
    assert answer.content_type == response.content_type, (op.path, answer.status)
    if response.model is None:
        return
    xml = response.content_type in ("application/rss+xml", "application/xml")
    body = answer.text if xml else answer.json()
    errors = sorted(schema_validator(document, response.model).iter_errors(body), key=str)
    assert not errors, f"{op.path} {answer.status}: " + "; ".join(e.message for e in errors)
