"""Browser tests of the reader page (web/): the local stack with the sample stories, and a
headless Chromium driven by Playwright's sync API.

Chromium is the distribution's package (scripts/install-browser.sh), launched through
``executable_path``: Playwright never downloads a browser build here. Without Chromium (or
without Playwright) the tests are skipped, except under CI (CI=true), where they fail.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from devtools.lighthouse import CHROMIUM_FLAGS
from devtools.stack import Stack
from tests.support.browser import Reader
from tests.support.stack import running_stack
from tests.support.tiers import unavailable

CHROMIUM_ARGS = list(CHROMIUM_FLAGS)
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
    unavailable("the browser tests' Chromium and Playwright", f"{reason} (fix: {fix})")


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
    with running_stack() as running:
        yield running


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


@contextmanager
def reader_page(browser: Any, stack: Stack, **context_options: Any) -> Iterator[Reader]:
    """A fresh browser context's page on the reader page's origin, recording dialogs, script
    errors and CSP violations; the test fails afterwards if there were any."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block", **context_options)
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


@pytest.fixture
def reader(browser: Any, stack: Stack) -> Iterator[Reader]:
    with reader_page(browser, stack) as result:
        yield result


@pytest.fixture
def axe_reader(browser: Any, stack: Stack) -> Iterator[Reader]:
    """A reader whose context bypasses the page's CSP, so that axe-core can be injected as a
    script tag (the other tests keep the CSP and report its violations)."""
    with reader_page(browser, stack, bypass_csp=True) as result:
        yield result
