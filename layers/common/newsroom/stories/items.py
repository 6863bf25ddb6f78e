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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the read path must not import pydantic (cold start)
    from newsroom.stories.contract import StoryIn

STORY_SK = "story"
TOPIC_SK_PREFIX = "topic#"
ALL_STORIES_FEED = "feed"
EXCERPT_MAX_LENGTH = 280
ELLIPSIS = "…"

# What a list item (StorySummary) needs; the GSI projects exactly these attributes.
SUMMARY_ATTRIBUTES = ("slug", "title", "excerpt", "published_at", "updated_at", "topics")


def story_pk(slug: str) -> str:
    """Partition key of a story and its topic entries."""
    return f"story#{slug}"


def topic_feed(topic: str) -> str:
    """``feed_pk`` of a topic's list."""
    return f"{TOPIC_SK_PREFIX}{topic}"


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


def feed_sort_key(published_at: str, slug: str) -> str:
    """Sort key in the feed index: newest ``published_at`` first, then ``slug``."""
    return f"{published_at}#{slug}"


def topic_entries(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The topic entries a stored story should have (none unless it is published)."""
    if item.get("status") != "published":
        return {}
    summary = {name: item[name] for name in SUMMARY_ATTRIBUTES}
    return {
        topic: {
            "pk": item["pk"],
            "sk": f"{TOPIC_SK_PREFIX}{topic}",
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


def to_summary(item: dict[str, Any]) -> dict[str, Any]:
    """A list item of "Recent Stories" (what the ``feed`` index projects)."""
    return {name: item.get(name, [] if name == "topics" else None) for name in SUMMARY_ATTRIBUTES}


def to_story(item: dict[str, Any]) -> dict[str, Any]:
    """A whole story as clients read it: every stored field of the contract, no bookkeeping."""
    story = {name: item[name] for name in STORY_ATTRIBUTES if name in item}
    story.setdefault("sections", [])
    story.setdefault("topics", [])
    story.setdefault("author", None)
    story.setdefault("source", None)
    return story
