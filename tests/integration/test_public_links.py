"""Links the read API gives clients (pagination, feeds, the OpenAPI document's server) point to
the public base URL: the CDN's domain, never the execute-api host the CDN hides
(``newsroom.core.public_url``). The real API function, loaded as ``template.yaml`` configures
it, against moto; the SSM lookup is checked against the function's role."""

import json
from types import ModuleType
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from devtools.events import apigw_event
from devtools.functions import LambdaContext
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import story_item
from newsroom.stories.repository import StoryRepository
from tests.support.aws import lazy_client, load_function

CDN = "https://d111111abcdef8.cloudfront.net"
# The name template.yaml gives PublicBaseUrl (/${AWS::StackName}/public-base-url), in the
# stack the permission checks resolve (devtools.translate.PSEUDO_PARAMETERS).
PARAMETER = "/signal-noise/public-base-url"
CONTEXT = LambdaContext("ApiFunction")
INGESTED = "2025-10-30T00:00:00Z"


def seed(dynamodb: Any, table: str, count: int) -> None:
    """``count`` published stories, stored through the repository as the ingest stores them."""
    repository = StoryRepository(dynamodb, table)
    for n in range(count):
        story = StoryIn.model_validate(
            {
                "slug": f"story-{n}",
                "title": f"Story {n}",
                "summary": "A summary.",
                "published_at": f"2025-10-{10 + n:02d}T09:00:00Z",
                "topics": ["ai"],
            }
        )
        item = story_item(story, source_key=f"incoming/{story.key}.json", ingested_at=INGESTED)
        result = repository.put_story(item)
        repository.sync_topic_entries(item, known_empty=result.previous is None)


def get(api: ModuleType, path: str, **query: str) -> dict[str, Any]:
    reply: dict[str, Any] = api.handler(apigw_event("GET", path, query=query or None), CONTEXT)
    return reply


def count_calls(client: Any, operation: str) -> list[str]:
    calls: list[str] = []
    client.meta.events.register(f"before-call.ssm.{operation}", lambda **_: calls.append(operation))
    return calls


@pytest.fixture
def behind_the_cdn(
    moto: None, dynamodb: Any, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """The API function as deployed behind a distribution without a custom domain: only
    the PublicBaseUrl parameter knows the distribution's domain."""
    seed(dynamodb, stories_table, 3)
    env = {"STORIES_TABLE": stories_table, "PUBLIC_BASE_URL_PARAMETER": PARAMETER}
    return load_function("api", "ApiFunction", env, monkeypatch)


def put_parameter(value: str) -> None:
    import boto3

    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=PARAMETER, Value=value, Type="String"
    )


def test_pagination_and_feed_links_use_the_cdns_domain_from_the_stacks_parameter(
    behind_the_cdn: ModuleType,
) -> None:
    put_parameter(CDN + "/")  # a trailing slash is not doubled
    page = get(behind_the_cdn, "/stories", limit="1")
    links = json.loads(page["body"])["links"]
    assert links["self"] == f"{CDN}/stories?limit=1"
    assert links["next"].startswith(f"{CDN}/stories?limit=1&cursor=")
    assert page["multiValueHeaders"]["Link"] == [f'<{links["next"]}>; rel="next"']

    feed = json.loads(get(behind_the_cdn, "/feed.json")["body"])
    assert feed["feed_url"] == f"{CDN}/feed.json"
    rss = ET.fromstring(get(behind_the_cdn, "/feed.xml")["body"])
    self_link = rss.find("channel/{http://www.w3.org/2005/Atom}link")
    assert self_link is not None and self_link.get("href") == f"{CDN}/feed.xml"
    for document in (page["body"], json.dumps(feed)):
        assert "execute-api" not in document


def test_the_parameter_is_read_once_per_container_on_the_first_link(
    behind_the_cdn: ModuleType,
) -> None:
    put_parameter(CDN)
    ssm = lazy_client(behind_the_cdn, "ssm")
    reads = count_calls(ssm, "GetParameter")
    get(behind_the_cdn, "/stories/story-1")  # a story has no links: nothing read yet
    assert reads == []
    for _ in range(20):
        assert get(behind_the_cdn, "/stories", limit="2")["statusCode"] == 200
    assert reads == ["GetParameter"]


def test_a_throttled_lookup_is_a_503_to_retry_and_the_next_request_reads_again(
    behind_the_cdn: ModuleType,
) -> None:
    """SSM's GetParameter has a default quota of 40 transactions per second per account
    (Systems Manager service quotas, "GetParameter throughput"): a burst of cold starts can
    exceed it. The client gets a 503 with Retry-After, never a link to the wrong host, and
    the CDN's stale-if-error keeps serving its copy meanwhile."""
    put_parameter(CDN)
    ssm = lazy_client(behind_the_cdn, "ssm")
    response: Any = {
        "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    throttled = ClientError(response, "GetParameter")
    failures = [throttled]

    def once(**_: Any) -> None:
        if failures:
            raise failures.pop()

    ssm.meta.events.register("before-call.ssm.GetParameter", once)
    busy = get(behind_the_cdn, "/stories")
    assert busy["statusCode"] == 503
    assert busy["multiValueHeaders"]["Retry-After"]
    assert busy["multiValueHeaders"]["Cache-Control"] == ["no-store"]
    again = get(behind_the_cdn, "/stories")
    assert again["statusCode"] == 200
    assert json.loads(again["body"])["links"]["self"].startswith(CDN)


def test_a_public_url_known_at_deploy_needs_no_lookup(
    moto: None, dynamodb: Any, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a custom domain (or PublicApiUrl) the template passes the URL itself; there is no
    parameter to read here, so a lookup would fail the request."""
    seed(dynamodb, stories_table, 1)
    env = {"STORIES_TABLE": stories_table, "PUBLIC_API_URL": "https://api.example.org/"}
    api = load_function("api", "ApiFunction", env, monkeypatch)
    page = get(api, "/stories")
    assert page["statusCode"] == 200
    assert json.loads(page["body"])["links"]["self"] == "https://api.example.org/stories?limit=10"


def test_without_a_cdn_links_follow_the_url_the_client_called(
    moto: None, dynamodb: Any, stories_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(dynamodb, stories_table, 1)
    api = load_function("api", "ApiFunction", {"STORIES_TABLE": stories_table}, monkeypatch)
    links = json.loads(get(api, "/stories")["body"])["links"]
    assert links["self"] == (
        "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/stories?limit=10"
    )
