"""Builds the digest's planner and senders from their settings and the shared AWS clients
(each function calls one of these once per container). Apart from ``wiring`` so that the
subscriptions function's cold start does not import the senders' SQS and batch machinery."""

from collections.abc import Callable

from newsroom.core import aws
from newsroom.core.signing import SigningKey
from newsroom.newsletter.budget import SendBudget
from newsroom.newsletter.confirmations import RetryBackoff
from newsroom.newsletter.digest_batches import DigestQueue
from newsroom.newsletter.digest_runs import RunReporter, RunRepository
from newsroom.newsletter.mailer import Mailer
from newsroom.newsletter.planner import DigestPlanner
from newsroom.newsletter.sender import DigestSender
from newsroom.newsletter.service import Newsletter
from newsroom.newsletter.settings import NewsletterSettings
from newsroom.newsletter.subscribers import SubscriberRepository
from newsroom.stories.repository import StoryRepository


def build_digest_planner(settings: NewsletterSettings, reporter: RunReporter) -> DigestPlanner:
    """The planner (DigestFunction): the ``confirmed`` index, the stories' feed, the run
    items, the digest queue and SES's send quota."""
    dynamodb = aws.client("dynamodb")
    return DigestPlanner(
        SubscriberRepository(dynamodb, settings.subscribers_table),
        StoryRepository(dynamodb, settings.stories_table),
        RunRepository(dynamodb, settings.subscribers_table),
        DigestQueue(aws.client("sqs"), settings.digest_queue_url),
        aws.client("ses"),
        settings.max_send_rate,
        reporter,
        batch_size=settings.digest_batch_size,
    )


def build_digest_sender(
    settings: NewsletterSettings, reporter: RunReporter, log: Callable[..., None]
) -> DigestSender:
    """A sender (DigestSenderFunction). Its mailer does not pace (rate 0): the shared budget
    paces every sender together, at the rate each message names."""
    dynamodb = aws.client("dynamodb")
    newsletter = Newsletter(
        SubscriberRepository(dynamodb, settings.subscribers_table),
        Mailer(aws.client("ses"), 0, settings.configuration_set),
        SigningKey(aws.client("ssm"), settings.signing_key_parameter),
        settings.sender,
    )
    return DigestSender(
        newsletter,
        RunRepository(dynamodb, settings.subscribers_table),
        SendBudget(dynamodb, settings.subscribers_table),
        settings.public_api_url,
        settings.story_url_template,
        reporter,
        log,
        RetryBackoff(aws.client("sqs"), log),
    )
