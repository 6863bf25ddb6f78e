"""The newsletter's two AWS resources besides its table: SES, which sends the mail, and the
SSM parameter that holds the signing key."""

import time
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import ClientError


class Mailer:
    """Sends MIME messages through SES (``SendRawEmail`` keeps our own headers), each under
    the stack's configuration set, whose event destination reports bounces and complaints
    (SES developer guide, "Using configuration sets in Amazon SES"). The role then needs
    ``ses:SendRawEmail`` on the configuration set too (Service Authorization Reference for
    SES: SendRawEmail's resources are identity and configuration-set)."""

    def __init__(self, ses: Any, max_per_second: float, configuration_set: str = "") -> None:
        self._ses = ses
        self._options = {"ConfigurationSetName": configuration_set} if configuration_set else {}
        self._interval = 1.0 / max_per_second if max_per_second > 0 else 0.0
        self._next = 0.0

    def send(self, message: EmailMessage) -> None:
        # Stay under the account's SES sending rate.
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next = time.monotonic() + self._interval
        try:
            self._ses.send_raw_email(RawMessage={"Data": message.as_bytes()}, **self._options)
        except ClientError as exc:
            # SES's error messages can name the recipient ("...failed the check in region
            # US-EAST-1: reader@example.com"): raise it again with its code and status only,
            # so that no log line or traceback carries the address.
            scrubbed: Any = {
                "Error": {
                    "Code": exc.response.get("Error", {}).get("Code", "Unknown"),
                    "Message": "SES refused the message (its reason is not logged)",
                },
                "ResponseMetadata": exc.response.get("ResponseMetadata", {}),
            }
            raise ClientError(scrubbed, exc.operation_name) from None
