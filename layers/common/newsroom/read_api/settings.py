"""What the read API function reads from its environment (``template.yaml`` sets it)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from newsroom.core import settings


@dataclass(frozen=True, slots=True)
class ApiSettings:
    table_name: str
    cors_origins: tuple[str, ...] = ("*",)
    docs_enabled: bool = False
    story_url_template: str = settings.DEFAULT_STORY_URL
    site_url: str = settings.DEFAULT_SITE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(
            **settings.from_env(
                env,
                {
                    "cors_origins": ("CORS_ALLOWED_ORIGINS", settings.origins),
                    "docs_enabled": ("ENABLE_API_DOCS", settings.flag),
                    "story_url_template": ("STORY_URL_TEMPLATE", settings.text),
                    "site_url": ("SITE_URL", settings.text),
                },
                required={"table_name": "STORIES_TABLE"},
            )
        )
