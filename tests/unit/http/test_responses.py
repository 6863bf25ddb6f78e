"""``newsroom.http.responses.base_url``: the API's base URL as the client called it, from the API
Gateway event: with the stage prefix, without one (a custom domain mapped at its root, or sam
local), under a custom domain's base path, and with lower-case or no headers."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devtools.events import apigw_event
from newsroom.http.responses import base_url

HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"


def event_with(path: str, context_path: str, **kwargs: Any) -> APIGatewayProxyEvent:
    return APIGatewayProxyEvent(apigw_event("GET", path, context_path=context_path, **kwargs))


def test_base_url_with_stage_prefix() -> None:
    event = APIGatewayProxyEvent(apigw_event("GET", "/stories"))
    assert event.request_context.path == "/v1/stories"
    assert base_url(event) == f"https://{HOST}/v1"
    story = apigw_event(
        "GET", "/stories/a-b", resource="/stories/{slug}", path_parameters={"slug": "a-b"}
    )
    assert base_url(APIGatewayProxyEvent(story)) == f"https://{HOST}/v1"


def test_base_url_without_stage_prefix() -> None:
    # A custom domain mapped at its root, or sam local: requestContext.path == path.
    event = event_with("/stories", "/stories", headers={"Host": "api.signal-noise.example"})
    assert base_url(event) == "https://api.signal-noise.example"
    local = event_with(
        "/feed.json",
        "/feed.json",
        headers={"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http"},
    )
    assert base_url(local) == "http://127.0.0.1:3000"


def test_base_url_with_custom_domain_base_path() -> None:
    event = event_with("/stories", "/content/stories", headers={"Host": "api.example"})
    assert base_url(event) == "https://api.example/content"


def test_base_url_with_lower_case_headers_or_none() -> None:
    raw = apigw_event("GET", "/stories")
    raw["headers"] = {"host": "api.example", "x-forwarded-proto": "https"}
    raw["multiValueHeaders"] = {k: [v] for k, v in raw["headers"].items()}
    assert base_url(APIGatewayProxyEvent(raw)) == "https://api.example/v1"
    raw["headers"] = raw["multiValueHeaders"] = None
    assert base_url(APIGatewayProxyEvent(raw)) == "https://localhost/v1"
