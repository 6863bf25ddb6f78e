"""Data access for the stories table. Every DynamoDB access pattern is one named method here,
with the index it uses and the items it reads visible in the code.

=============================  ====================================  ==========================
pattern                        call                                  reads
=============================  ====================================  ==========================
``put_story``                  1 conditional ``PutItem``             -
``sync_topic_entries``         ``Query`` (pk) + ``BatchWriteItem``   the story's own partition
                               + consistent ``GetItem`` (re-check)
``sync_created_stories``       ``BatchWriteItem`` per 25 entries     1 story item per story
                               + ``BatchGetItem`` per 100 stories
``get_story``                  1 ``GetItem``                         1 item
``query_feed``                 1 ``Query`` on GSI ``feed``           at most ``limit + 1`` items
=============================  ====================================  ==========================
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from newsroom.core.dynamo import from_dynamo, to_dynamo
from newsroom.core.errors import TransientAWSError
from newsroom.stories.items import (
    FEED_INDEX,
    STORY_SK,
    TOPIC_SK_PREFIX,
    FeedEntry,
    StoryItem,
    feed_day_prefix,
    story_pk,
    topic_entries,
    topic_feed,
    version_of,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 100
_UNPROCESSED_RETRIES = 6


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

    def sync_topic_entries(self, item: dict[str, Any], *, known_empty: bool = False) -> int:
        """Make the story's topic entries in the feed index match the stored story.

        Topic entries are separate items, so they follow the story item instead of being
        written atomically with it (a transaction per story would double the write cost).
        Correctness comes from a re-check: after writing, the story item is read again
        (consistently); if a newer version replaced it meanwhile, its entries are
        reconciled too. The last writer to re-check therefore always leaves the entries of
        the newest version, whatever order concurrent deliveries run in. A Lambda retry
        after a crash between the two steps heals the entries the same way.

        ``known_empty``: the story was just created, so it has no entries yet (skips the
        ``Query``). Returns the number of DynamoDB calls made, for tests and benchmarks.
        """
        calls = 0
        while True:
            wanted = topic_entries(item)
            existing: dict[str, str] = {}
            if not known_empty:
                existing = self._topic_entry_hashes(item["pk"])
                calls += 1
            puts = [e for t, e in wanted.items() if existing.get(t) != e["content_hash"]]
            deletes = [t for t in existing if t not in wanted]
            if not puts and not deletes:
                return calls
            calls += self._batch_write_entries(item["pk"], puts, deletes)
            current = self._get_story_item(item["pk"], consistent=True)
            calls += 1
            if current is None or version_of(current) == version_of(item):
                return calls
            item, known_empty = current, False  # superseded meanwhile: converge on the newest

    def _topic_entry_hashes(self, pk: str) -> dict[str, str]:
        """Topic entries of one story: ``{topic: content_hash}`` (one ``Query`` on the table)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": TOPIC_SK_PREFIX}},
            ProjectionExpression="sk, content_hash",
            ConsistentRead=True,
        )
        return {
            entry["sk"]["S"].removeprefix(TOPIC_SK_PREFIX): entry["content_hash"]["S"]
            for entry in response.get("Items", [])
        }

    def sync_created_stories(self, items: list[dict[str, Any]]) -> int:
        """Topic entries for a group of stories that were just created (so have none yet).

        The group's entries go out in shared ``BatchWriteItem`` calls (25 entries each), then
        one consistent ``BatchGetItem`` re-checks the group's story items; a story that a newer
        version replaced meanwhile is reconciled on its own (``sync_topic_entries``). The same
        guarantee as per story, at about one extra call per 25 stories instead of two per story.
        Returns the number of DynamoDB calls made.
        """
        entries = [entry for item in items for entry in topic_entries(item).values()]
        if not entries:
            return 0
        calls = self._batch_write([{"PutRequest": {"Item": to_dynamo(e)}} for e in entries])
        with_entries = [item for item in items if topic_entries(item)]
        current, reads = self._get_story_items([item["pk"] for item in with_entries])
        calls += reads
        for item in with_entries:
            now = current.get(item["pk"])
            if now is not None and version_of(now) != version_of(item):
                # Superseded meanwhile (rare): reconcile to the whole newest version.
                newest = self._get_story_item(item["pk"], consistent=True)
                calls += 1
                if newest is not None:
                    calls += self.sync_topic_entries(newest)
        return calls

    def _batch_write_entries(
        self, pk: str, puts: Iterable[dict[str, Any]], delete_topics: Iterable[str]
    ) -> int:
        requests: list[Any] = [{"PutRequest": {"Item": to_dynamo(e)}} for e in puts]
        requests += [
            {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": topic_feed(t)}}}}
            for t in delete_topics
        ]
        return self._batch_write(requests)

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
                    raise TransientAWSError(f"{len(pending)} topic entries left unprocessed")
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
        exclusive_start_key: dict[str, Any] | None = None,
        day: str | None = None,
    ) -> list[FeedEntry]:
        """Newest first from the sparse ``feed`` index: one ``Query`` reading at most
        ``limit`` entries of ``feed`` (``items.feed_name``), after ``exclusive_start_key``
        (``items.feed_start_key``) when given; with ``day`` (YYYY-MM-DD), only the entries
        published that UTC day (a key condition on the sort key: no entry of another day is
        read)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": FEED_INDEX,
            "KeyConditionExpression": "feed_pk = :feed",
            "ExpressionAttributeValues": {":feed": {"S": feed}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if day is not None:
            params["KeyConditionExpression"] += " AND begins_with(feed_sk, :day)"
            params["ExpressionAttributeValues"][":day"] = {"S": feed_day_prefix(day)}
        if exclusive_start_key is not None:
            params["ExclusiveStartKey"] = exclusive_start_key
        response = self._client.query(**params)
        return cast("list[FeedEntry]", [from_dynamo(i) for i in response.get("Items", [])])
