"""HTTP representations: ETags and conditional requests, caching headers, links."""

import hashlib
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.exceptions import BotoCoreError, ClientError

from newsroom.core.errors import is_transient
from newsroom.http.caching import NO_STORE, Freshness
from newsroom.http.problems import (
    PROBLEM_CONTENT_TYPE,
    ApiProblem,
    InternalError,
    NotFound,
    backend_busy,
    problem_body,
)


def etag_of(body: str) -> str:
    """A strong ETag: a hash of the representation."""
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def representation(
    event: APIGatewayProxyEvent,
    body: str,
    content_type: str,
    freshness: Freshness,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """A cacheable 200 with ETag and Cache-Control, or a 304 when If-None-Match matches (the
    304 repeats Cache-Control, so a revalidated copy gets a new lifetime: RFC 9111 4.3.4)."""
    etag = etag_of(body)
    # The CORS headers depend on the request's Origin (absent without one, echoed when
    # origins are listed), so caches must keep one copy per Origin.
    all_headers = {
        "ETag": etag,
        "Cache-Control": freshness.cache_control,
        "Vary": "Origin",
        **(headers or {}),
    }
    if _matches(event.headers.get("If-None-Match"), etag):  # Powertools: case-insensitive
        all_headers.pop("Link", None)
        return Response(status_code=304, headers=all_headers)
    return Response(status_code=200, content_type=content_type, body=body, headers=all_headers)


def problem_response(problem: ApiProblem, request_id: str | None) -> Response[str]:
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem_body(problem, request_id),
        headers={"Cache-Control": NO_STORE, **problem.headers()},
    )


def base_url(event: APIGatewayProxyEvent, public: str = "") -> str:
    """``public`` (the CDN's base URL, ``newsroom.core.public_url``) when set; else the URL of
    the API's root as the client called it (stage or custom domain base path included)."""
    if public:
        return public
    headers = event.headers  # a case-insensitive dict (Powertools)
    host = headers.get("Host") or "localhost"
    proto = headers.get("X-Forwarded-Proto") or "https"
    full_path = event.request_context.path or event.path
    prefix = full_path.removesuffix(event.path) if full_path.endswith(event.path) else ""
    return f"{proto}://{host}{prefix.rstrip('/')}"


def url(
    event: APIGatewayProxyEvent, path: str, query: dict[str, Any] | None = None, public: str = ""
) -> str:
    params = {k: v for k, v in (query or {}).items() if v is not None}
    return base_url(event, public) + path + (f"?{urlencode(params)}" if params else "")


def cors_config(origins: tuple[str, ...]) -> CORSConfig:
    """CORS for browser clients: the configured origins; the headers clients need exposed."""
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=["If-None-Match"],
        expose_headers=["ETag", "Link", "Retry-After"],
        max_age=600,
    )


def install_problem_handlers(app: APIGatewayRestResolver, logger: Logger, backend: str) -> None:
    """Every error of ``app`` becomes a problem document: the package's ``ApiProblem``s as
    they are, throttling/5xx of AWS as 503 + Retry-After, anything else as a bare 500."""

    def request_id() -> str | None:
        try:
            return str(app.current_event.request_context.request_id)
        except (AttributeError, KeyError, TypeError):
            return None

    def on_not_found(_: NotFoundError) -> Response[str]:
        return problem_response(NotFound("no such resource"), request_id())

    def on_error(exc: Exception) -> Response[str]:
        if isinstance(exc, ApiProblem):
            problem = exc
        elif isinstance(exc, ClientError | BotoCoreError) and is_transient(exc):
            logger.warning("backend unavailable", exc_info=exc)
            problem = backend_busy(backend)
        else:
            logger.exception("unexpected error")
            problem = InternalError("an unexpected error occurred; it was logged")
        return problem_response(problem, request_id())

    app.exception_handler(Exception)(on_error)
    app.not_found(on_not_found)
