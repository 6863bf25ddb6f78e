"""The subscription routes of ``newsroom.newsletter.operations`` (served by their own
function, so the read API stays read-only): ``POST /subscriptions``,
``GET /subscriptions/confirm``, ``GET|POST /subscriptions/unsubscribe``.
"""

import json
from collections.abc import Iterable
from html import escape
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

from newsroom.http.operations import register_operations
from newsroom.http.problems import ApiProblem, InvalidParameters
from newsroom.http.responses import cors_config, install_problem_handlers
from newsroom.newsletter.addresses import InvalidAddress
from newsroom.newsletter.operations import SUBSCRIPTION_OPERATIONS, TOKEN_PARAM
from newsroom.newsletter.service import Newsletter
from newsroom.newsletter.tokens import InvalidToken

BACKEND = "the subscription service"  # as 503 answers name it
MAX_BODY_BYTES = 4096
REQUEST_FIELDS = frozenset({"email"})
# The same answer for new, pending and confirmed addresses: the endpoint tells nobody who
# subscribes.
ACCEPTED_DETAIL = (
    "If this address can receive mail, a confirmation link is on its way. "
    "Nothing is sent to addresses that are already subscribed."
)
# What each route answers (a status for programs; a title and a sentence for people).
ANSWERS = {
    "accepted": ("Check your inbox", ACCEPTED_DETAIL),
    "confirmed": ("You're subscribed", "SIGNAL/NOISE will arrive in your inbox daily."),
    "unsubscribed": ("You're unsubscribed", "You will not get SIGNAL/NOISE emails any more."),
}


class InvalidLink(ApiProblem):
    status = 400
    type = "https://signal-noise.example/problems/invalid-link"

    @property
    def title(self) -> str:
        return "Invalid or expired link"


def _refuse_unknown(fields: Iterable[str]) -> None:
    """One contract rule everywhere: unknown fields are refused, as in the upload contract
    (``extra="forbid"``), each named; in a JSON body and a form alike."""
    unknown = [name for name in fields if name not in REQUEST_FIELDS]
    if unknown:
        raise InvalidParameters(
            "the request has unknown fields",
            errors=[
                {"loc": ["body", name], "msg": "unknown field (only email is accepted)"}
                for name in unknown
            ],
        )


def answer_page(title: str, message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · SIGNAL/NOISE</title></head><body>"
        f"<main><h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>"
    )


class SubscriptionsApi:
    def __init__(
        self,
        newsletter: Newsletter,
        cors_origins: tuple[str, ...],
        logger: Logger,
        public_api_url: str = "",
    ) -> None:
        self.newsletter = newsletter
        self.logger = logger
        self.public_api_url = public_api_url
        self.app = APIGatewayRestResolver(cors=cors_config(cors_origins))
        handlers = {
            "subscribe": self.subscribe,
            "confirmSubscription": self.confirm,
            "unsubscribe": self.unsubscribe,
            "unsubscribeOneClick": self.unsubscribe,
        }
        register_operations(self.app, SUBSCRIPTION_OPERATIONS, handlers)
        install_problem_handlers(self.app, logger, BACKEND)

    def _address(self) -> object:
        event = self.app.current_event
        try:
            raw = event.decoded_body or ""
        except UnicodeDecodeError:  # API Gateway base64-encodes a body that is not text
            raise InvalidParameters(
                "the body is not UTF-8 text", errors=[{"loc": ["body"], "msg": "not UTF-8"}]
            ) from None
        if len(raw.encode()) > MAX_BODY_BYTES:
            raise InvalidParameters(
                "the request body is too large",
                errors=[{"loc": ["body"], "msg": "at most 4096 bytes"}],
            )
        # Powertools' ``headers`` is case-insensitive (a CaseInsensitiveDict).
        media_type = event.headers.get("content-type") or "application/json"
        content_type = media_type.split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            form = parse_qs(raw, keep_blank_values=True)
            _refuse_unknown(form)
            values = form.get("email", [])
            return values[0] if len(values) == 1 else None
        if content_type != "application/json":
            raise InvalidParameters(
                "unsupported content type",
                errors=[
                    {
                        "loc": ["header", "content-type"],
                        "msg": "use application/json or application/x-www-form-urlencoded",
                    }
                ],
            )
        try:
            document = json.loads(raw)
        except ValueError:
            raise InvalidParameters(
                "the body is not valid JSON", errors=[{"loc": ["body"], "msg": "not valid JSON"}]
            ) from None
        if not isinstance(document, dict):
            return None
        _refuse_unknown(document)
        return document.get("email")

    def subscribe(self) -> Response[str]:
        try:
            ident = self.newsletter.subscribe(self._address())
        except InvalidAddress as exc:
            raise InvalidParameters(
                "the email address is not valid",
                errors=[{"loc": ["body", "email"], "msg": str(exc)}],
            ) from None
        self.logger.info("subscription requested", address=ident)
        # A plain HTML form (no JavaScript) gets a page; programs get JSON. The same answer
        # for every address either way: the mailer function decides, from the queue, whether
        # to send.
        return self._answer("accepted", code=202, html_by_default=False)

    def _token(self) -> str:
        query = self.app.current_event.multi_value_query_string_parameters or {}
        values = query.get(TOKEN_PARAM.name)
        if not values or len(values) != 1:
            raise InvalidLink(
                "the link has no token",
                errors=[{"loc": ["query", TOKEN_PARAM.name], "msg": "give exactly one token"}],
            )
        return values[0]

    def _wants_html(self, *, default: bool) -> bool:
        accept = self.app.current_event.headers.get("accept") or ""
        if "text/html" in accept:
            return True
        return default and "application/json" not in accept

    def _answer(
        self, status: str, *, code: int = 200, html_by_default: bool = True
    ) -> Response[str]:
        """A small HTML page for a person (a browser), JSON for a program."""
        title, message = ANSWERS[status]
        if self._wants_html(default=html_by_default):
            body, content_type = answer_page(title, message), "text/html; charset=utf-8"
        else:
            body = json.dumps({"status": status, "detail": message}, separators=(",", ":"))
            content_type = "application/json"
        return Response(
            status_code=code,
            content_type=content_type,
            body=body,
            headers={"Cache-Control": "no-store"},
        )

    def confirm(self) -> Response[str]:
        try:
            ident = self.newsletter.confirm(self._token())
        except InvalidToken as exc:
            raise InvalidLink(str(exc)) from None
        self.logger.info("subscription confirmed", address=ident)
        return self._answer("confirmed")

    def unsubscribe(self) -> Response[str]:
        try:
            ident = self.newsletter.unsubscribe(self._token())
        except InvalidToken as exc:
            raise InvalidLink(str(exc)) from None
        self.logger.info("unsubscribed", address=ident)
        return self._answer("unsubscribed")
