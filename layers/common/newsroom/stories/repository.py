"""Data access for the stories table. Every DynamoDB access pattern is one named method here,
with the index it uses and the items it reads visible in the code.

=============================  ====================================  ==========================
pattern                        call                                  reads
=============================  ====================================  ==========================
``put_story``                  1 conditional ``PutItem``             -
``sync_topic_entries``         ``Query`` (pk), 1 transaction         the story's own partition
                               (``TransactWriteItems``), consistent  + the markers of its topics
                               ``GetItem`` (re-check), prune
``sync_created_stories``       ``TransactWriteItems`` per 30-50      1 story item per story
                               entries, prune, ``BatchGetItem`` per  + the markers of its topics
                               100 stories
prune (of the above)           ``Query`` per topic given a marker;   at most 45 marker keys
                               1 in ~5: ``UpdateItem`` and           per topic
                               ``BatchWriteItem``
``get_story``                  1 ``GetItem``                         1 item
``query_feed``                 1 ``Query`` on GSI ``feed``           at most ``limit`` items
``read_feed``                  ``Query`` per 1 MB on GSI ``feed``    at most ``count`` items
``next_scheduled``             1 ``Query`` on GSI ``feed``           1 item
``topic_stats``                consistent ``Query`` (pk ``topics``)  the stats partition
                               a page per MB                         (``topic_stats``)
=============================  ====================================  ==========================
"""

import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from newsroom.core.dynamo import from_dynamo, to_dynamo
from newsroom.core.errors import TransientAWSError, is_transient
from newsroom.core.timestamps import utc_now
from newsroom.stories.items import (
    ALL_STORIES_FEED,
    FEED_INDEX,
    STORY_SK,
    TOPIC_SK_PREFIX,
    FeedEntry,
    StoryItem,
    feed_day_end,
    feed_day_prefix,
    story_pk,
    topic_entries,
    topic_feed,
    version_of,
)
from newsroom.stories.topic_stats import (
    MARKERS_KEPT,
    PRUNE_SLACK,
    STATS_PK,
    count_sk,
    marker_sk,
    markers_prefix,
    parse_stats_sk,
    prune_bound,
    stats_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 100
_UNPROCESSED_RETRIES = 6
_TRANSACT_MAX = 100  # actions per TransactWriteItems (DynamoDB limit)
_TRANSACT_RETRIES = 6
# Cancellation reasons a later attempt of the same transaction can get past.
_RETRIED_REASONS = frozenset(
    {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
_SYNC_ROUNDS = 32  # each lost race means another writer progressed; then Lambda retries
_PRUNE_PAGE = 25  # markers deleted per page of a prune: one BatchWriteItem
_PRUNE_PAGES = 4


def _packed(groups: list[list[Any]], limit: int) -> Iterator[list[Any]]:
    """The groups of actions in chunks of at most ``limit`` actions, never splitting one."""
    chunk: list[Any] = []
    for group in groups:
        if chunk and len(chunk) + len(group) > limit:
            yield chunk
            chunk = []
        chunk += group
    if chunk:
        yield chunk


def _created_chunks(
    stories: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]], limit: int
) -> Iterator[list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]]:
    """New stories with their entries, in chunks whose transaction has at most ``limit``
    actions: two per entry (it and its marker) and one count update per distinct topic."""
    chunk: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]] = []
    topics: set[str] = set()
    size = 0
    for story, entries in stories:
        added = 2 * len(entries) + len(entries.keys() - topics)
        if chunk and size + added > limit:
            yield chunk
            chunk, topics, size = [], set(), 0
            added = 3 * len(entries)
        chunk.append((story, entries))
        topics.update(entries)
        size += added
    if chunk:
        yield chunk


class WriteOutcome(StrEnum):
    """What ingesting one story did to the table (reported in the receipt)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class PutResult:
    outcome: WriteOutcome
    previous: dict[str, Any] | None


class StoryRepository:
    """Reads and writes stories in one DynamoDB table."""

    def __init__(self, client: "DynamoDBClient", table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- write path ---------------------------------------------------------------------

    def put_story(self, item: dict[str, Any]) -> PutResult:
        """Store ``item`` unless the table holds the same or a newer version.

        One conditional ``PutItem``: it replaces the stored story only when the incoming
        ``updated_at`` is later, or equal with different content, so concurrent or
        out-of-order deliveries can never leave an older version in place.
        """
        try:
            response = self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(item),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR updated_at < :u "
                    "OR (updated_at = :u AND content_hash <> :h)"
                ),
                ExpressionAttributeValues={
                    ":u": {"S": item["updated_at"]},
                    ":h": {"S": item["content_hash"]},
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            stored = from_dynamo(exc.response.get("Item", {}))  # type: ignore[arg-type]
            same = stored and version_of(stored) == version_of(item)
            return PutResult(WriteOutcome.UNCHANGED if same else WriteOutcome.STALE, stored)
        previous = from_dynamo(response["Attributes"]) if response.get("Attributes") else None
        return PutResult(WriteOutcome.UPDATED if previous else WriteOutcome.CREATED, previous)

    def sync_topic_entries(
        self, item: dict[str, Any], *, known_empty: bool = False, now: str | None = None
    ) -> int:
        """Make the story's topic entries in the feed index match the stored story, and keep
        the topic counts (``topic_stats``) exact.

        Each round reads the story's entries and writes the difference in one
        ``TransactWriteItems``: every entry it creates, deletes or moves changes its topic's
        count and markers in the same transaction, and every entry write is conditioned on
        the entry as read, so a count never misses or repeats an entry. A failed condition
        means another writer changed the entries meanwhile: the round is redone from a fresh
        read. After writing, the story item is read again (consistently); if a newer version
        replaced it meanwhile, its entries are reconciled too. The last writer to re-check
        therefore always leaves the entries of the newest version, whatever order concurrent
        deliveries run in. A Lambda retry after a crash between the two steps heals the
        entries the same way.

        ``known_empty``: the story was just created, so it has no entries yet (skips the
        first ``Query``). ``now`` (stored format, default the clock): what the pruning of
        markers counts as public. Returns the number of DynamoDB calls made, for tests and
        benchmarks.
        """
        calls = 0
        for _ in range(_SYNC_ROUNDS):
            existing: dict[str, tuple[str, str]] = {}
            if not known_empty:
                existing = self._topic_entry_versions(item["pk"])
                calls += 1
            groups, marked = self._entry_changes(item["pk"], topic_entries(item), existing)
            if not groups:
                return calls
            written, transacted = self._transact_groups(groups)
            calls += transacted
            if written:
                calls += self._prune_markers(marked, now)
            current = self._get_story_item(item["pk"], consistent=True)
            calls += 1
            if written and (current is None or version_of(current) == version_of(item)):
                return calls
            # Superseded meanwhile, or another writer changed the entries: converge on the
            # newest stored version, from a fresh read of its entries.
            item, known_empty = current or item, False
        raise TransientAWSError(f"topic entries of {item['pk']} still contended")

    def _topic_entry_versions(self, pk: str) -> dict[str, tuple[str, str]]:
        """Topic entries of one story: ``{topic: (content_hash, feed_sk)}`` (one consistent
        ``Query`` on the table)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": TOPIC_SK_PREFIX}},
            ProjectionExpression="sk, content_hash, feed_sk",
            ConsistentRead=True,
        )
        return {
            entry["sk"]["S"].removeprefix(TOPIC_SK_PREFIX): (
                entry["content_hash"]["S"],
                entry["feed_sk"]["S"],
            )
            for entry in response.get("Items", [])
        }

    def _entry_changes(
        self,
        pk: str,
        wanted: dict[str, dict[str, Any]],
        existing: dict[str, tuple[str, str]],
    ) -> tuple[list[list[Any]], set[str]]:
        """The transaction actions that turn ``existing`` entries into ``wanted`` ones, one
        group per topic (a group must not be split between transactions), and the topics
        that get a new marker."""
        groups: list[list[Any]] = []
        marked: set[str] = set()
        for topic, entry in wanted.items():
            if topic not in existing:
                groups.append([*self._create_entry(entry), self._add_to_count(topic, 1)])
                marked.add(topic)
                continue
            content_hash, feed_sk = existing[topic]
            if feed_sk != entry["feed_sk"]:  # published_at changed: the marker moves
                groups.append(
                    [
                        self._put_entry(entry, feed_sk),
                        self._delete_marker(topic, feed_sk),
                        self._put_marker(topic, entry["feed_sk"]),
                    ]
                )
                marked.add(topic)
            elif content_hash != entry["content_hash"]:
                groups.append([self._put_entry(entry, feed_sk)])
        for topic, (_, feed_sk) in existing.items():
            if topic not in wanted:
                groups.append(
                    [
                        {
                            "Delete": {
                                "TableName": self._table,
                                "Key": {"pk": {"S": pk}, "sk": {"S": topic_feed(topic)}},
                                # The entry as read (not only "exists"): the marker deleted
                                # with it must be its own, else a moved entry loses its marker.
                                "ConditionExpression": "feed_sk = :f",
                                "ExpressionAttributeValues": {":f": {"S": feed_sk}},
                            }
                        },
                        self._add_to_count(topic, -1),
                        self._delete_marker(topic, feed_sk),
                    ]
                )
        return groups, marked

    def _create_entry(self, entry: dict[str, Any]) -> list[Any]:
        """A new entry and its marker (its count is updated separately: once per topic and
        transaction)."""
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(entry),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            self._put_marker(entry["feed_pk"].removeprefix(TOPIC_SK_PREFIX), entry["feed_sk"]),
        ]

    def _put_entry(self, entry: dict[str, Any], stored_feed_sk: str) -> Any:
        # Only over the entry as read: a stale writer can never resurrect a deleted entry
        # (which would then be missing from its count).
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(entry),
                "ConditionExpression": "feed_sk = :f",
                "ExpressionAttributeValues": {":f": {"S": stored_feed_sk}},
            }
        }

    def _add_to_count(self, topic: str, delta: int) -> Any:
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(stats_key(count_sk(topic))),
                "UpdateExpression": "SET #topic = :t ADD #count :n",
                "ExpressionAttributeNames": {"#count": "count", "#topic": "topic"},
                "ExpressionAttributeValues": {":n": {"N": str(delta)}, ":t": {"S": topic}},
            }
        }

    def _put_marker(self, topic: str, feed_sk: str) -> Any:
        key = to_dynamo(stats_key(marker_sk(topic, feed_sk)))
        return {"Put": {"TableName": self._table, "Item": key}}

    def _delete_marker(self, topic: str, feed_sk: str) -> Any:
        key = to_dynamo(stats_key(marker_sk(topic, feed_sk)))
        return {"Delete": {"TableName": self._table, "Key": key}}

    def _transact_groups(self, groups: list[list[Any]]) -> tuple[bool, int]:
        """The groups in as few transactions as the 100-action limit allows (one, for the at
        most 60 actions of one story's 10 topics); ``(False, calls)`` as soon as one lost a
        race (a condition failed: nothing of it was written)."""
        calls = 0
        for chunk in _packed(groups, _TRANSACT_MAX):
            written, made = self._transact(chunk)
            calls += made
            if not written:
                return False, calls
        return True, calls

    def _transact(self, actions: list[Any]) -> tuple[bool, int]:
        """One ``TransactWriteItems``, tried again after conflicts with other transactions and
        throttling (with jittered backoff; then ``TransientAWSError``, for Lambda to retry);
        ``(False, calls)`` when a condition failed."""
        for attempt in range(_TRANSACT_RETRIES + 1):
            try:
                self._client.transact_write_items(TransactItems=actions)
                return True, attempt + 1
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = {
                    r.get("Code", "None")
                    for r in cast("list[Any]", exc.response.get("CancellationReasons", []))
                }
                if "ConditionalCheckFailed" in reasons:
                    return False, attempt + 1
                if not reasons <= _RETRIED_REASONS:
                    raise
                if attempt == _TRANSACT_RETRIES:
                    raise TransientAWSError(f"transaction cancelled: {sorted(reasons)}") from exc
                # Full jitter: writers that conflicted on a count must not retry in step.
                time.sleep(random.uniform(0, min(0.05 * 2**attempt, 1.0)))  # noqa: S311
        raise AssertionError("unreachable")

    def sync_created_stories(self, items: list[dict[str, Any]], *, now: str | None = None) -> int:
        """Topic entries for a group of stories that were just created (so have none yet).

        The group's entries, their markers and one count update per topic go out in shared
        ``TransactWriteItems`` calls (at most 100 actions each), then one consistent
        ``BatchGetItem`` re-checks the group's story items; a story that a newer version
        replaced meanwhile is reconciled on its own (``sync_topic_entries``), and so is every
        story of a transaction that lost a race (an entry was there already). The same
        guarantee as per story, at about one call per 30 entries instead of three per story.
        Returns the number of DynamoDB calls made.
        """
        pending = [(item, entries) for item in items if (entries := topic_entries(item))]
        calls = 0
        written: list[dict[str, Any]] = []
        marked: set[str] = set()
        for chunk in _created_chunks(pending, _TRANSACT_MAX):
            per_topic = Counter(t for _, entries in chunk for t in entries)
            actions = [
                a for _, entries in chunk for e in entries.values() for a in self._create_entry(e)
            ]
            actions += [self._add_to_count(t, n) for t, n in per_topic.items()]
            ok, made = self._transact(actions)
            calls += made
            if ok:
                written += [item for item, _ in chunk]
                marked.update(per_topic)
            else:  # someone wrote entries of these stories meanwhile: one by one, from reads
                for item, _ in chunk:
                    calls += self.sync_topic_entries(item, now=now)
        if not written:
            return calls
        calls += self._prune_markers(marked, now)
        current, reads = self._get_story_items([item["pk"] for item in written])
        calls += reads
        for item in written:
            stored = current.get(item["pk"])
            if stored is not None and version_of(stored) != version_of(item):
                # Superseded meanwhile (rare): reconcile to the whole newest version.
                newest = self._get_story_item(item["pk"], consistent=True)
                calls += 1
                if newest is not None:
                    calls += self.sync_topic_entries(newest, now=now)
        return calls

    def _prune_markers(self, topics: Iterable[str], now: str | None) -> int:
        """Delete the public markers of ``topics`` beyond the newest ``MARKERS_KEPT``, once more
        than ``PRUNE_SLACK`` extra have piled up: a ``Query`` per topic (its newest public
        markers), then for a topic with too many an ``UpdateItem`` that raises its
        ``pruned_below`` before the markers go (in shared ``BatchWriteItem`` calls).
        Idempotent and safe under concurrency (``topic_stats``); a topic whose update is
        throttled is left for the next prune."""
        bound = prune_bound(now or utc_now())
        calls = 0
        doomed: list[Any] = []
        for topic in sorted(topics):
            excess, reads = self._excess_markers(topic, bound)
            calls += reads
            if not excess:
                continue
            newest_pruned = parse_stats_sk(excess[0])[1] or ""
            raised, made = self._raise_pruned_below(topic, newest_pruned)
            calls += made
            if raised:
                doomed += [
                    {"DeleteRequest": {"Key": {"pk": {"S": STATS_PK}, "sk": {"S": sk}}}}
                    for sk in excess
                ]
        if doomed:
            calls += self._batch_write(doomed)
        return calls

    def _excess_markers(self, topic: str, bound: str) -> tuple[list[str], int]:
        """The sort keys of the public markers of ``topic`` beyond the newest ``MARKERS_KEPT``,
        newest first, when there are more than ``PRUNE_SLACK`` of them (else none): a
        ``Query`` reading at most ``MARKERS_KEPT + _PRUNE_PAGE`` keys, and more pages of
        ``_PRUNE_PAGE`` up to ``_PRUNE_PAGES`` (the rest waits for the next prune)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": STATS_PK},
                ":first": {"S": markers_prefix(topic)},
                ":last": {"S": marker_sk(topic, bound)},  # not a marker: bound ends in "$"
            },
            "ProjectionExpression": "sk",
            "ScanIndexForward": False,
            "Limit": MARKERS_KEPT + _PRUNE_PAGE,
        }
        keys: list[str] = []
        calls = 0
        while calls < _PRUNE_PAGES:
            response = self._client.query(**params)
            calls += 1
            keys += [item["sk"]["S"] for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            params["Limit"] = _PRUNE_PAGE
        if len(keys) <= MARKERS_KEPT + PRUNE_SLACK:
            return [], calls
        return keys[MARKERS_KEPT:], calls

    def _raise_pruned_below(self, topic: str, feed_sk: str) -> tuple[bool, int]:
        """Raise the ``pruned_below`` of ``topic`` to ``feed_sk`` (one conditional
        ``UpdateItem``); ``False`` when this prune is not to delete: another raised it as
        high or higher, or it could not be done now."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(stats_key(count_sk(topic))),
                UpdateExpression="SET pruned_below = :b",
                ConditionExpression="attribute_not_exists(pruned_below) OR pruned_below < :b",
                ExpressionAttributeValues={":b": {"S": feed_sk}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                # Already at least as high: a concurrent prune raised it, and it deletes these
                # markers (or a superset); deleting them here too would be billed twice.
                return False, 1
            if is_transient(exc):  # e.g. a conflict with a transaction on the count
                return False, 1
            raise
        return True, 1

    def _batch_write(self, requests: list[Any]) -> int:
        calls = 0
        for start in range(0, len(requests), _BATCH_WRITE_MAX):
            pending = requests[start : start + _BATCH_WRITE_MAX]
            for attempt in range(_UNPROCESSED_RETRIES + 1):
                response = self._client.batch_write_item(RequestItems={self._table: pending})
                calls += 1
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
                if attempt == _UNPROCESSED_RETRIES:
                    raise TransientAWSError(f"{len(pending)} topic markers left unprocessed")
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return calls

    def _get_story_items(self, pks: list[str]) -> tuple[dict[str, dict[str, Any]], int]:
        """The versions (pk, updated_at, content_hash) of story items, read consistently:
        ``BatchGetItem`` of up to 100 keys a call."""
        found: dict[str, dict[str, Any]] = {}
        calls = 0
        for start in range(0, len(pks), _BATCH_GET_MAX):
            keys: list[Any] = [
                {"pk": {"S": pk}, "sk": {"S": STORY_SK}}
                for pk in pks[start : start + _BATCH_GET_MAX]
            ]
            for attempt in range(_UNPROCESSED_RETRIES + 1):
                response = self._client.batch_get_item(
                    RequestItems={
                        self._table: {
                            "Keys": keys,
                            "ConsistentRead": True,
                            # Only what identifies the version: the re-check reads no content.
                            "ProjectionExpression": "pk, updated_at, content_hash",
                        }
                    }
                )
                calls += 1
                for raw in response.get("Responses", {}).get(self._table, []):
                    item = from_dynamo(raw)
                    found[item["pk"]] = item
                unprocessed: Any = response.get("UnprocessedKeys", {}).get(self._table, {})
                keys = unprocessed.get("Keys", [])
                if not keys:
                    break
                if attempt == _UNPROCESSED_RETRIES:
                    raise TransientAWSError(f"{len(keys)} story items left unread")
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return found, calls

    # -- read path ----------------------------------------------------------------------

    def _get_story_item(self, pk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": pk}, "sk": {"S": STORY_SK}},
            ConsistentRead=consistent,
        )
        return from_dynamo(response["Item"]) if "Item" in response else None

    def get_story(self, slug: str) -> StoryItem | None:
        """One story by slug, whatever its status: one ``GetItem``."""
        return cast("StoryItem | None", self._get_story_item(story_pk(slug)))

    def query_feed(
        self,
        feed: str,
        limit: int,
        *,
        until: str,
        exclusive_start_key: dict[str, Any] | None = None,
        day: str | None = None,
        since: str | None = None,
        oldest_first: bool = False,
    ) -> list[FeedEntry]:
        """The public entries of ``feed`` (``items.feed_name``), newest first (or oldest first):
        one ``Query`` on the sparse ``feed`` index reading at most ``limit`` entries, every one
        with a sort key below ``until`` (``items.public_until``: stories scheduled for later are
        in the index but never read), after ``exclusive_start_key`` (``items.feed_start_key``)
        when given. With ``day`` (YYYY-MM-DD), only the entries published that UTC day; with
        ``since`` (stored format), only those published since then: key conditions on the
        sort key, so no other entry is read."""
        return self._query_feed(
            self._feed_query(feed, limit, until, day, since, oldest_first), exclusive_start_key
        )[0]

    def read_feed(
        self, feed: str, count: int, *, until: str, day: str | None = None
    ) -> list[FeedEntry]:
        """Up to ``count`` public entries of ``feed`` newest first (of UTC ``day``, or any),
        however many ``Query`` pages that takes: a ``Query`` returns at most 1 MB (DynamoDB
        developer guide, "Paginating table query results"), about 2,500 entries here."""
        params = self._feed_query(feed, count, until, day, None, False)
        entries: list[FeedEntry] = []
        start = None
        while params and len(entries) < count:
            params["Limit"] = count - len(entries)
            page, start = self._query_feed(params, start)
            entries += page
            if start is None:
                break
        return entries

    def _feed_query(
        self,
        feed: str,
        limit: int,
        until: str,
        day: str | None,
        since: str | None,
        oldest_first: bool,
    ) -> dict[str, Any]:
        """The parameters of a ``Query`` of ``feed``'s public entries between the bounds, or
        ``{}`` when no entry can be between them (then no call is made)."""
        first = since if day is None else feed_day_prefix(day)
        last = until if day is None else min(feed_day_end(day), until)
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": FEED_INDEX,
            "KeyConditionExpression": "feed_pk = :feed AND feed_sk < :until",
            "ExpressionAttributeValues": {":feed": {"S": feed}, ":until": {"S": last}},
            "ScanIndexForward": oldest_first,
            "Limit": limit,
        }
        if first is not None:
            if first >= last:
                return {}  # e.g. a day still to come: nothing of it is public
            # BETWEEN is inclusive; neither bound is a sort key ("<time>#<slug>").
            params["KeyConditionExpression"] = (
                "feed_pk = :feed AND feed_sk BETWEEN :first AND :last"
            )
            values = params["ExpressionAttributeValues"]
            values[":first"] = {"S": first}
            values[":last"] = values.pop(":until")
        return params

    def _query_feed(
        self, params: dict[str, Any], start: dict[str, Any] | None
    ) -> tuple[list[FeedEntry], dict[str, Any] | None]:
        if not params:
            return [], None
        if start is not None:
            params = {**params, "ExclusiveStartKey": start}
        response = self._client.query(**params)
        entries = [from_dynamo(i) for i in response.get("Items", [])]
        return cast("list[FeedEntry]", entries), response.get("LastEvaluatedKey")

    def next_scheduled(self, until: str) -> str | None:
        """The ``published_at`` of the next story to become public after ``until``
        (``items.public_until``), or ``None``: one ``Query`` on the feed index reading one
        entry, the oldest above the bound."""
        response = self._client.query(
            TableName=self._table,
            IndexName=FEED_INDEX,
            KeyConditionExpression="feed_pk = :feed AND feed_sk > :until",
            ExpressionAttributeValues={
                ":feed": {"S": ALL_STORIES_FEED},
                ":until": {"S": until},
            },
            ProjectionExpression="published_at",
            ScanIndexForward=True,
            Limit=1,
        )
        items = response.get("Items", [])
        return str(items[0]["published_at"]["S"]) if items else None

    def topic_stats(self) -> list[dict[str, Any]]:
        """Every item of the topic stats partition (``topic_stats``: a count per topic and its
        markers): one consistent ``Query`` on the table, a page per MB (about 13,000 items of
        some 80 bytes: several hundred topics of ``MARKERS_KEPT + PRUNE_SLACK`` markers)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": STATS_PK}},
            # Consistent: a count read right after a write includes it (and its markers).
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**params)
            items += [from_dynamo(i) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
