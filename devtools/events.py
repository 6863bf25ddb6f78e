"""Builders of events shaped exactly like the ones AWS sends (S3 notifications, API Gateway
REST proxy requests), for tests, benchmarks, ``events/`` and the local gateway."""

import base64
import json
from collections.abc import Mapping
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
    query: Mapping[str, str | list[str]] | None = None,
    headers: Mapping[str, str | list[str]] | None = None,
    body: str | bytes | None = None,
    stage: str = "v1",
    request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    host: str = "abcdef1234.execute-api.us-east-1.amazonaws.com",
    default_headers: bool = True,
    context_path: str | None = None,
    account_id: str = "123456789012",
    api_id: str | None = None,
    resource_id: str = "123456",
    request_time: datetime | None = None,
    user_agent: str | None = "signal-noise-tests",
) -> dict[str, Any]:
    """An API Gateway REST proxy event, the shape `sam local generate-event apigateway
    aws-proxy` produces and API Gateway sends.

    ``query`` and ``headers`` take a list for a repeated name (the last value is the
    single-value one, as API Gateway does). A ``bytes`` body that is not UTF-8 is sent
    base64-encoded. ``default_headers`` adds what a client and API Gateway's front end
    would (Accept, Host, User-Agent, X-Forwarded-*); ``context_path`` is the path the client
    called (``/<stage><path>`` on the execute-api host; the resource path on a custom domain
    with no base path); ``request_time`` defaults to a fixed instant so events are stable."""
    multi_query = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    given = {k: (v if isinstance(v, list) else [v]) for k, v in (headers or {}).items()}
    multi_headers: dict[str, list[str]] = {}
    if default_headers:
        multi_headers = {
            "Accept": ["application/json"],
            "Host": [host],
            "User-Agent": [user_agent or "signal-noise-tests"],
            "X-Forwarded-For": ["127.0.0.1"],
            "X-Forwarded-Port": ["443"],
            "X-Forwarded-Proto": ["https"],
        }
    multi_headers.update(given)
    text_body: str | None = None
    is_base64 = False
    if isinstance(body, bytes):
        if body:
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                text_body, is_base64 = base64.b64encode(body).decode(), True
    else:
        text_body = body
    if request_time is None:
        request_time = datetime(2025, 10, 22, 14, 5, 9, tzinfo=UTC)
    identity = {"sourceIp": "127.0.0.1"}
    if user_agent is not None:
        identity["userAgent"] = user_agent
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": account_id,
            "resourceId": resource_id,
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": request_time.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(request_time.timestamp() * 1000),
            "path": f"/{stage}{path}" if context_path is None else context_path,
            "resourcePath": resource or path,
            "httpMethod": method,
            "protocol": "HTTP/1.1",
            "domainName": host,
            "apiId": api_id or host.split(".", 1)[0],
            "identity": identity,
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }
