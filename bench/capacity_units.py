"""DynamoDB's size and capacity rules, applied to plain items (as ``from_dynamo`` returns them).

Sizes follow the Amazon DynamoDB Developer Guide, "Item sizes and formats": an item is the
sum of its attribute names and values; strings and binary count their bytes (UTF-8 for
strings), a number about one byte per two significant digits plus one, a null or Boolean one
byte, a list or map 3 bytes plus one byte per element plus its elements (a map's elements
with their names). moto does not report realistic ``ConsumedCapacity`` (../shared/NOTES.md),
so the model computes the units from these sizes instead.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from bench.capacity_prices import DYNAMODB_READ_BLOCK, DYNAMODB_WRITE_BLOCK

_LIST_OR_MAP_OVERHEAD = 3
_ELEMENT_OVERHEAD = 1


def _number_size(value: int | float | Decimal) -> int:
    number = Decimal(str(value)).normalize()  # leading and trailing zeros trimmed
    digits = len(number.as_tuple().digits) if number else 1
    return math.ceil(digits / 2) + 1


def value_size(value: Any) -> int:
    """Bytes of one attribute value (without its name)."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float | Decimal):
        return _number_size(value)
    if isinstance(value, Mapping):
        return _LIST_OR_MAP_OVERHEAD + sum(
            len(str(k).encode("utf-8")) + value_size(v) + _ELEMENT_OVERHEAD
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return _LIST_OR_MAP_OVERHEAD + sum(value_size(v) + _ELEMENT_OVERHEAD for v in value)
    if isinstance(value, set | frozenset):  # SS/NS/BS: the elements only
        return sum(value_size(v) for v in value)
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for ``item``: every attribute's name and value."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def projected(
    item: Mapping[str, Any], index: Mapping[str, Any], table_keys: Iterable[str]
) -> dict[str, Any] | None:
    """The item as a global secondary index stores it (its keys, the table's keys and the
    projected attributes), or None when the item lacks the index's keys (a sparse index)."""
    index_keys = [k["AttributeName"] for k in index["KeySchema"]]
    if any(k not in item for k in index_keys):
        return None
    projection = index.get("Projection", {})
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return dict(item)
    names = {*index_keys, *table_keys}
    if kind == "INCLUDE":
        names |= set(projection.get("NonKeyAttributes", []))
    return {k: v for k, v in item.items() if k in names}


def read_units(sizes: Sequence[int], *, consistent: bool) -> float:
    """Read request units of one read of items of ``sizes`` bytes, summed first (a Query, or
    one item of a GetItem/BatchGetItem): 4 KB blocks, rounded up, at least one; eventually
    consistent reads cost half."""
    blocks = max(1, math.ceil(sum(sizes) / DYNAMODB_READ_BLOCK.value))
    return blocks * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    """Write request units of writing (or deleting) one item of ``size`` bytes: 1 KB blocks,
    rounded up, at least one."""
    return max(1, math.ceil(size / DYNAMODB_WRITE_BLOCK.value))
