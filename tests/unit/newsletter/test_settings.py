"""``newsroom.newsletter.settings.NewsletterSettings`` from the environment ``template.yaml``
gives the digest function, plus the deployment's tables, public API URL and CORS origins: the
tables, the sender, the signing key parameter, the public API URL without its trailing slash,
the story URL template, the send rate and the origins."""

from devtools.template import function_environment
from newsroom.newsletter.settings import NewsletterSettings

SENDER = "newsletter@signal-noise.example"


def test_newsletter_settings_come_from_the_template_environment() -> None:
    env = {
        **function_environment("DigestFunction"),
        "SUBSCRIBERS_TABLE": "subs",
        "STORIES_TABLE": "stories",
        "PUBLIC_API_URL": "https://news.example/api/",
        "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    }
    settings = NewsletterSettings.from_env(env)
    assert settings.subscribers_table == "subs"
    assert settings.stories_table == "stories"
    assert settings.sender == SENDER
    assert settings.signing_key_parameter == "/signal-noise/newsletter/signing-key"
    assert settings.public_api_url == "https://news.example/api"  # no trailing slash
    assert settings.story_url_template == "https://signal-noise.example/stories/{slug}"
    assert settings.max_send_rate == 10.0
    assert settings.cors_origins == ("https://a.example", "https://b.example")
