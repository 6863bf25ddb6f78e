"""``newsroom.ingest.files``: which uploads are story files (``file_kind``, by extension) and how
``read_stories`` reads them into candidates: a ``.json`` file as one story or a
``{"stories": [...]}`` batch, a ``.jsonl`` file as one story per line (read lazily from the
stream, blank lines skipped but counted, CRLF and a UTF-8 BOM accepted, a bad line rejected
alone), and a whole file rejected with its error code when it is empty, not UTF-8, not valid
JSON, nested too deeply, of the wrong shape, or over the story or byte limit."""

import io
from collections.abc import Iterator
from typing import BinaryIO, cast

import pytest

from devtools.factories import valid_story
from newsroom.core.errors import FileRejected
from newsroom.ingest.files import Candidate, FileKind, file_kind, read_stories
from tests.support.uploads import MAX_BYTES, check_all, encoded, jsonl, read

BOM = b"\xef\xbb\xbf"


def rejection(kind: FileKind, data: bytes, **limits: int) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read(kind, data, **limits)
    return caught.value


# --- file kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("incoming/story.json", "json"),
        ("incoming/2025/OCT.JSON", "json"),
        ("incoming/batch.jsonl", "jsonl"),
        ("incoming/batch.JsonL", "jsonl"),
        ("incoming/batch.ndjson", "jsonl"),
        ("incoming/batch.NDJSON", "jsonl"),
    ],
)
def test_file_kind_by_extension_case_insensitive(key: str, kind: str) -> None:
    assert file_kind(key) == kind


@pytest.mark.parametrize(
    "key",
    ["incoming/story.txt", "incoming/story.json.gz", "incoming/story", "incoming/json", "x.yaml"],
)
def test_other_extensions_are_rejected_as_unsupported_type(key: str) -> None:
    with pytest.raises(FileRejected) as caught:
        file_kind(key)
    assert caught.value.code == "unsupported_type"


# --- .json files ----------------------------------------------------------------------------


def test_json_file_with_one_story_object() -> None:
    [candidate] = read("json", encoded(valid_story()))
    assert candidate == Candidate(index=0, line=None, value=valid_story())


def test_json_file_with_a_stories_batch() -> None:
    stories = [valid_story(slug=f"story-{i}") for i in range(3)]
    candidates = read("json", encoded({"stories": stories}))
    assert [(c.index, c.line, c.value) for c in candidates] == [
        (0, None, stories[0]),
        (1, None, stories[1]),
        (2, None, stories[2]),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        encoded([valid_story()]),
        b"42",
        b'"a story"',
        b"null",
        b"true",
        encoded({"stories": [valid_story()], "source": "wire"}),
        encoded({"stories": valid_story()}),
        encoded({"stories": "none"}),
        b'{"stories": [], "stories": []}',
    ],
    ids=[
        "empty-list",
        "list-of-stories",
        "number",
        "string",
        "null",
        "boolean",
        "extra-key-next-to-stories",
        "stories-not-a-list",
        "stories-a-string",
        "stories-twice",
    ],
)
def test_json_file_of_the_wrong_shape_is_rejected(data: bytes) -> None:
    assert rejection("json", data).code == "wrong_shape"


def test_json_file_not_utf8_is_rejected() -> None:
    error = rejection("json", b'{"title": "Caf\xe9"}')
    assert error.code == "not_utf8"
    assert "byte 14" in error.message


def test_json_file_with_utf8_bom_is_accepted() -> None:
    [candidate] = read("json", BOM + encoded(valid_story(title="Zürich")))
    assert candidate.value["title"] == "Zürich"


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", BOM, BOM + b"\n"])
def test_empty_json_file_is_rejected(data: bytes) -> None:
    assert rejection("json", data).code == "empty"


def test_invalid_json_is_rejected_with_line_and_column() -> None:
    error = rejection("json", b'{\n  "title": "x",\n  "summary": \n}')
    assert error.code == "invalid_json"
    assert "line 4, column 1" in error.message


def test_deeply_nested_json_file_is_rejected_not_a_crash() -> None:
    depth = 100_000
    error = rejection("json", b"[" * depth + b"]" * depth)
    assert error.code == "invalid_json"
    assert "nested too deeply" in error.message


@pytest.mark.parametrize("depth", [2_000, 5_000])
def test_deeply_nested_story_in_a_json_batch_is_rejected_not_a_crash(depth: int) -> None:
    nested = b'{"stories": [{"title": ' + b"[" * depth + b"]" * depth + b"}]}"
    try:
        candidates = read("json", nested)
    except FileRejected as error:  # the parser may give up first: equally fine
        assert error.code == "invalid_json"
        return
    [checked] = check_all(candidates)
    assert checked.story is None
    assert checked.errors == [{"loc": [], "msg": "JSON is nested too deeply"}]


def test_json_batch_up_to_max_stories_is_accepted() -> None:
    stories = [valid_story(slug=f"s{i}") for i in range(3)]
    assert len(read("json", encoded({"stories": stories}), max_stories=3)) == 3


def test_json_batch_over_max_stories_is_rejected() -> None:
    stories = [valid_story(slug=f"s{i}") for i in range(4)]
    error = rejection("json", encoded({"stories": stories}), max_stories=3)
    assert error.code == "too_many_stories"
    assert "4 stories" in error.message


def test_json_file_up_to_max_bytes_is_accepted() -> None:
    data = encoded(valid_story())
    assert len(read("json", data, max_bytes=len(data))) == 1


def test_json_file_over_max_bytes_is_rejected() -> None:
    data = encoded(valid_story())
    assert rejection("json", data, max_bytes=len(data) - 1).code == "too_large"


# --- .jsonl files ---------------------------------------------------------------------------


def test_jsonl_one_story_per_line() -> None:
    stories = [valid_story(slug=f"s{i}") for i in range(3)]
    candidates = read("jsonl", jsonl(*map(encoded, stories)))
    assert candidates == [Candidate(i, i + 1, value=s) for i, s in enumerate(stories)]


def test_jsonl_last_line_without_newline_is_read() -> None:
    data = encoded(valid_story(slug="a")) + b"\n" + encoded(valid_story(slug="b"))
    assert [c.value["slug"] for c in read("jsonl", data)] == ["a", "b"]


def test_jsonl_blank_lines_are_ignored_but_counted_as_lines() -> None:
    a, b = encoded(valid_story(slug="a")), encoded(valid_story(slug="b"))
    candidates = read("jsonl", jsonl(b"", a, b"   ", b"\t", b, b""))
    assert [(c.index, c.line, c.value["slug"]) for c in candidates] == [(0, 2, "a"), (1, 5, "b")]


def test_jsonl_crlf_line_endings_are_accepted() -> None:
    a, b = encoded(valid_story(slug="a")), encoded(valid_story(slug="b"))
    candidates = read("jsonl", jsonl(a, b"", b, end=b"\r\n"))
    assert [(c.index, c.line, c.error) for c in candidates] == [(0, 1, None), (1, 3, None)]
    assert all(c.story is not None for c in check_all(candidates))


def test_jsonl_utf8_bom_on_the_first_line_is_accepted() -> None:
    [candidate] = read("jsonl", jsonl(BOM + encoded(valid_story())))
    assert candidate.error is None
    assert candidate.value == valid_story()


def test_jsonl_bad_line_in_the_middle_rejects_only_that_line() -> None:
    data = jsonl(
        encoded(valid_story(slug="first")),
        b"",
        b'{"slug": "broken", "title": ',
        encoded(valid_story(slug="last")),
    )
    checked = check_all(read("jsonl", data))
    assert [(c.index, c.line) for c in checked] == [(0, 1), (1, 3), (2, 4)]
    assert [c.story.key if c.story else None for c in checked] == ["first", None, "last"]
    [error] = checked[1].errors
    assert error["loc"] == []
    assert error["msg"].startswith("not valid JSON")
    assert "(column 29)" in error["msg"]


def test_jsonl_line_not_utf8_is_rejected_alone() -> None:
    data = jsonl(
        encoded(valid_story(slug="a")),
        b'{"title": "Caf\xe9"}',
        encoded(valid_story(slug="b")),
    )
    checked = check_all(read("jsonl", data))
    assert [c.story.key if c.story else None for c in checked] == ["a", None, "b"]
    assert checked[1].line == 2
    assert checked[1].errors == [{"loc": [], "msg": "line is not valid UTF-8 (byte 14)"}]


@pytest.mark.parametrize("depth", [2_000, 5_000, 100_000])
def test_jsonl_deeply_nested_line_is_rejected_alone(depth: int) -> None:
    data = jsonl(
        b'{"title": ' + b"[" * depth + b"]" * depth + b"}",
        encoded(valid_story()),
    )
    checked = check_all(read("jsonl", data))
    assert checked[0].story is None
    assert checked[0].errors == [{"loc": [], "msg": "JSON is nested too deeply"}]
    assert checked[1].story is not None


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n\t\n", BOM, BOM + b"\n"])
def test_empty_jsonl_file_is_rejected(data: bytes) -> None:
    assert rejection("jsonl", data).code == "empty"


def test_jsonl_up_to_max_stories_is_accepted() -> None:
    data = jsonl(*(encoded(valid_story(slug=f"s{i}")) for i in range(3)), b"", b"")
    assert len(read("jsonl", data, max_stories=3)) == 3


def test_jsonl_over_max_stories_yields_the_first_then_is_rejected() -> None:
    lines = [encoded(valid_story(slug=f"s{i}")) for i in range(5)]
    stories = read_stories(
        "jsonl", io.BytesIO(jsonl(lines[0], b"", *lines[1:])), max_stories=3, max_bytes=MAX_BYTES
    )
    first = [next(stories) for _ in range(3)]
    assert [c.value["slug"] for c in first] == ["s0", "s1", "s2"]
    with pytest.raises(FileRejected) as caught:
        next(stories)
    assert caught.value.code == "too_many_stories"
    assert "lines from 5 on" in caught.value.message


def test_jsonl_over_max_bytes_is_rejected() -> None:
    data = jsonl(*(encoded(valid_story(slug=f"s{i}")) for i in range(3)))
    assert rejection("jsonl", data, max_bytes=len(data) - 1).code == "too_large"
    assert len(read("jsonl", data, max_bytes=len(data))) == 3


class LineStream:
    """A binary stream whose lines are made only when read (like an S3 body)."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._buffer = b""
        self.lines_made = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            line = next(self._lines, None)
            if line is None:
                break
            self._buffer += line
            self.lines_made += 1
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def test_jsonl_is_read_lazily_as_a_stream() -> None:
    total = 20_000
    lines = (encoded(valid_story(slug=f"story-{i}")) + b"\n" for i in range(total))
    stream = LineStream(lines)
    body = cast(BinaryIO, stream)
    stories = read_stories("jsonl", body, max_stories=total, max_bytes=100_000_000)
    first = next(stories)
    assert first == Candidate(0, 1, value=valid_story(slug="story-0"))
    assert stream.lines_made < total // 4  # only a chunk was read for the first story
    rest = list(stories)
    assert len(rest) == total - 1
    assert (rest[-1].index, rest[-1].line) == (total - 1, total)
    assert stream.lines_made == total
