"""The newsletter sign-up box of the reader page (web/) in a real browser against the local
stack: subscribing, the API's errors next to the field, the whole double opt-in through the
embedded SES (confirmation link, then a digest with a freshly uploaded story), the form
without JavaScript, and a typed address that looks like markup staying out of the page."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from devtools.stack import Stack
from tests.support.browser import expect
from tests.support.clock import sleep_until

if TYPE_CHECKING:
    from tests.support.browser import Reader

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("READER_SCREENSHOTS", tempfile.gettempdir()))
SUBSCRIBE_REQUEST = re.compile(r"/subscriptions$")
CONFIRM_SUBJECT = "Confirm your SIGNAL/NOISE subscription"
MARKUP_ADDRESS = '"<img src=x onerror=alert(1)>"@example.com'


# -- the API and the embedded SES, read directly, as the reference ----------------------


def post_subscription(stack: Stack, email: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        stack.api_url + "/subscriptions",
        data=json.dumps({"email": email}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
            return response.status, dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return error.code, dict(json.loads(error.read()))


def accepted_detail(stack: Stack) -> str:
    """What the API answers to every accepted subscription (the same for every address)."""
    status, body = post_subscription(stack, f"reference-{uuid.uuid4().hex[:8]}@example.com")
    assert status == 202, body
    return str(body["detail"])


def field_error(stack: Stack, email: str) -> str:
    """The API's message for an invalid address, as the page shows it (a sentence)."""
    status, body = post_subscription(stack, email)
    assert status == 400, body
    [error] = [e for e in body["errors"] if e["loc"] == ["body", "email"]]
    msg = str(error["msg"])
    return msg[0].upper() + msg[1:] + ("" if msg.endswith(".") else ".")


def emails_to(stack: Stack, address: str, subject: str = "") -> list[dict[str, Any]]:
    return [m for m in stack.sent_emails() if m["to"] == address and subject in m["subject"]]


def wait_for_email(stack: Stack, address: str, subject: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (found := emails_to(stack, address, subject)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no email {subject!r} to {address} after {timeout} s")
        time.sleep(0.05)
    assert len(found) == 1, found
    return found[0]


def fresh_address(tag: str) -> str:
    return f"reader-{tag}-{uuid.uuid4().hex[:10]}@example.com"


# -- page helpers -----------------------------------------------------------------------


def open_box(reader: Reader) -> Any:
    reader.open()
    expect(reader.page.locator("#stories > li").first).to_be_visible()
    box = reader.page.locator("#signup")
    expect(box.get_by_role("textbox", name="Email address")).to_be_visible()
    return box


def submit(reader: Reader, address: str) -> None:
    page = reader.page
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Subscribe").click()


def subscribe_on_page(reader: Reader, address: str) -> None:
    open_box(reader)
    submit(reader, address)
    expect(reader.page.locator("#signup-message")).to_contain_text("Check your inbox")


def assert_no_injection(reader: Reader) -> None:
    assert reader.injected() == {"xss": [], "injected": []}
    assert reader.dialogs == []


# -- the box ----------------------------------------------------------------------------


def test_the_box_is_a_real_form(reader: Reader, stack: Stack) -> None:
    box = open_box(reader)
    form = box.locator("form")
    expect(form).to_have_count(1)
    expect(form).to_have_attribute("method", "post")
    # The page's own origin is the API: app.js points the form at <api>/subscriptions.
    expect(form).to_have_attribute("action", f"{stack.api_url}/subscriptions")
    field = box.get_by_label("Email address")
    expect(field).to_have_attribute("type", "email")
    expect(field).to_have_attribute("name", "email")
    expect(field).to_have_attribute("autocomplete", "email")
    expect(field).to_have_attribute("required", "")
    expect(field).to_have_attribute("aria-describedby", "signup-error")
    expect(box.locator("#signup-error")).to_have_attribute("aria-live", "polite")
    expect(box.locator("#signup-message")).to_have_attribute("aria-live", "polite")
    button = box.get_by_role("button", name="Subscribe")
    expect(button).to_have_attribute("type", "submit")
    expect(button).to_be_enabled()
    # The dark box of the page: light text on the ink background.
    colours = box.evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]"
    )
    assert colours == ["rgb(22, 24, 29)", "rgb(255, 255, 255)"]


def test_subscribing_shows_the_confirmation_and_sends_the_email(
    reader: Reader, stack: Stack
) -> None:
    page = reader.page
    address = fresh_address("ok")
    detail = accepted_detail(stack)
    box = open_box(reader)
    held: list[Any] = []
    page.route(SUBSCRIBE_REQUEST, lambda route: held.append(route))  # hold until released

    page.get_by_label("Email address").fill(address)
    button = box.get_by_role("button", name=re.compile("Subscrib"))
    with page.expect_request(SUBSCRIBE_REQUEST) as sent:
        button.click()
    request = sent.value
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.post_data_json == {"email": address}

    # While the API answers: the button is disabled and says so.
    expect(button).to_be_disabled()
    expect(button).to_have_text("Subscribing…")
    expect(box.locator("form")).to_have_attribute("aria-busy", "true")
    held.pop().continue_()

    message = box.locator("#signup-message")
    expect(message).to_contain_text("Check your inbox.")
    expect(message).to_contain_text(detail)
    expect(button).to_be_enabled()
    expect(button).to_have_text("Subscribe")
    expect(box.locator("form")).not_to_have_attribute("aria-busy", "true")
    expect(box.locator("#signup-error")).to_be_empty()
    expect(page.get_by_label("Email address")).to_have_value("")
    expect(page.get_by_label("Email address")).not_to_have_attribute("aria-invalid", "true")
    assert address not in page.locator("body").inner_text()  # never echoed

    email = wait_for_email(stack, address, CONFIRM_SUBJECT)
    [link] = [link for link in email["links"] if "/subscriptions/confirm?token=" in link]
    assert link.startswith(f"{stack.api_url}/subscriptions/confirm?token=")
    box.screenshot(path=str(SCREENSHOTS / "reader-signup.png"))
    assert_no_injection(reader)


def test_an_invalid_address_shows_the_error_and_sends_nothing(reader: Reader, stack: Stack) -> None:
    page = reader.page
    box = open_box(reader)
    field = page.get_by_label("Email address")
    error = box.locator("#signup-error")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    before = len(stack.sent_emails())

    # The browser's own checks (required, type=email), in the page's words: no request.
    submit(reader, "")
    expect(error).to_have_text("Enter your email address.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    submit(reader, "no-at-sign.example.com")
    expect(error).to_have_text("Enter an email address like name@example.com.")
    assert posted == []

    # An address the browser takes but the API refuses: the problem's msg, by the field.
    for address in ("reader@localhost", "two..dots@example.com"):
        expected = field_error(stack, address)
        with page.expect_response(SUBSCRIBE_REQUEST) as answer:
            submit(reader, address)
        assert answer.value.status == 400
        expect(error).to_have_text(expected)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_be_focused()
        expect(field).to_have_value(address)  # kept for correcting
        expect(box.locator("#signup-message")).to_be_empty()
        expect(box.get_by_role("button", name="Subscribe")).to_be_enabled()
    assert len(posted) == 2
    assert "The domain is not valid." in field_error(stack, "reader@localhost")
    box.screenshot(path=str(SCREENSHOTS / "reader-signup-error.png"))

    assert len(stack.sent_emails()) == before  # nothing sent

    # Correcting the address clears the error.
    address = fresh_address("fixed")
    submit(reader, address)
    expect(box.locator("#signup-message")).to_contain_text("Check your inbox.")
    expect(error).to_be_empty()
    expect(field).not_to_have_attribute("aria-invalid", "true")
    wait_for_email(stack, address, CONFIRM_SUBJECT)


def test_double_opt_in_and_the_digest_in_the_browser(reader: Reader, stack: Stack) -> None:
    page = reader.page
    address = fresh_address("digest")
    subscribe_on_page(reader, address)

    # The confirmation link from the email, opened in the same browser.
    email = wait_for_email(stack, address, CONFIRM_SUBJECT)
    [link] = [link for link in email["links"] if "/subscriptions/confirm?token=" in link]
    assert f'href="{escape(link, quote=True)}"' in email["html"]
    page.goto(link)
    expect(page.locator("h1")).to_have_text("You're subscribed")
    expect(page).to_have_title(re.compile("^You're subscribed"))
    expect(page.locator("main p")).to_contain_text("inbox daily")

    # A story published after the subscription, uploaded through S3 like any other.
    slug = f"digest-browser-{uuid.uuid4().hex[:8]}"
    title = 'Digest check: <b>bold</b> & <script>alert(1)</script> "quoted"'
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    published = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    story = {
        "slug": slug,
        "title": title,
        "summary": "A story for the digest test, with <i>markup</i> in the summary.",
        "published_at": published,
        "sections": [{"heading": "What happened", "bullets": ["It was uploaded."]}],
        "topics": ["browser-test"],
        "author": "Tester",
    }
    key = "incoming/test/digest-story.json"
    stack.backend.client("s3").put_object(
        Bucket=stack.backend.bucket, Key=key, Body=json.dumps(story).encode()
    )
    receipt = stack.wait_for_receipt(key)
    assert receipt["status"] == "ok", receipt
    assert receipt["counts"]["created"] == 1
    # Public from its instant on (a second away at most): the digest takes public stories only.
    sleep_until(instant)

    result = stack.run_digest()
    assert result["sent"] >= 1, result
    [digest] = [m for m in emails_to(stack, address) if m["subject"] != CONFIRM_SUBJECT]
    assert re.fullmatch(r"SIGNAL/NOISE \d{4}-\d{2}-\d{2}: \d+ new stor(y|ies)", digest["subject"])
    assert title in digest["text"]
    # In the HTML part the title is text: escaped, never markup.
    assert escape(title) in digest["html"]
    for raw in ("<b>bold</b>", "<script>", '"quoted"'):
        assert raw not in digest["html"]
    story_link = f"{stack.api_url}/#/stories/{slug}"
    assert story_link in digest["links"]
    assert any("/subscriptions/unsubscribe?token=" in link for link in digest["links"])

    # The digest's story link opens the story on the reader page, the title as text.
    page.goto(story_link)
    heading = page.locator("#story-container h1")
    expect(heading).to_have_text(title)
    assert heading.evaluate("h1 => h1.children.length") == 0

    # A second run the same day sends this subscriber nothing more.
    stack.run_digest()
    assert len([m for m in emails_to(stack, address) if m["subject"] != CONFIRM_SUBJECT]) == 1
    assert_no_injection(reader)


# -- text that looks like markup stays text ---------------------------------------------


def test_a_markup_like_address_never_creates_elements(reader: Reader, stack: Stack) -> None:
    page = reader.page
    box = open_box(reader)
    error = box.locator("#signup-error")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    before = len(stack.sent_emails())

    # The API refuses the address anyway...
    status, body = post_subscription(stack, MARKUP_ADDRESS)
    assert status == 400, body
    # ...and the page does not even send it: type=email refuses the quotes and brackets.
    submit(reader, MARKUP_ADDRESS)
    expect(error).to_have_text("Enter an email address like name@example.com.")
    expect(page.get_by_label("Email address")).to_have_value(MARKUP_ADDRESS)
    assert posted == []
    assert error.evaluate("p => p.children.length") == 0
    assert "<img" not in page.locator("body").inner_text()

    # An address the browser and the API take, with characters HTML cares about.
    address = f"o'neil+{{b}}&amp{uuid.uuid4().hex[:6]}@example.com"
    submit(reader, address)
    expect(box.locator("#signup-message")).to_contain_text("Check your inbox.")
    assert address not in page.locator("body").inner_text()
    assert len(posted) == 1
    wait_for_email(stack, address, CONFIRM_SUBJECT)

    # Whatever the API says is text too: an answer with markup in msg and detail.
    answers = iter(
        [
            (
                400,
                "application/problem+json",
                {
                    "title": "Invalid parameters",
                    "detail": "the email address is not valid",
                    "errors": [{"loc": ["body", "email"], "msg": MARKUP_ADDRESS}],
                },
            ),
            (
                202,
                "application/json",
                {
                    "status": "accepted",
                    "detail": "<script>alert(2)</script><img src=x onerror=alert(3)>",
                },
            ),
            (
                503,
                "application/problem+json",
                {
                    "title": "<svg onload=alert(4)>",
                    "detail": "<iframe src=javascript:alert(5)>",
                },
            ),
        ]
    )

    def fake(route: Any) -> None:
        status, content_type, document = next(answers)
        route.fulfill(status=status, content_type=content_type, body=json.dumps(document))

    page.route(SUBSCRIBE_REQUEST, fake)
    address = fresh_address("fake")
    submit(reader, address)
    expect(error).to_contain_text("<img src=x onerror=alert(1)>")
    assert error.evaluate("p => p.children.length") == 0

    submit(reader, address)
    message = box.locator("#signup-message")
    expect(message).to_contain_text("<script>alert(2)</script><img src=x onerror=alert(3)>")
    submit(reader, address)
    expect(message).to_contain_text("<svg onload=alert(4)>")
    expect(message).to_contain_text("<iframe src=javascript:alert(5)>")
    expect(message).to_have_attribute("data-kind", "error")
    assert message.evaluate("el => el.querySelectorAll('*').length") == 2  # strong + span
    page.unroute(SUBSCRIBE_REQUEST)

    expect(box.locator("img, script, svg, iframe")).to_have_count(0)
    assert len(stack.sent_emails()) == before + 1  # only the real, valid address
    assert_no_injection(reader)


# -- without JavaScript -----------------------------------------------------------------


@pytest.fixture
def static_page(browser: Any) -> Iterator[Any]:
    """A page with JavaScript off: the form as the HTML alone makes it."""
    context = browser.new_context(java_script_enabled=False, service_workers="block")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_form_works_without_javascript(static_page: Any, stack: Stack) -> None:
    page = static_page
    page.goto(stack.api_url + "/")
    form = page.locator("#signup-form")
    expect(form).to_have_attribute("action", "/subscriptions")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)

    # The browser's own checks stop an invalid address before it is sent.
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_label("Email address").evaluate("input => !input.validity.valid")
    assert posted == []

    address = fresh_address("nojs")
    page.get_by_label("Email address").fill(address)
    with page.expect_response(SUBSCRIBE_REQUEST) as answer:
        page.get_by_role("button", name="Subscribe").click()
    response = answer.value
    assert response.status == 202
    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    # A browser posting the plain form gets a page for a person, not JSON.
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Check your inbox")
    wait_for_email(stack, address, CONFIRM_SUBJECT)
