"""The reader page (web/) for everyone, in a real browser against the local stack with the
sample stories: no WCAG 2.1 AA violation found by axe-core (list, story, preview, errors and
every state of the sign-up box, light and dark), keyboard use alone, dark mode from
``prefers-color-scheme``, a 360 px wide screen, and Lighthouse's accessibility and best
practices scores with no layout shift while the stories load."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from devtools.lighthouse import LIGHTHOUSE, run_lighthouse
from devtools.stack import Stack
from tests.browser.test_reader_issue15 import (
    now_utc,
    preview_token_of,
    stamp,
    story_file,
    upload,
)
from tests.browser.test_reader_page import (
    LIST_REQUEST,
    SCREENSHOTS,
    SEED_SLUG,
    wait_for_list,
)
from tests.support.browser import axe_violations, describe_violations, expect
from tests.support.tiers import unavailable

if TYPE_CHECKING:
    from tests.support.browser import Reader

pytestmark = pytest.mark.browser

SCHEMES = ["light", "dark"]
SUBSCRIBE_REQUEST = re.compile(r"/subscriptions$")
FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])"
# How the tests name an element: the same string for the same element, whichever way found.
DESCRIBE = """el => [el.tagName, el.id, el.dataset.topic ?? "", el.getAttribute("href") ?? "",
    el.textContent.trim().slice(0, 40)].join("|")"""


def assert_no_violations(reader: Reader) -> None:
    violations = axe_violations(reader.page)
    assert violations == [], "axe-core found WCAG 2.1 AA violations:\n" + describe_violations(
        violations
    )


def in_scheme(reader: Reader, scheme: str) -> None:
    reader.page.emulate_media(color_scheme=scheme)


def open_list(reader: Reader) -> None:
    reader.open()
    wait_for_list(reader, 10)


def open_story(reader: Reader, slug: str = SEED_SLUG) -> None:
    reader.open(f"#/stories/{slug}")
    expect(reader.page.locator("#story-container article h1")).to_be_visible()


def focused(reader: Reader) -> str:
    return str(reader.page.evaluate(f"({DESCRIBE})(document.activeElement)"))


# -- axe-core: no WCAG 2.1 AA violation -------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_recent_stories_have_no_wcag_violations(axe_reader: Reader, scheme: str) -> None:
    in_scheme(axe_reader, scheme)
    open_list(axe_reader)
    assert_no_violations(axe_reader)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_loading_placeholders_have_no_wcag_violations(axe_reader: Reader, scheme: str) -> None:
    page = axe_reader.page
    held: list[Any] = []
    page.route(LIST_REQUEST, lambda route: held.append(route))  # hold until the check is done
    in_scheme(axe_reader, scheme)
    axe_reader.open()
    expect(page.locator("#list-skeleton")).to_be_visible()
    expect(page.locator("#list-status")).to_have_text("Loading stories…")
    assert_no_violations(axe_reader)
    for route in held:
        route.continue_()
    wait_for_list(axe_reader, 10)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_story_has_no_wcag_violations(axe_reader: Reader, scheme: str) -> None:
    in_scheme(axe_reader, scheme)
    open_story(axe_reader)
    expect(axe_reader.page.locator("#recent-stories")).to_be_visible()
    assert_no_violations(axe_reader)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_preview_has_no_wcag_violations(axe_reader: Reader, stack: Stack, scheme: str) -> None:
    story = story_file(
        f"a11y-preview-{scheme}",
        "A scheduled story seen through its preview link",
        stamp(now_utc() + timedelta(days=3)),
        topics=["ai"],
    )
    receipt = upload(stack, f"incoming/test/a11y-preview-{scheme}.json", json.dumps(story).encode())
    slug, token = preview_token_of(receipt)
    in_scheme(axe_reader, scheme)
    axe_reader.open(f"#/stories/{slug}?preview={token}")
    expect(axe_reader.page.locator("#preview-banner")).to_contain_text("Preview of a scheduled")
    assert_no_violations(axe_reader)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_missing_story_has_no_wcag_violations(axe_reader: Reader, scheme: str) -> None:
    in_scheme(axe_reader, scheme)
    axe_reader.open("#/stories/no-such-story")
    expect(axe_reader.page.locator("#story-container [role=alert] h1")).to_have_text("Not Found")
    assert_no_violations(axe_reader)


# The sign-up box's states, each reached the way a reader reaches it.


def submit(reader: Reader, address: str) -> None:
    reader.page.get_by_label("Email address").fill(address)
    reader.page.locator("#signup-submit").click()


def idle(reader: Reader) -> None:
    expect(reader.page.locator("#signup-submit")).to_have_text("Subscribe")


def submitting(reader: Reader) -> None:
    held: list[Any] = []
    reader.page.route(SUBSCRIBE_REQUEST, lambda route: held.append(route))  # never answered
    submit(reader, f"a11y-{uuid.uuid4().hex[:8]}@example.com")
    expect(reader.page.locator("#signup-submit")).to_have_text("Subscribing…")


def accepted(reader: Reader) -> None:
    submit(reader, f"a11y-{uuid.uuid4().hex[:8]}@example.com")
    expect(reader.page.locator("#signup-message")).to_contain_text("Check your inbox.")


def invalid_address(reader: Reader) -> None:
    submit(reader, "no-at-sign.example.com")
    expect(reader.page.locator("#signup-error")).to_have_text(
        "Enter an email address like name@example.com."
    )


def refused_by_the_api(reader: Reader) -> None:
    with reader.page.expect_response(SUBSCRIBE_REQUEST):
        submit(reader, "reader@localhost")
    expect(reader.page.locator("#signup-error")).not_to_be_empty()


def network_error(reader: Reader) -> None:
    reader.page.route(SUBSCRIBE_REQUEST, lambda route: route.abort())
    submit(reader, f"a11y-{uuid.uuid4().hex[:8]}@example.com")
    expect(reader.page.locator("#signup-message")).to_contain_text("Network error.")


def service_problem(reader: Reader) -> None:
    problem = {"title": "Service Unavailable", "detail": "try again in a minute"}
    reader.page.route(
        SUBSCRIBE_REQUEST,
        lambda route: route.fulfill(
            status=503, content_type="application/problem+json", body=json.dumps(problem)
        ),
    )
    submit(reader, f"a11y-{uuid.uuid4().hex[:8]}@example.com")
    expect(reader.page.locator("#signup-message")).to_have_attribute("data-kind", "error")


SIGNUP_STATES: dict[str, Callable[[Reader], None]] = {
    "idle": idle,
    "submitting": submitting,
    "accepted": accepted,
    "invalid-address": invalid_address,
    "refused-by-the-api": refused_by_the_api,
    "network-error": network_error,
    "service-problem": service_problem,
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("state", SIGNUP_STATES)
def test_every_state_of_the_signup_box_has_no_wcag_violations(
    axe_reader: Reader, state: str, scheme: str
) -> None:
    in_scheme(axe_reader, scheme)
    open_list(axe_reader)
    SIGNUP_STATES[state](axe_reader)
    assert_no_violations(axe_reader)


# -- the keyboard alone -----------------------------------------------------------------


def test_every_control_is_reachable_with_tab_in_order_with_visible_focus(reader: Reader) -> None:
    page = reader.page
    open_list(reader)
    controls = page.eval_on_selector_all(
        FOCUSABLE,
        f"""all => all
            .filter(el => el.getClientRects().length > 0 && !el.disabled)
            .map({DESCRIBE})""",
    )
    assert len(controls) > 30  # links, topics, cards, load more, the form, the footer

    reached = []
    for _ in controls:
        page.keyboard.press("Tab")
        reached.append(focused(reader))
        style = page.evaluate(
            """() => {
                const s = getComputedStyle(document.activeElement);
                return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)};
            }"""
        )
        assert style["style"] == "solid" and style["width"] >= 2, (reached[-1], style)
    assert reached == controls


def test_topic_buttons_work_with_space_and_enter(reader: Reader) -> None:
    page = reader.page
    open_list(reader)
    robotics = page.locator('#topic-filter button[data-topic="robotics"]')
    robotics.focus()
    page.keyboard.press("Space")
    expect(page).to_have_url(reader.url("#/topics/robotics"))
    expect(robotics).to_have_attribute("aria-pressed", "true")
    expect(robotics).to_be_focused()  # the list changed under it; focus stays put

    every = page.locator('#topic-filter button[data-topic=""]')
    every.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(reader.url("#/"))
    wait_for_list(reader, 10)
    expect(every).to_have_attribute("aria-pressed", "true")
    expect(every).to_be_focused()


def test_opening_a_story_moves_focus_to_its_title_and_back_to_its_card(reader: Reader) -> None:
    page = reader.page
    open_list(reader)
    page.locator(f'#stories > li[data-slug="{SEED_SLUG}"] .card__link').focus()
    page.keyboard.press("Enter")
    title = page.locator("#story-container article h1")
    expect(title).to_be_focused()

    page.keyboard.press("Shift+Tab")  # the control just before the story: the back link
    expect(page.locator("#back-link")).to_be_focused()
    page.keyboard.press("Enter")
    wait_for_list(reader, 10)
    assert page.evaluate("document.activeElement.closest('li')?.dataset.slug") == SEED_SLUG


def test_a_topic_opened_from_a_story_moves_focus_to_the_list_heading(reader: Reader) -> None:
    page = reader.page
    open_story(reader)
    tag = page.locator("#story-container .tags a").first
    topic = tag.get_attribute("data-topic")
    tag.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(reader.url(f"#/topics/{topic}"))
    expect(page.locator("#list-heading")).to_be_focused()
    expect(page.locator("#list-heading")).to_contain_text(str(topic).replace("-", " "))


def test_the_signup_box_works_from_the_keyboard(reader: Reader) -> None:
    page = reader.page
    open_list(reader)
    field = page.locator("#signup-email")
    button = page.locator("#signup-submit")
    button.focus()
    page.keyboard.press("Space")  # empty: the error, and focus on the field to correct it
    expect(page.locator("#signup-error")).to_have_text("Enter your email address.")
    expect(field).to_be_focused()

    page.keyboard.type(f"keyboard-{uuid.uuid4().hex[:8]}@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#signup-message")).to_contain_text("Check your inbox.")
    expect(field).to_be_focused()
    page.keyboard.press("Tab")
    expect(button).to_be_focused()


# -- dark mode --------------------------------------------------------------------------


def luminance(css_colour: str) -> float:
    """The relative luminance (WCAG) of "rgb(r, g, b)"."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


COLOURS = """() => {
    const of = (selector) => getComputedStyle(document.querySelector(selector));
    return {
        page: of("body").backgroundColor, text: of("body").color,
        column: of("#list-view").backgroundColor, title: of(".card__link").color,
        scheme: of("html").colorScheme,
    };
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_colours_follow_prefers_color_scheme(reader: Reader, scheme: str) -> None:
    in_scheme(reader, scheme)
    open_list(reader)
    colours = reader.page.evaluate(COLOURS)
    assert colours["scheme"] == scheme  # form controls and scrollbars follow too
    dark_ground = luminance(colours["page"]) < 0.05 and luminance(colours["column"]) < 0.05
    light_text = luminance(colours["text"]) > 0.6 and luminance(colours["title"]) > 0.6
    assert dark_ground is (scheme == "dark"), colours
    assert light_text is (scheme == "dark"), colours


# -- a small phone: 360 px wide ---------------------------------------------------------

# Every box drawn outside the viewport's width, and every clipping box whose content is
# wider than it (text cut off); the 1 px boxes of screen-reader-only text do not count.
OUTSIDE = """() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    for (const el of document.body.querySelectorAll("*")) {
        const box = el.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1) continue;
        const name = `${el.tagName.toLowerCase()}#${el.id}.${el.className}`;
        const outside = box.left < -0.5 || box.right > width + 0.5;
        if (outside) found.push(`${name} ${box.left}-${box.right}`);
        const clips = getComputedStyle(el).overflowX !== "visible";
        if (clips && el.scrollWidth > el.clientWidth + 1) found.push(`${name} clips its content`);
    }
    return {width, scrollWidth: document.documentElement.scrollWidth, found};
}"""


@pytest.mark.parametrize(("view", "opener"), [("list", open_list), ("story", open_story)])
def test_readable_at_360_px_wide(
    reader: Reader, view: str, opener: Callable[[Reader], None]
) -> None:
    page = reader.page
    page.set_viewport_size({"width": 360, "height": 800})
    opener(reader)
    layout = page.evaluate(OUTSIDE)
    assert layout["scrollWidth"] <= layout["width"] == 360  # no horizontal scroll
    assert layout["found"] == []  # nothing cut off
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    page.screenshot(path=str(SCREENSHOTS / f"reader-{view}-360.png"), full_page=True)


# -- Lighthouse -------------------------------------------------------------------------


@pytest.mark.parametrize("fragment", ["#/", f"#/stories/{SEED_SLUG}"], ids=["list", "story"])
def test_lighthouse_scores_accessibility_and_best_practices_95_without_layout_shift(
    stack: Stack, chromium_executable: str, fragment: str
) -> None:
    if not LIGHTHOUSE.is_file():
        unavailable("Lighthouse (npm)", f"{LIGHTHOUSE} is missing (fix: make node)")
    audit = run_lighthouse(f"{stack.api_url}/{fragment}", chromium_executable)
    assert audit.accessibility >= 95, audit
    assert audit.best_practices >= 95, audit
    # The performance score depends on timing: `make lighthouse` records it. The layout
    # shift does not: the stories arriving must not move what is already on screen.
    assert audit.cumulative_layout_shift < 0.1, audit
