"""Topic counts: how many public stories each topic has, and when the newest was published,
read in a fixed number of calls whatever the table holds.

They live in one partition of the stories table:

======  ==========  ==========================================  ==============================
item    pk          sk                                          attributes
======  ==========  ==========================================  ==============================
count   ``topics``  ``topic#<t>``                               ``topic``, ``count`` (N),
                                                                ``pruned_below`` (feed_sk)
marker  ``topics``  ``topic#<t>#at#<published_at>#<slug>``      -
======  ==========  ==========================================  ==============================

(``<published_at>#<slug>`` is the entry's ``feed_sk``; topics and slugs have no ``#``.)

Invariants, kept by the writes (``StoryRepository.sync_topic_entries``), each of which changes
a topic entry, its count and its markers in one transaction whose conditions check the entry
it read:

- ``count`` is the number of topic entries of ``t``: published stories, public or scheduled.
- every marker belongs to an existing entry of ``t`` with that ``feed_sk``; every entry above
  the prune bound (scheduled, or public for less than ``PRUNE_MARGIN``) has its marker.
- pruning deletes only public markers beyond the newest ``MARKERS_KEPT`` (``PRUNE_SLACK``
  more are tolerated, so that not every new story prunes) and first raises ``pruned_below``
  to the newest ``feed_sk`` it deletes: every entry above ``pruned_below`` has its marker.

So at ``now``: public count = ``count`` - markers above ``items.public_until(now)``, and the
newest public marker above ``pruned_below`` is the newest public entry of the topic. A topic
with public stories but no such marker (its newest were retracted or moved since the last
prune) costs one ``Query`` of its feed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from newsroom.core.timestamps import format_utc, parse_rfc3339
from newsroom.stories.items import TOPIC_SK_PREFIX, public_until, topic_feed

if TYPE_CHECKING:  # the repository imports this module's layout
    from newsroom.stories.repository import StoryRepository

STATS_PK = "topics"
_MARKER_SEPARATOR = "#at#"
MARKERS_KEPT = 20  # public markers per topic that survive a prune (latest_published_at)
# Public markers beyond MARKERS_KEPT before a prune deletes any: each deleted marker is a
# write, and concurrent ingests prune the same topics, so pruning rarely is cheaper (measured
# with bench.ingest_latency: 7.4 write units per story at 5, 2.2 at 50); /topics reads at
# most MARKERS_KEPT + PRUNE_SLACK public markers per topic.
PRUNE_SLACK = 50
# Markers of entries that became public less than this long ago are never pruned: a reader
# whose clock is behind the writer's by less still finds every marker it counts as scheduled.
PRUNE_MARGIN = timedelta(minutes=15)


class TopicCount(TypedDict):
    """One topic of ``GET /topics``, as clients read it."""

    topic: str
    count: int
    latest_published_at: str


def count_sk(topic: str) -> str:
    """Sort key of the count item of ``topic``."""
    return topic_feed(topic)


def markers_prefix(topic: str) -> str:
    """The start of the sort key of every marker of ``topic``."""
    return f"{topic_feed(topic)}{_MARKER_SEPARATOR}"


def marker_sk(topic: str, feed_sk: str) -> str:
    """Sort key of the marker of the entry of ``topic`` with ``feed_sk``."""
    return f"{markers_prefix(topic)}{feed_sk}"


def stats_key(sk: str) -> dict[str, str]:
    """The (plain) key of a stats item."""
    return {"pk": STATS_PK, "sk": sk}


def parse_stats_sk(sk: str) -> tuple[str, str | None]:
    """``(topic, feed_sk)`` of a marker, ``(topic, None)`` of a count item."""
    topic, separator, feed_sk = sk.removeprefix(TOPIC_SK_PREFIX).partition(_MARKER_SEPARATOR)
    return topic, (feed_sk if separator else None)


def published_at_of(feed_sk: str) -> str:
    """The ``published_at`` part of a ``feed_sk`` (``<published_at>#<slug>``)."""
    return feed_sk.partition("#")[0]


def prune_bound(now: str) -> str:
    """The ``feed_sk`` bound below which a prune at ``now`` may delete markers: the entries
    public for at least ``PRUNE_MARGIN``."""
    return public_until(format_utc(parse_rfc3339(now) - PRUNE_MARGIN))


@dataclass(slots=True)
class _Tally:
    count: int = 0
    pruned_below: str = ""
    scheduled: int = 0
    latest: str | None = None  # newest public feed_sk above pruned_below


def _tally(items: Iterable[Mapping[str, Any]], now: str) -> dict[str, _Tally]:
    bound = public_until(now)
    tallies: dict[str, _Tally] = {}
    markers: list[tuple[str, str]] = []
    for item in items:
        topic, feed_sk = parse_stats_sk(str(item["sk"]))
        if feed_sk is None:
            tally = tallies.setdefault(topic, _Tally())
            tally.count = int(item.get("count", 0))
            tally.pruned_below = str(item.get("pruned_below", ""))
        else:
            markers.append((topic, feed_sk))
    for topic, feed_sk in markers:
        tally = tallies.setdefault(topic, _Tally())  # a count item always exists with them
        if feed_sk > bound:
            tally.scheduled += 1
        elif feed_sk > tally.pruned_below and (tally.latest is None or feed_sk > tally.latest):
            tally.latest = feed_sk
    return tallies


def topics_without_latest(items: Iterable[Mapping[str, Any]], now: str) -> list[str]:
    """The topics of the stats ``items`` with public stories at ``now`` whose newest public
    story has no marker: their ``latest_published_at`` needs a read of their feed."""
    return sorted(
        topic
        for topic, t in _tally(items, now).items()
        if t.count - t.scheduled > 0 and t.latest is None
    )


def public_topics(
    items: Iterable[Mapping[str, Any]], now: str, latest: Mapping[str, str] | None = None
) -> list[TopicCount]:
    """Every topic with at least one public story at ``now``, by count (descending), then
    name, from the stats ``items`` (``StoryRepository.topic_stats``). ``latest``: the
    ``published_at`` read from the feed of each topic of ``topics_without_latest``; a topic
    missing from it is left out (a concurrent retraction left it without public stories)."""
    found: list[TopicCount] = []
    for topic, t in _tally(items, now).items():
        public = t.count - t.scheduled
        newest = published_at_of(t.latest) if t.latest is not None else (latest or {}).get(topic)
        if public > 0 and newest is not None:
            found.append({"topic": topic, "count": public, "latest_published_at": newest})
    found.sort(key=lambda entry: (-entry["count"], entry["topic"]))
    return found


def list_topics(repository: "StoryRepository", now: str) -> list[TopicCount]:
    """``GET /topics`` at ``now``: one ``Query`` of the stats partition (a page per MB), plus
    one ``Query`` of the feed index, reading one entry, per topic whose newest public story
    has no marker (rare: its ``MARKERS_KEPT`` newest were retracted since the last prune)."""
    items = repository.topic_stats()
    latest: dict[str, str] = {}
    for topic in topics_without_latest(items, now):
        entries = repository.query_feed(topic_feed(topic), 1, until=public_until(now))
        if entries:
            latest[topic] = entries[0]["published_at"]
    return public_topics(items, now, latest)
