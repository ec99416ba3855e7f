"""Email: the outbox backend, a real SMTP exchange, and delivery only after commit."""

from __future__ import annotations

import socket
import time

import pytest

from portal import mail
from portal.extensions import db
from portal.models import Organization, PartnerType
from tests.conftest import message_text


def _reset_mail(world):
    return mail.render_mail(
        world.user_a.email, "password_reset", "en", user=world.user_a, link="http://portal.test/x", hours=2
    )


def test_outbox_backend_writes_a_complete_message(app, world, outbox):
    mail.deliver(_reset_mail(world))
    (message,) = outbox()
    assert message["To"] == world.user_a.email
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Message-ID"] and message["Date"]
    assert "http://portal.test/x" in message_text(message)
    assert message.get_body(preferencelist=("html",)) is not None


def test_smtp_backend_delivers_to_a_real_server(app, world, smtp_server):
    port, received = smtp_server
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    mail.deliver(_reset_mail(world))
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    (message,) = received
    assert message["To"] == world.user_a.email
    assert "Choose a new password" in message["Subject"]


def test_smtp_failure_keeps_the_message_in_outbox_failed(app, world, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port, MAIL_TIMEOUT=2)
    mail.deliver(_reset_mail(world))
    from pathlib import Path

    assert len(list((Path(app.config["OUTBOX_PATH"]) / "failed").glob("*.eml"))) == 1


def test_queued_mail_is_sent_only_when_the_transaction_commits(app, world, outbox):
    mail.send(world.user_a.email, "password_reset", "en", user=world.user_a, link="http://x/", hours=1)
    assert outbox() == []
    db.session.commit()
    assert len(outbox()) == 1


def test_queued_mail_is_dropped_when_the_transaction_rolls_back(app, world, outbox):
    mail.send(world.user_a.email, "password_reset", "en", user=world.user_a, link="http://x/", hours=1)
    db.session.add(Organization(name="X", name_key="x", country="DE", partner_type=PartnerType.RESELLER))
    db.session.rollback()
    db.session.commit()
    assert outbox() == []


def test_password_reset_mail_through_smtp_end_to_end(app, client, world, smtp_server):
    port, received = smtp_server
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    client.post("/password/forgot", data={"email": world.user_a.email})
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(received) == 1
    assert "/password/reset/" in received[0].get_payload()[0].get_payload(decode=True).decode()
