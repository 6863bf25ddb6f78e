"""The OpenAPI 3.1 document of the read API, generated from ``newsroom.read_api.operations`` (routes
and parameters) and the pydantic models below (response shapes). Imported lazily: only
``/openapi.json`` and ``/docs`` pay for pydantic's schema generation."""

import json
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN
from newsroom.read_api.operations import OPERATIONS
from newsroom.stories.contract import Section, Source

API_TITLE = "SIGNAL/NOISE content API"
API_VERSION = "1.0.0"
_Timestamp = Field(
    json_schema_extra={"format": "date-time"}, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorySummary(_Out):
    """A "Recent Stories" list item."""

    slug: str
    title: str
    excerpt: str = Field(
        description="The summary cut at a word boundary to at most 280 characters."
    )
    published_at: str = _Timestamp
    updated_at: str = _Timestamp
    topics: list[str]


class Meta(_Out):
    limit: int
    next_cursor: str | None


class Links(_Out):
    self_: str = Field(alias="self")
    next: str | None


class StoryList(_Out):
    data: list[StorySummary]
    meta: Meta
    links: Links


class Story(_Out):
    """A story with every stored field. All text is plain text, never HTML."""

    slug: str
    title: str
    summary: str
    published_at: str = _Timestamp
    updated_at: str = _Timestamp
    sections: list[Section]
    topics: list[str]
    author: str | None
    source: Source | None


class Preview(_Out):
    """Only in the answer to a preview link (``?preview=``)."""

    status: Literal["draft", "scheduled", "published"]
    expires_at: str = _Timestamp


class StoryEnvelope(_Out):
    """A story and what its page shows around it."""

    data: Story
    related: list[StorySummary] = Field(
        description="Up to 3 other public stories sharing a topic: most shared topics first, "
        "then newest (among the 20 newest of each topic)."
    )
    previous: StorySummary | None = Field(description="The next older public story.")
    next: StorySummary | None = Field(description="The next newer public story.")
    recent: list[StorySummary] = Field(description="The 3 newest other public stories.")
    preview: Preview | None = None


class Topic(_Out):
    topic: str
    count: int = Field(description="Public stories with this topic.")
    latest_published_at: str = _Timestamp


class TopicList(_Out):
    data: list[Topic]


class ErrorItem(_Out):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None
    errors: list[ErrorItem] | None = None


class JsonFeed(BaseModel):
    """A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1)."""

    version: str
    title: str
    items: list[dict[str, Any]]


_MODELS: dict[str, type[BaseModel]] = {
    "StoryList": StoryList,
    "StoryEnvelope": StoryEnvelope,
    "Problem": Problem,
    "JsonFeed": JsonFeed,
    "TopicList": TopicList,
}
_RAW_SCHEMAS: dict[str, dict[str, Any]] = {
    "RssFeed": {"type": "string", "description": "An RSS 2.0 XML document."},
    "Sitemap": {"type": "string", "description": "A sitemaps.org 0.9 XML document."},
    "OpenApiDocument": {"type": "object"},
    "Html": {"type": "string"},
}


@cache
def openapi_document(server_url: str) -> dict[str, Any]:
    """The document, with ``server_url`` as the server clients call."""
    _refs, definitions = models_json_schema(
        [(model, "serialization") for model in _MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(definitions.get("$defs", {}))
    schemas.update(_RAW_SCHEMAS)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        if not op.documented:
            continue
        responses: dict[str, Any] = {}
        for status, response in op.responses.items():
            entry: dict[str, Any] = {"description": response.description}
            if response.content_type and response.model:
                entry["content"] = {
                    response.content_type: {
                        "schema": {"$ref": f"#/components/schemas/{response.model}"}
                    }
                }
            if status == 200 or status == 304:
                entry["headers"] = {"ETag": {"schema": {"type": "string"}}}
            if status == 503:
                entry["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
            responses[str(status)] = entry
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "parameters": [p.openapi() for p in op.params],
            "responses": responses,
        }
        if "{slug}" in op.path:
            operation["parameters"].insert(
                0,
                {
                    "name": "slug",
                    "in": "path",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "pattern": SLUG_PATTERN,
                        "maxLength": SLUG_MAX_LENGTH,
                    },
                },
            )
        operation["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "ETag of a cached representation.",
            }
        )
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": API_VERSION,
            "description": "SIGNAL/NOISE stories: Recent Stories, stories by slug, feeds.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def openapi_json(server_url: str) -> str:
    return json.dumps(openapi_document(server_url), separators=(",", ":"))


def swagger_html(server_url: str) -> str:
    """Swagger UI with the document embedded (Powertools' page template)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    base = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
    return generate_swagger_html(
        spec=openapi_json(server_url).replace("</", "<\\/"),
        swagger_js=f"{base}/swagger-ui-bundle.js",
        swagger_css=f"{base}/swagger-ui.css",
        swagger_base_url=base,
        oauth2_config=None,
        persist_authorization=False,
    )
