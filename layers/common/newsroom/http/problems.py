"""HTTP errors as RFC 9457 problem documents: the one place that maps the package's errors
to ``application/problem+json`` responses."""

import json
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
INVALID_PARAMETERS_TYPE = "https://signal-noise.example/problems/invalid-parameters"
RETRY_AFTER_SECONDS = 2


class ApiProblem(Exception):
    """An error the API answers with a problem document."""

    status: int = 500
    type: str = "about:blank"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def headers(self) -> dict[str, str]:
        return {}


class InvalidParameters(ApiProblem):
    status = 400
    type = INVALID_PARAMETERS_TYPE

    @property
    def title(self) -> str:
        return "Invalid request parameters"


class NotFound(ApiProblem):
    status = 404


class Gone(ApiProblem):
    status = 410


class ServiceUnavailable(ApiProblem):
    status = 503

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def backend_busy(backend: str) -> ServiceUnavailable:
    """The answer when ``backend`` (AWS) throttles or fails transiently."""
    return ServiceUnavailable(f"{backend} is busy; retry shortly")


class InternalError(ApiProblem):
    status = 500


def problem_body(problem: ApiProblem, request_id: str | None) -> str:
    """The JSON problem document: type, title, status, detail, request_id (+ errors)."""
    document: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "request_id": request_id,
    }
    if problem.errors is not None:
        document["errors"] = problem.errors
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
