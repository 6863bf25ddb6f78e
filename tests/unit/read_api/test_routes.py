"""The read API end to end (``ReadApi`` of ``newsroom.read_api.routes`` behind the real API
function, with every sample file ingested by the real ingest function): every answer it
gives (story lists page by page and by topic, each published story, problems for bad
parameters and for missing, draft and retracted stories, both feeds, the OpenAPI document it
serves, and a 304 on a matching ETag) has a status the OpenAPI document lists for the
operation, its content type, and a body that the documented schema accepts."""

from typing import Any

from openapi_spec_validator import validate

from devtools.events import apigw_event
from newsroom.read_api.operations import OPERATIONS
from tests.support.api_answers import EVENT_BASE_URL, assert_matches_document, published_document

STORY_SLUG = "russia-china-ai-partnership-putin-sberbank"
DRAFT_SLUG = "chip-design-agents-verification"
RETRACTED_SLUG = "startup-room-temperature-chip-breakthrough"


def get(path: str, **kwargs: Any) -> dict[str, Any]:
    if path.startswith("/stories/") and "resource" not in kwargs:
        slug = path.removeprefix("/stories/")
        kwargs.update(resource="/stories/{slug}", path_parameters={"slug": slug})
    return apigw_event("GET", path, **kwargs)


def test_list_and_story_bodies_match_the_schemas(loaded_api: Any) -> None:
    document = published_document(EVENT_BASE_URL)
    list_op, story_op = OPERATIONS[0], OPERATIONS[1]
    assert (list_op.operation_id, story_op.operation_id) == ("listStories", "getStory")
    slugs: list[str] = []
    event = get("/stories", query={"limit": "3"})
    pages = 0
    while True:
        answer = loaded_api(event)
        assert answer.status == 200
        assert_matches_document(answer, list_op, document)
        page = answer.json()
        slugs += [s["slug"] for s in page["data"]]
        pages += 1
        if page["meta"]["next_cursor"] is None:
            break
        event = get("/stories", query={"limit": "3", "cursor": page["meta"]["next_cursor"]})
    assert pages > 1 and STORY_SLUG in slugs
    assert DRAFT_SLUG not in slugs and RETRACTED_SLUG not in slugs

    topic = loaded_api(get("/stories", query={"topic": "ai"}))
    assert topic.status == 200 and topic.json()["data"]
    assert_matches_document(topic, list_op, document)

    for slug in slugs:  # every published sample story, whatever optional fields it has
        answer = loaded_api(get(f"/stories/{slug}"))
        assert answer.status == 200
        assert_matches_document(answer, story_op, document)


def test_problem_bodies_match_the_schema(loaded_api: Any) -> None:
    document = published_document(EVENT_BASE_URL)
    list_op, story_op = OPERATIONS[0], OPERATIONS[1]
    cases = [
        (list_op, get("/stories", query={"limit": "0"}), 400),
        (list_op, get("/stories", query={"limit": "ten", "topic": "Not A Topic"}), 400),
        (list_op, get("/stories", query={"cursor": "bm90LWEtY3Vyc29y"}), 400),
        (story_op, get("/stories/Not_A_Slug"), 400),
        (story_op, get("/stories/no-such-story"), 404),
        (story_op, get(f"/stories/{DRAFT_SLUG}"), 404),
        (story_op, get(f"/stories/{RETRACTED_SLUG}"), 410),
    ]
    for op, event, status in cases:
        answer = loaded_api(event)
        assert answer.status == status, (event["path"], answer.text)
        assert_matches_document(answer, op, document)
        problem = answer.json()
        assert problem["status"] == status
        assert problem["request_id"] == event["requestContext"]["requestId"]
        if status == 400:
            assert problem["errors"] and all(
                e["loc"][0] in {"query", "path"} for e in problem["errors"]
            )


def test_feed_and_openapi_bodies_match_the_schemas(loaded_api: Any) -> None:
    document = published_document(EVENT_BASE_URL)
    ops = {op.operation_id: op for op in OPERATIONS}
    feed = loaded_api(get("/feed.json"))
    assert feed.status == 200 and feed.json()["items"]
    assert_matches_document(feed, ops["jsonFeed"], document)
    rss = loaded_api(get("/feed.xml"))
    assert rss.status == 200 and rss.text.startswith("<?xml")
    assert_matches_document(rss, ops["rssFeed"], document)
    served = loaded_api(get("/openapi.json"))
    assert served.status == 200
    assert_matches_document(served, ops["openapi"], document)
    assert served.json() == document  # the server URL is the stage URL the client called
    validate(served.json())


def test_a_matching_etag_gives_a_documented_304(loaded_api: Any) -> None:
    for op in OPERATIONS:
        if not op.documented:
            continue
        path = op.path.replace("{slug}", STORY_SLUG)
        first = loaded_api(get(path))
        assert first.status == 200
        again = loaded_api(get(path, headers={"If-None-Match": first.headers["etag"]}))
        assert again.status == 304 and again.text == ""
        assert 304 in op.responses and "etag" in again.headers
