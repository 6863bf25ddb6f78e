"""Query parameters: one declaration per parameter drives both the parsing on the hot path
(no pydantic model building at cold start) and the OpenAPI document."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN
from newsroom.http.problems import InvalidParameters


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    kind: Literal["integer", "string", "date"]
    description: str
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    max_length: int | None = None
    required: bool = False

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw``; raises ``ValueError`` with a message for the client."""
        if self.kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,9}", raw):  # ASCII only: int() takes any digit
                raise ValueError("must be a whole number")
            value = int(raw)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum}")
            return value
        if self.kind == "date":  # a calendar day, YYYY-MM-DD (RFC 3339 full-date)
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
                raise ValueError("must be a date, YYYY-MM-DD")
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise ValueError("must be a calendar date") from None
        if self.max_length is not None and len(raw) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise ValueError(f"must match {self.pattern}")
        return raw

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = (
            {"type": "string", "format": "date"} if self.kind == "date" else {"type": self.kind}
        )
        # JSON Schema's pattern is a search: anchored, it means the full match parse() asks for.
        pattern = f"^(?:{self.pattern})$" if self.pattern is not None else None
        for key, value in (
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("pattern", pattern),
            ("maxLength", self.max_length),
        ):
            if value is not None:
                schema[key] = value
        return {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.description,
            "schema": schema,
        }


LIST_PARAMS = (
    QueryParam("limit", "integer", "Stories per page.", default=10, minimum=1, maximum=50),
    QueryParam(
        "cursor",
        "string",
        "Opaque cursor from the previous page's meta.next_cursor.",
        max_length=400,
        pattern=r"[A-Za-z0-9_-]+",
    ),
    QueryParam(
        "topic",
        "string",
        "Only stories with this topic.",
        pattern=SLUG_PATTERN.strip("^$"),
        max_length=SLUG_MAX_LENGTH,
    ),
    QueryParam(
        "date",
        "date",
        "Only stories published on this UTC day (YYYY-MM-DD): the daily archive.",
    ),
)


PREVIEW_PARAM = QueryParam(
    "preview",
    "string",
    "A preview token from the receipt of a draft or scheduled story (its preview_url): the "
    "story as it will be published, never cached. A token that is not valid gets 404.",
    max_length=56,
    pattern=r"[0-9]{1,12}\.[A-Za-z0-9_-]{43}",
)
SITEMAP_PARAMS = (
    QueryParam(
        "date",
        "date",
        "One page of a paged sitemap: the stories published on this UTC day (YYYY-MM-DD).",
    ),
)


def parse_query(
    specs: Sequence[QueryParam], multi_value: Mapping[str, Sequence[str]] | None
) -> dict[str, Any]:
    """Parse the declared parameters; every problem is collected into one 400 problem.
    Parameters that are not declared are ignored (cache busters and the like)."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    multi_value = multi_value or {}
    for spec in specs:
        given = multi_value.get(spec.name) or []
        if len(given) > 1:
            errors.append({"loc": ["query", spec.name], "msg": "must be given at most once"})
            continue
        if not given:
            values[spec.name] = spec.default
            continue
        try:
            values[spec.name] = spec.parse(given[0])
        except ValueError as exc:
            errors.append({"loc": ["query", spec.name], "msg": str(exc)})
    if errors:
        raise InvalidParameters("one or more query parameters are invalid", errors=errors)
    return values
