"""DynamoDB's typed JSON ("AttributeValue" maps) to and from plain Python values.

The low-level client speaks typed JSON; every repository converts through here.
"""

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _typed(value: Any) -> dict[str, Any]:
    # The inverse of _plain, for the same reason: the ingest encodes every story it writes
    # (``bench.ingest_latency``: boto3's TypeSerializer was ~0.15 ms of ~1.8 ms of CPU per
    # story). bool before int (a bool is an int); anything else (numbers, sets, binary, and
    # the floats it refuses) goes to TypeSerializer.
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list | tuple):
        return {"L": [_typed(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {k: _typed(v) for k, v in value.items()}}
    return dict(_serializer.serialize(value))


def to_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item in DynamoDB's typed JSON."""
    return {k: _typed(v) for k, v in item.items()}


def _plain(value: Mapping[str, Any]) -> Any:
    # The types stories and subscribers use, decoded directly: boto3's TypeDeserializer
    # dispatches by name for every attribute, which is most of a warm request's own time.
    # Anything else (numbers, sets, binary) goes to TypeDeserializer.
    if "S" in value:
        return value["S"]
    if "L" in value:
        return [_plain(v) for v in value["L"]]
    if "M" in value:
        return {k: _plain(v) for k, v in value["M"].items()}
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    return _deserializer.deserialize(value)  # type: ignore[arg-type]


def from_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB typed item as plain Python values."""
    return {k: _plain(v) for k, v in item.items()}
