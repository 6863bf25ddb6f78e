"""Settings: environment variables (declared in ``template.yaml``) parsed once, typed."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

MIB = 1024 * 1024
_DEFAULT_SITE_URL = "https://signal-noise.example/"
_DEFAULT_STORY_URL = "https://signal-noise.example/stories/{slug}"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    value = int(raw)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """What the ingest function needs."""

    table_name: str
    incoming_prefix: str = "incoming/"
    receipts_prefix: str = "receipts/"
    max_file_bytes: int = 50 * MIB
    max_stories_per_file: int = 10_000
    write_concurrency: int = 16

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "IngestSettings":
        return cls(
            table_name=env["STORIES_TABLE"],
            incoming_prefix=env.get("INCOMING_PREFIX", "incoming/"),
            receipts_prefix=env.get("RECEIPTS_PREFIX", "receipts/"),
            max_file_bytes=_int(env, "MAX_FILE_BYTES", 50 * MIB),
            max_stories_per_file=_int(env, "MAX_STORIES_PER_FILE", 10_000),
            write_concurrency=_int(env, "INGEST_CONCURRENCY", 16),
        )


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What the read API needs."""

    table_name: str
    cors_origins: tuple[str, ...] = ("*",)
    docs_enabled: bool = False
    story_url_template: str = _DEFAULT_STORY_URL
    site_url: str = _DEFAULT_SITE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "ApiSettings":
        return cls(
            table_name=env["STORIES_TABLE"],
            cors_origins=_origins(env),
            docs_enabled=env.get("ENABLE_API_DOCS", "false").lower() == "true",
            story_url_template=env.get("STORY_URL_TEMPLATE") or _DEFAULT_STORY_URL,
            site_url=env.get("SITE_URL") or _DEFAULT_SITE_URL,
        )


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("CORS_ALLOWED_ORIGINS", "*")
    return tuple(o.strip() for o in raw.split(",") if o.strip()) or ("*",)


@dataclass(frozen=True, slots=True)
class NewsletterSettings:
    """What the subscriptions and digest functions need."""

    subscribers_table: str
    sender: str
    signing_key_parameter: str
    stories_table: str = ""
    public_api_url: str = ""  # links in emails; the subscriptions API uses the request's
    story_url_template: str = _DEFAULT_STORY_URL
    cors_origins: tuple[str, ...] = ("*",)
    max_send_rate: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "NewsletterSettings":
        return cls(
            subscribers_table=env["SUBSCRIBERS_TABLE"],
            sender=env["SENDER_EMAIL"],
            signing_key_parameter=env["SIGNING_KEY_PARAMETER"],
            stories_table=env.get("STORIES_TABLE", ""),
            public_api_url=env.get("PUBLIC_API_URL", "").rstrip("/"),
            story_url_template=env.get("STORY_URL_TEMPLATE") or _DEFAULT_STORY_URL,
            cors_origins=_origins(env),
            max_send_rate=float(env.get("SES_MAX_SEND_RATE") or 10),
        )
