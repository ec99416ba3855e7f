"""Reading the emails a test app wrote to its instance outbox."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import Flask


def outbox_messages(app: Flask) -> list[EmailMessage]:
    """Messages written to the instance outbox, oldest first."""
    folder = Path(app.config["OUTBOX_PATH"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(f.read_bytes()) for f in files]  # type: ignore[misc]


def message_text(message: Any) -> str:
    """The plain-text body of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: Any) -> str:
    """The first portal link in a message, as a path for the test client."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message_text(message))
    assert match, message_text(message)
    return match.group(1)
