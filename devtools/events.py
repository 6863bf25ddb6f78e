"""Builders of events shaped exactly like the ones AWS sends (S3 notifications), for tests,
``events/`` and the local stack."""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus


def s3_record(
    bucket: str,
    key: str,
    *,
    size: int = 0,
    etag: str = "d41d8cd98f00b204e9800998ecf8427e",
    event_name: str = "ObjectCreated:Put",
    region: str = "us-east-1",
    sequencer: str = "0065A1B2C3D4E5F601",
) -> dict[str, Any]:
    """One S3 notification record; the key is URL-encoded the way S3 encodes it."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEEDITOR"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "StoryUploaded",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": etag,
                "sequencer": sequencer,
            },
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    """An S3 notification as Lambda receives it."""
    return {"Records": list(records)}


def s3_test_event(bucket: str) -> dict[str, Any]:
    """The ``s3:TestEvent`` S3 sends when a notification is configured."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "Bucket": bucket,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"
