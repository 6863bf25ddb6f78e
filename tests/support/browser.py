"""The reader page as the browser tests drive it."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from playwright.sync_api import expect
else:
    try:
        from playwright.sync_api import expect
    except ImportError:  # the fixtures skip the browser tests (or fail them under CI)
        expect = None

__all__ = ["AXE_SCRIPT", "Reader", "axe_violations", "describe_violations", "expect"]


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


AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
AXE_RUN = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}}).then(result =>
    result.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
    })))"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now (axe is injected as a
    script tag: the page's context must bypass its CSP)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return list(page.evaluate(AXE_RUN, list(WCAG_21_AA)))


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violated rule: what it asks, then each offending element."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"  {node['target']}: {summary}")
    return "\n".join(lines)
