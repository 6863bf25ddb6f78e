"""The events ``template.yaml`` declares for a function, and the ``(METHOD, path)``
routes of the read API's function."""

from typing import Any

from devtools.template import resource


def function_events(logical_id: str, kind: str) -> dict[str, dict[str, Any]]:
    """The properties of the function's events of one ``Type`` (Api, S3, Schedule), by name."""
    return {
        name: event["Properties"]
        for name, event in resource(logical_id).get("Events", {}).items()
        if event["Type"] == kind
    }


def api_events(logical_id: str = "ApiFunction") -> dict[str, dict[str, Any]]:
    """The function's API Gateway events, by logical id."""
    return function_events(logical_id, "Api")


def template_routes(method: str | None = None) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of ApiFunction's API events, optionally of one method only."""
    routes = {(e["Method"].upper(), e["Path"]) for e in api_events().values()}
    return {r for r in routes if method is None or r[0] == method}
