"""What is stored in the stories table: the one place that converts a validated story into
DynamoDB items (the story itself and its topic entries in the feed index).

Table layout (defined in ``template.yaml``):

============  ================  ==================  ===========  =======================
item          pk                sk                  feed_pk      feed_sk
============  ================  ==================  ===========  =======================
story         ``story#<slug>``  ``story``           ``feed``     ``<published_at>#<slug>``
topic entry   ``story#<slug>``  ``topic#<topic>``   ``topic#<t>`` ``<published_at>#<slug>``
============  ================  ==================  ===========  =======================

``feed_pk``/``feed_sk`` exist only on published stories, so drafts and retractions are
not in the sparse ``feed`` index. The index projects only what a list item needs.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from newsroom.core.slugs import SLUG_RE

if TYPE_CHECKING:  # the read path must not import pydantic (cold start)
    from newsroom.stories.contract import StoryIn

STORY_SK = "story"
TOPIC_SK_PREFIX = "topic#"
ALL_STORIES_FEED = "feed"
FEED_INDEX = "feed"  # the sparse GSI of published stories (template.yaml)
EXCERPT_MAX_LENGTH = 280
ELLIPSIS = "…"

# What a list item (StorySummary) needs; the GSI projects exactly these attributes.
SUMMARY_ATTRIBUTES = ("slug", "title", "excerpt", "published_at", "updated_at", "topics")


class StorySummary(TypedDict):
    """A "Recent Stories" list item, as clients read it."""

    slug: str
    title: str
    excerpt: str
    published_at: str
    updated_at: str
    topics: list[str]


class _StoryContent(TypedDict):
    """The fields of the contract that every story has, stored and served alike."""

    slug: str
    title: str
    summary: str
    published_at: str
    updated_at: str
    sections: list[dict[str, Any]]
    topics: list[str]


class Story(_StoryContent):
    """A whole story as clients read it: every field of the contract, no bookkeeping."""

    author: str | None
    source: dict[str, Any] | None


class StoryItem(_StoryContent):
    """The stored item of a story (``sk`` = ``story``)."""

    pk: str
    sk: str
    author: NotRequired[str]
    source: NotRequired[dict[str, Any]]
    status: str
    excerpt: str
    content_hash: str
    ingested_at: str
    source_key: str
    feed_pk: NotRequired[str]  # published stories only: the sparse feed index
    feed_sk: NotRequired[str]


class FeedEntry(StorySummary):
    """What a ``Query`` on the feed index returns: its keys and the projected summary."""

    pk: str
    sk: str
    feed_pk: str
    feed_sk: str


def story_pk(slug: str) -> str:
    """Partition key of a story and its topic entries."""
    return f"story#{slug}"


def topic_feed(topic: str) -> str:
    """``feed_pk`` of a topic's list (also the ``sk`` of the story's entry for that topic)."""
    return f"{TOPIC_SK_PREFIX}{topic}"


def feed_name(topic: str | None) -> str:
    """The ``feed_pk`` of a list: all stories, or the stories of one topic."""
    return ALL_STORIES_FEED if topic is None else topic_feed(topic)


def is_feed_name(feed: str) -> bool:
    """Whether ``feed`` is the ``feed_pk`` of a list (``feed_name`` of some topic or none)."""
    if feed == ALL_STORIES_FEED:
        return True
    topic = feed.removeprefix(TOPIC_SK_PREFIX)
    return topic != feed and SLUG_RE.fullmatch(topic) is not None


def feed_sort_key(published_at: str, slug: str) -> str:
    """Sort key in the feed index: newest ``published_at`` first, then ``slug``."""
    return f"{published_at}#{slug}"


def feed_day_prefix(day: str) -> str:
    """The start of every ``feed_sort_key`` of stories published on UTC ``day`` (YYYY-MM-DD):
    stored times are ``YYYY-MM-DDTHH:MM:SSZ``."""
    return f"{day}T"


def feed_day_end(day: str) -> str:
    """A bound above every ``feed_sort_key`` of UTC ``day`` and below those of the next day
    ("U" follows the "T" of the time)."""
    return f"{day}U"


def public_until(now: str) -> str:
    """The upper bound of the ``feed_sort_key`` of every story public at ``now`` (stored
    format): a story is public from its ``published_at`` on, so the entries of ``now`` itself
    (``now#<slug>``) are below it ("$" follows "#") and every later one above."""
    return f"{now}$"


def is_public(item: Mapping[str, Any], now: str) -> bool:
    """Whether the stored story ``item`` is public at ``now`` (stored format): published and
    not scheduled for later. Stored times share one fixed-width format, so they compare as
    strings."""
    return item.get("status") == "published" and str(item.get("published_at", "")) <= now


def is_scheduled(item: Mapping[str, Any], now: str) -> bool:
    """Whether ``item`` is published for a later instant than ``now``: stored (and in the
    feed index), but not public until then."""
    return item.get("status") == "published" and str(item.get("published_at", "")) > now


def feed_start_key(feed: str, published_at: str, slug: str) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` (typed JSON) of a ``Query`` on the feed index that resumes
    after the entry of ``slug`` in ``feed``: the index keys plus the table keys of that
    entry (the story item in the all-stories feed, its topic entry in a topic's feed)."""
    return {
        "feed_pk": {"S": feed},
        "feed_sk": {"S": feed_sort_key(published_at, slug)},
        "pk": {"S": story_pk(slug)},
        "sk": {"S": STORY_SK if feed == ALL_STORIES_FEED else feed},  # topic entry: sk = feed
    }


def make_excerpt(summary: str, limit: int = EXCERPT_MAX_LENGTH) -> str:
    """The summary cut at a word boundary to at most ``limit`` characters, ``…`` when cut."""
    text = " ".join(summary.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS) + 1]
    boundary = cut.rfind(" ")
    head = cut[:boundary] if boundary > 0 else cut[: limit - len(ELLIPSIS)]
    return head.rstrip(" ,;:.-\u2014\u2013") + ELLIPSIS  # no dangling punctuation or dash


def story_item(story: "StoryIn", *, source_key: str, ingested_at: str) -> dict[str, Any]:
    """The stored item of a story (every field of the contract plus bookkeeping)."""
    content = story.content()
    item: dict[str, Any] = {
        "pk": story_pk(story.key),
        "sk": STORY_SK,
        **content,
        "excerpt": make_excerpt(story.summary),
        "content_hash": story.content_hash(),
        "ingested_at": ingested_at,
        "source_key": source_key,
    }
    if story.status == "published":
        item["feed_pk"] = ALL_STORIES_FEED
        item["feed_sk"] = feed_sort_key(content["published_at"], story.key)
    return item


def topic_entries(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The topic entries a stored story should have (none unless it is published)."""
    if item.get("status") != "published":
        return {}
    summary = {name: item[name] for name in SUMMARY_ATTRIBUTES}
    return {
        topic: {
            "pk": item["pk"],
            "sk": topic_feed(topic),
            **summary,
            "content_hash": item["content_hash"],
            "feed_pk": topic_feed(topic),
            "feed_sk": item["feed_sk"],
        }
        for topic in item["topics"]
    }


def version_of(item: dict[str, Any]) -> tuple[str, str]:
    """What identifies one version of a story: ``(updated_at, content_hash)``."""
    return item["updated_at"], item["content_hash"]


STORY_ATTRIBUTES = (
    "slug", "title", "summary", "published_at", "updated_at", "sections", "topics", "author",
    "source",
)  # fmt: skip


def to_summary(item: Mapping[str, Any]) -> StorySummary:
    """A list item of "Recent Stories" (what the ``feed`` index projects)."""
    summary = {
        name: item.get(name, [] if name == "topics" else None) for name in SUMMARY_ATTRIBUTES
    }
    return cast("StorySummary", summary)


def to_story(item: StoryItem) -> Story:
    """A whole story as clients read it: every stored field of the contract, no bookkeeping."""
    stored: Mapping[str, Any] = item
    story = {name: stored[name] for name in STORY_ATTRIBUTES if name in stored}
    story.setdefault("sections", [])
    story.setdefault("topics", [])
    story.setdefault("author", None)
    story.setdefault("source", None)
    return cast("Story", story)
