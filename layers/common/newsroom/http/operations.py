"""How a capability declares its HTTP operations: one declaration per route, which its
resolver registers and the published OpenAPI document (``newsroom/openapi.json``, written by
``make openapi``) describes. Plain dataclasses: nothing here costs a cold start."""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newsroom.http.params import QueryParam

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

JSON = "application/json"
XML = "application/xml"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
PROBLEM = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Body:
    """One media type of a request or response body: its schema (a name among the
    document's component schemas) and the name of its example (``devtools/openapi``)."""

    content_type: str
    model: str
    example: str


@dataclass(frozen=True, slots=True)
class Response:
    description: str
    content_type: str | None = None
    model: str | None = None  # a component schema name
    example: str | None = None  # an example name (devtools/openapi_examples.py)
    also: tuple[Body, ...] = ()  # the same answer in other media types (content negotiation)

    @property
    def bodies(self) -> tuple[Body, ...]:
        if self.content_type is None or self.model is None:
            return self.also
        return (Body(self.content_type, self.model, self.example or ""), *self.also)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    description: str = ""  # the summary when empty
    params: tuple[QueryParam, ...] = ()
    responses: dict[int, Response] = field(default_factory=dict)
    request: tuple[Body, ...] = ()  # the request body's media types; none: no body
    request_required: bool = True
    conditional: bool = True  # answers carry an ETag and honour If-None-Match
    documented: bool = True


NOT_MODIFIED = Response("Not modified: the representation matches If-None-Match.")


def register_operations(
    app: "APIGatewayRestResolver",
    operations: Iterable[Operation],
    handlers: Mapping[str, Callable[..., Any]],
) -> None:
    """Route each of ``operations`` on ``app`` to its handler (by operation id)."""
    for operation in operations:
        # Powertools writes path parameters as <name>; API Gateway and OpenAPI as {name}.
        path = re.sub(r"\{(\w+)\}", r"<\1>", operation.path)
        app.route(path, method=operation.method)(handlers[operation.operation_id])
