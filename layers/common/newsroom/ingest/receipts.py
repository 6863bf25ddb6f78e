"""Receipts: what happened to every story of an uploaded file, written beside it in S3
under ``receipts/<key below incoming/>.json`` (outside ``incoming/``, so it triggers nothing)."""

from dataclasses import dataclass, field
from typing import Any

from newsroom.stories.repository import WriteOutcome


def receipt_key(source_key: str, incoming_prefix: str, receipts_prefix: str) -> str:
    """``incoming/a/b.jsonl`` -> ``receipts/a/b.jsonl.json``."""
    return f"{receipts_prefix}{source_key.removeprefix(incoming_prefix)}.json"


@dataclass(slots=True)
class Receipt:
    """The receipt of one processed file."""

    bucket: str
    key: str
    processed_at: str
    etag: str | None = None
    size: int | None = None
    stories: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None

    def accept(self, index: int, line: int | None, slug: str, outcome: WriteOutcome) -> None:
        entry: dict[str, Any] = {"index": index, "slug": slug, "result": outcome.value}
        if line is not None:
            entry["line"] = line
        self.stories.append(entry)

    def reject(self, index: int, line: int | None, errors: list[dict[str, Any]]) -> None:
        entry: dict[str, Any] = {"index": index, "errors": errors}
        if line is not None:
            entry["line"] = line
        self.rejected.append(entry)

    def fail(self, code: str, message: str) -> None:
        self.error = {"code": code, "msg": message}

    def counts(self) -> dict[str, int]:
        counts = {outcome.value: 0 for outcome in WriteOutcome}
        for entry in self.stories:
            counts[entry["result"]] += 1
        counts["rejected"] = len(self.rejected)
        return counts

    @property
    def status(self) -> str:
        """``ok``: every story stored; ``partial``: some rejected or a file-level error after
        some stories; ``failed``: nothing could be read."""
        if self.error and not self.stories:
            return "failed"
        return "partial" if self.error or self.rejected else "ok"

    def to_dict(self) -> dict[str, Any]:
        self.stories.sort(key=lambda e: e["index"])
        self.rejected.sort(key=lambda e: e["index"])
        return {
            "source": {
                "bucket": self.bucket,
                "key": self.key,
                "etag": self.etag,
                "size": self.size,
            },
            "processed_at": self.processed_at,
            "status": self.status,
            "counts": self.counts(),
            "error": self.error,
            "stories": self.stories,
            "rejected": self.rejected,
        }
