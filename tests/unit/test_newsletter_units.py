"""The newsletter's building blocks, one rule per test: address validation and normalisation,
the keyed address id, signed link tokens, the MIME emails, the SES send-rate limit, the
signing key read from SSM, the settings, and the newsletter's sample events in ``events/``."""

import email
import email.policy
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from devtools.template import ROOT, function_environment, load_template, resource
from newsroom.newsletter import mailer as mailer_module
from newsroom.newsletter.addresses import (
    MAX_ADDRESS_LENGTH,
    InvalidAddress,
    address_id,
    normalize_address,
)
from newsroom.newsletter.emails import confirmation_email, digest_email
from newsroom.newsletter.mailer import Mailer, SigningKey
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.tokens import CONFIRM_TTL_SECONDS, InvalidToken, issue_token, verify_token

KEY = b"unit-test-signing-key"
OTHER_KEY = b"another-signing-key"
NOW = 1_790_000_000
IDENT = "0123456789abcdef0123456789abcdef"
SENDER = "newsletter@signal-noise.example"
EVENTS = ROOT / "events"


# -- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("reader@example.com", "reader@example.com"),
        ("  reader@example.com\t\n", "reader@example.com"),  # trimmed
        ("Reader.One@Example.COM", "Reader.One@example.com"),  # domain lower-cased only
        ("o'brien+news@mail.Example.co.UK", "o'brien+news@mail.example.co.uk"),
        ("a@b.co", "a@b.co"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),  # IDNA
        ("first.last@xn--bcher-kva.de", "first.last@xn--bcher-kva.de"),
    ],
)
def test_addresses_are_trimmed_and_their_domain_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_address(raw) == normalized


def test_the_local_part_keeps_its_case() -> None:
    assert normalize_address("Reader@example.com") != normalize_address("reader@example.com")


def test_addresses_at_the_length_limits_are_valid() -> None:
    local = "l" * 64
    domain = ".".join(["d" * 63, "d" * 63, "d" * (MAX_ADDRESS_LENGTH - 64 - 1 - 128 - 4), "com"])
    address = f"{local}@{domain}"
    assert len(address) == MAX_ADDRESS_LENGTH
    assert normalize_address(address) == address


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "reader",
        "reader@",
        "@example.com",
        "reader@example",  # no top-level domain
        "reader@example.c",  # one-letter top-level domain
        "reader@example.123",
        "reader@@example.com",
        "read er@example.com",
        "reader@exa mple.com",
        ".reader@example.com",
        "reader.@example.com",
        "rea..der@example.com",
        '"quoted"@example.com',
        "reader@[127.0.0.1]",
        "reader@-example.com",
        "reader@example-.com",
        "reader@example..com",
        "reader@" + "d" * 64 + ".com",  # a label longer than 63
        "l" * 65 + "@example.com",  # local part longer than 64
        "l" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 63 + ".com",  # 255 characters
        "reader\n@example.com",  # a line break would end up in the To header
        "reader@example\n.com",
        "reader@exa\nmple.com",
        "reader@example.com\r\nBcc: victim@example.com",
        "<reader@example.com>",
        "Reader <reader@example.com>",
        "reader@example.com, other@example.com",
    ],
    ids=repr,
)
def test_invalid_addresses_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(raw)
    assert str(caught.value)
    local = raw.strip().partition("@")[0]
    if len(local) > 3:
        assert local not in str(caught.value)  # the reason never repeats the address


@pytest.mark.parametrize("raw", [None, 42, ["reader@example.com"], {"email": "a@b.co"}])
def test_addresses_must_be_strings(raw: object) -> None:
    with pytest.raises(InvalidAddress, match="string"):
        normalize_address(raw)


def test_the_address_id_is_a_stable_keyed_hash() -> None:
    ident = address_id(KEY, "reader@example.com")
    assert re.fullmatch(r"[0-9a-f]{32}", ident)
    assert address_id(KEY, "reader@example.com") == ident
    assert address_id(OTHER_KEY, "reader@example.com") != ident  # not reversible without it
    assert address_id(KEY, "Reader@example.com") != ident
    assert "reader" not in ident


# -- tokens --------------------------------------------------------------------------------


def test_a_confirm_token_names_its_purpose_the_address_id_and_expires_in_48_hours() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    purpose, ident, expires, mac = token.split(".")
    assert (purpose, ident, int(expires)) == ("confirm", IDENT, NOW + 48 * 3600)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", mac)
    found = verify_token(KEY, token, "confirm", NOW)
    assert (found.purpose, found.address_id, found.expires) == ("confirm", IDENT, NOW + 172800)


def test_a_confirm_token_works_until_its_expiry_and_not_a_second_later() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    verify_token(KEY, token, "confirm", NOW + CONFIRM_TTL_SECONDS)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(KEY, token, "confirm", NOW + CONFIRM_TTL_SECONDS + 1)


def test_an_unsubscribe_token_never_expires() -> None:
    token = issue_token(KEY, "unsubscribe", IDENT, NOW)
    assert token.split(".")[2] == "0"
    found = verify_token(KEY, token, "unsubscribe", NOW + 50 * 365 * 24 * 3600)
    assert (found.address_id, found.expires) == (IDENT, 0)


def _flip(text: str, index: int, alphabet: str) -> str:
    replacement = next(c for c in alphabet if c != text[index])
    return text[:index] + replacement + text[index + 1 :]


def _tampered(token: str, part: int, index: int = 5) -> str:
    parts = token.split(".")
    alphabet = "0123456789abcdef" if part in (1, 2) else "ABCDEFGH"
    parts[part] = _flip(parts[part], index if part != 2 else 0, alphabet)
    return ".".join(parts)


@pytest.mark.parametrize(
    ("purpose", "part"),
    [("confirm", 1), ("confirm", 2), ("confirm", 3), ("unsubscribe", 1), ("unsubscribe", 3)],
    ids=["confirm-id", "confirm-expiry", "confirm-mac", "unsubscribe-id", "unsubscribe-mac"],
)
def test_a_tampered_token_is_rejected(purpose: Any, part: int) -> None:
    token = issue_token(KEY, purpose, IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, _tampered(token, part), purpose, NOW)


def test_a_token_re_labelled_with_another_purpose_is_rejected() -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    relabelled = "unsubscribe." + token.split(".", 1)[1]
    with pytest.raises(InvalidToken):
        verify_token(KEY, relabelled, "unsubscribe", NOW)


@pytest.mark.parametrize(
    ("issued", "used"), [("confirm", "unsubscribe"), ("unsubscribe", "confirm")]
)
def test_a_token_for_another_purpose_is_rejected(issued: Any, used: Any) -> None:
    token = issue_token(KEY, issued, IDENT, NOW)
    with pytest.raises(InvalidToken, match=f"not a {used} link"):
        verify_token(KEY, token, used, NOW)


def test_a_token_signed_with_another_key_is_rejected() -> None:
    token = issue_token(OTHER_KEY, "confirm", IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token, "confirm", NOW)


def test_a_token_carrying_another_address_id_is_rejected() -> None:
    mine = issue_token(KEY, "confirm", IDENT, NOW)
    other = address_id(KEY, "someone.else@example.com")
    spliced = mine.replace(IDENT, other)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, spliced, "confirm", NOW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "bogus",
        "confirm",
        "confirm..0.",
        "subscribe." + IDENT + ".0." + "A" * 43,
        "confirm." + IDENT.upper() + ".0." + "A" * 43,
        "confirm." + IDENT + ".0." + "A" * 44,
        "confirm." + IDENT + ".1234567890123.x" + "A" * 42,
        "confirm." + IDENT + ".-1." + "A" * 43,
    ],
    ids=repr,
)
def test_a_malformed_token_is_rejected(token: Any) -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token, "confirm", NOW)


@pytest.mark.parametrize("suffix", ["\n", " ", "\r\n", ".", "%0A"])
def test_a_token_with_anything_appended_is_rejected(suffix: str) -> None:
    token = issue_token(KEY, "confirm", IDENT, NOW)
    with pytest.raises(InvalidToken, match="not valid"):
        verify_token(KEY, token + suffix, "confirm", NOW)


# -- emails --------------------------------------------------------------------------------


def _reparsed(message: EmailMessage) -> Any:
    """The message as the recipient's mail client reads it (through its wire form)."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def _parts(message: Any) -> tuple[str, str]:
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


def test_the_confirmation_email_has_a_text_and_an_html_part_with_the_link() -> None:
    url = "https://api.example/v1/subscriptions/confirm?token=confirm.abc.1.x&x=<y>"
    message = _reparsed(confirmation_email(SENDER, "reader@example.com", url))
    assert message["From"] == SENDER
    assert message["To"] == "reader@example.com"
    assert "Confirm" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"].endswith("@signal-noise.example>")
    text, html = _parts(message)
    assert url in text.splitlines()
    assert (
        'href="https://api.example/v1/subscriptions/confirm?token=confirm.abc.1.x&amp;x=&lt;y&gt;"'
        in html
    )
    assert "48 hours" in text and "48 hours" in html


STORIES = [
    {
        "slug": "second",
        "title": "Second <b>bold</b> & <script>alert(1)</script>",
        "excerpt": 'An "excerpt" with <i>markup</i>.',
        "published_at": "2025-10-05T08:00:00Z",
    },
    {
        "slug": "first",
        "title": "First story",
        "excerpt": "Plain excerpt.",
        "published_at": "2025-09-30T23:59:59Z",
    },
]
# As long as a real one: longer than a header line may be before it is folded.
UNSUBSCRIBE = (
    "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/subscriptions/unsubscribe"
    f"?token=unsubscribe.{IDENT}.0.{'M' * 43}"
)


def _digest_message(stories: list[dict[str, Any]] = STORIES) -> EmailMessage:
    return digest_email(
        SENDER,
        "reader@example.com",
        stories,
        story_url="https://site.example/stories/{slug}?from=mail&x=1",
        unsubscribe_url=UNSUBSCRIBE,
        day="2025-10-06",
    )


def _digest(stories: list[dict[str, Any]] = STORIES) -> Any:
    return _reparsed(_digest_message(stories))


def _wire_headers() -> list[str]:
    """The digest's top-level header lines exactly as SES receives them."""
    return _digest_message().as_bytes().decode().split("\n\n", 1)[0].splitlines()


def test_the_digest_lists_titles_dates_excerpts_and_links_in_both_parts() -> None:
    message = _digest()
    assert message["Subject"] == "SIGNAL/NOISE 2025-10-06: 2 new stories"
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    for story, date in zip(STORIES, ("Oct 5, 2025", "Sep 30, 2025"), strict=True):
        link = f"https://site.example/stories/{story['slug']}?from=mail&x=1"
        assert f"{story['title']}\n{date}\n{story['excerpt']}\n{link}\n" in text
        assert f'href="{link.replace("&", "&amp;")}"' in html
        assert f"<small>{date}</small>" in html
    assert text.index("Second") < text.index("First story")  # in the given (newest first) order
    assert html.index("Second") < html.index("First story")


def test_the_digest_subject_counts_one_story_in_the_singular() -> None:
    assert _digest(STORIES[1:])["Subject"] == "SIGNAL/NOISE 2025-10-06: 1 new story"


def test_the_digest_escapes_story_text_in_html_and_keeps_it_literal_in_text() -> None:
    text, html = _parts(_digest())
    assert "Second &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "An &quot;excerpt&quot; with &lt;i&gt;markup&lt;/i&gt;." in html
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "Second <b>bold</b> & <script>alert(1)</script>" in text
    assert 'An "excerpt" with <i>markup</i>.' in text


def test_the_digest_carries_the_unsubscribe_link_and_one_click_headers() -> None:
    message = _digest()
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    # On the wire the URL stays literal (RFC 2369 headers are not RFC 2047-decoded).
    header_lines = _wire_headers()
    assert f"List-Unsubscribe: <{UNSUBSCRIBE}>" in header_lines
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in header_lines
    assert not any("=?" in line for line in header_lines)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = _parts(message)
    assert f"Unsubscribe: {UNSUBSCRIBE}" in text
    assert f'href="{UNSUBSCRIBE}">Unsubscribe</a>' in html


# -- sending, the key, settings ------------------------------------------------------------


class FakeTime:
    """``time.monotonic``/``time.sleep`` of the newsletter module, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeSes:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_raw_email(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def test_the_mailer_stays_under_the_ses_send_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(mailer_module, "time", fake)
    ses = FakeSes()
    mailer = Mailer(ses, max_per_second=10)
    message = confirmation_email(SENDER, "reader@example.com", "https://x/c")
    for _ in range(4):
        mailer.send(message)
    assert fake.sleeps == pytest.approx([0.1, 0.1, 0.1])
    fake.now += 5  # idle for a while: the next one goes at once
    mailer.send(message)
    assert len(fake.sleeps) == 3
    assert len(ses.sent) == 5
    assert ses.sent[0] == {"RawMessage": {"Data": message.as_bytes()}}  # our headers kept


def test_a_send_rate_of_zero_means_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(mailer_module, "time", fake)
    mailer = Mailer(FakeSes(), max_per_second=0)
    for _ in range(5):
        mailer.send(confirmation_email(SENDER, "reader@example.com", "https://x/c"))
    assert fake.sleeps == []


def test_the_signing_key_is_read_once_from_a_secure_string() -> None:
    calls: list[dict[str, Any]] = []

    class FakeSsm:
        def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"Parameter": {"Value": "s3cr3t"}}

    key = SigningKey(FakeSsm(), "/signal-noise/newsletter/signing-key")
    assert key.value == b"s3cr3t"
    assert key.value == b"s3cr3t"
    assert calls == [{"Name": "/signal-noise/newsletter/signing-key", "WithDecryption": True}]


def test_newsletter_settings_come_from_the_template_environment() -> None:
    env = {
        **function_environment("DigestFunction"),
        "SUBSCRIBERS_TABLE": "subs",
        "STORIES_TABLE": "stories",
        "PUBLIC_API_URL": "https://news.example/api/",
        "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    }
    settings = NewsletterSettings.from_env(env)
    assert settings.subscribers_table == "subs"
    assert settings.stories_table == "stories"
    assert settings.sender == SENDER
    assert settings.signing_key_parameter == "/signal-noise/newsletter/signing-key"
    assert settings.public_api_url == "https://news.example/api"  # no trailing slash
    assert settings.story_url_template == "https://signal-noise.example/stories/{slug}"
    assert settings.max_send_rate == 10.0
    assert settings.cors_origins == ("https://a.example", "https://b.example")


# -- events/ -------------------------------------------------------------------------------


def _function_events(logical_id: str, kind: str) -> list[dict[str, Any]]:
    return [
        event["Properties"]
        for event in resource(logical_id).get("Events", {}).values()
        if event["Type"] == kind
    ]


SUBSCRIPTION_EVENTS = {
    "api-subscribe.json": ("POST", "/subscriptions"),
    "api-subscribe-invalid.json": ("POST", "/subscriptions"),
    "api-confirm-invalid.json": ("GET", "/subscriptions/confirm"),
}


def test_every_subscription_event_is_checked_here() -> None:
    under_subscriptions = {
        p.name
        for p in EVENTS.glob("api-*.json")
        if json.loads(p.read_text())["resource"].startswith("/subscriptions")
    }
    assert under_subscriptions == set(SUBSCRIPTION_EVENTS)
    assert {p.name for p in EVENTS.glob("schedule-*.json")} == {"schedule-digest.json"}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTION_EVENTS))
def test_subscription_events_are_rest_proxy_events_for_the_subscriptions_function(
    name: str,
) -> None:
    path = EVENTS / name
    text = path.read_text()
    event = json.loads(text)
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n", "not pretty JSON"
    route = (event["httpMethod"], event["resource"])
    assert route == SUBSCRIPTION_EVENTS[name]
    declared = {
        (e["Method"].upper(), e["Path"]) for e in _function_events("SubscriptionsFunction", "Api")
    }
    assert route in declared
    assert event["path"] == event["resource"]
    context = event["requestContext"]
    assert (context["httpMethod"], context["resourcePath"]) == route
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert {k: [v] for k, v in event["headers"].items()} == event["multiValueHeaders"]
    if event["httpMethod"] == "POST":
        assert event["headers"]["Content-Type"] == "application/json"
        assert set(json.loads(event["body"])) == {"email"}
    multi = event["multiValueQueryStringParameters"]
    assert event["queryStringParameters"] == (
        None if multi is None else {k: v[-1] for k, v in multi.items()}
    )


def test_the_schedule_event_is_what_eventbridge_sends_the_digest() -> None:
    path: Path = EVENTS / "schedule-digest.json"
    text = path.read_text()
    event = json.loads(text)
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n", "not pretty JSON"
    assert set(event) == {
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    }  # fmt: skip
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", event["time"])
    assert re.fullmatch(r"arn:aws:events:us-east-1:\d{12}:rule/.+", event["resources"][0])
    # The digest is the function with the schedule, and its schedule fires at that hour.
    scheduled = [
        logical_id
        for logical_id, res in load_template()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and _function_events(logical_id, "Schedule")
    ]
    assert scheduled == ["DigestFunction"]
    assert load_template()["Parameters"]["DigestSchedule"]["Default"] == "cron(0 7 * * ? *)"
    assert event["time"].endswith("T07:00:00Z")
