"""What the read API reads, independent of HTTP representations: pages of a feed with
keyset cursors, one story by slug, the newest stories for the syndication feeds.

Each method makes exactly one DynamoDB call (tests count them).
"""

from dataclasses import dataclass

from newsroom.http.problems import Gone, InvalidParameters, NotFound
from newsroom.read_api.pagination import InvalidCursor, Position, decode_cursor, encode_cursor
from newsroom.stories.items import (
    ALL_STORIES_FEED,
    Story,
    StorySummary,
    feed_day_prefix,
    feed_name,
    to_story,
    to_summary,
)
from newsroom.stories.repository import StoryRepository


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its summaries, and the cursor of the next page if there is one."""

    summaries: list[StorySummary]
    next_cursor: str | None


class StoryReader:
    """Published stories as clients may read them, from one repository."""

    def __init__(self, repository: StoryRepository) -> None:
        self._repository = repository

    def page(
        self, topic: str | None, limit: int, cursor: str | None, day: str | None = None
    ) -> Page:
        """Up to ``limit`` stories (of ``topic``, or all; of UTC ``day``, or any), newest
        first, after ``cursor``.

        One ``Query`` of ``limit + 1`` entries: the extra one tells whether a next page
        exists, so the last page is never an empty one. Raises ``InvalidParameters`` for a
        cursor that is malformed, was issued for another list or points outside ``day``.
        """
        feed = feed_name(topic)
        start = None
        if cursor is not None:
            try:
                position = decode_cursor(cursor, feed)
                if day is not None and not position.published_at.startswith(feed_day_prefix(day)):
                    raise InvalidCursor("the cursor is not a position in this day's list")
            except InvalidCursor as exc:
                raise InvalidParameters(
                    "the cursor is invalid", errors=[{"loc": ["query", "cursor"], "msg": str(exc)}]
                ) from None
            start = position.exclusive_start_key()
        entries = self._repository.query_feed(feed, limit + 1, start, day)
        page = entries[:limit]
        next_cursor = None
        if len(entries) > limit:
            last = page[-1]
            next_cursor = encode_cursor(Position(feed, last["published_at"], last["slug"]))
        return Page([to_summary(entry) for entry in page], next_cursor)

    def story(self, slug: str) -> Story:
        """The published story ``slug`` (one ``GetItem``). Raises ``NotFound`` when there is
        none or it is a draft, ``Gone`` when it was retracted."""
        item = self._repository.get_story(slug)
        if item is None or item.get("status") == "draft":
            raise NotFound(f"there is no story {slug!r}")
        if item.get("status") == "retracted":
            raise Gone(f"the story {slug!r} was retracted")
        return to_story(item)

    def newest(self, count: int) -> list[StorySummary]:
        """The ``count`` newest published stories (one ``Query`` on the feed index)."""
        return [to_summary(e) for e in self._repository.query_feed(ALL_STORIES_FEED, count)]
