"""The read API's answers as pydantic models, for the published OpenAPI document's schemas
(``devtools/openapi.py``, ``make openapi``): never imported by a function (the read path
builds plain dicts; these only describe them)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from newsroom.stories.contract import Section, Source

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


MODELS: tuple[type[BaseModel], ...] = (StoryList, StoryEnvelope, Problem, JsonFeed, TopicList)
