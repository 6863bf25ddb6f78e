"""What the read API reads, independent of HTTP representations: pages of a feed with
keyset cursors, one story by slug with its neighbours, the newest stories for the
syndication feeds, and when the next scheduled story becomes public.

Every method takes ``now`` (stored format): a story is public from its ``published_at`` on
(``items.is_public``), so one request sees one instant. Each makes a fixed number of
DynamoDB calls whatever the table holds (tests count them).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from newsroom.core.timestamps import format_utc, parse_stored
from newsroom.http.problems import Gone, InvalidParameters, NotFound
from newsroom.read_api.pagination import InvalidCursor, Position, decode_cursor, encode_cursor
from newsroom.read_api.sitemaps import MAX_NEWS_URLS, MAX_URLS_PER_SITEMAP
from newsroom.stories.items import (
    ALL_STORIES_FEED,
    FeedEntry,
    Story,
    StoryItem,
    StorySummary,
    feed_day_prefix,
    feed_name,
    feed_start_key,
    is_public,
    public_until,
    to_story,
    to_summary,
    topic_feed,
)
from newsroom.stories.repository import StoryRepository
from newsroom.stories.topic_stats import TopicCount, list_topics

RELATED_COUNT = 3
RECENT_COUNT = 3  # "Recent Stories" below a story, as on the SIGNAL/NOISE page
# Related stories are ranked among the newest entries of each of the story's topics: one
# Query per topic (at most contract.MAX_TOPICS) reading at most this many.
RELATED_CANDIDATES_PER_TOPIC = 20
NEWS_WINDOW = timedelta(hours=48)  # Google News sitemaps: articles of the last two days


Read = Callable[[], list[FeedEntry]]
RunReads = Callable[[list[Read]], list[list[FeedEntry]]]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its summaries, and the cursor of the next page if there is one."""

    summaries: list[StorySummary]
    next_cursor: str | None


class StoryPage(TypedDict):
    """A story as its page shows it: the story and the stories around it."""

    data: Story
    related: list[StorySummary]
    previous: StorySummary | None  # the next older public story
    next: StorySummary | None  # the next newer public story
    recent: list[StorySummary]


class StoryReader:
    """Public stories as clients may read them, from one repository."""

    def __init__(self, repository: StoryRepository) -> None:
        self._repository = repository

    def page(
        self, topic: str | None, limit: int, cursor: str | None, now: str, day: str | None = None
    ) -> Page:
        """Up to ``limit`` public stories (of ``topic``, or all; of UTC ``day``, or any),
        newest first, after ``cursor``.

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
        entries = self._repository.query_feed(
            feed, limit + 1, until=public_until(now), exclusive_start_key=start, day=day
        )
        page = entries[:limit]
        next_cursor = None
        if len(entries) > limit:
            last = page[-1]
            next_cursor = encode_cursor(Position(feed, last["published_at"], last["slug"]))
        return Page([to_summary(entry) for entry in page], next_cursor)

    def story(self, slug: str, now: str) -> StoryItem:
        """The public story ``slug`` (one ``GetItem``). Raises ``NotFound`` when there is
        none, it is a draft or it is scheduled for later (the same answer: nothing tells a
        reader that it exists), ``Gone`` when it was retracted."""
        item = self._repository.get_story(slug)
        if item is not None and item.get("status") == "retracted":
            raise Gone(f"the story {slug!r} was retracted")
        if item is None or not is_public(item, now):
            raise NotFound(f"there is no story {slug!r}")
        return item

    def unpublished(self, slug: str) -> StoryItem:
        """The stored story ``slug`` whatever its status, for a preview (one ``GetItem``):
        ``NotFound`` when there is none, ``Gone`` when it was retracted."""
        item = self._repository.get_story(slug)
        if item is None:
            raise NotFound(f"there is no story {slug!r}")
        if item.get("status") == "retracted":
            raise Gone(f"the story {slug!r} was retracted")
        return item

    def story_page(self, item: StoryItem, now: str, run: RunReads | None = None) -> StoryPage:
        """The story of ``item`` with what its page shows around it, as of ``now``: 3 + one
        ``Query`` per topic, none of which reads more than ``RELATED_CANDIDATES_PER_TOPIC``
        entries. ``run`` runs the reads (e.g. concurrently); by default one after another."""
        until = public_until(now)
        slug, published_at = item["slug"], item["published_at"]
        around = feed_start_key(ALL_STORIES_FEED, published_at, slug)
        query = self._repository.query_feed
        reads: list[Read] = [
            lambda: query(ALL_STORIES_FEED, 1, until=until, exclusive_start_key=around),
            lambda: query(
                ALL_STORIES_FEED, 1, until=until, exclusive_start_key=around, oldest_first=True
            ),
            lambda: query(ALL_STORIES_FEED, RECENT_COUNT + 1, until=until),
            *(
                (lambda t=topic: query(topic_feed(t), RELATED_CANDIDATES_PER_TOPIC, until=until))
                for topic in item["topics"]
            ),
        ]
        results = run(reads) if run is not None else [read() for read in reads]
        older, newer, newest, *by_topic = (
            [to_summary(entry) for entry in entries] for entries in results
        )
        return {
            "data": to_story(item),
            "related": related_stories(item, by_topic),
            "previous": older[0] if older else None,
            "next": newer[0] if newer else None,
            "recent": [s for s in newest if s["slug"] != slug][:RECENT_COUNT],
        }

    def newest(self, count: int, now: str) -> list[StorySummary]:
        """The ``count`` newest public stories (one ``Query`` on the feed index)."""
        entries = self._repository.query_feed(ALL_STORIES_FEED, count, until=public_until(now))
        return [to_summary(e) for e in entries]

    def sitemap_stories(self, now: str, day: str | None = None) -> list[StorySummary]:
        """Up to ``MAX_URLS_PER_SITEMAP + 1`` public stories (of UTC ``day``, or any), newest
        first: one more than a sitemap holds tells that an index is needed. ``Query`` pages
        of 1 MB: at most 5 calls, whatever the table holds."""
        entries = self._repository.read_feed(
            ALL_STORIES_FEED, MAX_URLS_PER_SITEMAP + 1, until=public_until(now), day=day
        )
        return [to_summary(e) for e in entries]

    def publication_days(self, now: str) -> list[str]:
        """Every UTC day from the newest public story's back to the oldest's (2 ``Query``s
        reading one entry each): the pages of a sitemap index."""
        until = public_until(now)
        newest = self._repository.query_feed(ALL_STORIES_FEED, 1, until=until)
        oldest = self._repository.query_feed(ALL_STORIES_FEED, 1, until=until, oldest_first=True)
        if not newest or not oldest:
            return []
        last, first = (date.fromisoformat(e[0]["published_at"][:10]) for e in (newest, oldest))
        return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def news(self, now: str) -> list[StorySummary]:
        """The public stories of the last ``NEWS_WINDOW`` (at most ``MAX_NEWS_URLS``), newest
        first: one ``Query`` bounded on both sides of the sort key."""
        since = format_utc(parse_stored(now) - NEWS_WINDOW)
        entries = self._repository.query_feed(
            ALL_STORIES_FEED, MAX_NEWS_URLS, until=public_until(now), since=since
        )
        return [to_summary(e) for e in entries]

    def topics(self, now: str) -> list[TopicCount]:
        """Every topic with a public story, by count then name (``topic_stats.list_topics``:
        one ``Query`` of the stats partition)."""
        return list_topics(self._repository, now)

    def next_publication(self, now: str) -> str | None:
        """When the next scheduled story becomes public (one ``Query`` reading one entry):
        no public representation may be reused past it."""
        return self._repository.next_scheduled(public_until(now))


def related_stories(
    item: StoryItem, candidates_by_topic: list[list[StorySummary]]
) -> list[StorySummary]:
    """Up to ``RELATED_COUNT`` other stories sharing a topic with ``item``: most shared
    topics first, then newest (then slug, for a stable order)."""
    topics = set(item["topics"])
    candidates = {
        summary["slug"]: summary
        for entries in candidates_by_topic
        for summary in entries
        if summary["slug"] != item["slug"]
    }
    ranked = sorted(
        candidates.values(),
        key=lambda s: (len(topics.intersection(s["topics"])), s["published_at"], s["slug"]),
        reverse=True,
    )
    return ranked[:RELATED_COUNT]
