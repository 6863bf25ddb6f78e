"""What the ingest function reads from its environment (``template.yaml`` sets it)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from newsroom.core import settings
from newsroom.core.settings import MIB


@dataclass(frozen=True, slots=True)
class IngestSettings:
    table_name: str
    incoming_prefix: str = "incoming/"
    receipts_prefix: str = "receipts/"
    max_file_bytes: int = 50 * MIB
    max_stories_per_file: int = 10_000
    write_concurrency: int = 16
    # Preview links in receipts (newsroom.ingest.previews): none without a signing key.
    public_api_url: str = ""  # where the links point: the stack's public base URL
    signing_key_parameter: str = ""
    preview_link_days: int = 7  # PreviewLinkDays

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(
            **settings.from_env(
                env,
                {
                    "incoming_prefix": ("INCOMING_PREFIX", settings.text),
                    "receipts_prefix": ("RECEIPTS_PREFIX", settings.text),
                    "max_file_bytes": ("MAX_FILE_BYTES", settings.positive_int),
                    "max_stories_per_file": ("MAX_STORIES_PER_FILE", settings.positive_int),
                    "write_concurrency": ("INGEST_CONCURRENCY", settings.positive_int),
                    "public_api_url": ("PUBLIC_API_URL", settings.url_base),
                    "signing_key_parameter": ("SIGNING_KEY_PARAMETER", settings.text),
                    "preview_link_days": ("PREVIEW_LINK_DAYS", settings.positive_int),
                },
                required={"table_name": "STORIES_TABLE"},
            )
        )

    def receipt_key(self, source_key: str) -> str:
        """Where the receipt of an uploaded file is written: its key below the incoming
        prefix, under the receipts prefix, plus ``.json`` (``incoming/a/b.jsonl`` ->
        ``receipts/a/b.jsonl.json``). Outside the incoming prefix, so it triggers nothing."""
        return f"{self.receipts_prefix}{source_key.removeprefix(self.incoming_prefix)}.json"
