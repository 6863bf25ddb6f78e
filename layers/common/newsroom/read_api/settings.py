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
    news_publication_name: str = "SIGNAL/NOISE"  # the Google News sitemap
    news_publication_language: str = "en"
    cache_seconds: int = 60  # newsroom.http.caching.Freshness (CacheSeconds)
    public_base_url: str = ""  # newsroom.core.public_url: fixed, or
    public_base_url_parameter: str = ""  # read from this SSM parameter
    signing_key_parameter: str = ""  # previews (newsroom.stories.previews); "": none open

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
                    "cache_seconds": ("CACHE_SECONDS", settings.positive_int),
                    "news_publication_name": ("NEWS_PUBLICATION_NAME", settings.text),
                    "news_publication_language": ("NEWS_PUBLICATION_LANGUAGE", settings.text),
                    "public_base_url": ("PUBLIC_API_URL", settings.url_base),
                    "public_base_url_parameter": ("PUBLIC_BASE_URL_PARAMETER", settings.text),
                    "signing_key_parameter": ("SIGNING_KEY_PARAMETER", settings.text),
                },
                required={"table_name": "STORIES_TABLE"},
            )
        )
