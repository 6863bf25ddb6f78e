"""Uploaded story files for the ingest unit tests: their bytes (``encoded``, ``jsonl``), and
reading (``read``) and checking (``check_all``) them as the ingest function does, within
default limits."""

import io
import json
from typing import Any

from newsroom.ingest.checker import Checked, StoryChecker
from newsroom.ingest.files import Candidate, FileKind, read_stories

MAX_STORIES = 100
MAX_BYTES = 1_000_000


def encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def jsonl(*lines: bytes, end: bytes = b"\n") -> bytes:
    return b"".join(line + end for line in lines)


def read(
    kind: FileKind, data: bytes, *, max_stories: int = MAX_STORIES, max_bytes: int = MAX_BYTES
) -> list[Candidate]:
    return list(read_stories(kind, io.BytesIO(data), max_stories=max_stories, max_bytes=max_bytes))


def check_all(candidates: list[Candidate]) -> list[Checked]:
    checker = StoryChecker()
    return [checker.check(c) for c in candidates]
