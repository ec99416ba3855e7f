"""Email: rendered in the recipient's language, sent only after the transaction commits.

Backends (``MAIL_BACKEND``):

* ``outbox`` (default): each message is written to ``<instance>/outbox`` as an
  ``.eml`` file, so nothing is lost on a machine without a mail server;
* ``smtp``: a real SMTP client (``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``
  for STARTTLS, ``MAIL_USE_SSL`` for implicit TLS, ``MAIL_USERNAME``/``PASSWORD``).
  A message the server refuses is kept in ``<instance>/outbox/failed``.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

PENDING_KEY = "portal.pending_mail"


@dataclass
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None

    def to_message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or None)
        message.set_content(self.text)
        if self.html:
            message.add_alternative(self.html, subtype="html")
        return message


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full URL for links in emails, also outside a request (CLI, cron)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def render_mail(to: str, template: str, locale: str | None, **context: Any) -> Mail:
    """Render ``templates/email/<template>.{subject,txt,html}`` in ``locale``."""
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    return Mail(to=to, subject=" ".join(subject.split()), text=text, html=html)


def send(to: str, template: str, locale: str | None = None, **context: Any) -> Mail:
    """Render a message now and send it once the current transaction commits.

    A rolled-back change sends nothing. Use :func:`deliver` to send at once.
    """
    mail = render_mail(to, template, locale, **context)
    db.session.info.setdefault(PENDING_KEY, []).append(mail)
    return mail


def deliver(mail: Mail) -> None:
    """Hand one message to the configured backend now."""
    config = current_app.config
    message = mail.to_message(config["MAIL_DEFAULT_SENDER"])
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        write_to_outbox(message, Path(config["OUTBOX_PATH"]))
    elif backend == "smtp":
        try:
            send_smtp(message)
        except (smtplib.SMTPException, OSError):
            current_app.logger.exception("SMTP delivery to %s failed; kept in outbox/failed", mail.to)
            write_to_outbox(message, Path(config["OUTBOX_PATH"]) / "failed")
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


def write_to_outbox(message: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(message))
    tmp.rename(path)  # atomic: readers never see half a message
    return path


def send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        client.send_message(message)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    for mail in pending or ():
        deliver(mail)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    session.info.pop(PENDING_KEY, None)
