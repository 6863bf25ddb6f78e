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
``confirmed``          ``Query`` pages of the sparse GSI ``confirmed``
``claim_digest``       1 conditional ``UpdateItem`` (at most one digest a day)
=====================  ==============================================================
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from newsroom.core.dynamo import from_dynamo

PENDING_TTL_SECONDS = 7 * 24 * 3600
CONFIRMATION_COOLDOWN_SECONDS = 10 * 60
CONFIRMED_INDEX = "confirmed"
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

    def confirmed(self, page_size: int = 100) -> Iterator[Subscriber]:
        """Every confirmed subscriber, a page of the sparse ``confirmed`` index at a time."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CONFIRMED_INDEX,
            "KeyConditionExpression": "list_pk = :list",
            "ExpressionAttributeValues": {":list": {"S": "confirmed"}},
            "Limit": page_size,
        }
        while True:
            response = self._client.query(**params)
            for item in response.get("Items", []):
                yield Subscriber.from_item(from_dynamo(item))
            if "LastEvaluatedKey" not in response:
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim_digest(self, subscriber: Subscriber, day: str, through: str) -> bool:
        """Record today's digest for this subscriber before sending it, so a retried or
        second run never sends twice on one day. False: already sent today."""
        return self._update(
            subscriber.address_id,
            UpdateExpression="SET last_digest_on = :day, digest_through = :through",
            ConditionExpression=(
                "#s = :confirmed AND (attribute_not_exists(last_digest_on) "
                "OR last_digest_on <> :day)"
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
