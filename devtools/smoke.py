"""Smoke test of a deployed read API: ``make smoke URL=https://...`` (the stack's ``ApiUrl``).

    python3 devtools/smoke.py https://abc123.execute-api.us-east-1.amazonaws.com/v1 \
        [--origin https://your.site] [--allow-empty]

Standard library only, so any python3 runs it (no venv, e.g. straight after a deploy in CI).
One line per check, in the order a client meets the API, and a non-zero exit on any failure:

    list      GET /stories: a page of summaries, and the next page through its cursor
    story     GET /stories/{slug} of the first summary
    feeds     GET /feed.json (JSON Feed 1.1), GET /feed.xml (RSS 2.0)
    etag      a strong ETag, and 304 with no body for If-None-Match
    cors      the preflight (OPTIONS with Origin and Access-Control-Request-Method) and a GET
              with Origin: the origin allowed, ETag exposed
    problems  404 for an unknown slug, 400 for a bad limit, 404 for an unknown path (API
              Gateway's own answer): each an application/problem+json document
    openapi   GET /openapi.json: an OpenAPI 3.1 document of the read and subscription routes

``--origin`` must be one of the stage's ``CorsAllowedOrigins`` (any origin where that is ``*``).
A stack with no stories yet fails ``list``; ``--allow-empty`` skips what needs a story instead.
"""

import argparse
import gzip
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

PROBLEM = "application/problem+json"
DEFAULT_ORIGIN = "https://smoke-test.example"
USER_AGENT = "signal-noise-smoke/1"


class CheckFailed(Exception):
    """A check's expectation not met; the message says what was answered."""


class Skipped(Exception):
    """A check that cannot run (nothing to check it on); the message says why."""


@dataclass(frozen=True)
class Reply:
    method: str
    path: str
    status: int
    headers: Message
    body: bytes

    @property
    def what(self) -> str:
        return f"{self.method} {self.path}"

    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def expect(self, status: int, media_type: str | None = None) -> "Reply":
        if self.status != status:
            excerpt = self.body[:160].decode("utf-8", "replace")
            raise CheckFailed(f"{self.what}: {self.status}, expected {status} ({excerpt!r})")
        if media_type is not None and self.media_type() != media_type:
            raise CheckFailed(
                f"{self.what}: Content-Type {self.headers.get('Content-Type')!r}, "
                f"expected {media_type}"
            )
        return self

    def document(self) -> dict[str, Any]:
        """The body as a JSON object."""
        try:
            document = json.loads(self.body)
        except ValueError:
            raise CheckFailed(f"{self.what}: the body is not JSON") from None
        if not isinstance(document, dict):
            raise CheckFailed(f"{self.what}: the body is not a JSON object")
        return document


@dataclass
class Result:
    name: str
    status: str  # "ok", "FAIL", "skip"
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<9} {self.detail}"


class Smoke:
    """The checks against one base URL (the stage's URL, e.g. ``.../v1``)."""

    def __init__(
        self,
        base_url: str,
        *,
        origin: str = DEFAULT_ORIGIN,
        allow_empty: bool = False,
        timeout: float = 15,
    ) -> None:
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError(f"{base_url!r} is not an http(s) base URL (e.g. the stack's ApiUrl)")
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.allow_empty = allow_empty
        self.timeout = timeout
        self.slug: str | None = None  # the list's first story, for the checks that need one
        self.empty = False  # the list answered, with no stories (--allow-empty)

    def request(
        self, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> Reply:
        request = urllib.request.Request(  # noqa: S310 - http(s) only (checked in __init__)
            self.base_url + path,
            method=method,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, answer_headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # 304 and every 4xx/5xx
            status, answer_headers, body = error.code, error.headers, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CheckFailed(f"{method} {path}: no answer ({reason})") from None
        if body and (answer_headers.get("Content-Encoding") or "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError):
                raise CheckFailed(
                    f"{method} {path}: a gzip body that does not decompress"
                ) from None
        return Reply(method, path, status, answer_headers, body)

    # -- the checks ----------------------------------------------------------------------

    def check_list(self) -> str:
        page = self.request("/stories?limit=3").expect(200, "application/json")
        document = page.document()
        data, meta = document.get("data"), document.get("meta")
        if not isinstance(data, list) or not isinstance(meta, dict):
            raise CheckFailed(f"{page.what}: no data list and meta object")
        if meta.get("limit") != 3:
            raise CheckFailed(f"{page.what}: meta.limit is {meta.get('limit')!r}, not 3")
        if not data:
            if self.allow_empty:
                self.empty = True
                return f"{page.what}: 200, no stories yet (--allow-empty)"
            raise CheckFailed(
                f"{page.what}: no stories: upload one (make upload), or --allow-empty"
            )
        self.slug = str(data[0].get("slug"))
        cursor = meta.get("next_cursor")
        if not cursor:
            return f"{page.what}: 200, {len(data)} stories, no next page"
        query = urllib.parse.urlencode({"limit": 3, "cursor": cursor})
        following = self.request(f"/stories?{query}").expect(200, "application/json")
        later = following.document().get("data")
        if not isinstance(later, list) or not later:
            raise CheckFailed("GET /stories?cursor=...: the next page is empty")
        if later[0].get("slug") in {item.get("slug") for item in data}:
            raise CheckFailed("GET /stories?cursor=...: the next page repeats the first")
        return f"{page.what}: 200, {len(data)} stories; the next page: {len(later)} more"

    def _need_story(self) -> str:
        if self.slug is None:
            if self.empty:
                raise Skipped("no stories yet")
            raise CheckFailed("no story to follow (the list check failed)")
        return self.slug

    def check_story(self) -> str:
        slug = self._need_story()
        path = "/stories/" + urllib.parse.quote(slug)
        reply = self.request(path).expect(200, "application/json")
        story = reply.document().get("data")
        if not isinstance(story, dict) or story.get("slug") != slug:
            found = story.get("slug") if isinstance(story, dict) else None
            raise CheckFailed(f"{reply.what}: data.slug is {found!r}, not {slug!r}")
        missing = [
            key for key in ("title", "summary", "published_at", "sections") if key not in story
        ]
        if missing:
            raise CheckFailed(f"{reply.what}: the story has no {', '.join(missing)}")
        return f"{reply.what}: 200, {story['title'][:60]!r}"

    def check_feeds(self) -> str:
        json_feed = self.request("/feed.json").expect(200, "application/feed+json").document()
        if json_feed.get("version") != "https://jsonfeed.org/version/1.1":
            raise CheckFailed("GET /feed.json: not a JSON Feed 1.1 document")
        if not isinstance(json_feed.get("items"), list):
            raise CheckFailed("GET /feed.json: no items list")
        rss = self.request("/feed.xml").expect(200, "application/rss+xml")
        try:
            # Our own API's answer; expat refuses entity expansion bombs since Python 3.7.1.
            root = ET.fromstring(rss.body)  # noqa: S314
        except ET.ParseError as exc:
            raise CheckFailed(f"GET /feed.xml: not XML ({exc})") from None
        if root.tag != "rss" or root.get("version") != "2.0" or root.find("channel") is None:
            raise CheckFailed("GET /feed.xml: not an RSS 2.0 document")
        items = len(root.findall("channel/item"))
        return f"/feed.json: {len(json_feed['items'])} items, /feed.xml: {items} items"

    def check_etag(self) -> str:
        slug = self._need_story()
        path = "/stories/" + urllib.parse.quote(slug)
        first = self.request(path).expect(200)
        etag = first.headers.get("ETag")
        if not etag or not etag.startswith('"'):
            raise CheckFailed(f"{first.what}: no strong ETag (ETag: {etag!r})")
        again = self.request(path, headers={"If-None-Match": etag})
        if again.status != 304:
            raise CheckFailed(f"{again.what} with If-None-Match: {again.status}, expected 304")
        if again.body:
            raise CheckFailed(f"{again.what}: the 304 has a body ({len(again.body)} bytes)")
        return f"{first.what}: ETag {etag}, If-None-Match: 304, no body"

    def check_cors(self) -> str:
        preflight = self.request(
            "/stories",
            method="OPTIONS",
            headers={"Origin": self.origin, "Access-Control-Request-Method": "GET"},
        )
        if not 200 <= preflight.status < 300:
            raise CheckFailed(f"{preflight.what} (preflight): {preflight.status}, expected 2xx")
        allowed = preflight.headers.get("Access-Control-Allow-Origin")
        if allowed not in (self.origin, "*"):
            raise CheckFailed(
                f"{preflight.what}: Access-Control-Allow-Origin {allowed!r} for {self.origin} "
                "(--origin must be one of the stage's CorsAllowedOrigins)"
            )
        methods = (preflight.headers.get("Access-Control-Allow-Methods") or "").upper()
        if "GET" not in [m.strip() for m in methods.split(",")]:
            raise CheckFailed(f"{preflight.what}: Access-Control-Allow-Methods {methods!r}")
        simple = self.request("/stories?limit=1", headers={"Origin": self.origin}).expect(200)
        if simple.headers.get("Access-Control-Allow-Origin") not in (self.origin, "*"):
            raise CheckFailed(f"{simple.what} with Origin: no Access-Control-Allow-Origin")
        exposed = (simple.headers.get("Access-Control-Expose-Headers") or "").lower()
        if "etag" not in [h.strip() for h in exposed.split(",")]:
            raise CheckFailed(f"{simple.what}: ETag is not in Access-Control-Expose-Headers")
        return f"OPTIONS /stories from {self.origin}: {preflight.status}, allowed ({allowed})"

    def check_problems(self) -> str:
        unknown = f"smoke-test-no-such-story-{secrets.token_hex(4)}"
        cases = [
            (f"/stories/{unknown}", 404, None),
            ("/stories?limit=0", 400, ["query", "limit"]),
            (f"/smoke-test-no-such-path-{secrets.token_hex(4)}", 404, None),
        ]
        for path, status, loc in cases:
            reply = self.request(path).expect(status, PROBLEM)
            problem = reply.document()
            if problem.get("status") != status:
                raise CheckFailed(f"{reply.what}: the problem document's status is not {status}")
            if not problem.get("title"):
                raise CheckFailed(f"{reply.what}: the problem document has no title")
            if loc is not None and loc not in [e.get("loc") for e in problem.get("errors", [])]:
                raise CheckFailed(f"{reply.what}: no error at {loc}")
        return "unknown slug 404, limit=0 400, unknown path 404: problem documents"

    def check_openapi(self) -> str:
        document = self.request("/openapi.json").expect(200, "application/json").document()
        version = str(document.get("openapi", ""))
        if not version.startswith("3.1"):
            raise CheckFailed(f"GET /openapi.json: openapi {version!r}, expected 3.1.x")
        paths = document.get("paths", {})
        wanted = ("/stories", "/stories/{slug}", "/feed.json", "/subscriptions")
        missing = [p for p in wanted if p not in paths]
        if missing:
            raise CheckFailed(f"GET /openapi.json: no {', '.join(missing)}")
        return f"GET /openapi.json: OpenAPI {version}, {len(paths)} paths"

    def checks(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("list", self.check_list),
            ("story", self.check_story),
            ("feeds", self.check_feeds),
            ("etag", self.check_etag),
            ("cors", self.check_cors),
            ("problems", self.check_problems),
            ("openapi", self.check_openapi),
        ]

    def run(self, report: Callable[[Result], None] = lambda result: None) -> list[Result]:
        results = []
        for name, check in self.checks():
            try:
                result = Result(name, "ok", check())
            except CheckFailed as exc:
                result = Result(name, "FAIL", str(exc))
            except Skipped as exc:
                result = Result(name, "skip", str(exc))
            except Exception as exc:  # a smoke test reports, it does not crash with a trace
                result = Result(name, "FAIL", f"unexpected {type(exc).__name__}: {exc}")
            report(result)
            results.append(result)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="smoke.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the API's base URL (the stack's ApiUrl output)")
    parser.add_argument(
        "--origin",
        default=DEFAULT_ORIGIN,
        help="an origin the stage allows (CorsAllowedOrigins); '*' means any",
    )
    parser.add_argument("--allow-empty", action="store_true", help="a stack with no stories yet")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per request")
    args = parser.parse_args(argv)
    origin = DEFAULT_ORIGIN if args.origin in ("", "*") else args.origin
    try:
        smoke = Smoke(args.url, origin=origin, allow_empty=args.allow_empty, timeout=args.timeout)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"smoke: {smoke.base_url}", flush=True)
    results = smoke.run(lambda result: print(result.line(), flush=True))
    failed = [r.name for r in results if r.status == "FAIL"]
    if failed:
        print(f"smoke: {len(failed)} of {len(results)} checks failed: {', '.join(failed)}")
        return 1
    print(f"smoke: all {len(results)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
