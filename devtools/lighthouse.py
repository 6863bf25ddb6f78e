"""``make lighthouse``: Lighthouse (npm, repo root) against the reader page of a local stack
with the sample stories, Recent Stories and one story, plus screenshots for the README.

Writes ``docs/lighthouse.json`` (scores and the metrics behind them, median run of each
page by performance) and ``docs/reader-page.png``, ``docs/reader-page-360.png`` and
``docs/reader-page-dark.png``. Lighthouse runs with its defaults: a mobile device, simulated
slow 4G and a 4x slower CPU. The browser is the distribution's Chromium (``CHROME_PATH``,
default ``/usr/bin/chromium``), never a download.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from devtools.template import ROOT

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
DOCS = ROOT / "docs"
DEFAULT_CHROME = "/usr/bin/chromium"
# Every headless Chromium of the project runs with these (the browser tests too): no
# sandbox (root in containers), no GPU, and no traffic of Chromium's own (updates, sync).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CATEGORIES = ("performance", "accessibility", "best-practices")


@dataclass(frozen=True)
class Audit:
    """One Lighthouse run of one page: category scores (0-100) and the metrics behind them."""

    url: str
    performance: int
    accessibility: int
    best_practices: int
    cumulative_layout_shift: float
    largest_contentful_paint_ms: int
    first_contentful_paint_ms: int
    total_blocking_time_ms: int
    speed_index_ms: int

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> "Audit":
        categories = report["categories"]
        audits = report["audits"]

        def metric(name: str) -> float:
            return float(audits[name]["numericValue"])

        return cls(
            url=str(report["finalDisplayedUrl"]),
            performance=round(categories["performance"]["score"] * 100),
            accessibility=round(categories["accessibility"]["score"] * 100),
            best_practices=round(categories["best-practices"]["score"] * 100),
            cumulative_layout_shift=round(metric("cumulative-layout-shift"), 3),
            largest_contentful_paint_ms=round(metric("largest-contentful-paint")),
            first_contentful_paint_ms=round(metric("first-contentful-paint")),
            total_blocking_time_ms=round(metric("total-blocking-time")),
            speed_index_ms=round(metric("speed-index")),
        )


def lighthouse_version() -> str:
    package = ROOT / "node_modules" / "lighthouse" / "package.json"
    return str(json.loads(package.read_text())["version"])


def run_lighthouse(url: str, chrome: str = DEFAULT_CHROME) -> Audit:
    """One Lighthouse run of ``url`` (mobile defaults) in the Chromium at ``chrome``."""
    if not LIGHTHOUSE.is_file():
        raise FileNotFoundError(f"{LIGHTHOUSE} is missing: run `make node`")
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        output = Path(folder) / "report.json"
        subprocess.run(  # noqa: S603 - the repo's own lighthouse, our arguments
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={output}",
                f"--only-categories={','.join(CATEGORIES)}",
                f"--chrome-flags={' '.join(CHROMIUM_FLAGS)}",
            ],
            # Chromium's profile goes to TMPDIR: the temporary folder, removed afterwards.
            env={**os.environ, "CHROME_PATH": chrome, "TMPDIR": folder},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return Audit.from_report(json.loads(output.read_text()))


def median_run(url: str, runs: int, chrome: str) -> Audit:
    """The run with the median performance score of ``runs`` runs (Lighthouse varies)."""
    audits = sorted((run_lighthouse(url, chrome) for _ in range(runs)), key=lambda a: a.performance)
    return audits[len(audits) // 2]


def newest_story_slug(base_url: str) -> str:
    url = f"{base_url}/stories?limit=1"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local stack
        return str(json.loads(response.read())["data"][0]["slug"])


def take_screenshots(base_url: str, chrome: str, docs: Path = DOCS) -> list[Path]:
    """Recent Stories at a desktop width, at 360 px (a small phone) and in dark mode."""
    from playwright.sync_api import expect, sync_playwright

    shots: list[tuple[Path, int, Literal["light", "dark"]]] = [
        (docs / "reader-page.png", 1100, "light"),
        (docs / "reader-page-360.png", 360, "light"),
        (docs / "reader-page-dark.png", 1100, "dark"),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chrome, args=list(CHROMIUM_FLAGS))
        try:
            for path, width, scheme in shots:
                context = browser.new_context(
                    viewport={"width": width, "height": 1000 if width > 600 else 800},
                    color_scheme=scheme,
                )
                page = context.new_page()
                page.goto(f"{base_url}/#/")
                expect(page.locator("#stories > li")).to_have_count(10)
                page.screenshot(path=str(path))
                context.close()
        finally:
            browser.close()
    return [path for path, _, _ in shots]


def measure(base_url: str, runs: int, chrome: str) -> dict[str, Any]:
    slug = newest_story_slug(base_url)
    pages = {
        "list": median_run(f"{base_url}/#/", runs, chrome),
        "story": median_run(f"{base_url}/#/stories/{slug}", runs, chrome),
    }
    return {
        "tool": f"lighthouse {lighthouse_version()}",
        "settings": "Lighthouse defaults: mobile, simulated slow 4G and 4x CPU slowdown",
        "runs_per_page": runs,
        # The page's path, not the stack's (random) port.
        "pages": {
            name: {**asdict(audit), "url": audit.url.removeprefix(base_url)}
            for name, audit in pages.items()
        },
        "story_slug": slug,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make lighthouse", description=__doc__)
    parser.add_argument(
        "--base-url",
        help="a running stack's URL (e.g. `make dev`'s http://127.0.0.1:3000); "
        "default: start one with the sample stories",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per page (default 3)")
    parser.add_argument("--no-screenshots", action="store_true", help="scores only")
    args = parser.parse_args(argv)
    chrome = os.environ.get("CHROME_PATH", DEFAULT_CHROME)

    stack = None
    base_url = args.base_url
    if base_url is None:
        from devtools.dev import quiet_logs
        from devtools.stack import start_stack

        quiet_logs()
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        stack = start_stack(port=0)
        stack.seed()
        base_url = stack.api_url
    try:
        result = measure(base_url.rstrip("/"), args.runs, chrome)
        if not args.no_screenshots:
            for path in take_screenshots(base_url, chrome):
                print(f"wrote {path.relative_to(ROOT)}")
    finally:
        if stack is not None:
            stack.stop()
    target = DOCS / "lighthouse.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")
    for name, page in result["pages"].items():
        print(
            f"{name:6} performance {page['performance']:3}  accessibility "
            f"{page['accessibility']:3}  best practices {page['best_practices']:3}  "
            f"CLS {page['cumulative_layout_shift']}  LCP {page['largest_contentful_paint_ms']} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
