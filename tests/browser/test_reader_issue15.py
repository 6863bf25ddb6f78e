"""The reader page (web/) around one story and across the archive, in a real browser against
the local stack with the sample stories: Recent Stories, related stories and older/newer links
below a story, preview links of drafts and scheduled stories, the topic filter from
``GET /topics`` and the daily archive (``#/archive/YYYY-MM-DD``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devtools.stack import Stack
from tests.browser.test_reader_page import (
    SEED_SLUG,
    api,
    every_story,
    load_everything,
    shown_date,
    wait_for_list,
)
from tests.support.browser import expect

if TYPE_CHECKING:
    from tests.support.browser import Reader

pytestmark = pytest.mark.browser

ARCHIVE_DAY = "2025-10-17"  # four sample stories
MARKUP_TITLE = "Markup around a story: <img src=x onerror=alert(1)> stays text"
CARDS = """lists => lists.map(li => ({
    slug: li.dataset.slug,
    date: li.querySelector("time").textContent,
    day: li.querySelector("a.card__date").getAttribute("href"),
    title: li.querySelector(".card__title").textContent,
    href: li.querySelector(".card__link").getAttribute("href"),
    excerpt: li.querySelector(".card__excerpt").textContent,
}))"""


# -- helpers ----------------------------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shown_time(timestamp: str) -> str:
    """2026-12-10T14:39:00Z -> "Dec 10, 2026, 14:39 UTC" (as the page shows an expiry)."""
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")
    return f"{shown_date(timestamp)}, {moment:%H:%M} UTC"


def story_file(slug: str, title: str, published_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "summary": f"The summary of {slug}.",
        "published_at": published_at,
        "sections": [{"heading": "What happened", "bullets": ["It was uploaded."]}],
        **extra,
    }


def upload(stack: Stack, key: str, body: bytes) -> dict[str, Any]:
    """Store a story file through S3 (the real ingest runs) and return its receipt."""
    stack.backend.client("s3").put_object(Bucket=stack.backend.bucket, Key=key, Body=body)
    receipt = stack.wait_for_receipt(key)
    assert receipt["status"] == "ok", receipt
    return receipt


def preview_token_of(receipt: dict[str, Any]) -> tuple[str, str]:
    """The slug and the token of the one story of a receipt, from its preview_url."""
    [entry] = receipt["stories"]
    [token] = parse_qs(urlsplit(entry["preview_url"]).query)["preview"]
    return entry["slug"], token


def cards_of(reader: Reader, selector: str) -> list[dict[str, Any]]:
    return list(reader.page.eval_on_selector_all(selector, CARDS))


def as_cards(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards the page should show for API summaries."""
    return [
        {
            "slug": s["slug"],
            "date": shown_date(s["published_at"]),
            "day": f"#/archive/{s['published_at'][:10]}",
            "title": s["title"],
            "href": f"#/stories/{s['slug']}",
            "excerpt": s["excerpt"],
        }
        for s in summaries
    ]


def open_story(reader: Reader, slug: str, title: str) -> None:
    reader.open(f"#/stories/{slug}")
    expect(reader.page.locator("#story-container article h1")).to_have_text(title)


# -- below a story ----------------------------------------------------------------------


def test_story_shows_recent_related_and_older_newer_links(reader: Reader, stack: Stack) -> None:
    page = reader.page
    body = api(stack, f"/stories/{SEED_SLUG}")
    assert body["related"] and body["recent"] and body["previous"] and body["next"]
    open_story(reader, SEED_SLUG, body["data"]["title"])

    assert cards_of(reader, "#recent-stories ol > li") == as_cards(body["recent"])
    assert cards_of(reader, "#related-stories ul > li") == as_cards(body["related"])
    expect(page.locator("#recent-stories h2")).to_have_text("Recent Stories")
    expect(page.locator("#related-stories h2")).to_have_text("Related stories")
    pager = page.get_by_role("navigation", name="Older and newer stories")
    older, newer = pager.locator("ul > li a").all()
    expect(older).to_have_text(f"← Older: {body['previous']['title']}")
    expect(older).to_have_attribute("href", f"#/stories/{body['previous']['slug']}")
    expect(newer).to_have_text(f"Newer: {body['next']['title']} →")
    expect(newer).to_have_attribute("href", f"#/stories/{body['next']['slug']}")
    # Headings in order: the story's h1, its sections' h2, then each list's h2 over its h3s.
    levels = page.eval_on_selector_all(
        "#story-container :is(h1, h2, h3, h4)", "all => all.map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))

    newer.click()
    expect(page).to_have_url(reader.url(f"#/stories/{body['next']['slug']}"))
    expect(page.locator("#story-container article h1")).to_have_text(body["next"]["title"])
    expect(page.locator("#story-container article h1")).to_be_focused()
    page.get_by_role("link", name=f"← Older: {body['data']['title']}").click()
    expect(page).to_have_url(reader.url(f"#/stories/{SEED_SLUG}"))
    expect(page.locator("#story-container article h1")).to_have_text(body["data"]["title"])

    first_recent = body["recent"][0]
    page.locator("#recent-stories .card__link").first.click()
    expect(page).to_have_url(reader.url(f"#/stories/{first_recent['slug']}"))
    expect(page.locator("#story-container article h1")).to_have_text(first_recent["title"])


def test_related_stories_are_hidden_when_there_are_none(reader: Reader, stack: Stack) -> None:
    slug = "browser-lonely-topic-story"
    story = story_file(slug, "A story alone on its topic", "2025-08-02T08:00:00Z")
    upload(stack, "incoming/test/lonely.json", json.dumps({**story, "topics": ["lonely"]}).encode())
    body = api(stack, f"/stories/{slug}")
    assert body["related"] == []
    open_story(reader, slug, story["title"])
    expect(reader.page.locator("#recent-stories ol > li")).to_have_count(len(body["recent"]))
    expect(reader.page.locator("#related-stories")).to_have_count(0)
    expect(reader.page.get_by_text("Related stories")).to_have_count(0)


# -- preview links ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "days_ahead", "words"),
    [("draft", None, "draft"), ("scheduled", 3, "scheduled")],
)
def test_preview_link_shows_a_banner_until_it_expires(
    reader: Reader, stack: Stack, status: str, days_ahead: int | None, words: str
) -> None:
    slug = f"browser-preview-{status}"
    title = f"A {status} story seen through its preview link"
    when = now_utc() + timedelta(days=days_ahead or 0)
    extra = {"status": "draft"} if status == "draft" else {}
    story = story_file(slug, title, stamp(when), topics=["ai"], **extra)
    receipt = upload(stack, f"incoming/test/preview-{status}.json", json.dumps(story).encode())
    assert receipt["stories"][0]["status"] == status
    slug, token = preview_token_of(receipt)
    expires = api(stack, f"/stories/{slug}", preview=token)["preview"]["expires_at"]

    reader.open(f"#/stories/{slug}?preview={token}")
    page = reader.page
    expect(page.locator("#story-container article h1")).to_have_text(title)
    banner = page.locator("#preview-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "status")
    text = banner.inner_text()
    assert text.startswith("Preview")
    assert words in text
    assert f"works until {shown_time(expires)}." in text
    expect(page).to_have_title(f"Preview: {title} — SIGNAL/NOISE")

    # Without the token the story is not there: a public link never opens a preview.
    page.goto(reader.url(f"#/stories/{slug}"))
    expect(page.locator("#story-container [role=alert]")).to_have_attribute("data-status", "404")
    expect(page.locator("#preview-banner")).to_be_hidden()


def test_receipt_preview_url_form_opens_the_preview(reader: Reader, stack: Stack) -> None:
    story = story_file("browser-preview-query", "A draft from the receipt's link", stamp(now_utc()))
    receipt = upload(
        stack, "incoming/test/preview-query.json", json.dumps({**story, "status": "draft"}).encode()
    )
    slug, token = preview_token_of(receipt)
    reader.open(f"#/stories/{slug}", preview=token)  # /?preview=<token>#/stories/<slug>
    page = reader.page
    expect(page.locator("#story-container article h1")).to_have_text(story["title"])
    expect(page.locator("#preview-banner")).to_contain_text("Preview of a draft")
    # The token moved into the route: following a link elsewhere does not carry it along.
    expect(page).to_have_url(reader.url(f"#/stories/{slug}?preview={token}"))


def test_invalid_preview_token_shows_not_found_and_no_banner(reader: Reader, stack: Stack) -> None:
    story = story_file("browser-preview-forged", "A draft nobody may see", stamp(now_utc()))
    receipt = upload(
        stack,
        "incoming/test/preview-forged.json",
        json.dumps({**story, "status": "draft"}).encode(),
    )
    slug, token = preview_token_of(receipt)
    expires, mac = token.split(".")
    forged = f"{int(expires) + 86_400}.{mac}"  # a later expiry under the same signature
    reader.open(f"#/stories/{slug}?preview={forged}")
    page = reader.page
    alert = page.locator("#story-container [role=alert]")
    expect(alert).to_have_attribute("data-status", "404")
    expect(alert.locator("h1")).to_have_text("Not Found")
    expect(alert).to_contain_text("We could not find this story.")
    expect(page.locator("#preview-banner")).to_be_hidden()
    expect(page.locator("#preview-banner")).to_be_empty()
    expect(page.locator("#story-container article")).to_have_count(0)
    assert story["title"] not in page.locator("body").inner_text()


# -- topic filter -----------------------------------------------------------------------


def test_topic_filter_lists_the_topics_with_counts_and_filters(
    reader: Reader, stack: Stack
) -> None:
    topics = api(stack, "/topics")["data"]
    reader.open()
    wait_for_list(reader, 10)
    page = reader.page
    shown = page.eval_on_selector_all(
        "#topic-filter > li",
        """items => items.map(li => ({
            topic: li.querySelector("button").dataset.topic,
            count: li.querySelector(".topic__count")?.firstChild.textContent ?? null,
            described: li.querySelector("button").getAttribute("aria-describedby"),
            countId: li.querySelector(".topic__count")?.id ?? null,
        }))""",
    )
    assert [s["topic"] for s in shown] == ["", *(t["topic"] for t in topics)]
    assert [s["count"] for s in shown] == [None, *(str(t["count"]) for t in topics)]
    assert all(s["described"] == s["countId"] for s in shown)  # read out with the button

    chosen = topics[0]  # the largest: more than a page
    assert chosen["count"] > 10
    stories = every_story(stack, chosen["topic"])
    assert len(stories) == chosen["count"]
    page.locator(f'#topic-filter button[data-topic="{chosen["topic"]}"]').click()
    expect(page).to_have_url(reader.url(f"#/topics/{chosen['topic']}"))
    wait_for_list(reader, min(10, len(stories)))
    load_everything(reader, len(stories))
    assert [c["slug"] for c in reader.cards()] == [s["slug"] for s in stories]
    assert all(chosen["topic"] in c["topics"] for c in reader.cards())
    expect(page.locator(f'#topic-filter button[data-topic="{chosen["topic"]}"]')).to_have_attribute(
        "aria-pressed", "true"
    )


# -- daily archive ----------------------------------------------------------------------


def test_archive_route_lists_only_that_days_stories(reader: Reader, stack: Stack) -> None:
    day = api(stack, "/stories", date=ARCHIVE_DAY, limit=50)["data"]
    assert 1 < len(day) < 10
    page = reader.page
    reader.open()
    wait_for_list(reader, 10)
    date_link = page.locator(f'#stories > li[data-slug="{day[0]["slug"]}"] a.card__date')
    expect(date_link).to_have_attribute("href", f"#/archive/{ARCHIVE_DAY}")
    date_link.click()  # a story's date opens its day
    expect(page).to_have_url(reader.url(f"#/archive/{ARCHIVE_DAY}"))
    wait_for_list(reader, len(day))
    cards = reader.cards()
    assert [c["slug"] for c in cards] == [s["slug"] for s in day]
    assert all(c["datetime"].startswith(f"{ARCHIVE_DAY}T") for c in cards)
    expect(page.locator("#list-heading")).to_have_text("Stories of Oct 17, 2025")
    expect(page.locator("#list-heading")).to_be_focused()
    expect(page.locator("#load-more")).to_be_hidden()
    expect(page).to_have_title("Stories of Oct 17, 2025 — SIGNAL/NOISE")

    page.goto(reader.url("#/archive/2025-10-16"))  # a day without stories
    expect(page.locator("#list-status")).to_have_text("There are no stories on this day.")
    expect(page.locator("#stories > li")).to_have_count(0)


def test_archive_pages_with_load_more(reader: Reader, stack: Stack) -> None:
    day = "2025-08-04"
    lines = [
        json.dumps(
            story_file(
                f"browser-archive-{hour:02d}", f"Archive story {hour}", f"{day}T{hour:02d}:00:00Z"
            )
        )
        for hour in range(13)
    ]
    receipt = upload(stack, "incoming/test/archive-day.jsonl", "\n".join(lines).encode())
    assert receipt["counts"]["created"] + receipt["counts"]["unchanged"] == 13
    reader.open(f"#/archive/{day}")
    wait_for_list(reader, 10)
    load_everything(reader, 13)
    slugs = [c["slug"] for c in reader.cards()]
    assert slugs == [f"browser-archive-{hour:02d}" for hour in reversed(range(13))]
    assert all(c["datetime"].startswith(f"{day}T") for c in reader.cards())


# -- text that looks like markup stays text ---------------------------------------------


def test_markup_in_titles_around_a_story_is_shown_as_text(reader: Reader, stack: Stack) -> None:
    slug = "browser-markup-around"
    story = story_file(slug, MARKUP_TITLE, stamp(now_utc()), topics=["ai"])
    upload(stack, "incoming/test/markup-around.json", json.dumps(story).encode())
    neighbour = api(stack, f"/stories/{slug}")["previous"]
    assert neighbour is not None
    assert api(stack, f"/stories/{SEED_SLUG}")["recent"][0]["slug"] == slug
    page = reader.page

    open_story(reader, SEED_SLUG, api(stack, f"/stories/{SEED_SLUG}")["data"]["title"])
    recent = page.locator(f'#recent-stories li[data-slug="{slug}"] .card__title')
    expect(recent).to_have_text(MARKUP_TITLE)
    assert recent.evaluate("h => h.firstElementChild.children.length") == 0

    open_story(reader, neighbour["slug"], neighbour["title"])
    newer = page.get_by_role("navigation", name="Older and newer stories").locator("a[rel=next]")
    expect(newer).to_have_text(f"Newer: {MARKUP_TITLE} →")
    newer.click()
    expect(page.locator("#story-container article h1")).to_have_text(MARKUP_TITLE)
    related = page.locator("#related-stories .card__title").first
    expect(related).to_be_visible()

    page.goto(reader.url(f"#/archive/{story['published_at'][:10]}"))
    expect(page.locator(f'#stories > li[data-slug="{slug}"] h2')).to_have_text(MARKUP_TITLE)
    expect(page.locator("img")).to_have_count(0)
    assert reader.injected() == {"xss": [], "injected": []}
