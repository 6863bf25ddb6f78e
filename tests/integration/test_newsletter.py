"""The newsletter end to end against moto, one rule per test: the real subscriptions, mailer
and digest handlers (``functions/``: the digest's planner and sender, ``tests.support.digest``)
with the subscribers table built from ``template.yaml``, a random signing key in SSM and the
sender verified in SES. API Gateway REST proxy events in, what the
client and the mailbox get out: emails are read back from moto's SES (the raw MIME it was
handed). Time is the newsletter's ``clock``; DynamoDB and SES calls are observed, and SES
failures injected, with botocore event hooks on the functions' own clients.
"""

import base64
import contextlib
import email
import email.policy
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.events import apigw_event
from devtools.functions import LambdaContext
from devtools.queues import QueueWithDeadLetters, create_queue_with_dead_letters
from devtools.sqs_trigger import SqsTrigger
from devtools.stack import scheduled_event, sent_emails
from devtools.template import ROOT, parameter_default
from newsroom.core.dynamo import from_dynamo
from newsroom.core.timestamps import format_utc
from newsroom.newsletter.addresses import address_id
from newsroom.newsletter.subscribers import CONFIRMED_INDEX, PENDING_TTL_SECONDS
from newsroom.newsletter.tokens import issue_token
from newsroom.stories.contract import StoryIn
from newsroom.stories.items import story_item
from newsroom.stories.repository import StoryRepository
from tests.support import iam
from tests.support.aws import REGION, load_function
from tests.support.clock import sleep_until
from tests.support.digest import Digest, DigestQueues, create_digest_queues, load_digest
from tests.support.newsletter import SENDER, SUBSCRIBERS, sender, signing_key, subscribers_table
from tests.support.stack import running_stack

__all__ = [  # fixtures used by name
    "sender",
    "signing_key",
    "subscribers_table",
]

HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"
BASE_URL = f"https://{HOST}/v1"  # where apigw_event says the client called
STORY_URL = str(parameter_default("StoryUrlTemplate"))
ORIGIN = "https://reader.example"
INVALID_LINK = "https://signal-noise.example/problems/invalid-link"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id"}
HOUR = 3600
DAY = 24 * HOUR


# -- time ---------------------------------------------------------------------------------


class Clock:
    """The newsletter's ``clock``: a settable epoch second."""

    def __init__(self, start: float) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def iso(self, offset: float = 0) -> str:
        return format_utc(datetime.fromtimestamp(self.now + offset, UTC))

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.now, UTC).date().isoformat()


@pytest.fixture
def clock() -> Clock:
    """06:00 UTC today: hours can pass without changing the digest's day, and the TTLs it
    writes stay in the future of the real clock."""
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    return Clock(today.timestamp())


# -- resources and functions ----------------------------------------------------------------


SignupQueues = QueueWithDeadLetters  # SignupQueue and SignupDeadLetterQueue


@pytest.fixture
def signup_queue(moto: None) -> SignupQueues:
    """SignupQueue and its dead-letter queue, as the template declares them."""
    return create_queue_with_dead_letters(
        boto3.client("sqs", region_name=REGION),
        "SignupQueue",
        "signups-test",
        "signup-dead-letters-test",
    )


@pytest.fixture
def subscriptions_app(
    subscribers_table: str,
    signing_key: bytes,
    sender: str,
    signup_queue: SignupQueues,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The real subscriptions function module, wired to the moto table, SSM and queue."""
    module = load_function(
        "subscriptions",
        "SubscriptionsFunction",
        {"SUBSCRIBERS_TABLE": subscribers_table, "SIGNUP_QUEUE_URL": signup_queue.url},
        monkeypatch,
        resources={"SignupQueue": signup_queue.name},
    )
    module.newsletter.clock = clock
    return module


@pytest.fixture
def mailer_app(
    subscribers_table: str,
    signing_key: bytes,
    sender: str,
    signup_queue: SignupQueues,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The real mailer function module (SignupQueue's consumer): PUBLIC_API_URL as the
    template resolves it, the sending rate unthrottled (SES_MAX_SEND_RATE=0)."""
    module = load_function(
        "mailer",
        "MailerFunction",
        {
            "SUBSCRIBERS_TABLE": subscribers_table,
            "PUBLIC_API_URL": BASE_URL,
            "SES_MAX_SEND_RATE": "0",
        },
        monkeypatch,
        resources={"SignupQueue": signup_queue.name},
    )
    module.newsletter.clock = clock
    return module


@pytest.fixture
def trigger(mailer_app: ModuleType, signup_queue: SignupQueues) -> SqsTrigger:
    """SignupQueue's event source mapping to the mailer, polling with the mailer's role (its
    calls checked against it, as the mapping uses the function's execution role); a failed
    record is delivered again at once (as if its visibility timeout had passed)."""
    polling = boto3.client("sqs", region_name=REGION)
    checker = iam.loaded(mailer_app).checker
    if checker is not None:
        checker.attach(polling)
    return SqsTrigger(
        polling,
        signup_queue.url,
        mailer_app.handler,
        LambdaContext("MailerFunction"),
        retry_now=True,
        retry_sqs=boto3.client("sqs", region_name=REGION),
    )


@pytest.fixture
def digest_queues(moto: None) -> DigestQueues:
    """DigestQueue and its dead-letter queue, as the template declares them."""
    return create_digest_queues()


@pytest.fixture
def digest(
    stories_table: str,
    subscribers_table: str,
    signing_key: bytes,
    sender: str,
    digest_queues: DigestQueues,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Digest:
    """The real digest planner and sender (``tests.support.digest``) on the test's clock;
    PUBLIC_API_URL as the template resolves it."""
    loaded = load_digest(
        digest_queues,
        {
            "SUBSCRIBERS_TABLE": subscribers_table,
            "STORIES_TABLE": stories_table,
            "PUBLIC_API_URL": BASE_URL,
        },
        monkeypatch,
    )
    loaded.use_clock(clock, clock.advance)
    return loaded


# -- calling the functions ------------------------------------------------------------------


@dataclass
class Reply:
    """An API Gateway proxy response as the client sees it."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: str
    request_id: str
    raw: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body)


class Subscriptions:
    """Sends API Gateway REST proxy events to the real subscriptions handler."""

    def __init__(self, module: ModuleType, deliver: Callable[[], object] | None = None) -> None:
        self.module = module
        self.deliver = deliver  # what follows a signup: the queue delivered to the mailer
        self.replies: list[Reply] = []

    def send(self, event: dict[str, Any]) -> Reply:
        raw = self.module.handler(event, LambdaContext("SubscriptionsFunction"))
        headers = {k.lower(): ", ".join(v) for k, v in raw["multiValueHeaders"].items()}
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        reply = Reply(raw["statusCode"], headers, body, event["requestContext"]["requestId"], raw)
        self.replies.append(reply)
        signup = (event["httpMethod"], event["path"]) == ("POST", "/subscriptions")
        if signup and self.deliver is not None:
            self.deliver()
        return reply

    def subscribe(
        self,
        address: object = None,
        *,
        form: bool = False,
        body: str | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        if body is None:
            body = urlencode({"email": address}) if form else json.dumps({"email": address})
        if content_type is None:
            content_type = "application/x-www-form-urlencoded" if form else "application/json"
        return self.send(
            apigw_event(
                "POST",
                "/subscriptions",
                headers={"Content-Type": content_type, **(headers or {})},
                body=body,
                request_id=str(uuid.uuid4()),
            )
        )

    def call(
        self,
        method: str,
        path: str,
        token: str | list[str] | None,
        *,
        accept: str | None = "application/json",
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        event = apigw_event(
            method,
            path,
            query=None if token is None else {"token": token},
            headers=headers,
            body=body,
            request_id=str(uuid.uuid4()),
        )
        if accept is None:
            del event["headers"]["Accept"], event["multiValueHeaders"]["Accept"]
        else:
            event["headers"]["Accept"] = accept
            event["multiValueHeaders"]["Accept"] = [accept]
        return self.send(event)

    def confirm(self, token: str | list[str] | None, **kw: Any) -> Reply:
        return self.call("GET", "/subscriptions/confirm", token, **kw)

    def unsubscribe(self, token: str | list[str] | None, **kw: Any) -> Reply:
        return self.call("GET", "/subscriptions/unsubscribe", token, **kw)

    def one_click(self, token: str | list[str] | None, **kw: Any) -> Reply:
        """RFC 8058: what a mail client POSTs to the List-Unsubscribe URL."""
        return self.call(
            "POST",
            "/subscriptions/unsubscribe",
            token,
            body="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            **kw,
        )

    def follow(self, url: str, *, method: str = "GET", **kw: Any) -> Reply:
        """Open a link from an email (it must point at this API)."""
        assert url.startswith(BASE_URL + "/"), url
        split = urlsplit(url)
        path = split.path.removeprefix("/v1")
        tokens = parse_qs(split.query)["token"]
        if method == "POST":
            return self.one_click(tokens, **kw)
        return self.call("GET", path, tokens, **kw)


@pytest.fixture
def api(subscriptions_app: ModuleType, trigger: SqsTrigger) -> Subscriptions:
    """The subscriptions API; after each signup the queue is delivered to the mailer, as
    Lambda's event source mapping does within moments."""
    return Subscriptions(subscriptions_app, trigger.drain)


# -- mailbox and storage ----------------------------------------------------------------------


def ses_raw_messages() -> list[str]:
    """The raw MIME of every message moto's SES accepted, oldest first."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


class Mailbox:
    """The emails sent so far; ``new()`` returns those since the last call."""

    def __init__(self) -> None:
        self.seen = 0

    def new(self) -> list[dict[str, Any]]:
        mails = sent_emails()
        fresh, self.seen = mails[self.seen :], len(mails)
        return fresh

    def one(self) -> dict[str, Any]:
        fresh = self.new()
        assert len(fresh) == 1, [m["subject"] for m in fresh]
        return fresh[0]


@pytest.fixture
def mailbox(moto: None) -> Mailbox:
    return Mailbox()


def link(mail: dict[str, Any], path: str) -> str:
    """The one link to ``path`` in an email's text part."""
    found: list[str] = [url for url in mail["links"] if urlsplit(url).path.endswith(path)]
    assert len(found) == 1, mail["links"]
    return found[0]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def item_of(dynamodb: Any, key: bytes, address: str) -> dict[str, Any] | None:
    response = dynamodb.get_item(
        TableName=SUBSCRIBERS,
        Key={"id": {"S": f"sub#{address_id(key, address)}"}},
        ConsistentRead=True,
    )
    return from_dynamo(response["Item"]) if "Item" in response else None


def subscriber(dynamodb: Any, key: bytes, address: str) -> dict[str, Any]:
    """The subscriber item of ``address``, which must be there."""
    item = item_of(dynamodb, key, address)
    assert item is not None, f"no subscriber item for {address}"
    return item


def all_items(dynamodb: Any) -> list[dict[str, Any]]:
    return [from_dynamo(i) for i in dynamodb.scan(TableName=SUBSCRIBERS)["Items"]]


def confirmed_ids(dynamodb: Any) -> set[str]:
    response = dynamodb.query(
        TableName=SUBSCRIBERS,
        IndexName=CONFIRMED_INDEX,
        KeyConditionExpression="list_pk = :list",
        ExpressionAttributeValues={":list": {"S": "confirmed"}},
    )
    return {i["id"]["S"] for i in response["Items"]}


def sub_id(key: bytes, address: str) -> str:
    return f"sub#{address_id(key, address)}"


def join(api: Subscriptions, mailbox: Mailbox, address: str) -> None:
    """Subscribe and confirm through the links, as a reader does."""
    assert api.subscribe(address).status == 202
    assert api.follow(link(mailbox.one(), "/subscriptions/confirm")).status == 200


def publish(
    dynamodb: Any, table: str, slug: str, published_at: str, **fields: Any
) -> dict[str, Any]:
    """A story stored exactly as the ingest stores it (story item + topic entries)."""
    value = {
        "slug": slug,
        "title": f"Title of {slug}",
        "summary": f"Summary of {slug}.",
        "published_at": published_at,
        "topics": ["ai"],
        **fields,
    }
    item = story_item(
        StoryIn.model_validate(value), source_key=f"incoming/{slug}.json", ingested_at=published_at
    )
    repository = StoryRepository(dynamodb, table)
    result = repository.put_story(item)
    repository.sync_topic_entries(item, known_empty=result.previous is None)
    return item


def titles(mail: dict[str, Any]) -> list[str]:
    return re.findall(r"<h2><a [^>]*>(.*?)</a></h2>", mail["html"])


def assert_accepted(reply: Reply) -> None:
    assert reply.status == 202, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.json()["status"] == "accepted"


def assert_problem(
    reply: Reply, *, type_: str | None = None, errors_at: list[list[str]] | None = None
) -> dict[str, Any]:
    """A 400 RFC 9457 problem document with the request's id, never cached."""
    assert reply.status == 400, reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["cache-control"] == "no-store"
    document: dict[str, Any] = reply.json()
    assert set(document) == PROBLEM_FIELDS | ({"errors"} if errors_at is not None else set())
    assert document["status"] == 400
    assert document["request_id"] == reply.request_id
    assert document["title"] and document["detail"]
    if type_ is not None:
        assert document["type"] == type_
    if errors_at is not None:
        assert [e["loc"] for e in document["errors"]] == errors_at
    return document


def count_calls(client: Any, service: str) -> list[str]:
    """Record the operation names ``client`` sends from now on (a botocore hook)."""
    calls: list[str] = []
    client.meta.events.register(
        f"before-call.{service}", lambda model, **_: calls.append(model.name)
    )
    return calls


@pytest.fixture
def output(
    subscriptions_app: ModuleType,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], str]:
    """What the functions print from now on: Powertools' JSON log lines and EMF metrics.
    (The functions' shared logger keeps the stdout of the moment it was made; it is made to
    write to the stdout of the moment it logs, which capsys captures.)"""

    class CurrentStdout:
        def write(self, text: str) -> int:
            return sys.stdout.write(text)

        def flush(self) -> None:
            sys.stdout.flush()

    monkeypatch.setattr(subscriptions_app.logger.registered_handler, "stream", CurrentStdout())
    capsys.readouterr()

    def read() -> str:
        captured = capsys.readouterr()
        return captured.out + captured.err

    return read


# -- subscribe --------------------------------------------------------------------------------


def test_subscribe_accepts_a_json_or_a_form_encoded_body(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes
) -> None:
    assert_accepted(api.subscribe("json.reader@example.com"))
    assert_accepted(api.subscribe("form.reader@example.com", form=True))
    assert_accepted(
        api.subscribe(
            body="email=charset.reader%40example.com",
            content_type="application/x-www-form-urlencoded; charset=UTF-8",
        )
    )
    assert_accepted(
        api.subscribe(
            body='{"email":"utf8.reader@example.com"}',
            content_type="Application/JSON; charset=utf-8",
        )
    )
    recipients = [mail["to"] for mail in mailbox.new()]
    assert recipients == [
        "json.reader@example.com",
        "form.reader@example.com",
        "charset.reader@example.com",
        "utf8.reader@example.com",
    ]
    for address in recipients:
        assert subscriber(dynamodb, signing_key, address)["status"] == "pending"


def test_header_names_are_matched_in_any_case(api: Subscriptions, mailbox: Mailbox) -> None:
    # HTTP/2 clients send lower-case names; API Gateway passes them on as they came.
    reply = api.send(
        apigw_event(
            "POST",
            "/subscriptions",
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
            body="email=lower.case%40example.com",
            default_headers=False,
        )
    )
    assert reply.status == 202
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert mailbox.one()["to"] == "lower.case@example.com"


def test_subscribe_normalises_the_address_trimmed_with_its_domain_lower_cased(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes
) -> None:
    assert_accepted(api.subscribe("  Reader.One@Example.COM \n"))
    mail = mailbox.one()
    assert mail["to"] == "Reader.One@example.com"
    item = item_of(dynamodb, signing_key, "Reader.One@example.com")
    assert item is not None and item["email"] == "Reader.One@example.com"
    # The same address spelt differently is the same subscriber (no second email)...
    assert_accepted(api.subscribe("Reader.One@EXAMPLE.com"))
    assert mailbox.new() == []
    # ...but the local part is case-sensitive: another subscriber.
    assert_accepted(api.subscribe("reader.one@example.com"))
    assert mailbox.one()["to"] == "reader.one@example.com"
    assert len(all_items(dynamodb)) == 2


INVALID_ADDRESSES: list[object] = [
    "",
    "   ",
    "not-an-address",
    "reader@",
    "@example.com",
    "reader@example",
    "reader@@example.com",
    "two words@example.com",
    "reader\n@example.com",
    "reader@example.com\r\nBcc: victim@example.com",
    "Reader <reader@example.com>",
    "l" * 65 + "@example.com",
    "reader@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 63 + "." + "d" * 57 + ".com",  # 255
    None,
    42,
    ["reader@example.com"],
    {"address": "reader@example.com"},
]


def test_subscribe_rejects_an_invalid_address_with_a_problem_at_body_email(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any
) -> None:
    for value in INVALID_ADDRESSES:
        for form in (False, True) if isinstance(value, str) else (False,):
            reply = api.subscribe(value, form=form)
            document = assert_problem(reply, errors_at=[["body", "email"]])
            assert document["type"] == "https://signal-noise.example/problems/invalid-parameters"
            local = value.strip().partition("@")[0] if isinstance(value, str) else ""
            if len(local) > 3:
                assert local not in reply.body, value  # the answer does not repeat the address
    assert mailbox.new() == []
    assert all_items(dynamodb) == []


def test_subscribe_rejects_a_form_without_exactly_one_address(
    api: Subscriptions, mailbox: Mailbox
) -> None:
    for body in ("", "email=", "email=a%40example.com&email=b%40example.com"):
        reply = api.subscribe(body=body, content_type="application/x-www-form-urlencoded")
        assert_problem(reply, errors_at=[["body", "email"]])
    assert mailbox.new() == []


def test_subscribe_refuses_unknown_fields_in_a_form_as_in_json(
    api: Subscriptions, mailbox: Mailbox
) -> None:
    """One contract for both media types (the OpenAPI document's SubscriptionRequest): only
    ``email``; each unknown field is named."""
    form = "application/x-www-form-urlencoded"
    assert_problem(
        api.subscribe(body="mail=a%40b.co", content_type=form), errors_at=[["body", "mail"]]
    )
    reply = api.subscribe(body="email=a%40example.com&name=Ann&utm=x", content_type=form)
    assert_problem(reply, errors_at=[["body", "name"], ["body", "utm"]])
    reply = api.subscribe(body='{"email":"a@example.com","name":"Ann"}')
    assert_problem(reply, errors_at=[["body", "name"]])
    assert mailbox.new() == []


def test_subscribe_rejects_bodies_it_cannot_read(api: Subscriptions, mailbox: Mailbox) -> None:
    assert_problem(
        api.subscribe(body="{not json", content_type="application/json"), errors_at=[["body"]]
    )
    assert_problem(
        api.subscribe(body="email=a@example.com", content_type="text/plain"),
        errors_at=[["header", "content-type"]],
    )
    big = json.dumps({"email": "reader@example.com", "padding": "x" * 5000})
    assert_problem(api.subscribe(body=big), errors_at=[["body"]])
    # Not UTF-8: API Gateway passes it base64-encoded (found by tests/hardening's fuzzing).
    not_text = apigw_event(
        "POST", "/subscriptions", headers={"Content-Type": "application/json"}, body=b"\xf8\xff"
    )
    assert not_text["isBase64Encoded"]
    assert_problem(api.send(not_text), errors_at=[["body"]])
    assert mailbox.new() == []


def test_subscribe_answers_the_same_for_new_pending_and_confirmed_addresses(
    api: Subscriptions, mailbox: Mailbox, clock: Clock
) -> None:
    join(api, mailbox, "confirmed@example.com")
    assert_accepted(api.subscribe("pending@example.com"))
    mailbox.new()

    def visible(reply: Reply) -> tuple[int, str, bool, dict[str, list[str]]]:
        """Everything the client sees but the request id."""
        raw = reply.raw
        headers = {
            name: values
            for name, values in raw["multiValueHeaders"].items()
            if "request" not in name.lower() and "trace" not in name.lower()
        }
        assert reply.request_id not in json.dumps(headers) + raw["body"]
        return raw["statusCode"], raw["body"], raw["isBase64Encoded"], dict(headers)

    clients = {  # a program (fetch, JSON) and a plain HTML form in a browser
        "program": ({"Origin": ORIGIN}, False, "application/json"),
        "form": ({"Accept": "text/html,*/*;q=0.8"}, True, "text/html; charset=utf-8"),
    }
    for client, (headers, form, content_type) in clients.items():
        clock.advance(60)
        answers = {
            kind: visible(api.subscribe(address, form=form, headers=headers))
            for kind, address in (
                ("new", f"new.{client}@example.com"),
                ("pending", "pending@example.com"),
                ("confirmed", "confirmed@example.com"),
            )
        }
        assert [m["to"] for m in mailbox.new()] == [f"new.{client}@example.com"]
        assert answers["new"] == answers["pending"] == answers["confirmed"], client
        status, body, _, sent_headers = answers["new"]
        assert status == 202
        assert sent_headers["Content-Type"] == [content_type]
        assert sent_headers["Cache-Control"] == ["no-store"]
        if form:
            assert body.startswith("<!doctype html>") and "Check your inbox" in body
        else:
            assert sent_headers["Access-Control-Allow-Origin"] == ["*"]


def test_subscribe_does_the_same_aws_work_and_answers_byte_for_byte_the_same_whatever_the_state(
    api: Subscriptions,
    mailbox: Mailbox,
    subscriptions_app: ModuleType,
    dynamodb: Any,
    signing_key: bytes,
    signup_queue: SignupQueues,
    clock: Clock,
) -> None:
    """No table read on the request path: the answer and the calls behind it (and so their
    time) cannot depend on the address's state. SES fails throughout: the API never calls
    it, so it cannot answer 500 for a new address."""
    join(api, mailbox, "confirmed@example.com")
    join(api, mailbox, "unsubscribed@example.com")
    ident = address_id(signing_key, "unsubscribed@example.com")
    assert api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now))).status
    assert_accepted(api.subscribe("pending@example.com"))
    dynamodb.put_item(  # a suppressed address, as a permanent bounce leaves it
        TableName=SUBSCRIBERS,
        Item={
            "id": {"S": sub_id(signing_key, "bounced@example.com")},
            "email": {"S": "bounced@example.com"},
            "status": {"S": "bounced"},
        },
    )
    mailbox.new()
    app = subscriptions_app.newsletter
    clients = {
        "dynamodb": app.subscribers._client,
        "sqs": app.requests._sqs,
        "ses": app.mailer._ses,
        "ssm": app.key._ssm,
    }
    calls: list[str] = []
    for service, client in clients.items():
        client.meta.events.register(
            f"before-call.{service}",
            lambda model, s=service, **_: calls.append(f"{s}.{model.name}"),
        )

    def failing(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "SES is down"}},
            "SendRawEmail",
        )

    clients["ses"].meta.events.register("before-call.ses.SendRawEmail", failing)
    sqs = boto3.client("sqs", region_name=REGION)
    api.deliver = None  # the mailer runs later: only the API's work is compared
    answers: dict[str, tuple[Any, ...]] = {}
    for state in ("new", "pending", "confirmed", "unsubscribed", "bounced"):
        del calls[:]
        reply = api.subscribe(f"{state}@example.com")
        raw = dict(reply.raw)
        headers = {
            name: values
            for name, values in raw.pop("multiValueHeaders").items()
            if "request" not in name.lower() and "trace" not in name.lower()
        }
        raw.pop("headers", None)
        answers[state] = (json.dumps(raw, sort_keys=True), headers, list(calls))
        assert reply.status == 202, reply.body
    assert len({json.dumps(a, sort_keys=True) for a in answers.values()}) == 1, answers
    assert answers["new"][2] == ["sqs.SendMessage"]
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=signup_queue.url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert sorted(b["address"] for b in bodies) == sorted(
        f"{state}@example.com" for state in answers
    )
    assert all(set(b) == {"address", "requested_at"} for b in bodies)


def test_subscribe_refuses_unknown_fields_naming_each(
    api: Subscriptions, mailbox: Mailbox, signup_queue: SignupQueues
) -> None:
    body = json.dumps({"email": "reader@example.com", "name": "Ada", "list": "daily"})
    document = assert_problem(
        api.subscribe(body=body), errors_at=[["body", "name"], ["body", "list"]]
    )
    assert all("unknown field" in e["msg"] for e in document["errors"])
    sqs = boto3.client("sqs", region_name=REGION)
    assert "Messages" not in sqs.receive_message(QueueUrl=signup_queue.url)  # nothing queued
    assert mailbox.new() == []


def test_subscribe_sends_at_most_one_confirmation_per_address_per_ten_minutes(
    api: Subscriptions, mailbox: Mailbox, clock: Clock, dynamodb: Any, signing_key: bytes
) -> None:
    address = "cooldown@example.com"
    assert_accepted(api.subscribe(address))
    first = mailbox.one()
    stored = item_of(dynamodb, signing_key, address)
    start = clock.now
    for seconds in (1, 60, 599):  # more requests are accepted and do nothing
        clock.now = start + seconds
        assert_accepted(api.subscribe(address))
        assert mailbox.new() == []
        assert item_of(dynamodb, signing_key, address) == stored
    clock.now = start + 600  # 10 minutes after the first
    assert_accepted(api.subscribe(address))
    second = mailbox.one()
    assert subscriber(dynamodb, signing_key, address)["confirmation_sent_at"] == clock.now
    assert_accepted(api.subscribe(address))
    assert mailbox.new() == []
    # Both links work (each for 48 hours).
    first_link = link(first, "/subscriptions/confirm")
    second_link = link(second, "/subscriptions/confirm")
    assert first_link != second_link
    assert api.follow(first_link).status == 200
    assert api.follow(second_link).status == 200


def test_confirmed_addresses_get_no_email(
    api: Subscriptions, mailbox: Mailbox, clock: Clock, dynamodb: Any, signing_key: bytes
) -> None:
    join(api, mailbox, "member@example.com")
    before = item_of(dynamodb, signing_key, "member@example.com")
    for _ in range(3):
        clock.advance(DAY)  # long past any cooldown
        assert_accepted(api.subscribe("member@example.com"))
    assert mailbox.new() == []
    assert item_of(dynamodb, signing_key, "member@example.com") == before


def test_subscribe_preflight_lets_a_browser_post_json(api: Subscriptions) -> None:
    event = apigw_event(
        "OPTIONS",
        "/subscriptions",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    reply = api.send(event)
    assert reply.status == 204
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert "content-type" in reply.headers["access-control-allow-headers"].lower()


# -- confirm and unsubscribe ------------------------------------------------------------------


def test_the_confirm_link_confirms_the_subscription(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes
) -> None:
    assert_accepted(api.subscribe("confirm.me@example.com"))
    url = link(mailbox.one(), "/subscriptions/confirm")
    assert url.startswith(f"{BASE_URL}/subscriptions/confirm?token=confirm.")
    reply = api.follow(url)
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "status": "confirmed",
        "detail": "SIGNAL/NOISE will arrive in your inbox daily.",
    }
    assert reply.headers["cache-control"] == "no-store"
    assert subscriber(dynamodb, signing_key, "confirm.me@example.com")["status"] == "confirmed"
    assert api.follow(url).status == 200  # opening it again is fine
    assert mailbox.new() == []


def test_the_unsubscribe_link_ends_the_subscription(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    join(api, mailbox, "leaver@example.com")
    token = issue_token(
        signing_key, "unsubscribe", address_id(signing_key, "leaver@example.com"), int(clock.now)
    )
    reply = api.unsubscribe(token)
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "status": "unsubscribed",
        "detail": "You will not get SIGNAL/NOISE emails any more.",
    }
    assert subscriber(dynamodb, signing_key, "leaver@example.com")["status"] == "unsubscribed"
    assert api.unsubscribe(token).status == 200  # idempotent
    assert mailbox.new() == []


def test_one_click_unsubscribe_ends_the_subscription(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    join(api, mailbox, "one.click@example.com")
    ident = address_id(signing_key, "one.click@example.com")
    reply = api.one_click(
        issue_token(signing_key, "unsubscribe", ident, int(clock.now)), accept=None
    )
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert subscriber(dynamodb, signing_key, "one.click@example.com")["status"] == "unsubscribed"


def test_unsubscribe_tokens_never_expire(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    join(api, mailbox, "patient@example.com")
    ident = address_id(signing_key, "patient@example.com")
    token = issue_token(signing_key, "unsubscribe", ident, int(clock.now))
    clock.advance(10 * 365 * DAY)
    assert api.unsubscribe(token).status == 200
    assert subscriber(dynamodb, signing_key, "patient@example.com")["status"] == "unsubscribed"


def test_confirm_links_expire_after_48_hours(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("slow@example.com"))
    slow = link(mailbox.one(), "/subscriptions/confirm")
    clock.advance(1)
    assert_accepted(api.subscribe("quick@example.com"))
    quick = link(mailbox.one(), "/subscriptions/confirm")
    clock.advance(48 * HOUR)  # "slow" is 48 h + 1 s old, "quick" exactly 48 h
    document = assert_problem(api.follow(slow), type_=INVALID_LINK)
    assert "expired" in document["detail"]
    assert subscriber(dynamodb, signing_key, "slow@example.com")["status"] == "pending"
    assert api.follow(quick).status == 200


@pytest.fixture
def tokens(
    api: Subscriptions, mailbox: Mailbox, signing_key: bytes, clock: Clock
) -> dict[str, str]:
    """Genuine tokens of a pending ("me") and a confirmed ("other") subscriber."""
    join(api, mailbox, "other@example.com")
    assert_accepted(api.subscribe("me@example.com"))
    confirm = token_of(link(mailbox.one(), "/subscriptions/confirm"))
    now = int(clock.now)
    me, other = (address_id(signing_key, a) for a in ("me@example.com", "other@example.com"))
    return {
        "confirm": confirm,
        "unsubscribe": issue_token(signing_key, "unsubscribe", me, now),
        "me": me,
        "other": other,
        "unsubscribe_other": issue_token(signing_key, "unsubscribe", other, now),
    }


def _flip(text: str, index: int, alphabet: str = "0123456789abcdef") -> str:
    return text[:index] + next(c for c in alphabet if c != text[index]) + text[index + 1 :]


def _tamper(token: str, part: int) -> str:
    parts = token.split(".")
    parts[part] = _flip(parts[part], 7, "0123456789abcdef" if part == 1 else "ABCDEFGHabcdefgh")
    return ".".join(parts)


BAD_TOKENS: dict[str, Callable[[dict[str, str]], tuple[str, str | list[str] | None]]] = {
    "confirm: mac flipped": lambda t: ("confirm", _tamper(t["confirm"], 3)),
    "confirm: id flipped": lambda t: ("confirm", _tamper(t["confirm"], 1)),
    "confirm: another address": lambda t: ("confirm", t["confirm"].replace(t["me"], t["other"])),
    "confirm: an unsubscribe token": lambda t: ("confirm", t["unsubscribe"]),
    "confirm: missing": lambda t: ("confirm", None),
    "confirm: empty": lambda t: ("confirm", ""),
    "confirm: repeated": lambda t: ("confirm", [t["confirm"], t["confirm"]]),
    "confirm: bogus": lambda t: ("confirm", "bogus"),
    "unsubscribe: mac flipped": lambda t: ("unsubscribe", _tamper(t["unsubscribe_other"], 3)),
    "unsubscribe: id flipped": lambda t: ("unsubscribe", _tamper(t["unsubscribe_other"], 1)),
    "unsubscribe: another address": lambda t: (
        "unsubscribe",
        t["unsubscribe"].replace(t["me"], t["other"]),
    ),
    "unsubscribe: a confirm token": lambda t: ("unsubscribe", t["confirm"]),
    "unsubscribe: missing": lambda t: ("unsubscribe", None),
    "unsubscribe: repeated": lambda t: ("unsubscribe", [t["unsubscribe"]] * 2),
    "one-click: mac flipped": lambda t: ("one-click", _tamper(t["unsubscribe_other"], 3)),
    "one-click: a confirm token": lambda t: ("one-click", t["confirm"]),
    "one-click: missing": lambda t: ("one-click", None),
}


def test_invalid_tokens_get_a_problem_document_and_change_nothing(
    api: Subscriptions, tokens: dict[str, str], dynamodb: Any
) -> None:
    before = all_items(dynamodb)
    send = {"confirm": api.confirm, "unsubscribe": api.unsubscribe, "one-click": api.one_click}
    for case, make in BAD_TOKENS.items():
        endpoint, token = make(tokens)
        for accept in ("application/json", "text/html"):
            reply = send[endpoint](token, accept=accept)
            errors_at = [["query", "token"]] if token is None or isinstance(token, list) else None
            try:
                assert_problem(reply, type_=INVALID_LINK, errors_at=errors_at)
            except AssertionError as exc:
                raise AssertionError(f"{case} (Accept: {accept}): {exc}") from None
    assert all_items(dynamodb) == before


def test_a_genuine_confirm_token_for_an_unknown_address_is_refused(
    api: Subscriptions, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    ident = address_id(signing_key, "never.subscribed@example.com")
    reply = api.confirm(issue_token(signing_key, "confirm", ident, int(clock.now)))
    assert_problem(reply, type_=INVALID_LINK)
    # Unsubscribing an unknown address answers as usual and creates nothing.
    assert (
        api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now))).status
        == 200
    )
    assert all_items(dynamodb) == []


def test_a_confirm_link_no_longer_confirms_once_unsubscribed(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("changed.mind@example.com"))
    url = link(mailbox.one(), "/subscriptions/confirm")
    ident = address_id(signing_key, "changed.mind@example.com")
    api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now)))
    assert_problem(api.follow(url), type_=INVALID_LINK)
    assert subscriber(dynamodb, signing_key, "changed.mind@example.com")["status"] == "unsubscribed"


BROWSER_ACCEPTS = [
    None,
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "*/*",
    "application/json, text/html",
]


def test_confirm_and_unsubscribe_answer_a_person_with_an_html_page(
    api: Subscriptions, mailbox: Mailbox, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("person@example.com"))
    url = link(mailbox.one(), "/subscriptions/confirm")
    ident = address_id(signing_key, "person@example.com")
    token = issue_token(signing_key, "unsubscribe", ident, int(clock.now))
    for accept in BROWSER_ACCEPTS:
        confirmed = api.follow(url, accept=accept)
        left = api.unsubscribe(token, accept=accept)
        for reply, heading in (
            (confirmed, "You&#x27;re subscribed"),
            (left, "You&#x27;re unsubscribed"),
        ):
            assert reply.status == 200, (accept, reply.body)
            assert reply.headers["content-type"] == "text/html; charset=utf-8", accept
            assert reply.headers["cache-control"] == "no-store"
            assert reply.body.startswith("<!doctype html>")
            assert f"<h1>{heading}</h1>" in reply.body  # escaped
            assert f"<title>{heading} · SIGNAL/NOISE</title>" in reply.body
            assert "'" not in re.sub(r"<[^>]*>", "", reply.body)
        api.subscribe("person@example.com")  # pending again (no email: the cooldown)
        clock.advance(3600)
        assert_accepted(api.subscribe("person@example.com"))
        url = link(mailbox.one(), "/subscriptions/confirm")


def test_confirm_and_unsubscribe_answer_json_when_the_client_asks(
    api: Subscriptions, mailbox: Mailbox, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("client@example.com"))
    confirmed = api.follow(link(mailbox.one(), "/subscriptions/confirm"), accept="application/json")
    ident = address_id(signing_key, "client@example.com")
    token = issue_token(signing_key, "unsubscribe", ident, int(clock.now))
    left = api.one_click(token, accept="application/json;q=1.0")
    assert confirmed.headers["content-type"] == left.headers["content-type"] == "application/json"
    assert confirmed.json()["status"] == "confirmed"
    assert left.json()["status"] == "unsubscribed"


# -- storage ----------------------------------------------------------------------------------


def test_pending_subscribers_are_stored_with_a_seven_day_ttl(
    api: Subscriptions, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("Pending.Reader@Example.com"))
    (item,) = all_items(dynamodb)
    assert item["id"] == sub_id(signing_key, "Pending.Reader@example.com")
    assert "pending" not in item["id"].lower() and "reader" not in item["id"].lower()
    assert item["email"] == "Pending.Reader@example.com"
    assert item["status"] == "pending"
    assert item["created_at"] == item["updated_at"] == clock.iso()
    assert item["confirmation_sent_at"] == int(clock.now)
    assert item["expires_at"] == int(clock.now) + PENDING_TTL_SECONDS == int(clock.now) + 7 * DAY
    assert "list_pk" not in item
    assert confirmed_ids(dynamodb) == set()
    ttl = dynamodb.describe_time_to_live(TableName=SUBSCRIBERS)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_confirming_removes_the_ttl_and_lists_the_subscriber_in_the_confirmed_index(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    assert_accepted(api.subscribe("joiner@example.com"))
    created = clock.iso()
    clock.advance(HOUR)
    assert api.follow(link(mailbox.one(), "/subscriptions/confirm")).status == 200
    item = subscriber(dynamodb, signing_key, "joiner@example.com")
    assert item["status"] == "confirmed"
    assert "expires_at" not in item
    assert item["created_at"] == created
    assert item["confirmed_at"] == item["updated_at"] == item["digest_through"] == clock.iso()
    assert item["list_pk"] == "confirmed"
    assert confirmed_ids(dynamodb) == {sub_id(signing_key, "joiner@example.com")}


def test_unsubscribed_subscribers_leave_the_confirmed_index(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    join(api, mailbox, "stays@example.com")
    join(api, mailbox, "goes@example.com")
    clock.advance(HOUR)
    ident = address_id(signing_key, "goes@example.com")
    assert (
        api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now))).status
        == 200
    )
    item = subscriber(dynamodb, signing_key, "goes@example.com")
    assert item["status"] == "unsubscribed"
    assert item["unsubscribed_at"] == item["updated_at"] == clock.iso()
    assert "list_pk" not in item and "expires_at" not in item
    assert confirmed_ids(dynamodb) == {sub_id(signing_key, "stays@example.com")}


def test_an_unsubscribed_address_can_subscribe_again(
    api: Subscriptions, mailbox: Mailbox, dynamodb: Any, signing_key: bytes, clock: Clock
) -> None:
    join(api, mailbox, "returning@example.com")
    ident = address_id(signing_key, "returning@example.com")
    api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now)))
    clock.advance(DAY)
    assert_accepted(api.subscribe("returning@example.com"))
    url = link(mailbox.one(), "/subscriptions/confirm")  # a new confirmation
    item = subscriber(dynamodb, signing_key, "returning@example.com")
    assert item["status"] == "pending"
    assert item["expires_at"] == int(clock.now) + PENDING_TTL_SECONDS
    assert item["confirmation_sent_at"] == int(clock.now)
    assert confirmed_ids(dynamodb) == set()
    assert api.follow(url).status == 200
    assert subscriber(dynamodb, signing_key, "returning@example.com")["status"] == "confirmed"
    assert confirmed_ids(dynamodb) == {f"sub#{ident}"}


def test_subscribe_only_queues_and_the_mailer_makes_only_key_writes(
    api: Subscriptions,
    mailbox: Mailbox,
    subscriptions_app: ModuleType,
    mailer_app: ModuleType,
    clock: Clock,
) -> None:
    """The API writes one message per signup and touches no table; the mailer never reads:
    a conditional PutItem (the address is new) and a conditional UpdateItem (the cooldown)."""
    api_calls = count_calls(subscriptions_app.newsletter.subscribers._client, "dynamodb")
    queued = count_calls(subscriptions_app.newsletter.requests._sqs, "sqs")
    calls = count_calls(mailer_app.newsletter.subscribers._client, "dynamodb")
    key_reads = count_calls(mailer_app.newsletter.key._ssm, "ssm")
    assert_accepted(api.subscribe("counted@example.com"))  # new
    assert calls == ["PutItem", "UpdateItem"]
    del calls[:]
    assert_accepted(api.subscribe("counted@example.com"))  # pending, within the cooldown
    assert calls == ["PutItem", "UpdateItem"]
    del calls[:]
    assert api.follow(link(mailbox.new()[0], "/subscriptions/confirm")).status == 200
    assert api_calls == ["UpdateItem"]  # the confirm link
    clock.advance(HOUR)
    assert_accepted(api.subscribe("counted@example.com"))  # confirmed
    assert calls == ["PutItem", "UpdateItem"]
    assert queued == ["SendMessage"] * 3
    assert key_reads == ["GetParameter"]  # once per container


# -- privacy ------------------------------------------------------------------------------------


def test_no_response_log_line_or_metric_contains_an_email_address(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
    output: Callable[[], str],
) -> None:
    address, local = "Zq7.Private+News@Example.org", "Zq7.Private+News"
    api.subscribe(f"  {address} ", form=True)
    api.subscribe(address)  # within the cooldown
    api.subscribe("Zq7.Private+News@@example.org")  # invalid
    api.subscribe("zq7mangled<@example.org")  # invalid
    api.follow(link(mailbox.one(), "/subscriptions/confirm"))
    api.subscribe(address)  # confirmed
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "private-story", clock.iso())
    clock.advance(HOUR)
    assert digest.run().counts["sent"] == 1
    mail = mailbox.one()
    unsubscribe = link(mail, "/subscriptions/unsubscribe")
    api.follow(unsubscribe, method="POST")
    api.follow(unsubscribe)
    clock.advance(DAY)
    publish(dynamodb, stories_table, "another-story", clock.iso())
    assert digest.run().counts["sent"] == 0
    printed = output()
    for message in ("subscription requested", "subscription confirmed", "unsubscribed"):
        assert f'"message":"{message}"' in printed  # the log lines were captured
    for message in ("digest planned", "digest run finished"):
        assert f'"message":"{message}"' in printed
    assert '"digest_sent":[1.0]' in printed
    seen = printed + "".join(r.body + json.dumps(r.headers) for r in api.replies)
    for secret in (address, local, "zq7mangled", "zq7.private"):
        assert secret.lower() not in seen.lower()
        assert secret.lower() not in seen.lower().replace("%40", "@").replace("%2b", "+")
    ident = address_id(digest.sender.sender.newsletter.key.value, "Zq7.Private+News@example.org")
    assert f'"address":"{ident}"' in printed  # logs name the address by its keyed id


def test_no_log_line_contains_the_address_when_ses_refuses_the_confirmation(
    api: Subscriptions,
    mailbox: Mailbox,
    mailer_app: ModuleType,
    output: Callable[[], str],
) -> None:
    address = "Unverified.Recipient@example.net"

    def sandboxed(**_: Any) -> None:  # what SES says in its sandbox
        raise ClientError(
            {
                "Error": {
                    "Code": "MessageRejected",
                    "Message": "Email address is not verified. The following identities failed "
                    f"the check in region US-EAST-1: {address}",
                },
                # botocore-stubs require every ResponseMetadata key; ClientError needs none
                "ResponseMetadata": {"HTTPStatusCode": 400},  # type: ignore[typeddict-item]
            },
            "SendRawEmail",
        )

    ses = mailer_app.newsletter.mailer._ses
    ses.meta.events.register("before-call.ses.SendRawEmail", sandboxed)
    try:
        reply = api.subscribe(address)
    finally:
        ses.meta.events.unregister("before-call.ses.SendRawEmail", sandboxed)
    assert_accepted(reply)  # the API never calls SES: its answer cannot tell
    printed = output()
    assert '"message":"confirmation rejected"' in printed  # the refusal is logged...
    assert "unverified.recipient" not in (printed + reply.body).lower()  # ...without the address
    assert mailbox.new() == []


# -- digest -------------------------------------------------------------------------------------


@pytest.fixture
def readers(api: Subscriptions, mailbox: Mailbox, clock: Clock) -> list[str]:
    """Three confirmed subscribers (at 06:00), one pending and one unsubscribed."""
    confirmed = ["ada@example.com", "grace@example.com", "linus@example.com"]
    for address in confirmed:
        join(api, mailbox, address)
    assert_accepted(api.subscribe("pending@example.com"))
    mailbox.new()
    join(api, mailbox, "gone@example.com")
    return confirmed


def unsubscribe_gone(api: Subscriptions, signing_key: bytes, clock: Clock) -> None:
    ident = address_id(signing_key, "gone@example.com")
    assert (
        api.unsubscribe(issue_token(signing_key, "unsubscribe", ident, int(clock.now))).status
        == 200
    )


def nothing_new(day: str) -> dict[str, Any]:
    """The planner's whole reply on a ``day`` with no story for anyone."""
    return {
        "day": day,
        "outcome": "nothing new",
        "stories": 0,
        "rate": 0,
        "messages": 0,
        "subscribers": 0,
    }


@pytest.fixture
def news_since_confirming(
    readers: list[str], dynamodb: Any, stories_table: str, clock: Clock
) -> None:
    """The three ``readers`` and gone@ confirmed, a story ("news") published an hour later,
    and another hour gone: the next digest has it for all four."""
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "news", clock.iso())
    clock.advance(HOUR)


@pytest.fixture
def news_for_readers(
    news_since_confirming: None, api: Subscriptions, signing_key: bytes, clock: Clock
) -> None:
    """Where the digest's delivery rules start: ``news_since_confirming``, then gone@
    unsubscribed: the next digest is for the three ``readers``."""
    unsubscribe_gone(api, signing_key, clock)


@contextlib.contextmanager
def ses_refusing(
    digest: Digest, code: str, message: str, refuse: Callable[[list[str]], bool]
) -> Iterator[list[str]]:
    """The digest sender's SES answers SendRawEmail with the error ``code`` whenever
    ``refuse`` says so of the recipients tried so far (the one being sent to last); yields
    that list of recipients."""
    tried: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        raw = base64.b64decode(params["body"]["RawMessage.Data"])
        tried.append(str(email.message_from_bytes(raw, policy=email.policy.default)["To"]))
        if refuse(tried):
            raise ClientError({"Error": {"Code": code, "Message": message}}, "SendRawEmail")

    digest.ses.meta.events.register("before-call.ses.SendRawEmail", hook)
    try:
        yield tried
    finally:
        digest.ses.meta.events.unregister("before-call.ses.SendRawEmail", hook)


def test_the_digest_sends_each_confirmed_subscriber_the_stories_since_their_previous_digest(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    readers: list[str],
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,
    clock: Clock,
) -> None:
    unsubscribe_gone(api, signing_key, clock)
    publish(dynamodb, stories_table, "before-anyone", clock.iso(-DAY))
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "morning", clock.iso())
    publish(dynamodb, stories_table, "draft", clock.iso(), status="draft")
    clock.advance(HOUR)
    join(api, mailbox, "late@example.com")  # confirmed after "morning"
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "noon", clock.iso())
    clock.advance(HOUR)

    report = digest.run()
    assert (report.plan["outcome"], report.plan["stories"]) == ("planned", 3)
    assert report.plan["subscribers"] == 4  # not pending@, not gone@
    assert report.counts == {"sent": 4, "failed": 0, "suppressed": 0, "skipped": 0}
    mails = {mail["to"]: mail for mail in mailbox.new()}
    assert set(mails) == {*readers, "late@example.com"}
    for address in readers:
        assert titles(mails[address]) == ["Title of noon", "Title of morning"]  # newest first
    assert titles(mails["late@example.com"]) == ["Title of noon"]

    clock.advance(DAY)  # the next day: only what is new since
    tomorrow = clock.iso(-HOUR)
    publish(dynamodb, stories_table, "tomorrow", tomorrow)
    report = digest.run()
    assert report.plan["stories"] == 4
    assert report.counts == {"sent": 4, "failed": 0, "suppressed": 0, "skipped": 0}
    assert {tuple(titles(m)) for m in mailbox.new()} == {("Title of tomorrow",)}
    for address in readers:
        item = subscriber(dynamodb, signing_key, address)
        assert item["last_digest_on"] == clock.day
        assert item["digest_through"] == tomorrow


def test_the_digest_email_has_text_and_html_parts_with_the_stories_and_the_unsubscribe_headers(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
) -> None:
    join(api, mailbox, "reader@example.com")
    clock.advance(HOUR)
    first = publish(
        dynamodb,
        stories_table,
        "rates-held",
        clock.iso(),
        title="Rates held steady",
        summary="The central bank kept its rate unchanged. " * 12,
    )
    clock.advance(HOUR)
    second = publish(dynamodb, stories_table, "chips-rally", clock.iso(), title="Chips rally")
    clock.advance(HOUR)
    assert digest.run().counts["sent"] == 1
    mail = mailbox.one()
    assert mail["to"] == "reader@example.com"
    assert mail["from"] == SENDER
    assert mail["subject"] == f"SIGNAL/NOISE {clock.day}: 2 new stories"
    assert mail["headers"]["Content-Type"].startswith("multipart/alternative")
    text, html = mail["text"], mail["html"]
    for story in (second, first):  # newest first
        published = datetime.fromisoformat(story["published_at"].replace("Z", "+00:00"))
        date = f"{published:%b} {published.day}, {published.year}"
        story_link = STORY_URL.format(slug=story["slug"])
        assert f"{story['title']}\n{date}\n{story['excerpt']}\n{story_link}\n" in text
        assert f'<h2><a href="{story_link}">{story["title"]}</a></h2>' in html
        assert f"<small>{date}</small>" in html and f"<p>{story['excerpt']}</p>" in html
    assert first["excerpt"].endswith("…") and len(first["excerpt"]) <= 280
    assert text.index("Chips rally") < text.index("Rates held steady")
    unsubscribe = link(mail, "/subscriptions/unsubscribe")
    assert unsubscribe.startswith(f"{BASE_URL}/subscriptions/unsubscribe?token=unsubscribe.")
    assert f'href="{unsubscribe}">Unsubscribe</a>' in html
    # RFC 2369 / RFC 8058 headers, literally on the wire (never RFC 2047-encoded).
    wire_headers = ses_raw_messages()[-1].split("\n\n", 1)[0].splitlines()
    assert f"List-Unsubscribe: <{unsubscribe}>" in wire_headers
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in wire_headers


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_digest_unsubscribe_link_works(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,
    clock: Clock,
    method: str,
) -> None:
    join(api, mailbox, "reader@example.com")
    join(api, mailbox, "stays@example.com")
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "first", clock.iso())
    clock.advance(HOUR)
    digest.run()
    mail = next(m for m in mailbox.new() if m["to"] == "reader@example.com")
    if method == "POST":  # what a mail client does with the headers
        url = mail["headers"]["List-Unsubscribe"].strip("<>")
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:  # a person opening the link
        url = link(mail, "/subscriptions/unsubscribe")
    reply = api.follow(url, method=method, accept="text/html")
    assert reply.status == 200
    assert "You&#x27;re unsubscribed" in reply.body
    assert subscriber(dynamodb, signing_key, "reader@example.com")["status"] == "unsubscribed"
    clock.advance(DAY)
    publish(dynamodb, stories_table, "second", clock.iso())
    assert digest.run().counts["sent"] == 1
    assert [m["to"] for m in mailbox.new()] == ["stays@example.com"]


def test_no_new_stories_no_email(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    readers: list[str],
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
) -> None:
    clock.advance(HOUR)
    report = digest.run()
    assert report.plan == nothing_new(clock.day)
    assert report.batches == []  # nothing queued
    assert report.run is not None and report.run.status == "finished"
    assert (report.run.messages_planned, report.counts["sent"]) == (0, 0)
    publish(dynamodb, stories_table, "old-news", clock.iso(-2 * HOUR))  # before they confirmed
    publish(dynamodb, stories_table, "ancient", clock.iso(-8 * DAY))  # older than a week
    clock.advance(DAY)
    report = digest.run()
    assert (report.plan["stories"], report.plan["subscribers"]) == (1, len(readers) + 1)
    assert report.counts == {  # + gone@, still confirmed
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "skipped": len(readers) + 1,
    }
    assert mailbox.new() == []


def test_the_digest_is_sent_at_most_once_a_day(
    mailbox: Mailbox,
    digest: Digest,
    news_for_readers: None,
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
) -> None:
    assert digest.run().counts["sent"] == 3
    assert len(mailbox.new()) == 3
    again = digest.run()  # EventBridge delivered the schedule twice
    assert again.plan["outcome"] == "already planned"
    assert (again.plan["messages"], again.batches) == (0, [])  # nothing enqueued
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "same-day", clock.iso())  # a new story, the same day
    clock.advance(8 * HOUR)
    assert digest.run().plan["outcome"] == "already planned"
    assert mailbox.new() == []
    clock.advance(10 * HOUR)  # the next day
    assert digest.run().counts["sent"] == 3
    assert {tuple(titles(m)) for m in mailbox.new()} == {("Title of same-day",)}


def test_two_planners_at_once_plan_the_day_once(
    mailbox: Mailbox,
    digest: Digest,
    digest_queues: DigestQueues,
    readers: list[str],
    news_for_readers: None,
    dynamodb: Any,
    stories_table: str,
    subscribers_table: str,
    signing_key: bytes,
    clock: Clock,
    atomic_moto_dynamodb: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # EventBridge delivers a scheduled event at least once ("Amazon EventBridge Scheduler
    # User Guide": at-least-once delivery), and the template reserves no concurrency by
    # default (DigestReservedConcurrency=0 deploys on a new account), so two planners can run
    # at the same time. The run item is created with a conditional write: one plans the day,
    # the other enqueues nothing, and each subscriber gets exactly one digest.
    second = load_function(
        "digest",
        "DigestFunction",
        {
            "SUBSCRIBERS_TABLE": subscribers_table,
            "STORIES_TABLE": stories_table,
            "DIGEST_QUEUE_URL": digest_queues.url,
        },
        monkeypatch,
        resources={"DigestQueue": digest_queues.name},
    )
    second.planner.clock = clock
    both_planning = threading.Barrier(2, timeout=2)

    def overlap(params: dict[str, Any], **_: Any) -> None:  # both put the run item at once
        if params.get("Item", {}).get("status", {}).get("S") == "planning":
            with contextlib.suppress(threading.BrokenBarrierError):
                both_planning.wait()

    planners = (digest.planner, second)
    for app in planners:
        app.planner.runs._client.meta.events.register(
            "provide-client-params.dynamodb.PutItem", overlap
        )
    with ThreadPoolExecutor(max_workers=2) as pool:
        plans = list(
            pool.map(
                lambda app: app.handler(scheduled_event(), LambdaContext("DigestFunction")),
                planners,
            )
        )
    winner, loser = sorted(plans, key=lambda p: p["outcome"] != "planned")
    assert winner["outcome"] == "planned"
    # Still planning when the loser looked, or done already: either way it enqueues nothing.
    assert loser["outcome"] in {"being planned", "already planned"}
    assert (winner["subscribers"], loser["subscribers"]) == (3, 0)
    digest.trigger.drain()
    assert sorted(m["to"] for m in mailbox.new()) == sorted(readers)
    for address in readers:
        assert subscriber(dynamodb, signing_key, address)["last_digest_on"] == clock.day


def test_a_batch_delivered_twice_mails_no_one_twice(
    mailbox: Mailbox,
    digest: Digest,
    digest_queues: DigestQueues,
    readers: list[str],
    news_for_readers: None,
    clock: Clock,
) -> None:
    """SQS delivers at least once, and a planner that takes over a run may queue a page
    again: the daily claim (a conditional write of last_digest_on) refuses the second email."""
    sqs = boto3.client("sqs", region_name=REGION)
    digest.plan()
    (message,) = sqs.receive_message(QueueUrl=digest_queues.url, VisibilityTimeout=0)["Messages"]
    sqs.send_message(QueueUrl=digest_queues.url, MessageBody=message["Body"])  # a duplicate
    batches = digest.trigger.drain()
    assert len(batches) == 2 and not any(b.failed for b in batches)
    assert sorted(m["to"] for m in mailbox.new()) == sorted(readers)
    run = digest.run_of(clock.day)
    assert (run.sent, run.skipped) == (3, 3)


def test_ses_refusing_one_address_fails_it_alone_and_the_next_digest_retries_it(
    mailbox: Mailbox,
    digest: Digest,
    readers: list[str],
    news_for_readers: None,
    dynamodb: Any,
    stories_table: str,
    signing_key: bytes,
    clock: Clock,
    output: Callable[[], str],
) -> None:
    unlucky = "grace@example.com"
    before = subscriber(dynamodb, signing_key, unlucky)
    refused = ("MessageRejected", "Address blacklisted.")
    with ses_refusing(digest, *refused, lambda tried: tried[-1] == unlucky) as attempts:
        output()
        report = digest.run()
        logged = output()
    assert report.counts == {"sent": 2, "failed": 1, "suppressed": 0, "skipped": 0}
    assert [b.failed for b in report.batches] == [[]]  # permanent: the batch is not retried
    assert sorted(attempts) == sorted(readers)  # the ones after the failure were still sent
    assert sorted(m["to"] for m in mailbox.new()) == ["ada@example.com", "linus@example.com"]
    failed = subscriber(dynamodb, signing_key, unlucky)
    assert "last_digest_on" not in failed  # released: the next digest tries again
    assert failed["digest_through"] == before["digest_through"]
    for address in ("ada@example.com", "linus@example.com"):
        assert subscriber(dynamodb, signing_key, address)["last_digest_on"] == clock.day
    warning = next(json.loads(line) for line in logged.splitlines() if "digest send failed" in line)
    assert warning["level"] == "WARNING"
    assert warning["subscriber"] == address_id(signing_key, unlucky)
    assert (warning["error"], warning["permanent"]) == ("MessageRejected", True)
    assert "grace" not in logged

    clock.advance(DAY)  # the next day: the one that failed gets both days' stories
    publish(dynamodb, stories_table, "more-news", clock.iso(-HOUR))
    assert digest.run().counts["sent"] == 3
    mails = {m["to"]: m for m in mailbox.new()}
    assert titles(mails[unlucky]) == ["Title of more-news", "Title of news"]
    assert titles(mails["ada@example.com"]) == ["Title of more-news"]


def test_a_transient_failure_fails_the_batch_alone_and_its_retry_mails_only_the_rest(
    mailbox: Mailbox,
    digest: Digest,
    readers: list[str],
    news_for_readers: None,
    output: Callable[[], str],
) -> None:
    throttled = ("Throttling", "Maximum sending rate exceeded.")  # SES's sending rate
    with ses_refusing(digest, *throttled, lambda tried: len(tried) == 2) as sends:  # once
        output()
        report = digest.run()
        logged = output()
    first, retry = report.batches
    assert first.failed == first.delivered  # reported for redelivery...
    assert retry.failed == []  # ...and done the second time
    assert len(sends) == 4  # 1 sent, 1 throttled; then the throttled one and the last one
    assert sends[2] == sends[1] and sends[0] not in sends[2:]
    assert sorted(m["to"] for m in mailbox.new()) == sorted(readers)  # one each
    assert report.counts == {"sent": 3, "failed": 0, "suppressed": 0, "skipped": 1}
    assert report.run is not None and report.run.status == "finished"
    line = next(json.loads(x) for x in logged.splitlines() if "digest batch failed" in x)
    assert (line["error"], line["attempt"], line["sent"], line["retry_in"]) == (
        "Throttling",
        1,
        1,
        30,
    )


def test_the_digest_escapes_markup_in_story_titles(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    clock: Clock,
) -> None:
    join(api, mailbox, "reader@example.com")
    clock.advance(HOUR)
    title = 'Chips <b>surge</b> & <script>alert(1)</script> "quoted"'
    summary = "Markets <i>rallied</i> <img src=x onerror=alert(2)> today."
    publish(dynamodb, stories_table, "markup", clock.iso(), title=title, summary=summary)
    clock.advance(HOUR)
    digest.run()
    mail = mailbox.one()
    assert (
        "Chips &lt;b&gt;surge&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; "
        "&quot;quoted&quot;" in mail["html"]
    )
    assert (
        "Markets &lt;i&gt;rallied&lt;/i&gt; &lt;img src=x onerror=alert(2)&gt; today."
        in mail["html"]
    )
    for tag in ("<script", "<b>", "<i>", "<img"):
        assert tag not in mail["html"]
    assert title in mail["text"] and summary in mail["text"]


def test_the_planner_reads_one_feed_page_and_the_confirmed_index_keys_only(
    digest: Digest,
    news_since_confirming: None,
) -> None:
    planner = digest.planner.planner
    calls = count_calls(planner.runs._client, "dynamodb")
    queued = count_calls(planner.queue._sqs, "sqs")
    quota = count_calls(planner.ses, "ses")
    assert digest.plan()["subscribers"] == 4
    # The feed; the run and its stories; one page of ids; its cursor; the end of planning.
    assert calls == ["Query", "PutItem", "PutItem", "Query", "UpdateItem", "UpdateItem"]
    assert queued == ["SendMessageBatch"]
    assert quota == ["GetSendQuota"]


def test_a_sender_reads_each_batch_at_once_and_the_runs_stories_once(
    digest: Digest,
    news_since_confirming: None,
) -> None:
    digest.use_batch_size(2)  # 4 subscribers: 2 batches
    calls = count_calls(digest.sender.sender.runs._client, "dynamodb")
    report = digest.run()
    assert report.counts["sent"] == 4 and len(report.batches) == 2
    assert calls.count("BatchGetItem") == 2  # one per batch
    assert calls.count("GetItem") == 1  # the run's stories, once per container
    assert not {"Query", "Scan", "PutItem"} & set(calls)


def test_mail_goes_out_under_the_senders_domain_when_only_the_domain_is_verified(
    api: Subscriptions,
    mailbox: Mailbox,
    digest: Digest,
    dynamodb: Any,
    stories_table: str,
    sender: str,
    clock: Clock,
) -> None:
    """A verified domain (with DKIM) instead of the address, as a production account has it:
    SES sends under the domain identity, which both roles grant (SES Developer Guide,
    "Creating and verifying identities": a verified domain covers its addresses)."""
    ses = boto3.client("ses", region_name=REGION)
    ses.delete_identity(Identity=sender)
    ses.verify_domain_identity(Domain=sender.rpartition("@")[2])

    join(api, mailbox, "ada@example.com")
    clock.advance(HOUR)
    publish(dynamodb, stories_table, "under-the-domain", clock.iso())
    clock.advance(HOUR)

    assert digest.run().counts["sent"] == 1
    assert mailbox.one()["to"] == "ada@example.com"


# -- events/ --------------------------------------------------------------------------------


def test_the_newsletter_events_get_their_expected_answers(
    api: Subscriptions, mailbox: Mailbox, digest: Digest, clock: Clock
) -> None:
    def event(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
        return loaded

    subscribe = api.send(event("api-subscribe.json"))
    assert_accepted(subscribe)
    assert mailbox.one()["to"] == "reader@example.com"
    assert_problem(api.send(event("api-subscribe-invalid.json")), errors_at=[["body", "email"]])
    assert_problem(api.send(event("api-confirm-invalid.json")), type_=INVALID_LINK)
    result = digest.planner.handler(event("schedule-digest.json"), LambdaContext("DigestFunction"))
    assert result == nothing_new(clock.day)


# -- the local stack ------------------------------------------------------------------------------


def _http(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture
def local_stack() -> Iterator[Any]:
    with running_stack(seeded=False, api_containers=1) as stack:
        yield stack


def test_the_newsletter_through_the_local_stack(local_stack: Any) -> None:
    api_url = local_stack.api_url
    status, _, body = _http(
        api_url + "/subscriptions",
        method="POST",
        body=json.dumps({"email": " Stack.Reader@Example.ORG "}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 202, body

    def emails() -> list[dict[str, Any]]:
        status, _, body = _http(api_url + "/_local/emails")
        assert status == 200
        return list(json.loads(body))

    # The confirmation goes out from the signup queue (the mailer's SQS trigger): soon.
    deadline = time.monotonic() + 10
    while not emails() and time.monotonic() < deadline:
        time.sleep(0.05)
    (confirmation,) = emails()
    assert confirmation["to"] == "Stack.Reader@example.org"
    confirm_url = next(u for u in confirmation["links"] if "/subscriptions/confirm?" in u)
    assert confirm_url.startswith(api_url + "/subscriptions/confirm?token=")
    status, headers, body = _http(confirm_url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"You&#x27;re subscribed" in body

    # A story published a moment after the confirmation, uploaded like an editor does.
    published = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    story = {
        "slug": "stack-digest-story",
        "title": "The stack <digest> story",
        "summary": "Uploaded to incoming/ and mailed by the digest.",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topics": ["ai"],
    }
    key = "incoming/newsletter/stack-digest-story.json"
    s3 = local_stack.backend.client("s3")
    s3.put_object(Bucket=local_stack.backend.bucket, Key=key, Body=json.dumps(story).encode())
    receipt = local_stack.wait_for_receipt(key, timeout=30)
    assert receipt["status"] == "ok", receipt
    sleep_until(published)  # public from then on: the digest takes public stories only

    status, _, body = _http(api_url + "/_local/digest", method="POST")
    assert status == 200
    reply = json.loads(body)  # the planner's reply, and the run once the senders finished it
    assert reply["outcome"] == "planned" and reply["status"] == "finished", reply
    assert (reply["stories"], reply["subscribers"], reply["messages"]) == (1, 1, 1)
    assert {o: reply[o] for o in ("sent", "failed", "suppressed", "skipped")} == {
        "sent": 1,
        "failed": 0,
        "suppressed": 0,
        "skipped": 0,
    }
    digest = emails()[-1]
    assert digest["to"] == "Stack.Reader@example.org"
    assert "The stack &lt;digest&gt; story" in digest["html"]
    assert "The stack <digest> story" in digest["text"]
    assert f"{api_url}/#/stories/stack-digest-story" in digest["links"]
    assert digest["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = digest["headers"]["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url in digest["links"]

    status, _, body = _http(  # RFC 8058 one-click, as a mail client sends it
        unsubscribe_url,
        method="POST",
        body=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, body
    assert b"You&#x27;re unsubscribed" in body
    status, _, body = _http(api_url + "/_local/digest", method="POST")
    assert json.loads(body)["outcome"] == "already planned"  # the same day: nothing queued
    assert len(emails()) == 2
