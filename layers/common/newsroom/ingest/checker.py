"""Per-story validation of an uploaded file's candidates: the contract (``StoryIn``), the
stored-size limit, and the rules only the whole file shows (a slug used twice)."""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from newsroom.core.errors import error_details
from newsroom.ingest.files import Candidate, duplicate_keys
from newsroom.stories.contract import StoryIn

# DynamoDB stores items of at most 400 KB; the contract's field limits allow far larger
# stories (50 sections of 50 long bullets). The stored item is the story's content plus a
# few KB of keys and bookkeeping, so the content, as JSON, must stay under this.
MAX_STORY_BYTES = 380_000


@dataclass(frozen=True, slots=True)
class Checked:
    """A candidate after validation: a story, or the errors that reject it."""

    index: int
    line: int | None
    story: StoryIn | None
    errors: list[dict[str, Any]]


class StoryChecker:
    """Validates the candidates of one file against the contract, in file order.

    Besides the model's rules it rejects what only the file as a whole shows: a slug that
    an earlier story of the same file already used (which version would win is unclear).
    """

    def __init__(self) -> None:
        self._first_index: dict[str, int] = {}

    def check(self, candidate: Candidate) -> Checked:
        index, line = candidate.index, candidate.line
        if candidate.error is not None:
            return Checked(index, line, None, [{"loc": [], "msg": candidate.error}])
        if not isinstance(candidate.value, dict):
            return Checked(index, line, None, [{"loc": [], "msg": "a story must be a JSON object"}])
        try:
            duplicated = duplicate_keys(candidate.value)
        except RecursionError:  # parseable by json's C scanner, too deep to walk in Python
            return Checked(index, line, None, [{"loc": [], "msg": "JSON is nested too deeply"}])
        if duplicated:
            return Checked(index, line, None, duplicated)
        try:
            story = StoryIn.model_validate(candidate.value)
        except ValidationError as exc:
            return Checked(index, line, None, error_details(exc.errors(include_url=False)))
        size = len(json.dumps(story.content(), ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > MAX_STORY_BYTES:
            message = f"story is {size} bytes as stored; at most {MAX_STORY_BYTES}"
            return Checked(index, line, None, [{"loc": [], "msg": message}])
        first = self._first_index.setdefault(story.key, index)
        if first != index:
            message = (
                f"slug {story.key!r} is already used by the story at index {first} of this file"
            )
            return Checked(index, line, None, [{"loc": ["slug"], "msg": message}])
        return Checked(index, line, story, [])
