"""The reader page as the browser tests drive it."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


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
