"""Reading uploaded story files: ``.json`` (one story or ``{"stories": [...]}``) and
``.jsonl``/``.ndjson`` (one story per line, read as a stream so memory stays flat).

This module only turns bytes into candidate story objects with their positions;
``newsroom.ingest.checker`` decides whether each one is a valid story.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from newsroom.core.errors import FileRejected

FileKind = Literal["json", "jsonl"]
_KINDS: dict[str, FileKind] = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = b"\xef\xbb\xbf"
_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Candidate:
    """One story position in a file: the parsed JSON value, or why it could not be parsed."""

    index: int  # 0-based position among the file's stories
    line: int | None  # 1-based line (JSON Lines only)
    value: Any = None
    error: str | None = None


class _Object(dict[str, Any]):
    """A JSON object that remembers keys it saw twice (json keeps only the last one)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        obj.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return obj


def loads(text: str | bytes) -> Any:
    """``json.loads`` that records duplicate keys instead of silently keeping the last."""
    return json.loads(text, object_pairs_hook=_object_pairs)


def duplicate_keys(value: Any, loc: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Errors ``[{"loc", "msg"}]`` for every object key that appears twice inside ``value``."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            found.append({"loc": [*loc, key], "msg": "duplicate key in the same object"})
        for key, child in value.items():
            found += duplicate_keys(child, (*loc, key))
    elif isinstance(value, list):
        for position, child in enumerate(value):
            found += duplicate_keys(child, (*loc, position))
    return found


def file_kind(key: str) -> FileKind:
    """The format of a file by its extension; anything else is rejected."""
    for suffix, kind in _KINDS.items():
        if key.lower().endswith(suffix):
            return kind
    raise FileRejected("unsupported_type", "file name must end in .json, .jsonl or .ndjson")


def read_stories(
    kind: FileKind,
    stream: BinaryIO,
    *,
    max_stories: int,
    max_bytes: int,
    size: int | None = None,
) -> Iterator[Candidate]:
    """Candidates of one file, in order. Raises ``FileRejected`` for file-level problems;
    for JSON Lines that can happen after earlier lines were yielded (too many stories).

    ``size``, when known (S3's ContentLength), rejects a file before reading any of it.
    """
    if size is not None and size > max_bytes:
        raise FileRejected("too_large", f"file is {size} bytes; at most {max_bytes}")
    if size == 0:
        raise FileRejected("empty", "file is empty")
    if kind == "json":
        return _document(stream.read(max_bytes + 1), max_stories, max_bytes)
    return _lines(_chunks(stream), max_stories, max_bytes)


def _document(data: bytes, max_stories: int, max_bytes: int) -> Iterator[Candidate]:
    if len(data) > max_bytes:
        raise FileRejected("too_large", f"file is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected("not_utf8", f"file is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise FileRejected("empty", "file is empty")
    try:
        document = loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            "invalid_json", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise FileRejected("invalid_json", "JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python's int_max_str_digits
        raise FileRejected("invalid_json", f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FileRejected("wrong_shape", 'top level must be a story object or {"stories": [...]}')
    if "stories" not in document:
        return iter([Candidate(index=0, line=None, value=document)])
    stories = document["stories"]
    # A second "stories" key would silently replace the first list (json keeps the last).
    duplicated = getattr(document, "duplicates", ())
    if set(document) != {"stories"} or duplicated or not isinstance(stories, list):
        raise FileRejected(
            "wrong_shape", 'a batch must be exactly {"stories": [...]} with a list of stories'
        )
    if not stories:
        raise FileRejected("empty", "the batch has no stories")
    if len(stories) > max_stories:
        raise FileRejected(
            "too_many_stories", f"file has {len(stories)} stories; at most {max_stories}"
        )
    return (Candidate(index=i, line=None, value=v) for i, v in enumerate(stories))


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk


def _split_lines(chunks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    # Our own splitter: botocore's iter_lines re-concatenates a pending long line on every
    # chunk, which is quadratic for a single huge line.
    pending = bytearray()
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise FileRejected("too_large", f"file is larger than {max_bytes} bytes")
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            yield bytes(pending[start:end])
            start = end + 1
        del pending[:start]
    if pending:
        yield bytes(pending)


def _lines(chunks: Iterable[bytes], max_stories: int, max_bytes: int) -> Iterator[Candidate]:
    index = 0
    for number, raw in enumerate(_split_lines(chunks, max_bytes), start=1):
        line = raw.removeprefix(_BOM) if number == 1 else raw
        if not line.strip():
            continue  # blank lines (and CRLF's lone \r) are ignored
        if index >= max_stories:
            raise FileRejected(
                "too_many_stories",
                f"file has more than {max_stories} stories; lines from {number} on were "
                "not processed",
            )
        yield _parse_line(index, number, line)
        index += 1
    if index == 0:
        raise FileRejected("empty", "file has no stories")


def _parse_line(index: int, number: int, line: bytes) -> Candidate:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Candidate(index, number, error=f"line is not valid UTF-8 (byte {exc.start})")
    try:
        return Candidate(index, number, value=loads(text))
    except json.JSONDecodeError as exc:
        return Candidate(index, number, error=f"not valid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return Candidate(index, number, error="JSON is nested too deeply")
    except ValueError as exc:  # e.g. an integer longer than Python's int_max_str_digits
        return Candidate(index, number, error=f"not valid JSON: {exc}")
