"""Warm overhead: the API handler's time per request in a warm container, DynamoDB answered
in-process by botocore's ``Stubber`` on the function's own client.

The reference is a bare handler making the same DynamoDB call through a client built the same
way (``newsroom.core.aws``'s configuration) and stubbed the same way, returning
``{"statusCode": 200, "body": json.dumps(items)}``. Responses are queued before each timed
batch, so queueing is never timed; serialising the request and the stub's lookup are timed
in both. Batches of the handler and the reference alternate.
"""

import cProfile
import gc
import io
import json
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore
from boto3.dynamodb.types import TypeDeserializer
from botocore.stub import Stubber

from bench.common import (
    Goal,
    Row,
    compared,
    lambda_environment,
    median,
    paired_ratio,
    say,
    spread,
    story_value,
    use_environment,
)
from devtools.events import apigw_event
from devtools.functions import LambdaContext, load_function_module
from devtools.template import ROOT

TABLE = "signal-noise-stories"
LIMIT = 20
GOAL = Goal("<=", 1.5)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def canned_items() -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``Query`` response of ``LIMIT + 1`` items as the ``feed`` index projects them, and a
    ``GetItem`` response of one full story (5 sections with bullets), built by the ingest's
    own ``story_item``."""
    from newsroom.core.dynamo import to_dynamo
    from newsroom.stories.contract import StoryIn
    from newsroom.stories.items import SUMMARY_ATTRIBUTES, story_item

    def item(i: int, sections: int = 3) -> dict[str, Any]:
        story = StoryIn.model_validate(story_value(i, sections=sections, bullets=4))
        return story_item(story, source_key="incoming/bench.jsonl", ingested_at="2026-01-01Z")

    keys = ("pk", "sk", "feed_pk", "feed_sk")
    projected = [
        to_dynamo({k: v for k, v in item(i).items() if k in keys or k in SUMMARY_ATTRIBUTES})
        for i in range(LIMIT + 1, 0, -1)
    ]
    query = {
        "Items": projected,
        "Count": len(projected),
        "ScannedCount": len(projected),
        "LastEvaluatedKey": {k: projected[-1][k] for k in keys},
    }
    return query, {"Item": to_dynamo(item(7, sections=5))}


def reference_handlers(client: Any) -> tuple[Handler, Handler]:
    from newsroom.stories.items import ALL_STORIES_FEED, FEED_INDEX, STORY_SK, story_pk

    deserializer = TypeDeserializer()

    def plain(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: deserializer.deserialize(v) for k, v in i.items()} for i in items]

    def list_stories(event: dict[str, Any], context: Any) -> dict[str, Any]:
        limit = int((event.get("queryStringParameters") or {}).get("limit", LIMIT))
        response = client.query(
            TableName=TABLE,
            IndexName=FEED_INDEX,
            KeyConditionExpression="feed_pk = :feed",
            ExpressionAttributeValues={":feed": {"S": ALL_STORIES_FEED}},
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        return {"statusCode": 200, "body": json.dumps(plain(response["Items"])[:limit])}

    def get_story(event: dict[str, Any], context: Any) -> dict[str, Any]:
        slug = event["pathParameters"]["slug"]
        response = client.get_item(
            TableName=TABLE, Key={"pk": {"S": story_pk(slug)}, "sk": {"S": STORY_SK}}
        )
        return {"statusCode": 200, "body": json.dumps(plain([response["Item"]])[0])}

    return list_stories, get_story


@dataclass(slots=True)
class Case:
    """One route: the event, the DynamoDB operation it makes and its canned response."""

    name: str
    event: dict[str, Any]
    operation: str
    response: dict[str, Any]
    status: int


def time_batch(handler: Handler, stubber: Stubber, case: Case, context: Any, size: int) -> float:
    """Seconds per request over ``size`` requests (responses queued before the timer)."""
    for _ in range(size):
        stubber.add_response(case.operation, case.response)
    gc.collect()
    started = time.perf_counter()
    for _ in range(size):
        handler(case.event, context)
    elapsed = time.perf_counter() - started
    stubber.assert_no_pending_responses()
    return elapsed / size


def profile(handler: Handler, stubber: Stubber, case: Case, context: Any, count: int = 300) -> str:
    """The handler's call tree, by cumulative time over ``count`` requests (diagnostics;
    cProfile inflates small functions, so read it for proportions only)."""
    for _ in range(count):
        stubber.add_response(case.operation, case.response)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        handler(case.event, context)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(22)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    shorten = [(str(Path(botocore.__file__).parent.parent) + "/", "")]  # site-packages
    shorten += [(str(Path(json.__file__).parent.parent) + "/", ""), (f"{ROOT}/", "")]
    result = []
    for line in lines[start:]:
        for prefix, replacement in shorten:
            line = line.replace(prefix, replacement)
        result.append("    " + line)
    return "\n".join(result)


def load_api() -> ModuleType:
    use_environment(lambda_environment("ApiFunction", table=TABLE))
    from newsroom.core import aws

    aws.client.cache_clear()
    return load_function_module("api")


def run(quick: bool) -> list[Row]:
    iterations, batch = (400, 25) if quick else (2000, 40)
    api = load_api()
    from newsroom.core import aws

    app_client = api.dynamodb
    ref_client = aws.client.__wrapped__("dynamodb")  # same configuration, its own instance
    app_stub, ref_stub = Stubber(app_client), Stubber(ref_client)
    app_stub.activate()
    ref_stub.activate()
    ref_list, ref_story = reference_handlers(ref_client)
    context = LambdaContext("signal-noise-ApiFunction")

    query, get_item = canned_items()
    slug = get_item["Item"]["slug"]["S"]
    list_event = apigw_event("GET", "/stories", resource="/stories", query={"limit": str(LIMIT)})
    story_path = f"/stories/{slug}"
    story_event = apigw_event(
        "GET", story_path, resource="/stories/{slug}", path_parameters={"slug": slug}
    )
    app_stub.add_response("get_item", get_item)
    etag = api.handler(story_event, context)["multiValueHeaders"]["ETag"][0]
    conditional_event = apigw_event(
        "GET",
        story_path,
        resource="/stories/{slug}",
        path_parameters={"slug": slug},
        headers={"If-None-Match": etag},
    )
    cases = [
        (Case("list20", list_event, "query", query, 200), ref_list),
        (Case("story", story_event, "get_item", get_item, 200), ref_story),
        (Case("story_304", conditional_event, "get_item", get_item, 304), ref_story),
    ]
    for case, reference in cases:  # correct answers, and warm-up of both paths
        app_stub.add_response(case.operation, case.response)
        response = api.handler(case.event, context)
        assert response["statusCode"] == case.status, (case.name, response)
        if case.status == 200:
            assert len(response["body"]) > 500, response["body"]
        ref_stub.add_response(case.operation, case.response)
        assert reference(case.event, context)["statusCode"] == 200
        time_batch(api.handler, app_stub, case, context, batch)
        time_batch(reference, ref_stub, case, context, batch)

    per_request: dict[str, dict[str, list[float]]] = {}
    for case, reference in cases:
        samples: dict[str, list[float]] = {"handler": [], "reference": []}
        for b in range(iterations // batch):
            contenders = [("handler", api.handler, app_stub), ("reference", reference, ref_stub)]
            for who, handler, stubber in contenders if b % 2 == 0 else contenders[::-1]:
                samples[who].append(time_batch(handler, stubber, case, context, batch))
        per_request[case.name] = samples

    say(f"warm: {iterations} requests per route and contender, batches of {batch}, alternating")
    say("  µs per request, median [p25-p75] of batch means; ratio: median of batch-pair ratios")
    for name, samples in per_request.items():
        say(
            f"  {name:10} handler {spread(samples['handler'], 1e6)}"
            f"  reference {spread(samples['reference'], 1e6)}"
            f"  ratio {paired_ratio(samples['handler'], samples['reference']):.3f}"
        )
    say("  where the list route's time goes (cProfile, 300 requests, by cumulative time):")
    say(profile(api.handler, app_stub, cases[0][0], context))

    notes = {
        "list20": f"GET /stories?limit={LIMIT}: 1 Query of {LIMIT + 1} projected items",
        "story": "GET /stories/{slug}: 1 GetItem of a 5-section story",
        "story_304": "same with a matching If-None-Match; reference: the plain story handler",
    }
    return [
        compared(
            f"warm.api.{name}",
            median(samples["handler"]) * 1e6,
            median(samples["reference"]) * 1e6,
            "µs",
            GOAL if name != "story_304" else None,
            notes[name] + "; ratio: median of per-batch-pair ratios",
            paired_ratio(samples["handler"], samples["reference"]),
        )
        for name, samples in per_request.items()
    ]
