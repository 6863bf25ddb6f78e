"""``newsroom.newsletter.emails``: the MIME emails as the recipient's mail client reads them. The
confirmation email has a text and an HTML part with the link and its 48 hours; the daily
digest lists each story's title, date, excerpt and link in both parts in the given order,
counts the stories in its subject, escapes story text in HTML and keeps it literal in text,
and carries the unsubscribe link and the one-click ``List-Unsubscribe`` headers, literal on
the wire."""

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from newsroom.newsletter.emails import confirmation_email, digest_email
from newsroom.stories.items import StorySummary

IDENT = "0123456789abcdef0123456789abcdef"
SENDER = "newsletter@signal-noise.example"


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


STORIES: list[StorySummary] = [
    {
        "slug": "second",
        "title": "Second <b>bold</b> & <script>alert(1)</script>",
        "excerpt": 'An "excerpt" with <i>markup</i>.',
        "published_at": "2025-10-05T08:00:00Z",
        "updated_at": "2025-10-05T08:00:00Z",
        "topics": [],
    },
    {
        "slug": "first",
        "title": "First story",
        "excerpt": "Plain excerpt.",
        "published_at": "2025-09-30T23:59:59Z",
        "updated_at": "2025-09-30T23:59:59Z",
        "topics": [],
    },
]
# As long as a real one: longer than a header line may be before it is folded.
UNSUBSCRIBE = (
    "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/subscriptions/unsubscribe"
    f"?token=unsubscribe.{IDENT}.0.{'M' * 43}"
)


def _digest_message(stories: list[StorySummary] = STORIES) -> EmailMessage:
    return digest_email(
        SENDER,
        "reader@example.com",
        stories,
        story_url="https://site.example/stories/{slug}?from=mail&x=1",
        unsubscribe_url=UNSUBSCRIBE,
        day="2025-10-06",
    )


def _digest(stories: list[StorySummary] = STORIES) -> Any:
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
