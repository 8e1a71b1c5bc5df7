"""The outbox and its delivery: .eml files, a real SMTP server, refusals, outages, retries."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.mail.message import Mail, Part, build
from learnnet.mail.models import FAILED, QUEUED, SENT, OutboxMessage
from learnnet.models import utcnow
from tests.smtp_server import SmtpServer, free_port

ICS = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def queue_one(recipient: str = "ilse@example.org", **kw) -> OutboxMessage:
    rendered = mail.Rendered("Uitnodiging: netwerk", "Dag Ilse,\n\nTot dan!\n", "<p>Dag Ilse,</p>")
    message = mail.queue("invitation", recipient, rendered, recipient_name="Ilse Vermeulen", **kw)
    db.session.commit()
    return message


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def smtp_app(app_factory, port: int, **extra):
    return app_factory(
        MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5, **extra
    )


# --- building ---------------------------------------------------------------------------------


def test_text_and_html_are_alternatives_and_an_imip_part_sits_beside_them():
    message = build(
        Mail(
            sender="learnnet <noreply@example.org>",
            recipient="ilse@example.org",
            recipient_name="Ilse Vermeulen",
            subject="Uitnodiging — ’t Kriebeltje",
            text="Dag Ilse",
            html="<p>Dag Ilse</p>",
            parts=(
                Part("invite.ics", "text/calendar; method=REQUEST", ICS, inline=True),
                Part("sessie.ics", "text/calendar", ICS),
            ),
        )
    )
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative = parsed.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in alternative.get_payload()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    calendar = alternative.get_payload()[2]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    attachment = parsed.get_payload()[1]
    assert attachment.get_filename() == "sessie.ics"
    assert parsed["Subject"] == "Uitnodiging — ’t Kriebeltje"
    assert parsed["To"].addresses[0].display_name == "Ilse Vermeulen"


# --- file backend -----------------------------------------------------------------------------


def test_the_laptop_default_writes_eml_files_to_the_instance_outbox(app):
    queue_one()
    report = mail.deliver_due()
    assert (report.sent, report.failed) == (1, 0)
    files = list((Path(app.instance_path) / "outbox").glob("*.eml"))
    assert len(files) == 1
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["To"].addresses[0].addr_spec == "ilse@example.org"
    assert parsed.get_body(("plain",)).get_content().startswith("Dag Ilse")
    assert db.session.scalar(select(OutboxMessage.status)) == SENT
    assert mail.deliver_due().sent == 0  # sent once only


def test_a_message_rolls_back_with_the_change_that_caused_it(app):
    rendered = mail.Rendered("s", "t", "")
    mail.queue("invitation", "x@example.org", rendered)
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_dedupe_key_queues_a_message_once(app):
    assert queue_one(dedupe_key="reminder:1:2:7") is not None
    rendered = mail.Rendered("s", "t", "")
    assert mail.queue("reminder", "x@example.org", rendered, dedupe_key="reminder:1:2:7") is None


def test_two_requests_queueing_the_same_message_at_once_make_one_and_no_error(app, db_url):
    """A double click: both requests pass the dedupe check before either commits. On
    PostgreSQL the second insert waits for the first commit and meets the unique key;
    it is given up alone, and the rest of the second request's transaction stands."""
    import threading

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the second waits before its check")
    rendered = mail.Rendered("s", "t", "")
    checked = threading.Barrier(2)
    results: dict[str, object] = {}
    real_scalar = db.session.scalar

    def scalar_then_wait(*args, **kwargs):  # the dedupe check: both look before either writes
        found = real_scalar(*args, **kwargs)
        checked.wait(timeout=10)
        return found

    def request(name: str) -> None:
        with app.app_context():
            try:
                results[name] = mail.queue(
                    "invitation", "x@example.org", rendered, dedupe_key="invitation:9:9"
                )
                queue_one(recipient=f"{name}@example.org")  # the rest of the request
            except Exception as exc:
                results[name] = exc
            finally:
                db.session.remove()

    db.session.scalar = scalar_then_wait  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=request, args=(n,)) for n in ("first", "second")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        del db.session.scalar  # back to the scoped session's own method
    assert not any(isinstance(r, Exception) for r in results.values()), results
    assert sum(r is not None for r in results.values()) == 1
    keyed = select(func.count(OutboxMessage.id)).where(OutboxMessage.dedupe_key == "invitation:9:9")
    assert db.session.scalar(keyed) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 3


# --- SMTP -------------------------------------------------------------------------------------


def test_delivery_through_a_real_smtp_server(app_factory, smtp):
    app = smtp_app(app_factory, smtp.port)
    with app.app_context():
        queue_one()
        report = mail.deliver_due()
        assert report.sent == 1
        assert db.session.scalar(select(OutboxMessage.status)) == SENT
    received = smtp.recorder.received
    assert len(received) == 1
    assert received[0]["Subject"] == "Uitnodiging: netwerk"
    assert smtp.recorder.envelopes[0].rcpt_tos == ["ilse@example.org"]


def test_a_refusing_server_marks_the_message_failed_and_does_not_retry(app_factory, smtp):
    smtp.recorder.refuse = "550 5.7.1 Message refused"
    app = smtp_app(app_factory, smtp.port)
    with app.app_context():
        queue_one()
        report = mail.deliver_due()
        message = db.session.scalar(select(OutboxMessage))
        assert (report.failed, message.status, message.attempts) == (1, FAILED, 1)
        assert "550" in message.last_error
        assert mail.deliver_due(now=utcnow() + timedelta(days=1)).sent == 0


def test_a_temporary_refusal_is_retried_later(app_factory, smtp):
    smtp.recorder.refuse = "451 4.3.0 Try again later"
    app = smtp_app(app_factory, smtp.port)
    with app.app_context():
        queue_one()
        assert mail.deliver_due().retried == 1
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == QUEUED and message.next_attempt_at > utcnow()
        smtp.recorder.refuse = None
        assert mail.deliver_due().sent == 0  # not due yet
        assert mail.deliver_due(now=utcnow() + timedelta(minutes=2)).sent == 1


def test_nothing_is_lost_while_the_server_is_down(app_factory):
    port = free_port()
    app = smtp_app(app_factory, port)
    with app.app_context():
        queue_one("a@example.org")
        queue_one("b@example.org")
        report = mail.deliver_due()
        # The first try fails; the run stops instead of hammering a dead server.
        assert (report.sent, report.retried, report.failed) == (0, 1, 0)
        first = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert first.attempts == 1 and "refused" in first.last_error.lower()
        server = SmtpServer(port).start()
        try:
            later = utcnow() + timedelta(minutes=5)
            assert mail.deliver_due(now=later).sent == 2
        finally:
            server.stop()
        assert {m["To"].addresses[0].addr_spec for m in server.recorder.received} == {
            "a@example.org",
            "b@example.org",
        }


def test_backoff_grows_and_is_capped_and_gives_up_after_max_attempts(app_factory):
    assert [mail.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert mail.backoff(30).total_seconds() == 6 * 3600
    app = smtp_app(app_factory, free_port(), MAIL_MAX_ATTEMPTS=3)
    with app.app_context():
        queue_one()
        moment = utcnow()
        for _ in range(3):
            mail.deliver_due(now=moment)
            moment += timedelta(hours=7)
        message = db.session.scalar(select(OutboxMessage))
        assert (message.status, message.attempts) == (FAILED, 3)


def test_a_claimed_message_is_left_to_its_sender(app):
    message = queue_one()
    message.claimed_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert mail.deliver_due().sent == 0


def test_send_mail_command(app):
    queue_one()
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output


# --- messages that cannot be built (issue 19, item 6) ----------------------------------------

# Names written before the one-line rule (learnnet.names): each breaks a header.
POISON = [
    "Ilse\r\nBcc: everyone@example.org",
    "Ilse\nVermeulen",
    "Ilse\u2028Vermeulen",
    "Ilse\u2029Vermeulen",
    "Ilse\x0bVermeulen",
    "Ilse\x0cVermeulen",
    "Ilse\x85Vermeulen",
    "Ilse\x00Vermeulen",
    "Ilse\x1b[31mVermeulen",
]


@pytest.mark.parametrize("field", ["recipient_name", "subject"])
@pytest.mark.parametrize("poison", POISON)
def test_a_poisoned_message_fails_alone_and_the_batch_goes_on(
    app_factory, db_url, smtp, field, poison
):
    if "\x00" in poison and db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL never stores a NUL, so no old row holds one")
    app = smtp_app(app_factory, smtp.port)
    with app.app_context():
        good = [queue_one(f"good{n}@example.org") for n in range(2)]
        rendered = mail.Rendered(
            poison if field == "subject" else "Uitnodiging: netwerk", "Dag\n", "<p>Dag</p>"
        )
        name = poison if field == "recipient_name" else "Ilse"
        bad = mail.queue("invitation", "bad@example.org", rendered, recipient_name=name)
        db.session.commit()
        good += [queue_one(f"good{n}@example.org") for n in range(2, 5)]
        result = app.test_cli_runner().invoke(args=["send-mail"])
        # The run did its work: exit 0, the one failure named on stderr with its reason.
        assert result.exit_code == 0, result.output
        assert "5 sent, 0 to retry later, 1 failed" in result.output
        assert f"#{bad.id} to bad@example.org: cannot be built" in result.output
        db.session.expire_all()
        assert {m.status for m in good} == {SENT}
        assert bad.status == FAILED and bad.attempts == 1
        assert "control characters" in bad.last_error and "U+" in bad.last_error
        assert mail.deliver_due(now=utcnow() + timedelta(days=1)).sent == 0  # never again
    recipients = [e.rcpt_tos for e in smtp.recorder.envelopes]
    assert sorted(recipients) == [[f"good{n}@example.org"] for n in range(5)]


def test_display_names_are_encoded_not_parsed(app_factory, smtp):
    names = [
        'Jan "de Smet" <jan@evil.example>, Piet',
        "Zoë Öztürk-Ñúñez",
        "Ann; Bcc: x@evil.example",
        "x" * 120,
    ]
    app = smtp_app(app_factory, smtp.port)
    with app.app_context():
        for n, name in enumerate(names):
            rendered = mail.Rendered(name, "Dag\n", "<p>Dag</p>")
            mail.queue("invitation", f"r{n}@example.org", rendered, recipient_name=name)
        db.session.commit()
        assert mail.deliver_due().sent == len(names)
    for n, (name, received, envelope) in enumerate(
        zip(names, smtp.recorder.received, smtp.recorder.envelopes, strict=True)
    ):
        assert envelope.rcpt_tos == [f"r{n}@example.org"]
        (address,) = received["To"].addresses
        assert (address.display_name, address.addr_spec) == (name, f"r{n}@example.org")
        assert received["Subject"] == name
        assert received["Bcc"] is None and received["Cc"] is None


def test_an_address_the_server_cannot_take_fails_alone(app_factory):
    """A non-ASCII address needs SMTPUTF8, which this server does not offer: that message
    fails for good, and the others still go (before, the run stopped as if the server
    were down, every run)."""
    server = SmtpServer(enable_SMTPUTF8=False).start()
    try:
        app = smtp_app(app_factory, server.port)
        with app.app_context():
            queue_one("a@example.org")
            odd = queue_one("zoë@example.org")
            queue_one("b@example.org")
            report = mail.deliver_due()
            assert (report.sent, report.retried, report.failed) == (2, 0, 1)
            db.session.refresh(odd)
            assert odd.status == FAILED and "SMTPUTF8" in odd.last_error
    finally:
        server.stop()
    assert [e.rcpt_tos for e in server.recorder.envelopes] == [["a@example.org"], ["b@example.org"]]
