"""Logger, Metrics and Tracer for every function, configured by Powertools' environment
variables (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``, ...).

Powertools' ``Tracer()`` imports the X-Ray SDK even when tracing is disabled, so it is only
built when tracing is on: in Lambda with active tracing. It patches botocore alone (every AWS
call becomes a subsegment): by default it would patch every library the X-Ray SDK knows that
is installed, importing sqlite3 and others these functions never use (measured: about 6 ms of
cold start, ``make bench``'s ``package.as_built.ApiFunction.tracing_on``).
"""

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

F = TypeVar("F", bound=Callable[..., Any])

TRACED_MODULES = ("botocore",)

logger = Logger()
metrics = Metrics()


def tracing_enabled(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Tracing is on in Lambda (not ``sam local``) unless POWERTOOLS_TRACE_DISABLED says no."""
    if env.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return False
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME")) and not env.get("AWS_SAM_LOCAL")


class _NoTracer:
    """Stands in for Powertools' Tracer when tracing is off: the decorators do nothing."""

    def capture_lambda_handler(self, handler: F) -> F:
        return handler

    def capture_method(self, method: F) -> F:
        return method


def _make_tracer() -> Any:
    if not tracing_enabled():
        return _NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=TRACED_MODULES)


# Typed as the stand-in: Powertools' Tracer has the same decorators, but untyped ones.
tracer: _NoTracer = _make_tracer()
