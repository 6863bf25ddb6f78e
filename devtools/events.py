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


def apigw_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    stage: str = "v1",
    request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    host: str = "abcdef1234.execute-api.us-east-1.amazonaws.com",
) -> dict[str, Any]:
    """An API Gateway REST proxy event, the shape `sam local generate-event apigateway
    aws-proxy` produces and API Gateway sends."""
    multi = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    all_headers = {
        "Accept": "application/json",
        "Host": host,
        "User-Agent": "signal-noise-tests",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "123456",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": "22/Oct/2025:14:05:09 +0000",
            "requestTimeEpoch": 1761141909000,
            "path": f"/{stage}{path}",
            "resourcePath": resource or path,
            "httpMethod": method,
            "protocol": "HTTP/1.1",
            "domainName": host,
            "apiId": host.split(".", 1)[0],
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "signal-noise-tests"},
        },
        "body": body,
        "isBase64Encoded": False,
    }
