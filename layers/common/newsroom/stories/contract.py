"""The upload contract: what editors and publishing tools send (``StoryIn``).

The JSON Schema published in ``schema/story.schema.json`` is generated from these models
(``make schema``); the README's contract table describes the same rules.
"""

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from newsroom.core.slugs import SLUG_MAX_LENGTH, SLUG_PATTERN, slugify
from newsroom.core.timestamps import format_utc, parse_rfc3339

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=SLUG_MAX_LENGTH)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_rfc3339),
    PlainSerializer(format_utc, return_type=str),
    Field(json_schema_extra={"type": "string", "format": "date-time"}),
]
Status = Literal["published", "draft", "retracted"]

MAX_TOPICS = 10
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    # Validate with pydantic's URL parser but keep the editor's spelling of the URL.
    url = _HTTP_URL.validate_python(value)
    if not url.host:
        raise ValueError("must be an http(s) URL with a host")
    return value


def _dedupe(topics: list[str]) -> list[str]:
    return list(dict.fromkeys(topics))


class _Strict(BaseModel):
    # Unknown fields are errors (usually typos); strings are trimmed; numbers are never
    # accepted where strings belong.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_absent(cls, data: Any) -> Any:
        # JSON null for an optional field means the field is absent (its default applies);
        # null for a required field, or for an unknown one, is still an error.
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in fields or fields[key].is_required()
        }


class Section(_Strict):
    """A section of a story: a heading, an optional lead sentence (``body``) and bullets."""

    heading: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    bullets: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=2_000)]],
        Field(max_length=50),
    ] = []

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.body is None and not self.bullets:
            raise ValueError("a section needs a body or at least one bullet")
        return self


class Source(_Strict):
    """Where the story came from."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: Annotated[
        str,
        StringConstraints(max_length=2_000),
        AfterValidator(_http_url),
        Field(json_schema_extra={"format": "uri"}),
    ]


class StoryIn(_Strict):
    """One story as uploaded to ``incoming/``. All text is plain text, never HTML."""

    model_config = ConfigDict(title="Story", json_schema_extra={"additionalProperties": False})

    slug: Slug | None = Field(default=None, description="Derived from the title when missing.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=5_000)] = Field(
        description="The intro paragraph."
    )
    published_at: Timestamp
    updated_at: Timestamp | None = Field(
        default=None, description="Defaults to published_at; not earlier than it."
    )
    sections: Annotated[list[Section], Field(max_length=50)] = []
    topics: Annotated[list[Slug], Field(max_length=MAX_TOPICS), AfterValidator(_dedupe)] = Field(
        default=[], description="Slug-format topics; duplicates are dropped, order kept."
    )
    author: Annotated[str, StringConstraints(max_length=200)] | None = None
    source: Source | None = None
    status: Status = "published"

    @model_validator(mode="after")
    def _derive_and_check(self) -> Self:
        if self.slug is None:
            derived = slugify(self.title)
            if not derived:
                raise ValueError(
                    "slug: cannot be derived from a title without ASCII letters or digits; "
                    "give a slug"
                )
            object.__setattr__(self, "slug", derived)
        if self.updated_at is None:
            object.__setattr__(self, "updated_at", self.published_at)
        elif self.updated_at < self.published_at:
            raise ValueError("updated_at must not be earlier than published_at")
        return self

    @property
    def key(self) -> str:
        """The story's slug (always set after validation)."""
        assert self.slug is not None
        return self.slug

    def content(self) -> dict[str, Any]:
        """The normalised story as stored and served (UTC timestamps, slug filled in)."""
        return self.model_dump(mode="json", exclude_none=True)

    def content_hash(self) -> str:
        """A stable hash of the normalised content: same hash, same story."""
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def story_json_schema() -> dict[str, Any]:
    """The published JSON Schema of one story object (the upload contract)."""
    schema = StoryIn.model_json_schema(mode="validation")
    for definition in [schema, *schema.get("$defs", {}).values()]:
        _allow_null_for_optional(definition)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://signal-noise.example/schema/story.schema.json"
    return schema


def _allow_null_for_optional(definition: dict[str, Any]) -> None:
    # The models read JSON null for an optional field as "absent" (_null_means_absent);
    # say so in the schema too, so it accepts exactly what the ingest accepts.
    required = set(definition.get("required", ()))
    for name, prop in definition.get("properties", {}).items():
        options = prop.get("anyOf", [])
        if name in required or {"type": "null"} in options:
            continue
        keep = {k: prop.pop(k) for k in ("default", "description", "title") if k in prop}
        prop_copy = dict(prop)
        prop.clear()
        prop.update({"anyOf": [prop_copy, {"type": "null"}], **keep})
