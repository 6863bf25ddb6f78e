"""What the newsletter's functions (subscriptions, mailer, digest planner and sender, bounces)
read from their environment (``template.yaml`` sets it)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from newsroom.core import settings


def _rate(raw: str, name: str) -> float:
    return float(raw)


@dataclass(frozen=True, slots=True)
class NewsletterSettings:
    subscribers_table: str
    sender: str
    signing_key_parameter: str
    stories_table: str = ""
    public_api_url: str = ""  # links in emails; the subscriptions API uses the request's
    story_url_template: str = settings.DEFAULT_STORY_URL
    cors_origins: tuple[str, ...] = ("*",)
    max_send_rate: float = 10.0
    signup_queue_url: str = ""  # the subscriptions function's; the mailer reads the queue
    send_share: int = 1  # the mailer's containers that share max_send_rate
    configuration_set: str = ""  # SES configuration set of every send (bounce/complaint events)
    digest_queue_url: str = ""  # the digest planner puts batches there; the senders read it
    # Subscribers per digest message: 100 is one BatchGetItem for the sender.
    digest_batch_size: int = 100

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(
            **settings.from_env(
                env,
                {
                    "stories_table": ("STORIES_TABLE", settings.text),
                    "public_api_url": ("PUBLIC_API_URL", settings.url_base),
                    "story_url_template": ("STORY_URL_TEMPLATE", settings.text),
                    "cors_origins": ("CORS_ALLOWED_ORIGINS", settings.origins),
                    "max_send_rate": ("SES_MAX_SEND_RATE", _rate),
                    "signup_queue_url": ("SIGNUP_QUEUE_URL", settings.text),
                    "send_share": ("SES_SEND_SHARE", settings.positive_int),
                    "configuration_set": ("CONFIGURATION_SET", settings.text),
                    "digest_queue_url": ("DIGEST_QUEUE_URL", settings.text),
                    "digest_batch_size": ("DIGEST_BATCH_SIZE", settings.positive_int),
                },
                required={
                    "subscribers_table": "SUBSCRIBERS_TABLE",
                    "sender": "SENDER_EMAIL",
                    "signing_key_parameter": "SIGNING_KEY_PARAMETER",
                },
            )
        )
