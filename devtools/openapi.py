"""The published OpenAPI 3.1 document of the whole public API (``newsroom/openapi.json``):
the read routes (``newsroom.read_api.operations``) and the subscription routes
(``newsroom.newsletter.operations``), their answers' schemas from the capabilities' pydantic
models and an example for every body (``devtools.openapi_examples``).

Written at build time (``make openapi``), committed, and served as it is by ``GET
/openapi.json`` with the stack's own URL as its server: no function imports pydantic to
describe itself, and the TypeScript client's types (clients/typescript) and Spectral read
the same file. ``python -m devtools.openapi --check`` fails when the file is out of date.
"""

import argparse
import json
import sys
from typing import Any

from pydantic.json_schema import models_json_schema

from devtools.openapi_examples import SERVER, examples
from devtools.template import ROOT
from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN
from newsroom.http.operations import Body, Operation
from newsroom.newsletter import openapi as subscription_models
from newsroom.newsletter.operations import SUBSCRIPTION_OPERATIONS
from newsroom.read_api import openapi as read_models
from newsroom.read_api.document import DOCUMENT  # the file the API serves
from newsroom.read_api.operations import OPERATIONS

API_TITLE = "SIGNAL/NOISE content API"
API_VERSION = "1.1.0"
TAGS = {
    "Stories": "Recent Stories, the daily archive, a story's page and the topics.",
    "Feeds": "Syndication: JSON Feed and RSS.",
    "Discovery": "Sitemaps for search engines.",
    "Subscriptions": "The daily newsletter: double opt-in signup, confirmation, unsubscribe.",
    "Contract": "This document.",
}
_RAW_SCHEMAS: dict[str, dict[str, Any]] = {
    "RssFeed": {"type": "string", "description": "An RSS 2.0 XML document."},
    "Sitemap": {"type": "string", "description": "A sitemaps.org 0.9 XML document."},
    "OpenApiDocument": {"type": "object", "description": "An OpenAPI 3.1 document."},
    "Html": {"type": "string", "description": "A small HTML page for a person."},
}
_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The story's slug (lower-case words joined by hyphens).",
    "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": SLUG_MAX_LENGTH},
    "example": "russia-china-ai-partnership-putin-sberbank",
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETag of a cached representation: 304 when it is still current.",
    "schema": {"type": "string"},
}
_ETAG = {"description": "The representation's entity tag.", "schema": {"type": "string"}}
_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}


def _content(bodies: tuple[Body, ...]) -> dict[str, Any]:
    named = examples()
    return {
        body.content_type: {
            "schema": {"$ref": f"#/components/schemas/{body.model}"},
            "example": named[body.example],
        }
        for body in bodies
    }


def _operation(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [_SLUG] if "{slug}" in op.path else []
    parameters += [p.openapi() for p in op.params]
    if op.conditional:
        parameters.append(_IF_NONE_MATCH)
    responses: dict[str, Any] = {}
    for status, response in op.responses.items():
        entry: dict[str, Any] = {"description": response.description}
        if response.bodies:
            entry["content"] = _content(response.bodies)
        if op.conditional and status in (200, 304):
            entry["headers"] = {"ETag": _ETAG}
        if status == 503:
            entry["headers"] = {"Retry-After": _RETRY_AFTER}
        responses[str(status)] = entry
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description or op.summary,
        "parameters": parameters,
    }
    if op.request:
        operation["requestBody"] = {
            "required": op.request_required,
            "content": _content(op.request),
        }
    operation["responses"] = responses
    return operation


def openapi_document() -> dict[str, Any]:
    """The document, as committed (its server the production URL, an example)."""
    models = [*read_models.MODELS, *subscription_models.MODELS]
    _refs, definitions = models_json_schema(
        [(model, "serialization") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(sorted({**definitions.get("$defs", {}), **_RAW_SCHEMAS}.items()))
    paths: dict[str, dict[str, Any]] = {}
    for op in (*OPERATIONS, *SUBSCRIPTION_OPERATIONS):
        if op.documented:
            paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": "SIGNAL/NOISE stories over REST: Recent Stories with keyset "
            "pagination, the daily archive, stories by slug, topics, feeds, sitemaps, and the "
            "daily newsletter's double opt-in subscriptions. Every text is plain text, never "
            "HTML; every error is an RFC 9457 problem document.",
            "contact": {"name": "SIGNAL/NOISE", "url": "https://signal-noise.example/contact"},
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": SERVER, "description": "Production, behind the CDN"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is out of date: run make openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
