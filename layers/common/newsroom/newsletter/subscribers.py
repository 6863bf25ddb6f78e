"""Newsletter subscriptions: double opt-in, confirmation, unsubscribe.

Subscribers live in their own table (``SubscribersTable``), keyed by the keyed hash of the
address. Addresses are stored (they are needed to send mail) but never logged or returned.

=====================  ==============================================================
access pattern         call
=====================  ==============================================================
``get``                1 ``GetItem``
``create_pending``     1 conditional ``PutItem`` (only if the id is new)
``claim_confirmation`` 1 conditional ``UpdateItem`` (the 10-minute cooldown)
``release_confirmation`` 1 conditional ``UpdateItem`` (a send that failed: no cooldown)
``confirm``            1 conditional ``UpdateItem``
``unsubscribe``        1 conditional ``UpdateItem``
``suppress``           1 conditional ``UpdateItem`` (a bounce or complaint: never mailed again)
``confirmed_ids``      1 ``Query`` of the sparse GSI ``confirmed`` per page (keys only)
``batch_get``          1 ``BatchGetItem`` per 100 ids (consistent reads)
``claim_digest``       1 conditional ``UpdateItem`` (at most one digest a day)
``release_digest``     1 conditional ``UpdateItem`` (a send that failed: retried later)
=====================  ==============================================================
"""

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from newsroom.core.dynamo import from_dynamo

PENDING_TTL_SECONDS = 7 * 24 * 3600
CONFIRMATION_COOLDOWN_SECONDS = 10 * 60
CONFIRMED_INDEX = "confirmed"
BATCH_GET_LIMIT = 100  # keys per BatchGetItem (DynamoDB API Reference, BatchGetItem)
BATCH_GET_ATTEMPTS = 5
Status = Literal["pending", "confirmed", "unsubscribed", "bounced", "complained"]
Suppression = Literal["bounced", "complained"]
SUPPRESSED: frozenset[str] = frozenset({"bounced", "complained"})


def subscriber_key(address_id: str) -> dict[str, Any]:
    return {"id": {"S": f"sub#{address_id}"}}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


@dataclass(frozen=True, slots=True)
class Subscriber:
    address_id: str
    email: str
    status: Status
    last_digest_on: str | None = None
    digest_through: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Subscriber":
        return cls(
            address_id=item["id"].removeprefix("sub#"),
            email=item["email"],
            status=item["status"],
            last_digest_on=item.get("last_digest_on"),
            digest_through=item.get("digest_through"),
        )

    @property
    def suppressed(self) -> bool:
        """A permanent bounce or a complaint: this address is never mailed again."""
        return self.status in SUPPRESSED


class SubscriberRepository:
    """Every access to the subscribers table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _update(self, address_id: str, **request: Any) -> bool:
        """One conditional ``UpdateItem`` of a subscriber; False when the condition failed."""
        try:
            self._client.update_item(
                TableName=self._table, Key=subscriber_key(address_id), **request
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def create_pending(self, address_id: str, email: str, now: int, now_iso: str) -> bool:
        """A new pending subscriber (TTL: removed after 7 days unless confirmed), with no
        confirmation sent yet. False when the address is already known."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **subscriber_key(address_id),
                    "email": {"S": email},
                    "status": {"S": "pending"},
                    "created_at": {"S": now_iso},
                    "updated_at": {"S": now_iso},
                    "expires_at": {"N": str(now + PENDING_TTL_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(id)",
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def claim_confirmation(self, address_id: str, now: int, now_iso: str) -> bool:
        """Allow one confirmation email per address per 10 minutes, for pending or
        unsubscribed addresses (which become pending again); never for confirmed or
        suppressed ones (any other status). Claimed before sending, so two deliveries of one
        request send one email; ``release_confirmation`` undoes it when the send fails, so
        the cooldown counts sent emails only. False: nothing to send."""
        return self._update(
            address_id,
            UpdateExpression=(
                "SET #s = :pending, confirmation_sent_at = :now, expires_at = :expires, "
                "updated_at = :iso"
            ),
            ConditionExpression=(
                "attribute_exists(id) AND #s IN (:pending, :unsubscribed) AND "
                "(attribute_not_exists(confirmation_sent_at) "
                "OR confirmation_sent_at <= :cutoff)"
            ),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": "pending"},
                ":unsubscribed": {"S": "unsubscribed"},
                ":now": {"N": str(now)},
                ":cutoff": {"N": str(now - CONFIRMATION_COOLDOWN_SECONDS)},
                ":expires": {"N": str(now + PENDING_TTL_SECONDS)},
                ":iso": {"S": now_iso},
            },
        )

    def release_confirmation(self, address_id: str, now: int) -> None:
        """Undo ``claim_confirmation`` after SES did not take the email: the address has no
        cooldown (the claim only succeeded past the previous one's), so a retry sends."""
        self._update(
            address_id,
            UpdateExpression="REMOVE confirmation_sent_at",
            ConditionExpression="confirmation_sent_at = :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )

    def confirm(self, address_id: str, now_iso: str) -> bool:
        """pending -> confirmed (TTL removed, listed in the ``confirmed`` index).
        True also when already confirmed; False when unknown or unsubscribed."""
        return self._update(
            address_id,
            UpdateExpression=(
                "SET #s = :confirmed, confirmed_at = if_not_exists(confirmed_at, :iso), "
                "digest_through = if_not_exists(digest_through, :iso), "
                "list_pk = :list, updated_at = :iso REMOVE expires_at"
            ),
            ConditionExpression="attribute_exists(id) AND #s IN (:pending, :confirmed)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":confirmed": {"S": "confirmed"},
                ":pending": {"S": "pending"},
                ":list": {"S": "confirmed"},
                ":iso": {"S": now_iso},
            },
        )

    def unsubscribe(self, address_id: str, now_iso: str) -> None:
        """-> unsubscribed (out of the ``confirmed`` index); idempotent, unknown ids ignored."""
        self._update(
            address_id,
            UpdateExpression=(
                "SET #s = :unsubscribed, unsubscribed_at = :iso, updated_at = :iso "
                "REMOVE list_pk, expires_at"
            ),
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":unsubscribed": {"S": "unsubscribed"},
                ":iso": {"S": now_iso},
            },
        )

    def suppress(self, address_id: str, status: Suppression, now_iso: str) -> bool:
        """-> bounced or complained, for good: out of the ``confirmed`` index (no digest), no
        TTL (the record must outlive a pending one, or a new signup would mail the address
        again), and no state a signup or confirm link accepts (the latest event names the
        status; both are suppressed). False: no subscriber has this id."""
        return self._update(
            address_id,
            UpdateExpression=(
                "SET #s = :status, suppressed_at = if_not_exists(suppressed_at, :iso), "
                "updated_at = :iso REMOVE list_pk, expires_at, confirmation_sent_at"
            ),
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":iso": {"S": now_iso},
            },
        )

    def confirmed_ids(self, limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
        """One page of the sparse ``confirmed`` index: up to ``limit`` address ids (keys only:
        the digest's senders read each subscriber's current state themselves) and the cursor
        of the next page, None after the last. ``cursor`` is an earlier page's, as returned
        (a JSON string, so that it can be stored)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CONFIRMED_INDEX,
            "KeyConditionExpression": "list_pk = :list",
            "ExpressionAttributeValues": {":list": {"S": "confirmed"}},
            "ProjectionExpression": "id",
            "Limit": limit,
        }
        if cursor is not None:
            params["ExclusiveStartKey"] = json.loads(cursor)
        response = self._client.query(**params)
        ids = [item["id"]["S"].removeprefix("sub#") for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        # DynamoDB may answer a last key with a page that ends exactly at the end (the next
        # page is then empty); moto does not: both end on an empty or key-less page.
        return ids, json.dumps(last, sort_keys=True) if last else None

    def batch_get(
        self, address_ids: Iterable[str], sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, Subscriber]:
        """The current state of these subscribers, by address id (unknown ids are absent):
        one consistent ``BatchGetItem`` per 100 ids; keys DynamoDB leaves unprocessed (its
        throughput limits) are asked again after a short backoff, as the API reference asks."""
        ids = list(dict.fromkeys(address_ids))
        found: dict[str, Subscriber] = {}
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [subscriber_key(i) for i in ids[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                    "ProjectionExpression": "id, email, #s, last_digest_on, digest_through",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
            }
            for attempt in range(BATCH_GET_ATTEMPTS):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    subscriber = Subscriber.from_item(from_dynamo(item))
                    found[subscriber.address_id] = subscriber
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError("DynamoDB left keys unprocessed after every retry")
        return found

    def claim_digest(self, subscriber: Subscriber, day: str, through: str) -> bool:
        """Record ``day``'s digest for this subscriber before sending it, so a retried or
        second run never sends twice on one day. False: not confirmed, or already sent that
        day or a later one (ISO dates compare as strings: a batch of yesterday's run that
        SQS delivers late cannot send again to someone who had today's)."""
        return self._update(
            subscriber.address_id,
            UpdateExpression="SET last_digest_on = :day, digest_through = :through",
            ConditionExpression=(
                "#s = :confirmed AND (attribute_not_exists(last_digest_on) "
                "OR last_digest_on < :day)"
            ),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":day": {"S": day},
                ":through": {"S": through},
                ":confirmed": {"S": "confirmed"},
            },
        )

    def release_digest(self, subscriber: Subscriber, day: str) -> None:
        """Undo ``claim_digest`` after a failed send, so the next run retries it."""
        sets: list[str] = []
        removes: list[str] = []
        values: dict[str, Any] = {":day": {"S": day}}
        for name, previous in (
            ("last_digest_on", subscriber.last_digest_on),
            ("digest_through", subscriber.digest_through),
        ):
            if previous is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": previous}
        update = " ".join(
            clause
            for clause in (
                "SET " + ", ".join(sets) if sets else "",
                "REMOVE " + ", ".join(removes) if removes else "",
            )
            if clause
        )
        self._client.update_item(
            TableName=self._table,
            Key=subscriber_key(subscriber.address_id),
            UpdateExpression=update,
            ConditionExpression="last_digest_on = :day",
            ExpressionAttributeValues=values,
        )
