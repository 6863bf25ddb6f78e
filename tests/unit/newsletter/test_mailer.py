"""``newsroom.newsletter.mailer``: ``Mailer`` sends each message to SES as the raw MIME message
(our headers kept) and stays under the SES send rate (no limit at a rate of zero), and
``SigningKey`` reads the signing key once, decrypted, from its SSM SecureString parameter."""

from typing import Any

import pytest

from newsroom.core.signing import SigningKey
from newsroom.newsletter import mailer as mailer_module
from newsroom.newsletter.emails import confirmation_email
from newsroom.newsletter.mailer import Mailer

SENDER = "newsletter@signal-noise.example"


class FakeTime:
    """``time.monotonic``/``time.sleep`` of the newsletter module, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeSes:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_raw_email(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def test_the_mailer_stays_under_the_ses_send_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(mailer_module, "time", fake)
    ses = FakeSes()
    mailer = Mailer(ses, max_per_second=10)
    message = confirmation_email(SENDER, "reader@example.com", "https://x/c")
    for _ in range(4):
        mailer.send(message)
    assert fake.sleeps == pytest.approx([0.1, 0.1, 0.1])
    fake.now += 5  # idle for a while: the next one goes at once
    mailer.send(message)
    assert len(fake.sleeps) == 3
    assert len(ses.sent) == 5
    assert ses.sent[0] == {"RawMessage": {"Data": message.as_bytes()}}  # our headers kept


def test_a_send_rate_of_zero_means_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(mailer_module, "time", fake)
    mailer = Mailer(FakeSes(), max_per_second=0)
    for _ in range(5):
        mailer.send(confirmation_email(SENDER, "reader@example.com", "https://x/c"))
    assert fake.sleeps == []


def test_the_signing_key_is_read_once_from_a_secure_string() -> None:
    calls: list[dict[str, Any]] = []

    class FakeSsm:
        def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"Parameter": {"Value": "s3cr3t"}}

    key = SigningKey(FakeSsm(), "/signal-noise/newsletter/signing-key")
    assert key.value == b"s3cr3t"
    assert key.value == b"s3cr3t"
    assert calls == [{"Name": "/signal-noise/newsletter/signing-key", "WithDecryption": True}]
