"""DynamoDB's typed JSON, encoded and decoded directly for the types stories and subscribers
use: the same documents as boto3's TypeSerializer and TypeDeserializer, which stay the rule."""

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from newsroom.core.dynamo import from_dynamo, to_dynamo

VALUES: list[Any] = [
    "",
    "Key development",
    True,
    False,
    None,
    0,
    7,
    -3,
    Decimal("2.5"),
    b"\x00\x01",
    {"a", "b"},
    {1, 2},
    [],
    {},
    ["ai", 3, None, False, {"nested": ["x", {"y": True}]}],
    ("tuple", 1),
    {"heading": "Key development", "lead": None, "bullets": ["one", "two"], "order": 2},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_value_is_encoded_as_boto3_encodes_it(value: Any) -> None:
    assert to_dynamo({"v": value}) == {"v": TypeSerializer().serialize(value)}


def test_a_story_item_survives_the_round_trip() -> None:
    item = {
        "pk": "story#a-slug",
        "sk": "story",
        "title": "A title",
        "sections": [{"heading": "Key development", "lead": None, "bullets": ["one"]}],
        "topics": ["ai", "policy"],
        "version": 3,
        "draft": False,
    }
    encoded = to_dynamo(item)
    assert from_dynamo(encoded) == {**item, "version": Decimal(3)}
    deserializer = TypeDeserializer()
    assert from_dynamo(encoded) == {k: deserializer.deserialize(v) for k, v in encoded.items()}


def test_floats_are_refused_as_boto3_refuses_them() -> None:
    with pytest.raises(TypeError, match="Float types are not supported"):
        to_dynamo({"v": 1.5})


def test_binary_is_boto3s_binary() -> None:
    assert to_dynamo({"v": Binary(b"x")}) == {"v": {"B": Binary(b"x")}}
