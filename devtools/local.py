"""Talk to a running ``make dev`` stack: ``python -m devtools.local digest|emails``.

``digest`` runs the daily digest now; ``emails`` prints what the embedded SES has sent
(subject, recipient, the text part and its links).
"""

import argparse
import json
import sys
import urllib.request
from typing import Any

from devtools.stack import STATE_DIR


def _call(method: str, path: str) -> Any:
    state = STATE_DIR / "stack.json"
    if not state.exists():
        raise SystemExit(f"no running stack: {state} is missing (start one with `make dev`)")
    api_url = json.loads(state.read_text())["api_url"]
    request = urllib.request.Request(api_url + path, method=method)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local", description=__doc__)
    parser.add_argument("command", choices=["digest", "emails"])
    args = parser.parse_args(argv)
    if args.command == "digest":
        print(json.dumps(_call("POST", "/_local/digest")))
        return 0
    emails = _call("GET", "/_local/emails")
    for number, mail in enumerate(emails, start=1):
        print(f"--- {number}. to {mail['to']}: {mail['subject']}")
        print(mail["text"].rstrip())
    if not emails:
        print("no emails sent yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
