"""The subscription routes: one declaration each, which ``SubscriptionsApi`` registers and the
OpenAPI document describes (``template.yaml`` declares the same routes on
SubscriptionsFunction; a test keeps the three in step)."""

from newsroom.http.operations import FORM, HTML, JSON, PROBLEM, Body, Operation, Response
from newsroom.http.params import QueryParam

SUBSCRIPTIONS = "Subscriptions"
TOKEN_PARAM = QueryParam(
    "token",
    "string",
    "The signed token of the link in the email.",
    max_length=120,
    required=True,
)
_PAGE = Body(HTML, "Html", "page")  # what a browser (Accept: text/html) gets instead of JSON
_INVALID_LINK = Response(
    "The link has no token, or one that is tampered with, expired or for another purpose.",
    PROBLEM,
    "Problem",
    "invalidLink",
)
_UNAVAILABLE = Response(
    "The subscription service is unavailable or throttled; retry after Retry-After seconds.",
    PROBLEM,
    "Problem",
    "subscriptionsUnavailable",
)


def _answer(description: str, example: str) -> Response:
    return Response(description, JSON, "SubscriptionAnswer", example, also=(_PAGE,))


SUBSCRIPTION_OPERATIONS = (
    Operation(
        "POST", "/subscriptions", "subscribe",
        "Subscribe an address: a confirmation link is emailed (double opt-in).",
        SUBSCRIPTIONS,
        "Asks for the daily newsletter. The answer is the same for a new, a pending and an "
        "already confirmed address, so it tells nobody who subscribes; the email with the "
        "confirmation link follows within seconds when the address can receive mail. A plain "
        "HTML form may post `application/x-www-form-urlencoded` and gets a page.",
        request=(
            Body(JSON, "SubscriptionRequest", "subscriptionRequest"),
            Body(FORM, "SubscriptionRequest", "subscriptionRequest"),
        ),
        responses={
            202: _answer("Accepted: if the address can receive mail, a confirmation link is "
                         "on its way.", "accepted"),
            400: Response("The body, its content type or the address is not valid; `errors` "
                          "names each field.", PROBLEM, "Problem", "invalidAddress"),
            503: _UNAVAILABLE,
        },
        conditional=False,
    ),
    Operation(
        "GET", "/subscriptions/confirm", "confirmSubscription",
        "Confirm a subscription (the link in the confirmation email).", SUBSCRIPTIONS,
        "Opens from the confirmation email: a page for a browser, JSON for a program "
        "(`Accept: application/json`). Confirmation links expire after 48 hours.",
        params=(TOKEN_PARAM,),
        responses={
            200: _answer("Subscribed.", "confirmed"),
            400: _INVALID_LINK,
            503: _UNAVAILABLE,
        },
        conditional=False,
    ),
    Operation(
        "GET", "/subscriptions/unsubscribe", "unsubscribe",
        "Unsubscribe (the link in every email).", SUBSCRIPTIONS,
        "Opens from the unsubscribe link of any email: a page for a browser, JSON for a "
        "program. Unsubscribe links do not expire.",
        params=(TOKEN_PARAM,),
        responses={
            200: _answer("Unsubscribed.", "unsubscribed"),
            400: _INVALID_LINK,
            503: _UNAVAILABLE,
        },
        conditional=False,
    ),
    Operation(
        "POST", "/subscriptions/unsubscribe", "unsubscribeOneClick",
        "One-click unsubscribe (RFC 8058), as mail clients send it.", SUBSCRIPTIONS,
        "The `List-Unsubscribe-Post` target of every email: mail clients post "
        "`List-Unsubscribe=One-Click` to the unsubscribe link.",
        params=(TOKEN_PARAM,),
        request=(Body(FORM, "OneClickUnsubscribe", "oneClick"),),
        request_required=False,
        responses={
            200: _answer("Unsubscribed.", "unsubscribed"),
            400: _INVALID_LINK,
            503: _UNAVAILABLE,
        },
        conditional=False,
    ),
)  # fmt: skip
