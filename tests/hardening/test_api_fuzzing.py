"""Property-based fuzzing of the whole public API from its own OpenAPI document
(schemathesis) over real HTTP against the local stack seeded with the sample stories: the read
routes and the subscription routes (the signups it sends are mailed by the real mailer
function to the embedded SES).

Every documented operation is called with generated requests, valid and invalid:
schemathesis' coverage cases (boundary and just-out-of-bounds values of every parameter) and
its Hypothesis strategies (positive and negative modes), derandomized so every run sends the
same requests. Each response must be: no 5xx, a documented status code and content type, a
body and headers conforming to the documented schema; invalid input must be rejected; and
every 4xx must be an ``application/problem+json`` problem document.

(schemathesis' own pytest integration, ``schema.parametrize()``, does not work with pytest 9:
it sets ``Function._nodeid``, which pytest 9 removed. The tests below draw cases from the
operations' strategies with plain Hypothesis instead, which is the same generator.)
"""

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Ok, Result
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.stack import Stack
from newsroom.newsletter.operations import SUBSCRIPTION_OPERATIONS
from newsroom.read_api.operations import OPERATIONS

MAX_EXAMPLES = 50  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id"}
ALL_OPERATIONS = (*OPERATIONS, *SUBSCRIPTION_OPERATIONS)
DOCUMENTED = [(op.method, op.path) for op in ALL_OPERATIONS if op.documented]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

sent: Counter[tuple[str, str]] = Counter()  # (operation, kind of case) -> requests
accepted_signups: list[str] = []  # the addresses POST /subscriptions answered 202 for


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> Iterator[schemathesis.BaseSchema]:
    schema = schemathesis.openapi.from_url(stack.api_url + "/openapi.json", timeout=10)
    yield schema
    print(f"\nschemathesis {schemathesis.__version__}: {sum(sent.values())} requests")
    for (label, kind), count in sorted(sent.items()):
        print(f"  {count:5d}  {label}  {kind}")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def check(case: schemathesis.Case[Any], http: requests.Session, kind: str) -> None:
    """Send ``case`` and run every check on its response."""
    response = case.call_and_validate(session=http, checks=CHECKS, timeout=10)
    sent[(case.operation.label, kind)] += 1
    assert response.status_code < 500, response.text
    if case.operation.path == "/subscriptions" and response.status_code == 202:
        body: Any = case.body  # a 202 means a JSON or form body with an email
        accepted_signups.append(str(body["email"]))
    if 400 <= response.status_code < 500:
        # schemathesis' response headers: lower-case names, each with a list of values.
        assert response.headers.get("content-type") == ["application/problem+json"], (
            case.as_curl_command(),
            response.headers,
        )
        document = json.loads(response.content)
        assert set(document) >= PROBLEM_FIELDS, document
        assert document["status"] == response.status_code


def loaded_operation(
    result: Result[schemathesis.APIOperation[Any, Any, Any, Any], InvalidSchema],
) -> schemathesis.APIOperation[Any, Any, Any, Any]:
    """The operation schemathesis read from the document (it failed to read none)."""
    assert isinstance(result, Ok), result.err()
    return result.ok()


def test_the_document_describes_every_documented_operation(
    api_schema: schemathesis.BaseSchema,
) -> None:
    operations = [loaded_operation(result) for result in api_schema.get_all_operations()]
    loaded = {(operation.method.upper(), operation.path) for operation in operations}
    # schemathesis leaves out the operation that served the document itself.
    assert loaded == set(DOCUMENTED) - {("GET", "/openapi.json")}


@pytest.mark.parametrize(("method", "path"), DOCUMENTED, ids=[f"{m} {p}" for m, p in DOCUMENTED])
def test_coverage_cases_conform(
    api_schema: schemathesis.BaseSchema, session: requests.Session, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    cases = list(
        api_schema.iter_coverage_cases(
            operation, generation_modes=MODES, generation_config=api_schema.config.generation
        )
    )
    assert cases
    for case in cases:
        check(case, session, "coverage")


# Negative mode needs a parameter or a body that can be invalid: the feeds and the document
# itself only take If-None-Match, and every string is a valid one.
GENERATED = [
    (method, path, mode)
    for op in ALL_OPERATIONS
    if op.documented
    for method, path in [(op.method, op.path)]
    for mode in MODES
    if mode is GenerationMode.POSITIVE or op.params or op.request or "{" in op.path
]


@pytest.mark.parametrize(
    ("method", "path", "mode"), GENERATED, ids=[f"{m} {p} {g.value}" for m, p, g in GENERATED]
)
def test_generated_cases_conform(
    api_schema: schemathesis.BaseSchema,
    session: requests.Session,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    strategy = api_schema[path][method].as_strategy(generation_mode=mode)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        check(data.draw(strategy), session, mode.value)

    run()


@pytest.mark.parametrize(
    ("method", "path", "accepted"),
    [
        ("GET", "/stories", {200, 304}),
        ("GET", "/stories/{slug}", {200, 304, 404}),
        ("POST", "/subscriptions", {202}),
    ],
    ids=["GET /stories", "GET /stories/{slug}", "POST /subscriptions"],
)
def test_requests_the_document_calls_valid_are_accepted(
    api_schema: schemathesis.BaseSchema,
    session: requests.Session,
    method: str,
    path: str,
    accepted: set[int],
) -> None:
    """The other direction: whatever the document allows, the API takes (no 400). Cursors are
    left out: any base64url text is one by the document, but only issued ones are valid."""
    strategy = api_schema[path][method].as_strategy(generation_mode=GenerationMode.POSITIVE)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        if case.query:
            case.query.pop("cursor", None)
        response = case.call(session=session, timeout=10)
        sent[(case.operation.label, "accepted")] += 1
        assert response.status_code in accepted, (case.as_curl_command(), response.text[:500])

    run()


@pytest.mark.parametrize(
    ("name", "value"),
    [("topic", "Machine Learning"), ("topic", "AI"), ("topic", "ai!"), ("cursor", "not a cursor!")],
)
def test_the_documented_parameter_schemas_reject_what_the_api_rejects(
    stack: Stack, session: requests.Session, name: str, value: str
) -> None:
    """JSON Schema's ``pattern`` is a search, not a full match: an unanchored pattern would
    let the document accept values the API answers with a 400."""
    document = session.get(stack.api_url + "/openapi.json", timeout=10).json()
    parameters = document["paths"]["/stories"]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == name)

    assert session.get(stack.api_url + "/stories", params={name: value}).status_code == 400
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, schema)


def test_the_fuzzed_signups_were_mailed_to_the_embedded_ses(stack: Stack) -> None:
    """The signups the API accepted went through the queue and the real mailer to SES: one
    confirmation email for each accepted address (the fuzzing ran above, in this module)."""
    assert accepted_signups, "no generated signup was accepted"
    expected = {address.lower() for address in accepted_signups}

    def mailed() -> set[str]:
        return {email["to"].lower() for email in stack.sent_emails()}

    deadline = time.monotonic() + 30  # the mailer polls the queue in the background
    while not expected <= mailed() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert expected - mailed() == set()
