"""``newsroom-validate``: check story files locally with the ingest function's own code.

Every file goes through ``newsroom.ingest.files`` (``read_stories`` + ``StoryChecker``) with the
limits the ingest function is deployed with, so a file that passes here is accepted there
(JSON Lines files are streamed, never loaded whole).
"""

import argparse
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.template import function_environment
from newsroom.core.errors import FileRejected
from newsroom.ingest.checker import StoryChecker
from newsroom.ingest.files import file_kind, read_stories
from newsroom.ingest.settings import IngestSettings


class UsageError(Exception):
    """A command-line argument that cannot be used (exit status 2)."""


@dataclass(frozen=True, slots=True)
class StoryFile:
    """A story file found from the command line."""

    path: Path  # as found on disk, used in messages
    relative: str  # POSIX path below the folder it was found in (its name for a file argument)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A story that the ingest function would reject, with the reasons (``[{loc, msg}]``)."""

    index: int
    line: int | None
    slug: str | None
    errors: list[dict[str, Any]]


@dataclass(slots=True)
class FileReport:
    """The outcome of validating one file."""

    path: Path
    valid: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    error: dict[str, str] | None = None  # file-level {code, msg}, as in receipts

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected

    def lines(self) -> list[str]:
        """Human-readable error lines (none when the file is valid)."""
        where = str(self.path)
        found = [
            story_error(where, r.line, r.index, r.slug, error)
            for r in self.rejected
            for error in r.errors
        ]
        if self.error is not None:
            found.append(file_error(where, self.error))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "counts": {"valid": self.valid, "rejected": len(self.rejected)},
            "error": self.error,
            "rejected": [
                {"index": r.index, "line": r.line, "slug": r.slug, "errors": r.errors}
                for r in self.rejected
            ],
        }


def story_error(
    where: str, line: int | None, index: int, slug: str | None, error: Mapping[str, Any]
) -> str:
    """``path:line: story N (slug): loc.path: message`` (no line outside JSON Lines)."""
    position = where if line is None else f"{where}:{line}"
    loc = ".".join(str(part) for part in error.get("loc", ()))
    message = f"{loc}: {error['msg']}" if loc else str(error["msg"])
    return f"{position}: story {index} ({slug or '-'}): {message}"


def file_error(where: str, error: Mapping[str, str]) -> str:
    """``path: error code: message`` for a problem with the whole file."""
    return f"{where}: error {error['code']}: {error['msg']}"


def ingest_settings() -> IngestSettings:
    """The ingest function's settings as ``template.yaml`` deploys them (the package
    defaults when the template is not at hand)."""
    try:
        env = function_environment("IngestFunction")
    except (OSError, KeyError):
        env = {}
    return IngestSettings.from_env({**env, "STORIES_TABLE": "-"})


def _is_story_file(relative: Path) -> bool:
    if any(part.startswith(".") for part in relative.parts):
        return False  # .git, editor backups and the like
    try:
        file_kind(relative.name)
    except FileRejected:
        return False
    return True


def collect(arguments: Sequence[str]) -> list[StoryFile]:
    """The story files named by the arguments: files as given, folders searched recursively
    for ``.json``/``.jsonl``/``.ndjson``. Raises ``UsageError`` for a missing path or a
    folder without story files."""
    files: list[StoryFile] = []
    for argument in arguments:
        root = Path(argument)
        if root.is_dir():
            found = sorted(
                p for p in root.rglob("*") if p.is_file() and _is_story_file(p.relative_to(root))
            )
            if not found:
                raise UsageError(f"{argument}: no .json, .jsonl or .ndjson files in this folder")
            files += [StoryFile(p, p.relative_to(root).as_posix()) for p in found]
        elif root.exists():
            files.append(StoryFile(root, root.name))
        else:
            raise UsageError(f"{argument}: no such file or folder")
    return files


def validate_file(path: Path, settings: IngestSettings) -> FileReport:
    """Validate every story of one file as the ingest function would."""
    report = FileReport(path)
    checker = StoryChecker()
    try:
        kind = file_kind(path.name)
        with path.open("rb") as stream:
            candidates = read_stories(
                kind,
                stream,
                max_stories=settings.max_stories_per_file,
                max_bytes=settings.max_file_bytes,
                size=os.fstat(stream.fileno()).st_size,
            )
            for candidate in candidates:
                checked = checker.check(candidate)
                if checked.story is not None:
                    report.valid += 1
                    continue
                value = candidate.value
                slug = value.get("slug") if isinstance(value, dict) else None
                report.rejected.append(
                    Rejection(
                        checked.index,
                        checked.line,
                        slug if isinstance(slug, str) else None,
                        checked.errors,
                    )
                )
    except FileRejected as exc:
        report.error = {"code": exc.code, "msg": exc.message}
    except OSError as exc:
        report.error = {"code": "unreadable", "msg": exc.strerror or str(exc)}
    return report


def summary(reports: Sequence[FileReport]) -> dict[str, int]:
    return {
        "files": len(reports),
        "valid": sum(r.valid for r in reports),
        "rejected": sum(len(r.rejected) for r in reports),
        "files_rejected": sum(r.error is not None for r in reports),
    }


def summary_line(counts: Mapping[str, int]) -> str:
    line = f"{counts['files']} files, {counts['valid']} stories valid, "
    line += f"{counts['rejected']} rejected"
    if counts["files_rejected"]:
        line += f", {counts['files_rejected']} files rejected as a whole"
    return line


def robust_output() -> None:
    """Print lone surrogates (a JSON escape such as \\udc80 in a story, an undecodable file
    name) as backslash escapes instead of failing, as the ingest function writes them."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsroom-validate",
        description="Validate story files (.json, .jsonl, .ndjson) with the ingest "
        "function's own rules and limits, without uploading anything.",
        epilog="Exit status: 0 all valid, 1 errors found, 2 usage error.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="story file, or folder searched recursively"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    output.add_argument(
        "--json", action="store_true", help="print a machine-readable report on stdout"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    robust_output()
    try:
        files = collect(args.paths)
    except UsageError as exc:
        parser.error(str(exc))
    settings = ingest_settings()
    reports: list[FileReport] = []
    for file in files:
        report = validate_file(file.path, settings)
        reports.append(report)
        if not args.json:
            for line in report.lines():
                print(line, flush=True)
    ok = all(report.ok for report in reports)
    counts = summary(reports)
    if args.json:
        document = {"ok": ok, "counts": counts, "files": [r.to_dict() for r in reports]}
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        print()
    elif not args.quiet:
        print(summary_line(counts))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
