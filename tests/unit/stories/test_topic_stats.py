"""``newsroom.stories.topic_stats``, without a table: the key layout of the stats partition,
and ``public_topics`` / ``topics_without_latest``, which turn its items into ``GET /topics``
at an instant (public count = count - scheduled markers; the newest public marker above
``pruned_below`` gives ``latest_published_at``, else the topic's feed must be read)."""

from typing import Any

from newsroom.stories.items import feed_sort_key, topic_feed
from newsroom.stories.topic_stats import (
    STATS_PK,
    count_sk,
    marker_sk,
    markers_prefix,
    parse_stats_sk,
    prune_bound,
    public_topics,
    topics_without_latest,
)

NOW = "2025-10-20T12:00:00Z"


def count(topic: str, n: int, pruned_below: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": STATS_PK, "sk": count_sk(topic), "topic": topic, "count": n}
    if pruned_below is not None:
        item["pruned_below"] = pruned_below
    return item


def marker(topic: str, published_at: str, slug: str) -> dict[str, Any]:
    return {"pk": STATS_PK, "sk": marker_sk(topic, feed_sort_key(published_at, slug))}


# -- key layout --------------------------------------------------------------------------------


def test_count_item_and_markers_of_a_topic_parse_back() -> None:
    feed_sk = feed_sort_key("2025-10-01T08:00:00Z", "rates")

    assert count_sk("ai") == topic_feed("ai") == "topic#ai"
    assert marker_sk("ai", feed_sk) == "topic#ai#at#2025-10-01T08:00:00Z#rates"
    assert parse_stats_sk(count_sk("ai")) == ("ai", None)
    assert parse_stats_sk(marker_sk("ai", feed_sk)) == ("ai", feed_sk)


def test_markers_of_a_topic_are_not_a_prefix_of_another_topics() -> None:
    other = marker_sk("ai-policy", feed_sort_key("2025-10-01T08:00:00Z", "rates"))

    assert not other.startswith(markers_prefix("ai"))
    assert not count_sk("ai-policy").startswith(markers_prefix("ai"))


def test_prune_bound_leaves_the_last_quarter_hour_alone() -> None:
    assert prune_bound(NOW) == "2025-10-20T11:45:00Z$"
    assert feed_sort_key("2025-10-20T11:44:59Z", "a") < prune_bound(NOW)
    assert feed_sort_key("2025-10-20T11:45:00Z", "a") < prune_bound(NOW)
    assert feed_sort_key("2025-10-20T11:45:01Z", "a") > prune_bound(NOW)


# -- public_topics -----------------------------------------------------------------------------


def test_public_count_is_the_count_minus_the_scheduled_markers() -> None:
    items = [
        count("ai", 3),
        marker("ai", "2025-10-01T08:00:00Z", "old"),
        marker("ai", "2025-10-21T08:00:00Z", "tomorrow"),
    ]

    assert public_topics(items, NOW) == [
        {"topic": "ai", "count": 2, "latest_published_at": "2025-10-01T08:00:00Z"}
    ]


def test_a_story_scheduled_for_now_is_public() -> None:
    items = [count("ai", 1), marker("ai", NOW, "on-the-hour")]

    assert public_topics(items, NOW) == [{"topic": "ai", "count": 1, "latest_published_at": NOW}]


def test_a_topic_with_only_scheduled_stories_or_none_left_is_not_listed() -> None:
    items = [count("later", 1), marker("later", "2025-11-01T00:00:00Z", "s"), count("gone", 0)]

    assert public_topics(items, NOW) == []
    assert topics_without_latest(items, NOW) == []


def test_topics_are_ordered_by_count_then_name() -> None:
    items = [count("b", 1), count("a", 1), count("c", 2)]
    items += [marker(t, "2025-10-01T08:00:00Z", "x") for t in "abc"]

    assert [t["topic"] for t in public_topics(items, NOW)] == ["c", "a", "b"]


def test_latest_published_at_is_the_newest_public_marker() -> None:
    items = [
        count("ai", 3),
        marker("ai", "2025-10-02T08:00:00Z", "b"),
        marker("ai", "2025-10-05T08:00:00Z", "a"),
        marker("ai", "2025-10-25T08:00:00Z", "scheduled"),
    ]

    [topic] = public_topics(items, NOW)
    assert topic["latest_published_at"] == "2025-10-05T08:00:00Z"


def test_markers_at_or_below_pruned_below_are_not_trusted_for_the_latest() -> None:
    """A backdated story written after a prune has a marker below the pruned ones: the
    pruned stories may be newer, so only the feed can tell."""
    pruned = feed_sort_key("2025-09-10T08:00:00Z", "pruned")
    items = [count("ai", 6, pruned_below=pruned), marker("ai", "2025-09-01T08:00:00Z", "backdated")]

    assert topics_without_latest(items, NOW) == ["ai"]
    assert public_topics(items, NOW) == []  # no latest given: left out rather than wrong


def test_latest_read_from_the_feed_completes_a_topic_without_a_public_marker() -> None:
    items = [count("ai", 4, pruned_below=feed_sort_key("2025-09-10T08:00:00Z", "p")), count("x", 1)]
    items.append(marker("x", "2025-10-01T08:00:00Z", "x"))

    assert topics_without_latest(items, NOW) == ["ai"]
    assert public_topics(items, NOW, {"ai": "2025-09-10T08:00:00Z"}) == [
        {"topic": "ai", "count": 4, "latest_published_at": "2025-09-10T08:00:00Z"},
        {"topic": "x", "count": 1, "latest_published_at": "2025-10-01T08:00:00Z"},
    ]
