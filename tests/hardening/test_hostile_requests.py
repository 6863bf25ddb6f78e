"""Hostile and malformed requests over real HTTP against the local stack: every one gets the
right 4xx problem document (``application/problem+json`` with type, title, status, detail
and request_id, plus ``errors`` with their ``loc`` for invalid parameters), never a 5xx, never
a stack trace, and the stack keeps serving afterwards.

``tests/integration/test_api.py`` covers the handler's validation rules one by one with API
Gateway events; here the same kinds of input travel as bytes on a socket through the local
API Gateway (``devtools/gateway.py``): percent-decoding, repeated parameters, oversized
request lines, headers and bodies, and methods the template does not route.
"""

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from devtools.stack import Stack
from devtools.template import load_template

SEED_SLUG = "russia-china-ai-partnership-putin-sberbank"
PROBLEM = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "request_id"}
INVALID_PARAMETERS = "https://signal-noise.example/problems/invalid-parameters"
KB = 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


def address(stack: Stack) -> tuple[str, int]:
    parts = urlsplit(stack.api_url)
    assert parts.hostname == "127.0.0.1"  # traffic to this machine only
    assert parts.port is not None
    return parts.hostname, parts.port


def send(
    stack: Stack,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    connection = http.client.HTTPConnection(*address(stack), timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def send_raw(stack: Stack, data: bytes, method: str = "GET") -> Reply:
    """Bytes exactly as given (no client-side validation or encoding)."""
    with socket.create_connection(address(stack), timeout=30) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return Reply(response.status, response.headers, response.read())


def assert_no_internals(reply: Reply) -> None:
    text = reply.body.decode("utf-8", "replace")
    for leak in ("Traceback", 'File "', ".py"):
        assert leak not in text, text[:2000]


def assert_problem(
    reply: Reply, status: int, *, errors_at: list[list[str]] | None = None
) -> dict[str, Any]:
    """``reply`` is a ``status`` problem document (with errors at exactly ``errors_at``)."""
    assert reply.status == status, (reply.status, reply.body[:500])
    assert reply.headers["Content-Type"] == PROBLEM
    assert_no_internals(reply)
    document = reply.json()
    assert set(document) >= PROBLEM_FIELDS, document
    assert document["status"] == status
    assert isinstance(document["type"], str) and document["type"]
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["detail"], str) and document["detail"]
    assert isinstance(document["request_id"], str) and document["request_id"]
    if errors_at is None:
        assert "errors" not in document or document["errors"] is None
    else:
        assert document["type"] == INVALID_PARAMETERS
        assert [error["loc"] for error in document["errors"]] == errors_at
        assert all(isinstance(e["msg"], str) and e["msg"] for e in document["errors"])
    return document


def unrouted_status() -> int:
    """The status of the template's gateway response for unknown routes and methods."""
    config = load_template()["Resources"]["ContentApi"]["Properties"]["GatewayResponses"]
    return int(config["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"])


@pytest.fixture(scope="module", autouse=True)
def still_serving(stack: Stack) -> Iterator[None]:
    """After every hostile request of this module, the stack still serves stories."""
    yield
    reply = send(stack, "GET", f"/stories/{SEED_SLUG}")
    assert reply.status == 200
    assert reply.json()["data"]["slug"] == SEED_SLUG


# -- query strings ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [10 * KB, 100 * KB], ids=["10KB", "100KB"])
@pytest.mark.parametrize("name", ["limit", "cursor", "topic"])
def test_very_long_parameter_value_is_a_problem(stack: Stack, name: str, size: int) -> None:
    value = {"limit": "9", "cursor": "A", "topic": "a"}[name] * size
    reply = send(stack, "GET", f"/stories?{name}={value}")

    if size < 64 * KB:
        # It reaches the handler, which names the parameter.
        assert_problem(reply, 400, errors_at=[["query", name]])
    else:
        # Longer than a request line may be: the gateway refuses it before any routing.
        assert_problem(reply, 414)


def test_ten_kilobyte_cursor_is_rejected_as_too_long(stack: Stack) -> None:
    reply = send(stack, "GET", "/stories?limit=5&cursor=" + "Ab-_" * (10 * KB // 4))

    document = assert_problem(reply, 400, errors_at=[["query", "cursor"]])
    assert "400" in document["errors"][0]["msg"]  # the limit is stated


def test_ten_kilobytes_of_undeclared_parameters_are_ignored(stack: Stack) -> None:
    # Undeclared parameters (cache busters and the like) are ignored, however many.
    padding = "&".join(f"x{i}=1" for i in range(2000))
    assert len(padding) > 10 * KB
    reply = send(stack, "GET", f"/stories?limit=3&{padding}")

    assert reply.status == 200
    page = reply.json()
    assert len(page["data"]) == 3
    assert "x1=" not in page["links"]["self"]  # not echoed into links


def test_hundred_kilobyte_query_string_is_a_problem(stack: Stack) -> None:
    padding = "&".join(f"x{i}=1" for i in range(20000))
    assert len(padding) > 100 * KB

    assert_problem(send(stack, "GET", f"/stories?limit=3&{padding}"), 414)


@pytest.mark.parametrize(
    ("query", "errors_at"),
    [
        ("limit=5&limit=5", [["query", "limit"]]),
        ("topic=ai&topic=ai", [["query", "topic"]]),
        ("topic=ai&topic=space", [["query", "topic"]]),
        ("cursor=a&cursor=b", [["query", "cursor"]]),
        (
            "limit=1&cursor=a&topic=ai&limit=2&cursor=b&topic=space",
            [["query", "limit"], ["query", "cursor"], ["query", "topic"]],
        ),
        ("&".join(["limit=5"] * 1000), [["query", "limit"]]),
        ("limit=5&limit=", [["query", "limit"]]),
    ],
    ids=["limit-same", "topic-same", "topic-two", "cursor-two", "all-three", "1000-times", "empty"],
)
def test_repeated_parameters_are_a_problem(
    stack: Stack, query: str, errors_at: list[list[str]]
) -> None:
    reply = send(stack, "GET", f"/stories?{query}")

    document = assert_problem(reply, 400, errors_at=errors_at)
    assert all(e["msg"] == "must be given at most once" for e in document["errors"])


@pytest.mark.parametrize(
    "limit",
    [
        "0",
        "-1",
        "1e9",
        "abc",
        "9999999999999999999999",
        "",
        "51",
        "%20",
        "5%00",
        "5%0A",
        "%EF%BC%95",
    ],
    ids=["0", "-1", "1e9", "abc", "huge", "empty", "51", "space", "nul", "newline", "fullwidth"],
)
def test_invalid_limit_is_a_problem_naming_limit(stack: Stack, limit: str) -> None:
    assert_problem(
        send(stack, "GET", f"/stories?limit={limit}"), 400, errors_at=[["query", "limit"]]
    )


@pytest.mark.parametrize(
    "query",
    [
        "topic=" + quote("\U0001f600"),
        "topic=caf%C3%A9",
        "topic=AI",
        "topic=..%2F..%2Fetc",
        "topic=ai%00",
        "topic=" + "a" * 97,
        "cursor=" + quote("not a cursor!"),
        "cursor=%00",
        "cursor=" + quote("\u00e9" * 50),
        "cursor=eyJ2IjoxfQ",  # base64url of {"v":1}: no checksum
    ],
)
def test_invalid_topic_or_cursor_is_a_problem(stack: Stack, query: str) -> None:
    name = query.split("=", 1)[0]
    assert_problem(send(stack, "GET", f"/stories?{query}"), 400, errors_at=[["query", name]])


def test_undecodable_percent_escapes_in_the_query_are_a_problem(stack: Stack) -> None:
    # %FF is no UTF-8: it decodes to U+FFFD, which is in no parameter's format.
    reply = send(stack, "GET", "/stories?topic=%FF%FE&limit=%C0%AF")

    assert_problem(reply, 400, errors_at=[["query", "limit"], ["query", "topic"]])


# -- slugs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug",
    [
        "%00",
        "first-story%00",
        "%F0%9F%98%80",  # an emoji
        "caf%C3%A9",
        "%C3%A9",
        "First-Story",
        "FIRST-STORY",
        "a" * 97,
        "a--b",
        "-a",
        "a_b",
        "a.json",
        "%20first-story",
        "first%20story",
        "story%23first-story",
        "%2e%2e",
        "%FF%FE",  # not UTF-8
        "a%0D%0ASet-Cookie:%20x=1",  # header injection attempt
        f"{SEED_SLUG}%0A",  # a real slug and a newline: not that story
        f"{SEED_SLUG}%0D",
        "%0A",
    ],
)
def test_malformed_slug_is_a_400_problem_naming_the_slug(stack: Stack, slug: str) -> None:
    reply = send(stack, "GET", f"/stories/{slug}")

    assert_problem(reply, 400, errors_at=[["path", "slug"]])
    assert "Set-Cookie" not in reply.headers


@pytest.mark.parametrize(
    "slug", ["..%2F", "%2e%2e%2f", "..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2ftemplate.yaml", "a%2Fb"]
)
def test_encoded_slash_in_the_slug_never_escapes_the_route(stack: Stack, slug: str) -> None:
    # The local gateway decodes the path before matching, so an encoded "/" makes it a path
    # no route declares: the gateway's own 404. (Deployed API Gateway keeps %2F inside the
    # path parameter: then the handler's 400. Either way a problem document, nothing read.)
    reply = send(stack, "GET", f"/stories/{slug}")

    assert reply.status in (400, unrouted_status())
    assert_problem(
        reply, reply.status, errors_at=[["path", "slug"]] if reply.status == 400 else None
    )
    assert b"Transform" not in reply.body and b"root:" not in reply.body


def test_raw_non_ascii_bytes_in_the_request_line_are_a_problem(stack: Stack) -> None:
    for raw in ("caf\u00e9".encode(), "\U0001f600".encode(), b"\xff\xfe"):
        reply = send_raw(
            stack,
            b"GET /stories/" + raw + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        assert_problem(reply, 400, errors_at=[["path", "slug"]])


def test_longest_slug_in_the_slug_format_is_looked_up_and_not_found(stack: Stack) -> None:
    reply = send(stack, "GET", "/stories/" + "a" * 96)

    document = assert_problem(reply, 404)
    assert document["request_id"] == reply.headers["x-amzn-RequestId"]


# -- methods -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/stories", f"/stories/{SEED_SLUG}"])
def test_other_methods_are_answered_like_api_gateway(stack: Stack, method: str, path: str) -> None:
    body = json.dumps({"slug": "injected", "title": "x"}).encode()
    reply = send(stack, method, path, headers={"Content-Type": "application/json"}, body=body)

    document = assert_problem(reply, unrouted_status())
    assert document["request_id"] == reply.headers["x-amzn-RequestId"]
    # Nothing was written: the story is unchanged and no "injected" story exists.
    assert send(stack, "GET", "/stories/injected").status == 404


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PROPFIND", "FOO"])
def test_unknown_methods_are_answered_like_api_gateway(stack: Stack, method: str) -> None:
    assert_problem(send(stack, method, "/stories"), unrouted_status())


# -- oversized and malformed requests ------------------------------------------------------


@pytest.mark.parametrize("size", [8 * KB, 60 * KB])
def test_large_header_within_limits_is_served(stack: Stack, size: int) -> None:
    reply = send(stack, "GET", "/stories?limit=1", headers={"X-Padding": "p" * size})

    assert reply.status == 200
    assert len(reply.json()["data"]) == 1


def test_huge_if_none_match_is_served(stack: Stack) -> None:
    tags = ", ".join(f'"{i:032x}"' for i in range(1500))  # ~54 KB of ETags, none matching
    reply = send(stack, "GET", f"/stories/{SEED_SLUG}", headers={"If-None-Match": tags})

    assert reply.status == 200


@pytest.mark.parametrize(
    "headers",
    [{"X-Padding": "p" * (100 * KB)}, {f"X-Header-{i}": "x" for i in range(200)}],
    ids=["100KB-header", "200-headers"],
)
def test_oversized_headers_are_a_431_problem(stack: Stack, headers: dict[str, str]) -> None:
    assert_problem(send(stack, "GET", "/stories", headers=headers), 431)


def test_one_megabyte_body_on_a_get_is_ignored(stack: Stack) -> None:
    reply = send(stack, "GET", "/stories?limit=2", body=b"{" * (1024 * KB))

    assert reply.status == 200
    assert len(reply.json()["data"]) == 2


@pytest.mark.parametrize("path", ["/stories", f"/stories/{SEED_SLUG}"])
def test_five_megabyte_body_on_a_post_is_answered_like_api_gateway(stack: Stack, path: str) -> None:
    reply = send(stack, "POST", path, body=b"\x00\xff" * (2560 * KB))

    assert_problem(reply, unrouted_status())


def test_body_over_api_gateways_payload_limit_is_a_413_problem(stack: Stack) -> None:
    # API Gateway takes at most 10 MB: the gateway answers before reading any of it.
    reply = send_raw(
        stack,
        b"POST /stories HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 11000000\r\n\r\n",
        method="POST",
    )

    assert_problem(reply, 413)


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"\xb2", b"99999999999999999999999"])
def test_invalid_content_length_is_a_400_problem(stack: Stack, length: bytes) -> None:
    reply = send_raw(
        stack,
        b"POST /stories HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + length + b"\r\n\r\n",
        method="POST",
    )

    if length == b"99999999999999999999999":
        assert_problem(reply, 413)
    else:
        assert_problem(reply, 400)


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE", b"GET", b"GET /stories HTTP/9.9", b"GET /stories HTTP/1.1 extra", b"\x00\x01\x02"],
    ids=["garbage", "method-only", "http-9.9", "extra-word", "binary"],
)
def test_malformed_request_line_is_a_problem(stack: Stack, request_line: bytes) -> None:
    reply = send_raw(stack, request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")

    assert 400 <= reply.status < 500 or reply.status == 505, reply.status
    assert reply.headers["Content-Type"] == PROBLEM
    assert_no_internals(reply)
    assert reply.json()["status"] == reply.status


def test_a_chunked_body_is_read_whole_and_the_connection_serves_the_next_request(
    stack: Stack,
) -> None:
    """API Gateway takes ``Transfer-Encoding: chunked`` bodies; so does the local gateway,
    reading the body to its last chunk: nothing of it is left on a kept-alive connection to
    pass for the next request (the fuzzing once met "Bad request syntax ('0')")."""
    body = b'{"email": "chunked.reader@example.com"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with socket.create_connection(address(stack), timeout=30) as sock:
        sock.sendall(
            b"POST /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked
            + b"GET /stories?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        first = http.client.HTTPResponse(sock, method="POST")
        first.begin()
        assert first.status == 202, first.read()[:500]
        first.read()
        second = http.client.HTTPResponse(sock, method="GET")
        second.begin()
        assert second.status == 200
        assert len(json.loads(second.read())["data"]) == 1


@pytest.mark.parametrize("chunk_size", [b"zz", b"-1", b"123456789"])
def test_an_invalid_chunk_size_is_a_400_problem(stack: Stack, chunk_size: bytes) -> None:
    reply = send_raw(
        stack,
        b"POST /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk_size
        + b"\r\nabc\r\n0\r\n\r\n",
        method="POST",
    )

    assert_problem(reply, 400)


def test_a_client_that_disconnects_mid_body_does_not_hurt_the_stack(stack: Stack) -> None:
    with socket.create_connection(address(stack), timeout=10) as sock:
        sock.sendall(
            b"POST /stories HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"
            + b"x" * 1000
        )
    # still_serving checks the stack afterwards; check right away too.
    assert send(stack, "GET", "/stories?limit=1").status == 200


def test_hostile_requests_in_parallel_get_problems_and_nothing_else(stack: Stack) -> None:
    targets = [
        "/stories?limit=0",
        "/stories?cursor=" + "A" * (10 * KB),
        "/stories/%F0%9F%98%80",
        "/stories/" + "a" * 97,
        "/stories?topic=..%2F",
        "/stories?limit=1&limit=1",
    ]
    failures: list[str] = []

    def hammer(target: str) -> None:
        for _ in range(10):
            reply = send(stack, "GET", target)
            if reply.status != 400 or reply.headers["Content-Type"] != PROBLEM:
                failures.append(f"{target[:60]}: {reply.status}")

    threads = [threading.Thread(target=hammer, args=(t,)) for t in targets * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


def test_concurrent_requests_never_see_each_others_headers(stack: Stack) -> None:
    # Conditional and unconditional requests for the same story, and unknown stories, at once:
    # each answer must follow its own request's If-None-Match and carry its own request id.
    target = f"/stories/{SEED_SLUG}"
    etag = send(stack, "GET", target).headers["ETag"]
    failures: list[str] = []

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(*address(stack), timeout=30)
        try:
            for i in range(12):
                kind = (number + i) % 3
                path = target if kind < 2 else f"/stories/no-such-story-{number}-{i}"
                headers = {"If-None-Match": etag} if kind == 0 else {}
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                expected = (304, 200, 404)[kind]
                if response.status != expected:
                    failures.append(f"{path} {headers}: {response.status}, not {expected}")
                elif kind == 2 and json.loads(body)["request_id"] != response.getheader(
                    "x-amzn-RequestId"
                ):
                    failures.append(f"{path}: the problem names another request's id")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [], failures[:10]
