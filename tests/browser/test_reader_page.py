"""The reader page (web/) in a real browser against the local stack with the sample stories:
Recent Stories with "Load more", the topic filter, the story view, errors, and API text that
looks like markup staying text."""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from devtools.stack import Stack
from tests.support.browser import expect

if TYPE_CHECKING:
    from tests.support.browser import Reader

pytestmark = pytest.mark.browser

SEED_SLUG = "russia-china-ai-partnership-putin-sberbank"
SEED_HEADINGS = [
    "Key development",
    "Strategic implications",
    "Current landscape",
    "Military applications",
    "Future implications",
]
MARKUP_SLUG = "ai-filters-markup-payloads"
SOURCE_SLUG = "doe-fusion-roadmap-2030s-ai-investment"
RETRACTED_SLUG = "startup-room-temperature-chip-breakthrough"
DRAFT_SLUG = "chip-design-agents-verification"
# Screenshots for a look at the page (written on every run; CI may keep them as artifacts).
SCREENSHOTS = Path(os.environ.get("READER_SCREENSHOTS", tempfile.gettempdir()))


# -- the API, read directly, as the reference -------------------------------------------


def api(stack: Stack, path: str, **query: Any) -> dict[str, Any]:
    query = {k: v for k, v in query.items() if v is not None}
    url = stack.api_url + path + (f"?{urlencode(query)}" if query else "")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return dict(json.loads(response.read()))


def every_story(stack: Stack, topic: str | None = None) -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api(stack, "/stories", limit=50, topic=topic, cursor=cursor)
        stories += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return stories


def shown_date(timestamp: str) -> str:
    """2025-10-17T15:00:00Z -> "Oct 17, 2025" (in UTC, like the page)."""
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    return f"{moment:%b} {moment.day}, {moment.year}"


# -- page helpers -----------------------------------------------------------------------


def wait_for_list(reader: Reader, count: int) -> None:
    expect(reader.page.locator("#stories > li")).to_have_count(count)
    expect(reader.page.locator("#stories")).not_to_have_attribute("aria-busy", "true")


def load_everything(reader: Reader, total: int) -> None:
    """Click "Load more" until it disappears, checking each click appends one page."""
    button = reader.page.locator("#load-more")
    shown = reader.page.locator("#stories > li").count()
    while shown < total:
        expect(button).to_be_visible()
        button.click()
        shown = min(shown + 10, total)
        wait_for_list(reader, shown)
    expect(button).to_be_hidden()


def story_text(reader: Reader) -> dict[str, Any]:
    return dict(
        reader.page.eval_on_selector(
            "#story-container article",
            """article => ({
                title: article.querySelector("h1").textContent,
                meta: article.querySelector(".story__meta").textContent,
                intro: article.querySelector(".story__intro").textContent,
                topics: [...article.querySelectorAll(".tags a")].map(a => a.dataset.topic),
                sections: [...article.querySelectorAll("section")].map(section => ({
                    heading: section.querySelector("h2").textContent,
                    body: section.querySelector("p")?.textContent ?? null,
                    bullets: [...section.querySelectorAll("ul > li")].map(li => li.textContent),
                })),
            })""",
        )
    )


LIST_REQUEST = re.compile(r"/stories\?")
STORY_REQUEST = re.compile(r"/stories/[^/?]+$")


def release(held: list[Any]) -> None:
    """Let held API requests through."""
    while held:
        held.pop(0).continue_()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- Recent Stories ---------------------------------------------------------------------


def test_recent_stories_shows_the_newest_ten(reader: Reader, stack: Stack) -> None:
    reader.open()
    wait_for_list(reader, 10)
    page = reader.page
    expected = api(stack, "/stories", limit=10)["data"]
    cards = reader.cards()
    assert [c["slug"] for c in cards] == [s["slug"] for s in expected]
    for card, summary in zip(cards, expected, strict=True):
        assert card["title"] == summary["title"]
        assert card["excerpt"] == summary["excerpt"]
        assert card["date"] == shown_date(summary["published_at"])
        assert card["datetime"] == summary["published_at"]
        assert card["topics"] == summary["topics"]
        assert card["href"] == f"#/stories/{summary['slug']}"
    stamps = [c["datetime"] for c in cards]
    assert stamps == sorted(stamps, reverse=True)
    assert "Oct 17, 2025" in [c["date"] for c in cards]  # the SIGNAL/NOISE date style
    assert not {DRAFT_SLUG, RETRACTED_SLUG} & {c["slug"] for c in cards}
    expect(page.locator("#load-more")).to_be_visible()
    expect(page.locator("#list-status")).to_have_text("Showing 10 stories.")
    # The page's frame: language, landmarks, one h1, the sign-up box with its form.
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator("main")).to_have_count(1)
    expect(page.locator("h1:visible")).to_have_text("Recent Stories")
    expect(page.locator("#signup")).to_contain_text("Get SIGNAL/NOISE in your inbox daily")
    expect(page.locator("#signup form")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "reader-list.png"), full_page=True)


def test_load_more_appends_pages_until_the_last(reader: Reader, stack: Stack) -> None:
    everything = every_story(stack)
    assert len(everything) > 20
    reader.open()
    wait_for_list(reader, 10)
    first = [c["slug"] for c in reader.cards()]

    reader.page.locator("#load-more").click()
    wait_for_list(reader, 20)
    slugs = [c["slug"] for c in reader.cards()]
    assert slugs[:10] == first
    assert len(set(slugs)) == 20
    assert slugs == [s["slug"] for s in everything[:20]]

    load_everything(reader, len(everything))
    slugs = [c["slug"] for c in reader.cards()]
    assert slugs == [s["slug"] for s in everything]
    assert len(set(slugs)) == len(slugs)
    assert DRAFT_SLUG not in slugs
    assert RETRACTED_SLUG not in slugs


def test_a_loading_state_shows_while_the_api_answers(reader: Reader) -> None:
    page = reader.page
    held: list[Any] = []
    for pattern in (LIST_REQUEST, STORY_REQUEST):
        page.route(pattern, lambda route: held.append(route))  # hold until released

    reader.open()
    status = page.locator("#list-status")
    expect(status).to_have_text("Loading stories…")
    expect(status).to_be_visible()
    expect(page.locator("#stories")).to_have_attribute("aria-busy", "true")
    release(held)
    wait_for_list(reader, 10)
    expect(status).to_have_text("Showing 10 stories.")  # for screen readers: 1 px, clipped
    assert status.bounding_box()["width"] <= 1

    page.locator("#load-more").click()
    expect(page.locator("#load-more")).to_have_text("Loading…")
    expect(page.locator("#load-more")).to_have_attribute("aria-disabled", "true")
    expect(status).to_have_text("Loading more stories…")
    release(held)
    wait_for_list(reader, 20)
    expect(page.locator("#load-more")).to_have_text("Load more")

    page.locator(f'#stories > li[data-slug="{SEED_SLUG}"] h2 a').click()
    expect(page.locator("#story-status")).to_have_text("Loading story…")
    expect(page.locator("#story-container")).to_have_attribute("aria-busy", "true")
    release(held)
    expect(page.locator("#story-container h1")).to_be_visible()
    expect(page.locator("#story-status")).to_be_empty()


def test_keyboard_use_keeps_focus_visible_and_in_place(reader: Reader, stack: Stack) -> None:
    page = reader.page
    everything = every_story(stack)
    focused = "document.activeElement"
    outline = f"getComputedStyle({focused}).outlineStyle"

    # The skip link: visible when focused, moves focus to main, leaves the route alone.
    reader.open(f"#/stories/{SEED_SLUG}")
    expect(page.locator("#story-container h1")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate(f"{focused}.className") == "skip-link"
    assert page.evaluate(outline) == "solid"
    assert page.evaluate(f"{focused}.getBoundingClientRect().top") >= 0
    page.keyboard.press("Enter")
    assert page.evaluate(f"{focused}.id") == "main"
    expect(page).to_have_url(reader.url(f"#/stories/{SEED_SLUG}"))
    expect(page.locator("#story-container h1")).to_be_visible()

    # "Load more" from the keyboard keeps focus on the button, with a visible outline;
    # when the last page removes the button, focus moves on to the first new story.
    page.goto(reader.url("#/"))
    wait_for_list(reader, 10)
    button = page.locator("#load-more")
    button.focus()
    shown = 10
    while shown < len(everything):
        page.keyboard.press("Enter")
        shown = min(shown + 10, len(everything))
        wait_for_list(reader, shown)
        if shown < len(everything):
            assert page.evaluate(f"{focused}.id") == "load-more"
            assert page.evaluate(outline) == "solid"
    expect(button).to_be_hidden()
    first_of_last_page = everything[(len(everything) - 1) // 10 * 10]["slug"]
    assert page.evaluate(f"{focused}.closest('li')?.dataset.slug") == first_of_last_page
    assert page.evaluate(outline) == "solid"


def test_topic_filter_narrows_the_list_and_lives_in_the_hash(reader: Reader, stack: Stack) -> None:
    page = reader.page
    reader.open()
    wait_for_list(reader, 10)
    robotics = every_story(stack, "robotics")
    assert 0 < len(robotics) < 10

    page.locator('#topic-filter button[data-topic="robotics"]').click()
    expect(page).to_have_url(reader.url("#/topics/robotics"))
    wait_for_list(reader, len(robotics))
    cards = reader.cards()
    assert [c["slug"] for c in cards] == [s["slug"] for s in robotics]
    assert all("robotics" in c["topics"] for c in cards)
    expect(page.locator('#topic-filter button[data-topic="robotics"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator('#topic-filter button[data-topic=""]')).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.locator("#load-more")).to_be_hidden()

    # The hash is a link: a fresh load of it shows the same filtered list.
    policy = every_story(stack, "policy")
    page.goto(reader.url("#/topics/policy"))
    page.reload()
    wait_for_list(reader, min(10, len(policy)))
    load_everything(reader, len(policy))
    cards = reader.cards()
    assert [c["slug"] for c in cards] == [s["slug"] for s in policy]
    assert all("policy" in c["topics"] for c in cards)

    page.locator('#topic-filter button[data-topic=""]').click()  # "All"
    expect(page).to_have_url(reader.url("#/"))
    wait_for_list(reader, 10)
    assert [c["slug"] for c in reader.cards()] == [
        s["slug"] for s in api(stack, "/stories", limit=10)["data"]
    ]


# -- one story --------------------------------------------------------------------------


def test_story_view_shows_the_whole_story(reader: Reader, stack: Stack) -> None:
    page = reader.page
    story = api(stack, f"/stories/{SEED_SLUG}")["data"]
    reader.open()
    wait_for_list(reader, 10)
    page.locator(f'#stories > li[data-slug="{SEED_SLUG}"] h2 a').click()
    expect(page).to_have_url(reader.url(f"#/stories/{SEED_SLUG}"))
    expect(page.locator("#story-container h1")).to_have_text(story["title"])
    expect(page.locator("#list-view")).to_be_hidden()

    shown = story_text(reader)
    assert shown["title"] == story["title"]
    assert shown["intro"] == story["summary"]
    assert [s["heading"] for s in shown["sections"]] == SEED_HEADINGS
    assert shown["sections"] == [
        {"heading": s["heading"], "body": s.get("body"), "bullets": s["bullets"]}
        for s in story["sections"]
    ]
    assert shown["topics"] == story["topics"]
    assert "Oct 22, 2025" in shown["meta"]
    assert story["author"] in shown["meta"]
    assert story["source"] is None
    expect(page.locator(".story__source")).to_have_count(0)
    expect(page).to_have_title(f"{story['title']} — SIGNAL/NOISE")
    page.screenshot(path=str(SCREENSHOTS / "reader-story.png"), full_page=True)

    # Back to the list: the same stories, and focus returns to the story's link.
    page.locator("#back-link").click()
    expect(page).to_have_url(reader.url("#/"))
    wait_for_list(reader, 10)
    assert page.evaluate("document.activeElement.closest('li')?.dataset.slug") == SEED_SLUG


def test_story_source_is_a_safe_link(reader: Reader, stack: Stack) -> None:
    story = api(stack, f"/stories/{SOURCE_SLUG}")["data"]
    reader.open(f"#/stories/{SOURCE_SLUG}")
    link = reader.page.locator(".story__source a")
    expect(link).to_have_text(story["source"]["name"])
    expect(link).to_have_attribute("href", story["source"]["url"])
    expect(link).to_have_attribute("rel", "noopener noreferrer")


@pytest.mark.parametrize(
    ("slug", "status", "title", "words"),
    [
        (RETRACTED_SLUG, 410, "Gone", "retracted"),
        (DRAFT_SLUG, 404, "Not Found", "no story"),
        ("no-such-story", 404, "Not Found", "no story"),
    ],
)
def test_missing_and_retracted_stories_show_the_problem(
    reader: Reader, slug: str, status: int, title: str, words: str
) -> None:
    reader.open(f"#/stories/{slug}")
    alert = reader.page.locator("#story-container [role=alert]")
    expect(alert).to_have_attribute("data-status", str(status))
    expect(alert.locator("h1")).to_have_text(title)
    expect(alert).to_contain_text(words)
    expect(alert).to_contain_text(slug)  # the problem's detail names the story
    expect(reader.page.locator("#story-container article")).to_have_count(0)
    expect(reader.page.locator("#back-link")).to_be_visible()


def test_network_errors_are_readable(reader: Reader) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    reader.open(f"#/stories/{SEED_SLUG}", api=unreachable)
    alert = reader.page.locator("#story-container [role=alert]")
    expect(alert.locator("h1")).to_have_text("Network error")
    expect(alert).to_contain_text("could not be reached")
    expect(alert.get_by_role("button", name="Try again")).to_be_visible()

    reader.page.locator("#back-link").click()
    error = reader.page.locator("#list-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Network error")
    expect(reader.page.locator("#stories > li")).to_have_count(0)
    expect(reader.page.locator("#load-more")).to_be_hidden()


def test_api_parameter_points_the_page_at_another_origin(reader: Reader, stack: Stack) -> None:
    page = reader.page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # The page from "localhost", the API at 127.0.0.1: a cross-origin API, through CORS.
    port = stack.api_url.rsplit(":", 1)[1]
    page.goto(f"http://localhost:{port}/?{urlencode({'api': stack.api_url})}#/")
    wait_for_list(reader, 10)
    api_calls = [url for url in requests if "/stories" in url]
    assert api_calls
    assert all(url.startswith(f"{stack.api_url}/stories?") for url in api_calls)

    page.goto(reader.url("#/", api="javascript:alert(1)"))
    expect(page.locator("#list-error")).to_contain_text("must be an http:// or https:// URL")
    expect(page.locator("#stories > li")).to_have_count(0)


# -- text that looks like markup stays text ---------------------------------------------


def test_markup_in_a_story_is_shown_as_text(reader: Reader, stack: Stack) -> None:
    page = reader.page
    story = api(stack, f"/stories/{MARKUP_SLUG}")["data"]
    assert "<script>alert(1)</script>" in story["title"]

    reader.open()
    wait_for_list(reader, 10)
    page.locator("#load-more").click()  # the story is on the second page
    wait_for_list(reader, 20)
    card = page.locator(f'#stories > li[data-slug="{MARKUP_SLUG}"] h2')
    expect(card).to_have_text(story["title"])

    card.locator("a").click()
    title = page.locator("#story-container h1")
    expect(title).to_have_text(story["title"])
    assert "<script>" in title.evaluate("h1 => h1.textContent")
    assert title.evaluate("h1 => h1.children.length") == 0
    bullet = page.locator(".story__bullets li", has_text="onerror")
    expect(bullet).to_contain_text("<img src=x onerror=alert(1)>")
    assert bullet.evaluate("li => li.children.length") == 0

    expect(page.locator("img")).to_have_count(0)
    scripts = page.eval_on_selector_all("script", "all => all.map(s => s.getAttribute('src'))")
    assert scripts == ["app.js"]
    assert reader.injected() == {"xss": [], "injected": []}
    assert reader.dialogs == []


def test_story_uploaded_through_s3_shows_markup_as_text(reader: Reader, stack: Stack) -> None:
    page = reader.page
    slug = "browser-upload-markup-title"
    title = 'Uploaded: <img src=x onerror=alert(2)> & <b>bold</b> "quoted"'
    summary = "An intro with <script>alert(3)</script> in it."
    bullet = "A bullet with <svg onload=alert(4)></svg> and <a href=javascript:alert(5)>x</a>"
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    story = {
        "slug": slug,
        "title": title,
        "summary": summary,
        "published_at": now,
        "sections": [{"heading": "<h1>Heading</h1>", "body": "<b>lead</b>", "bullets": [bullet]}],
        "topics": ["browser-test"],
        "author": "<i>Tester</i>",
    }
    key = "incoming/test/browser-upload-markup.json"
    stack.backend.client("s3").put_object(
        Bucket=stack.backend.bucket, Key=key, Body=json.dumps(story).encode()
    )
    receipt = stack.wait_for_receipt(key)
    assert receipt["status"] == "ok", receipt
    assert receipt["counts"]["created"] == 1

    reader.open()  # the newest story: first in Recent Stories
    wait_for_list(reader, 10)
    first = reader.cards()[0]
    assert first["slug"] == slug
    assert first["title"] == title
    assert first["excerpt"] == summary
    expect(page.locator('#topic-filter button[data-topic="browser-test"]')).to_have_text(
        "browser test"
    )

    page.locator(f'#stories > li[data-slug="{slug}"] h2 a').click()
    expect(page.locator("#story-container h1")).to_have_text(title)
    shown = story_text(reader)
    assert shown["intro"] == summary
    assert shown["sections"] == [
        {"heading": "<h1>Heading</h1>", "body": "<b>lead</b>", "bullets": [bullet]}
    ]
    assert "By <i>Tester</i>" in shown["meta"]
    expect(page.locator("img, svg, b, i, #story-container a[href^='javascript']")).to_have_count(0)
    assert page.locator("#story-container h1").count() == 1
    assert reader.injected() == {"xss": [], "injected": []}
