"""Story files on disk for the tests of the editors' CLIs: minimal stories (``story``) written
as ``.json`` or ``.jsonl`` files, and the sample files in ``samples/stories``."""

import json
from pathlib import Path
from typing import Any

from devtools.template import ROOT

SAMPLES = ROOT / "samples" / "stories"


def story(slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Story {slug}",
        "summary": "A summary.",
        "published_at": "2025-10-17T09:30:00Z",
        **fields,
    }


def write_jsonl(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
