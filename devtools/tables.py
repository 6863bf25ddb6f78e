"""Reading whole tables and index partitions back, for tests and tools (every page)."""

from typing import Any

from newsroom.core.dynamo import from_dynamo
from newsroom.stories.items import FEED_INDEX

ItemsByKey = dict[tuple[str, str], dict[str, Any]]


def table_items(dynamodb: Any, table: str, attributes: str | None = None) -> ItemsByKey:
    """Every item of a ``pk``/``sk`` table (consistent scan), by key; only ``attributes``
    (a projection expression that includes pk and sk) when given."""
    items: ItemsByKey = {}
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if attributes:
        params["ProjectionExpression"] = attributes
    while True:
        response = dynamodb.scan(**params)
        for raw in response["Items"]:
            item = from_dynamo(raw)
            items[item["pk"], item["sk"]] = item
        if "LastEvaluatedKey" not in response:
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def feed_items(dynamodb: Any, table: str, feed_pk: str) -> list[dict[str, Any]]:
    """One partition of the feed index (``ALL_STORIES_FEED`` or a ``topic_feed``), newest
    first."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        "TableName": table,
        "IndexName": FEED_INDEX,
        "KeyConditionExpression": "feed_pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": feed_pk}},
        "ScanIndexForward": False,
    }
    while True:
        response = dynamodb.query(**params)
        found += [from_dynamo(item) for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
