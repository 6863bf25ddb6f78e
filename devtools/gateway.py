"""A local stand-in for API Gateway (REST, Lambda proxy integration): serves exactly the
routes ``template.yaml`` declares by turning each HTTP request into the proxy event API
Gateway would send, calling the real handler, and turning its result back into HTTP."""

import base64
import gzip
import json
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from devtools.events import apigw_event
from devtools.functions import LambdaContext
from devtools.template import load_template, resource
from devtools.translate import Resolver
from devtools.workers import WorkerHandler

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# API Gateway's payload quota (10 MB): larger requests are refused before any integration.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Powertools keeps the event being resolved in a class attribute (BaseRouter.current_event)
# that every resolver of a process shares. In Lambda each container is its own process; here
# the containers share one, so two resolving at once read each other's request (If-None-Match,
# Origin, request id): proxy invocations of in-process containers run one at a time.
# Containers whose handler runs in a worker process (devtools/workers.py) run in parallel.
_RESOLVING = threading.Lock()


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    resource: str  # "/stories/{slug}"
    function_id: str
    pattern: re.Pattern[str]


def routes_from_template(api_id: str = "ContentApi") -> list[Route]:
    """Every ``Type: Api`` event of every function that targets ``api_id``."""
    routes = []
    for logical_id, res in load_template()["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event in res.get("Properties", {}).get("Events", {}).values():
            props = event.get("Properties", {})
            if event.get("Type") != "Api" or props.get("RestApiId", {}).get("Ref") != api_id:
                continue
            path = props["Path"]
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
            routes.append(Route(props["Method"].upper(), path, logical_id, re.compile(regex)))
    return routes


def _gateway_response(kind: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
    """A gateway response (e.g. MISSING_AUTHENTICATION_TOKEN) as the template configures it."""
    config = resource("ContentApi").get("GatewayResponses", {}).get(kind, {})
    status = int(config.get("StatusCode", 403))
    # Header values are static ('value') or built from parameters (the CORS origin): evaluated
    # with the parameters' defaults, as the local functions get them.
    resolver = Resolver(load_template())
    headers = {
        name: str(resolver.resolve(value)).strip("'")
        for name, value in config.get("ResponseParameters", {}).get("Headers", {}).items()
    }
    template = config.get("ResponseTemplates", {}).get("application/json")
    body = (
        template.replace("$context.requestId", request_id)
        if template
        else json.dumps({"message": "Missing Authentication Token"})
    )
    headers.setdefault("Content-Type", "application/json")
    return status, headers, body.encode()


class Container:
    """One warm Lambda container: a handler that runs one invocation at a time, in this
    process or (a ``WorkerHandler``) in a worker process of its own."""

    def __init__(self, handler: Handler, name: str) -> None:
        self.handler = handler
        self.name = name
        self.lock = threading.Lock()
        self.pending = 0  # invocations the gateway has sent here and not seen answered

    @property
    def isolated(self) -> bool:
        """Whether the handler runs in its own process (no state shared with the others)."""
        return isinstance(self.handler, WorkerHandler)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self.handler(event, LambdaContext(self.name))

    def warm(self) -> None:
        """Wait until the container's worker, if it has one, has finished its cold start."""
        if isinstance(self.handler, WorkerHandler):
            self.handler.warm()

    def close(self) -> None:
        """End the container's worker process, if it has one."""
        if isinstance(self.handler, WorkerHandler):
            self.handler.close()


class Gateway:
    """The routes of one REST API, their containers, and static files for the reader page."""

    def __init__(
        self,
        containers: dict[str, list[Container]],
        static_dir: Path | None = None,
        stage: str = "v1",
        api_id: str = "ContentApi",
    ) -> None:
        self.routes = routes_from_template(api_id)
        self.containers = containers
        self.static_dir = static_dir
        self.stage = stage
        self.min_compression = resource(api_id).get("MinimumCompressionSize")
        self._next = 0
        self._picking = threading.Lock()
        # Local-only conveniences (e.g. run the digest now): never part of the deployed API.
        self.local_routes: dict[
            tuple[str, str], Callable[[], tuple[int, list[tuple[str, str]], bytes]]
        ] = {}

    def _container(self, function_id: str) -> Container:
        pool = self.containers[function_id]
        # Prefer an idle container, as Lambda does; otherwise queue on one.
        for container in pool:
            if not container.lock.locked():
                return container
        self._next = (self._next + 1) % len(pool)
        return pool[self._next]

    def _invoke(self, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        if not all(c.isolated for c in self.containers[function_id]):
            with _RESOLVING:
                return self._container(function_id).invoke(event)
        with self._picking:  # an idle container, else the least queued: never two on one idle
            container = min(self.containers[function_id], key=lambda c: c.pending)
            container.pending += 1
        try:
            return container.invoke(event)
        finally:
            with self._picking:
                container.pending -= 1

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes, host: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = str(uuid.uuid4())
        split = urlsplit(raw_path)
        path = unquote(split.path) or "/"
        if (method, path) in self.local_routes:
            return self.local_routes[(method, path)]()
        found = self.match(method, path)
        if found is None:
            static = self._static(method, path)
            if static is not None:
                return static
            status, gw_headers, payload = _gateway_response(
                "MISSING_AUTHENTICATION_TOKEN", request_id
            )
            return status, [*gw_headers.items(), ("x-amzn-RequestId", request_id)], payload
        route, path_params = found
        event = self._event(
            method, path, split.query, route, path_params, headers, body, host, request_id
        )
        try:
            result = self._invoke(route.function_id, event)
        except Exception:  # the function crashed: API Gateway answers 502
            return (
                502,
                [("Content-Type", "application/json")],
                b'{"message": "Internal server error"}',
            )
        return self._response(result, headers, request_id)

    def _event(
        self,
        method: str,
        path: str,
        query: str,
        route: Route,
        path_params: dict[str, str],
        headers: list[tuple[str, str]],
        body: bytes,
        host: str,
        request_id: str,
    ) -> dict[str, Any]:
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(key, []).append(value)
        multi_headers: dict[str, list[str]] = {}
        for key, value in headers:
            multi_headers.setdefault(key, []).append(value)
        multi_headers.setdefault("X-Forwarded-Proto", ["http"])
        return apigw_event(
            method,
            path,
            resource=route.resource,
            path_parameters=path_params or None,
            query=multi_query,
            headers=multi_headers,
            body=body,
            stage=self.stage,
            request_id=request_id,
            host=host,
            default_headers=False,  # exactly the headers the client sent
            # A custom domain with no base path: the path clients call is the resource path.
            context_path=path,
            account_id="000000000000",
            api_id="local",
            resource_id="local",
            request_time=datetime.now(UTC),
            user_agent=None,
        )

    def _response(
        self, result: dict[str, Any], request_headers: list[tuple[str, str]], request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status = int(result.get("statusCode", 200))
        out: list[tuple[str, str]] = []
        for name, value in (result.get("headers") or {}).items():
            out.append((name, str(value)))
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if any(n.lower() == name.lower() for n, _ in out):
                continue
            out.extend((name, str(v)) for v in values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        accepts_gzip = any(
            k.lower() == "accept-encoding" and "gzip" in v.lower() for k, v in request_headers
        )
        already = any(k.lower() == "content-encoding" for k, _ in out)
        if (
            self.min_compression is not None
            and accepts_gzip
            and not already
            and len(payload) >= int(self.min_compression)
        ):
            payload = gzip.compress(payload)
            out.append(("Content-Encoding", "gzip"))
        out.append(("x-amzn-RequestId", request_id))
        return status, out, payload

    def _static(self, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        if self.static_dir is None or method not in ("GET", "HEAD"):
            return None
        name = "index.html" if path == "/" else path.lstrip("/")
        target = (self.static_dir / name).resolve()
        if not target.is_file() or self.static_dir.resolve() not in target.parents:
            return None
        types = {
            ".html": "text/html; charset=utf-8",
            ".js": "text/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".svg": "image/svg+xml",
        }
        headers = [
            ("Content-Type", types.get(target.suffix, "application/octet-stream")),
            ("Cache-Control", "no-cache"),
            (
                "Content-Security-Policy",
                "default-src 'self'; connect-src *; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Date", formatdate(usegmt=True)),
        ]
        return 200, headers, target.read_bytes()


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    """Start an HTTP server for ``gateway`` in a background thread."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: with Nagle's algorithm the body waits for the
        # client's delayed ACK of the headers (about 40 ms on Linux) on every response.
        disable_nagle_algorithm = True

        def _read_chunked(self) -> bytes | None:
            """A ``Transfer-Encoding: chunked`` body (API Gateway takes one), or None when
            it is malformed, too large or cut off (answered or closed here). Read whole, so
            no chunk is left on a kept-alive connection to pass for the next request."""
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size_text = line.split(b";")[0].strip()
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_text):
                    self.close_connection = True
                    if line:
                        self.send_error(HTTPStatus.BAD_REQUEST, "invalid chunk size")
                    return None
                size = int(size_text, 16)
                total += size
                if total > MAX_PAYLOAD_BYTES:
                    self.close_connection = True
                    self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields: ignored, as API Gateway does
                    return b"".join(chunks)
                chunk = self.rfile.read(size)
                self.rfile.readline(1024)  # the CRLF after the chunk
                if len(chunk) < size:  # the client went away mid-body
                    self.close_connection = True
                    return None
                chunks.append(chunk)

        def _read_body(self) -> bytes | None:
            """The request's body, or None when there is nothing to invoke (answered or
            closed here)."""
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            declared = self.headers.get("Content-Length") or "0"
            if not re.fullmatch(r"[0-9]+", declared, re.ASCII):
                self.send_error(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
                return None
            length = int(declared)
            if length > MAX_PAYLOAD_BYTES:  # answered before reading any of it
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
                return None
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client went away mid-body: nothing to invoke
                self.close_connection = True
                return None
            return body

        def _serve(self) -> None:
            body = self._read_body()
            if body is None:
                return
            status, headers, payload = gateway.handle(
                self.command,
                self.path,
                list(self.headers.items()),
                body,
                self.headers.get("Host", f"{host}:{port}"),
            )
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 0))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (QUERY, TRACE, FOO...) reaches the gateway too, which answers it
            # like an unknown route, as API Gateway does, instead of http.server's 501 page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """http.server's own refusals (request line over 64 KiB: 414; a header line over
            64 KiB or over 100 headers: 431; a malformed request: 400) and the checks above,
            as problem documents like the gateway's other answers, not an HTML page."""
            status = HTTPStatus(code)
            request_id = str(uuid.uuid4())
            payload = json.dumps(
                {
                    "type": "about:blank",
                    "title": status.phrase,
                    "status": status.value,
                    "detail": message or status.description,
                    "request_id": request_id,
                }
            ).encode()
            # A malformed request line leaves http.server assuming HTTP/0.9 (a bare body, no
            # status line): answer in HTTP/1.1 like every other answer.
            self.request_version = self.protocol_version
            self.send_response(status)  # the standard phrase: message may quote the request
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.close_connection = True
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            if isinstance(sys.exc_info()[1], ConnectionError):
                return  # the client went away before its answer was written: not an error
            super().handle_error(request, client_address)

    server = Server((host, port), RequestHandler)
    threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
    return server
