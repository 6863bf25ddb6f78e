"""The public base URL that links point to: the CDN's domain (or its custom domain), never
the execute-api host that the CDN hides.

``template.yaml`` writes it once, into the stack's ``PublicBaseUrl`` SSM parameter. Functions
that are no event source of the API get its value in ``PUBLIC_API_URL``. The API's own
functions cannot: the distribution's origin is the API, whose definition names the
functions, so their environment naming the distribution would be a circular dependency.
They get the parameter's name (``PUBLIC_BASE_URL_PARAMETER``) and read it once per
container, on the first request that builds a link (one ``GetParameter``; the client is
made then, not at import, so a cold start pays nothing for it).
"""

from collections.abc import Callable
from typing import Any


class PublicBaseUrl:
    """``fixed`` when set; else the SSM parameter ``parameter_name`` when set; else ``""``
    (links are then built from the request, as a client that calls the API directly sees it)."""

    def __init__(self, fixed: str, parameter_name: str, ssm: Callable[[], Any]) -> None:
        self._value: str | None = fixed.rstrip("/") or (None if parameter_name else "")
        self._parameter_name = parameter_name
        self._ssm = ssm

    @property
    def value(self) -> str:
        if self._value is None:
            response = self._ssm().get_parameter(Name=self._parameter_name)
            self._value = str(response["Parameter"]["Value"]).rstrip("/")
        return self._value
