"""devtools/backend.py speeds up moto's server process (``faster_moto_server``): the answers
to every DynamoDB read the functions make must stay exactly what moto gave without them, for
items with every attribute type (nested maps and lists, numbers, binary, sets, null)."""

from typing import Any

import pytest

from devtools.backend import faster_moto_server
from devtools.template import create_table_kwargs

TABLE = "speedups-stories"


def story_item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"story#{i}"},
        "sk": {"S": "story"},
        "feed_pk": {"S": "feed"},
        "feed_sk": {"S": f"2026-01-{i + 1:02d}T00:00:00Z#{i}"},
        "slug": {"S": f"story-{i}"},
        "title": {"S": f"Story {i}"},
        "excerpt": {"S": "x" * i},
        "published_at": {"S": f"2026-01-{i + 1:02d}T00:00:00Z"},
        "topics": {"SS": ["ai", f"t{i}"]},
        "version": {"N": str(i * 10)},
        "score": {"N": "1.5"},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "digest": {"B": bytes([i, 0, 255])},
        "hashes": {"BS": [b"\x00\x01", bytes([i])]},
        "sections": {
            "L": [
                {
                    "M": {
                        "heading": {"S": f"Part {n}"},
                        "bullets": {"L": [{"S": "one"}, {"N": "2"}]},
                        "B": {"S": "a map key named like a type"},
                    }
                }
                for n in range(3)
            ]
        },
        "source": {"M": {"name": {"S": "Wire"}, "url": {"S": "https://wire.example/"}}},
    }


def reads(dynamodb: Any) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": "feed",
        "KeyConditionExpression": "feed_pk = :f",
        "ExpressionAttributeValues": {":f": {"S": "feed"}},
        "ScanIndexForward": False,
        "Limit": 3,
    }
    first = dynamodb.query(**feed)
    keys = [{"pk": {"S": f"story#{i}"}, "sk": {"S": "story"}} for i in range(5)]

    def batch(**extra: Any) -> list[Any]:
        answer = dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": keys, **extra}})
        return sorted(answer["Responses"][TABLE], key=lambda item: item["pk"]["S"])

    answers = {
        "feed": first["Items"],
        "feed_next": dynamodb.query(**feed, ExclusiveStartKey=first["LastEvaluatedKey"]),
        "projected": dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "story#2"}},
            ProjectionExpression="title, sections[1].heading, #s.#n, topics, digest",
            ExpressionAttributeNames={"#s": "source", "#n": "name"},
        ),
        "batch": batch(),
        "batch_projected": batch(ProjectionExpression="pk, version, flag"),
        "get": dynamodb.get_item(TableName=TABLE, Key=keys[3]),
        "scan": dynamodb.scan(TableName=TABLE),
    }
    for answer in answers.values():
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
    return answers


def test_reads_answer_the_same_with_the_speedups(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb.create_table(**create_table_kwargs("StoriesTable", TABLE))
    for i in range(6):
        dynamodb.put_item(TableName=TABLE, Item=story_item(i))
    before = reads(dynamodb)
    faster_moto_server(monkeypatch.setattr)
    after = reads(dynamodb)
    assert after == before
    assert len(before["feed"]) == 3 and before["get"]["Item"]["digest"]["B"] == bytes([3, 0, 255])


def transactions(dynamodb: Any, table: str) -> dict[str, Any]:
    """A transaction that commits, and one whose condition fails and rolls back."""
    put = {"Put": {"TableName": table, "Item": story_item(7)}}
    update = {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "story#1"}, "sk": {"S": "story"}},
            "UpdateExpression": "ADD version :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    dynamodb.transact_write_items(TransactItems=[put, update])
    refused = {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"pk": {"S": "story#2"}, "sk": {"S": "story"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    delete = {"Delete": {"TableName": table, "Key": {"pk": {"S": "story#3"}, "sk": {"S": "story"}}}}
    try:
        dynamodb.transact_write_items(TransactItems=[update, delete, refused])
        reasons = None
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = [r["Code"] for r in error.response["CancellationReasons"]]
    scan = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {"reasons": reasons, "items": sorted(scan, key=lambda item: item["pk"]["S"])}


def test_transactions_commit_and_roll_back_the_same_with_the_speedups(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for speedups in (False, True):
        name = f"{TABLE}-{speedups}"
        dynamodb.create_table(**{**create_table_kwargs("StoriesTable", TABLE), "TableName": name})
        for i in range(6):
            dynamodb.put_item(TableName=name, Item=story_item(i))
        if speedups:
            faster_moto_server(monkeypatch.setattr)
        results.append(transactions(dynamodb, name))
    without, with_speedups = results
    assert with_speedups == without
    assert without["reasons"] == ["None", "None", "ConditionalCheckFailed"]
    assert len(without["items"]) == 7  # the rolled-back delete left story#3
