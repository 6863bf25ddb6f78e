"""The published OpenAPI document (``newsroom/openapi.json``, written by ``make openapi`` from
the capabilities' operations) as ``/openapi.json`` and ``/docs`` serve it: with the caller's
server URL. Read once per container and server URL; no pydantic, no schema generation."""

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi.json"
_SWAGGER_BASE = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


@cache
def _published() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


# Bounded: the server URL comes from the request's Host and X-Forwarded-Proto headers.
@lru_cache(maxsize=8)
def openapi_json(server_url: str) -> str:
    """The document with ``server_url`` as the one server clients call."""
    document = {**_published(), "servers": [{"url": server_url or "/"}]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def swagger_html(spec: str) -> str:
    """Swagger UI with the document ``spec`` embedded (Powertools' page template)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    return generate_swagger_html(
        spec=spec.replace("</", "<\\/"),
        swagger_js=f"{_SWAGGER_BASE}/swagger-ui-bundle.js",
        swagger_css=f"{_SWAGGER_BASE}/swagger-ui.css",
        swagger_base_url=_SWAGGER_BASE,
        oauth2_config=None,
        persist_authorization=False,
    )
