"""Browser tests of the reader page (web/): the local stack with the sample stories, and a
headless Chromium driven by Playwright's sync API.

Chromium is the distribution's package (scripts/install-browser.sh), launched through
``executable_path``: Playwright never downloads a browser build here. Without Chromium (or
without Playwright) the tests are skipped, except under CI (CI=true), where they fail.
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode

import pytest

from devtools.stack import Stack, start_stack
from newsroom.core import aws

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 900}
TIMEOUT_MS = 15_000

# Runs before any page script: records alert/confirm/prompt calls and every script, img,
# iframe, object, embed or svg element added to the document after the page's own.
WATCH_SCRIPT = """
(() => {
  window.__xss = [];
  window.__injected = [];
  for (const name of ["alert", "confirm", "prompt"]) {
    const original = window[name];
    window[name] = function (...args) {
      window.__xss.push(name + ":" + args.join(","));
      return original.apply(this, args);
    };
  }
  const watched = new Set(["SCRIPT", "IMG", "IFRAME", "OBJECT", "EMBED", "SVG"]);
  const note = (node) => {
    if (node.nodeType !== 1) return;
    if (watched.has(node.tagName.toUpperCase())) window.__injected.push(node.outerHTML);
    for (const child of node.querySelectorAll("script, img, iframe, object, embed, svg")) {
      window.__injected.push(child.outerHTML);
    }
  };
  new MutationObserver((records) => {
    if (document.readyState === "loading") return;  // the page's own markup
    for (const record of records) record.addedNodes.forEach(note);
  }).observe(document, { childList: true, subtree: true });
})();
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the reader page (web/) in a headless Chromium"
    )


def _unavailable(reason: str, fix: str) -> NoReturn:
    """Skip, or fail under CI: a CI run must never pass by skipping the browser tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so the browser tests must run: {fix})")
    pytest.skip(f"{reason}; to run the browser tests: {fix}")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        _unavailable(
            "no Chromium found (looked for `chromium` on PATH and /usr/bin/chromium)",
            "scripts/install-browser.sh",
        )
    return path


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The local stack (API routes + the reader page at /) with the sample stories, stored
    through S3 so the real ingest ran."""
    saved = dict(os.environ)  # the stack points AWS_ENDPOINT_URL etc. at its backend
    aws.client.cache_clear()  # clients cached by an earlier stack point at a dead endpoint
    running = start_stack(port=0)
    try:
        running.seed()
        yield running
    finally:
        running.stop()
        aws.client.cache_clear()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed", "make install")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


@dataclass
class Reader:
    """One browser page plus what it reported: dialogs, script errors, CSP violations."""

    page: Any
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, fragment: str = "#/", **query: str) -> str:
        search = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url}/{search}{fragment}"

    def open(self, fragment: str = "#/", **query: str) -> None:
        self.page.goto(self.url(fragment, **query))

    def cards(self) -> list[dict[str, Any]]:
        """The Recent Stories items as the page shows them."""
        return list(
            self.page.eval_on_selector_all(
                "#stories > li",
                """items => items.map(li => ({
                    slug: li.dataset.slug,
                    topics: li.dataset.topics.split(" ").filter(Boolean),
                    date: li.querySelector("time").textContent,
                    datetime: li.querySelector("time").getAttribute("datetime"),
                    title: li.querySelector("h2").textContent,
                    href: li.querySelector("h2 a").getAttribute("href"),
                    excerpt: li.querySelector("p").textContent,
                }))""",
            )
        )

    def injected(self) -> dict[str, list[str]]:
        return dict(self.page.evaluate("({xss: window.__xss, injected: window.__injected})"))


@pytest.fixture
def reader(browser: Any, stack: Stack) -> Iterator[Reader]:
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(WATCH_SCRIPT)
    page = context.new_page()
    result = Reader(page, stack.api_url)

    def on_dialog(dialog: Any) -> None:
        result.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            result.errors.append(f"console: {text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: result.errors.append(f"pageerror: {error}"))
    try:
        yield result
    finally:
        context.close()
    assert result.dialogs == [], "the page opened a dialog"
    assert result.errors == [], "the page raised script errors or violated its CSP"
