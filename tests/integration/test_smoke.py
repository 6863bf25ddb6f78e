"""``make smoke`` (``devtools/smoke.py``) against the local stack: every check passes, run by a
bare interpreter (``python -S``: the standard library only, as on a machine without the venv).
Through a proxy of that stack that breaks one kind of answer, the run exits 1 and names exactly
the check that answer belongs to; a server answering 500 to everything, or nothing listening,
fails every check; a stack with no stories fails the list unless ``--allow-empty``."""

import contextlib
import http.client
import io
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devtools import smoke
from devtools.backend import free_port
from devtools.stack import Stack
from devtools.template import ROOT
from tests.support.stack import running_stack

SMOKE = ROOT / "devtools" / "smoke.py"
CHECKS = ["list", "story", "feeds", "etag", "cors", "problems", "openapi"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack() as running:
        yield running


@dataclass
class Exchange:
    """One request through the proxy and the stack's answer; a fault may change either."""

    method: str
    path: str
    request_headers: dict[str, str]
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))


@dataclass(frozen=True)
class Fault:
    """What a broken deployment answers differently: ``request`` changes what reaches the
    stack, ``answer`` what comes back."""

    request: Callable[[Exchange], None] = lambda exchange: None
    answer: Callable[[Exchange], None] = lambda exchange: None


@contextlib.contextmanager
def proxy(upstream: str | None, fault: Fault = Fault()) -> Iterator[str]:
    """A local HTTP server forwarding to ``upstream`` through ``fault`` (with no upstream it
    answers every request with a bare 500)."""
    target = urllib.parse.urlsplit(upstream) if upstream else None

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request_body = self.rfile.read(length) if length else None
            exchange = Exchange(self.command, self.path, dict(self.headers.items()))
            # Identity bodies, so that faults can edit them.
            exchange.request_headers.pop("Accept-Encoding", None)
            if target is None:
                exchange.status, exchange.body = 500, b"Internal Server Error"
                exchange.headers = [("Content-Type", "text/plain")]
            else:
                fault.request(exchange)
                connection = http.client.HTTPConnection(str(target.hostname), target.port)
                connection.request(
                    exchange.method, exchange.path, request_body, exchange.request_headers
                )
                response = connection.getresponse()
                exchange.status, exchange.body = response.status, response.read()
                exchange.headers = [
                    (k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
                ]
                connection.close()
                fault.answer(exchange)
            self.send_response(exchange.status)
            for name, value in exchange.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(exchange.body)))
            self.end_headers()
            self.wfile.write(exchange.body)

        do_GET = do_OPTIONS = do_POST = do_HEAD = _forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_smoke(url: str, *args: str) -> tuple[int, dict[str, str]]:
    """The exit status and each check's line (by check name), run in this process."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = smoke.main([url, *args])
    lines = buffer.getvalue().splitlines()
    by_check = {
        line.split()[1]: line for line in lines if line[:4].strip() in {"ok", "FAIL", "skip"}
    }
    assert list(by_check) == CHECKS, lines
    return status, by_check


def failed(lines: dict[str, str]) -> list[str]:
    return [name for name, line in lines.items() if line.startswith("FAIL")]


def test_the_local_stack_passes_every_check_with_the_standard_library_only(stack: Stack) -> None:
    # -S: no site-packages, so smoke.py can import nothing but the standard library.
    result = subprocess.run(
        [sys.executable, "-S", str(SMOKE), stack.api_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[:2] for line in lines[1:-1]] == [["ok", name] for name in CHECKS]
    assert lines[-1] == f"smoke: all {len(CHECKS)} checks passed"


def _content_type(path_prefix: str, value: str) -> Fault:
    def answer(exchange: Exchange) -> None:
        if exchange.path.startswith(path_prefix) and exchange.status == 200:
            exchange.set_header("Content-Type", value)

    return Fault(answer=answer)


def _other_slug_in_story(exchange: Exchange) -> None:
    if exchange.path.startswith("/stories/") and exchange.status == 200:
        exchange.body = exchange.body.replace(b'"slug":"', b'"slug":"not-', 1)


def _drop_if_none_match(exchange: Exchange) -> None:
    exchange.request_headers = {
        k: v for k, v in exchange.request_headers.items() if k.lower() != "if-none-match"
    }


def _no_allow_origin_on_preflight(exchange: Exchange) -> None:
    if exchange.method == "OPTIONS":
        exchange.set_header("Access-Control-Allow-Origin", None)


def _problems_as_plain_json(exchange: Exchange) -> None:
    if exchange.status >= 400:
        exchange.set_header("Content-Type", "application/json")


def _openapi_fails(exchange: Exchange) -> None:
    if exchange.path == "/openapi.json":
        exchange.status, exchange.body = 500, b'{"message": "Internal server error"}'


# The fault, and the checks it fails: the story and etag checks follow the list's first story,
# so a broken list fails them too.
FAULTS = {
    "list": (_content_type("/stories?", "text/html"), ["list", "story", "etag"]),
    "story": (Fault(answer=_other_slug_in_story), ["story"]),
    "feeds": (_content_type("/feed.xml", "text/plain"), ["feeds"]),
    "etag": (Fault(request=_drop_if_none_match), ["etag"]),
    "cors": (Fault(answer=_no_allow_origin_on_preflight), ["cors"]),
    "problems": (Fault(answer=_problems_as_plain_json), ["problems"]),
    "openapi": (Fault(answer=_openapi_fails), ["openapi"]),
}


@pytest.mark.parametrize("broken", list(FAULTS))
def test_a_broken_answer_fails_its_check_and_no_other(stack: Stack, broken: str) -> None:
    fault, failing = FAULTS[broken]
    with proxy(stack.api_url, fault) as url:
        status, lines = run_smoke(url)
    assert status == 1
    assert failed(lines) == failing, lines
    assert lines[broken].startswith("FAIL")


def test_the_failing_line_says_what_was_answered(stack: Stack) -> None:
    with proxy(stack.api_url, FAULTS["feeds"][0]) as url:
        _, lines = run_smoke(url)
    assert (
        "GET /feed.xml: Content-Type 'text/plain', expected application/rss+xml" in lines["feeds"]
    )


def test_a_server_answering_500_fails_every_check() -> None:
    with proxy(None) as url:
        status, lines = run_smoke(url)
    assert status == 1
    assert failed(lines) == CHECKS
    assert "GET /stories?limit=3: 500, expected 200" in lines["list"]
    assert "the list check failed" in lines["story"]


def test_nothing_listening_fails_every_check() -> None:
    status, lines = run_smoke(f"http://127.0.0.1:{free_port()}", "--timeout", "2")
    assert status == 1
    assert failed(lines) == CHECKS
    assert "no answer" in lines["list"]


def _no_stories(exchange: Exchange) -> None:
    if exchange.path.startswith("/stories?limit=3"):
        empty = {"data": [], "meta": {"limit": 3, "next_cursor": None}, "links": {"next": None}}
        exchange.body = json.dumps(empty).encode()


def test_a_stack_without_stories_fails_the_list_unless_allowed(stack: Stack) -> None:
    with proxy(stack.api_url, Fault(answer=_no_stories)) as url:
        status, lines = run_smoke(url)
        assert status == 1 and failed(lines) == ["list", "story", "etag"]
        assert "upload one" in lines["list"]
        status, lines = run_smoke(url, "--allow-empty")
    assert status == 0
    assert [name for name, line in lines.items() if line.startswith("skip")] == ["story", "etag"]


def test_an_origin_the_stage_does_not_allow_fails_cors(stack: Stack) -> None:
    def only_the_site(exchange: Exchange) -> None:
        # A stage whose CorsAllowedOrigins lists one site: other origins get no
        # Access-Control-Allow-Origin (Powertools' CORSConfig; the browser then refuses).
        if exchange.request_headers.get("Origin") != "https://signal-noise.example":
            exchange.set_header("Access-Control-Allow-Origin", None)

    with proxy(stack.api_url, Fault(answer=only_the_site)) as url:
        assert failed(run_smoke(url)[1]) == ["cors"]
        status, lines = run_smoke(url, "--origin", "https://signal-noise.example")
    assert status == 0, lines


def test_a_url_that_is_not_an_http_base_url_is_a_usage_error() -> None:
    for url in ("file:///etc/passwd", "https://api.example/v1?x=1", "api.example/v1"):
        with pytest.raises(SystemExit) as exit_info:
            smoke.main([url])
        assert exit_info.value.code == 2
