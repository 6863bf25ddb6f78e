"""The emails the newsletter sends, as MIME messages. Every piece of story text is escaped
in the HTML part: a title with markup shows as text."""

from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from html import escape

from newsroom.core.timestamps import parse_stored
from newsroom.stories.items import StorySummary

BRAND = "SIGNAL/NOISE"
# Headers are written unfolded up to RFC 5322's limit of 998 characters: at the default 78,
# a long URL (List-Unsubscribe) is turned into RFC 2047 encoded-words, which mail clients do
# not decode in that header, so they would offer no (one-click) unsubscribe.
WIRE_POLICY = default_policy.clone(max_line_length=998)


def _date(stored: str) -> str:
    moment = parse_stored(stored)
    return f"{moment:%b} {moment.day}, {moment.year}"


def _message(
    sender: str, to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.policy = WIRE_POLICY  # after the parts: their transfer encodings stay as they are
    return message


def confirmation_email(sender: str, to: str, confirm_url: str) -> EmailMessage:
    """Double opt-in: the link that confirms the subscription."""
    text = (
        f"Confirm your subscription to {BRAND}\n\n"
        f"Open this link to get {BRAND} in your inbox daily:\n{confirm_url}\n\n"
        "The link works for 48 hours. If you did not ask for this, ignore this email: "
        "nothing happens until the link is opened.\n"
    )
    html = (
        f'<!doctype html><html lang="en"><body>'
        f"<h1>Confirm your subscription to {escape(BRAND)}</h1>"
        f'<p><a href="{escape(confirm_url, quote=True)}">Yes, send me {escape(BRAND)} daily</a></p>'
        "<p>The link works for 48 hours. If you did not ask for this, ignore this email.</p>"
        "</body></html>"
    )
    return _message(sender, to, f"Confirm your {BRAND} subscription", text, html)


def digest_email(
    sender: str,
    to: str,
    stories: list[StorySummary],
    *,
    story_url: str,
    unsubscribe_url: str,
    day: str,
) -> EmailMessage:
    """One daily digest: the Recent Stories summaries (title, date, excerpt, link)."""
    subject = f"{BRAND} {day}: {len(stories)} new stor{'y' if len(stories) == 1 else 'ies'}"
    text_parts = [f"{BRAND} — {day}\n"]
    html_parts = [
        '<!doctype html><html lang="en"><body>',
        f"<h1>{escape(BRAND)} — {escape(day)}</h1>",
    ]
    for story in stories:
        link = story_url.format(slug=story["slug"])
        text_parts.append(
            f"{story['title']}\n{_date(story['published_at'])}\n{story['excerpt']}\n{link}\n"
        )
        html_parts.append(
            f'<h2><a href="{escape(link, quote=True)}">{escape(story["title"])}</a></h2>'
            f"<p><small>{escape(_date(story['published_at']))}</small></p>"
            f"<p>{escape(story['excerpt'])}</p>"
        )
    text_parts.append(f"Unsubscribe: {unsubscribe_url}\n")
    html_parts.append(
        f'<p><small><a href="{escape(unsubscribe_url, quote=True)}">Unsubscribe</a>'
        "</small></p></body></html>"
    )
    headers = {
        # RFC 2369 / RFC 8058 one-click unsubscribe (mail clients POST to the URL).
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return _message(sender, to, subject, "\n".join(text_parts), "".join(html_parts), headers)
