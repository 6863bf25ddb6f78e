"""Builds the newsletter from its settings and the shared AWS clients: the one place that
wires the subscriptions, mailer and bounces functions (each calls it once per container;
the digest's planner and senders: ``newsroom.newsletter.digest_wiring``)."""

from newsroom.core import aws
from newsroom.core.signing import SigningKey
from newsroom.newsletter.mailer import Mailer
from newsroom.newsletter.service import Newsletter
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.signups import SignupQueue
from newsroom.newsletter.subscribers import SubscriberRepository


def build_newsletter(settings: NewsletterSettings) -> Newsletter:
    """The newsletter service on the subscribers table, SES and the SSM signing key."""
    return Newsletter(
        SubscriberRepository(aws.client("dynamodb"), settings.subscribers_table),
        Mailer(
            aws.client("ses"),
            settings.max_send_rate / settings.send_share,
            settings.configuration_set,
        ),
        SigningKey(aws.client("ssm"), settings.signing_key_parameter),
        settings.sender,
        requests=(
            SignupQueue(aws.client("sqs"), settings.signup_queue_url)
            if settings.signup_queue_url
            else None
        ),
    )
