"""Queue messages with the change that causes them; deliver them later, with retries.

``queue`` only adds a row to the current database transaction: if the change rolls
back, so does its message. ``deliver_due`` claims due rows one at a time (an UPDATE
that only one sender can win, which marks the row "sending"), hands each to the
configured backend and records the outcome: sent, retried later with exponential
backoff, or failed for good. Delivery is at least once; see :func:`deliver_due`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import (
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_request_context,
    render_template,
)
from flask_babel import force_locale
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from learnnet.extensions import db
from learnnet.mail import backends
from learnnet.mail.message import Mail, Part, build, stable_message_id
from learnnet.mail.models import (
    FAILED,
    NORMAL,
    QUEUED,
    SENDING,
    SENT,
    OutboxAttachment,
    OutboxMessage,
)
from learnnet.models import utcnow

log = logging.getLogger(__name__)

#: The PostgreSQL channel a queued message is announced on (a running worker listens).
NOTIFY_CHANNEL = "learnnet_mail"


def backoff(attempts: int, base_seconds: int = 60, cap_seconds: int = 6 * 3600) -> timedelta:
    """Wait before the next try: 1, 2, 4, 8 … minutes, at most six hours."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


@dataclass(frozen=True)
class Rendered:
    """Subject and bodies of a message in the recipient's language."""

    subject: str
    text: str
    html: str


def render(template: str, locale: str, subject: Callable[[], str], **context: Any) -> Rendered:
    """Render ``mail/<template>.txt`` and ``.html`` and the subject in ``locale``."""
    languages = current_app.config["LANGUAGES"]
    locale = locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        title = subject()
        context = {**context, "subject": title, "mail_locale": locale}
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return Rendered(title, text.strip() + "\n", html)


def queue(
    kind: str,
    recipient: str,
    rendered: Rendered,
    *,
    recipient_name: str = "",
    contact_id: int | None = None,
    session_id: int | None = None,
    dedupe_key: str | None = None,
    parts: Iterable[Part] = (),
    reply_to: str | None = None,
    priority: int = NORMAL,
) -> OutboxMessage | None:
    """Add a message to the current transaction; None when its dedupe key was used before.

    ``priority``: lower goes first (URGENT for changes and cancellations, BULK for
    invitations and reminders). On PostgreSQL a running ``mail-worker`` is woken at
    commit (NOTIFY); elsewhere it finds the message at its next poll.
    """
    if dedupe_key is not None and db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        recipient_name=recipient_name,
        reply_to=reply_to,
        subject=rendered.subject[:300],
        text_body=rendered.text,
        html_body=rendered.html,
        contact_id=contact_id,
        session_id=session_id,
        dedupe_key=dedupe_key,
        priority=priority,
        status=QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
        attachments=[
            OutboxAttachment(
                filename=p.filename, content_type=p.content_type, data=p.data, inline=p.inline
            )
            for p in parts
        ],
    )
    if dedupe_key is None:
        db.session.add(message)
    else:
        # Two requests at once (a double click, two facilitators) can both pass the check
        # above; the unique key then refuses the second insert, which only this message's
        # savepoint gives up, not the caller's transaction: it was queued already.
        try:
            with db.session.begin_nested():
                db.session.add(message)
        except IntegrityError:
            return None
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("NOTIFY learnnet_mail"))  # sent at commit, once
    if has_request_context():
        g.mail_queued = True
    return message


@dataclass
class Report:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Messages whose earlier sender stopped mid-send (killed, crashed), sent again.
    in_doubt: int = 0
    errors: list[str] = field(default_factory=list)


def _as_mail(message: OutboxMessage, sender: str) -> Mail:
    return Mail(
        sender=sender,
        recipient=message.recipient,
        recipient_name=message.recipient_name,
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        parts=tuple(
            Part(a.filename, a.content_type, a.data, a.inline) for a in message.attachments
        ),
        date=utcnow(),
        # The same on every attempt: a copy sent again after a crash is recognisable.
        message_id=stable_message_id(
            f"learnnet.{message.id}.{message.created_at:%Y%m%d%H%M%S%f}", sender
        ),
        reply_to=message.reply_to or current_app.config.get("MAIL_REPLY_TO") or None,
    )


def claim_lease(config: Any) -> timedelta:
    """How long a claimed message is left to its sender: longer than one delivery can
    take (each of the ten or so steps of an SMTP conversation waits at most MAIL_TIMEOUT),
    so a live sender is never overtaken, and short enough that a killed sender's message
    goes out a few minutes later."""
    return timedelta(seconds=max(60.0, 10 * float(config.get("MAIL_TIMEOUT", 20))))


def _claimable(moment: datetime) -> Any:
    """Queued and due, or left "sending" by a sender whose claim ran out (in doubt)."""
    return and_(
        OutboxMessage.status.in_((QUEUED, SENDING)),
        OutboxMessage.next_attempt_at <= moment,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment),
    )


def deliver_due(now: datetime | None = None, limit: int = 200) -> Report:
    """Deliver queued messages whose time has come; stop early when the server is down.

    At least once, and a duplicate only after a crash: each message is claimed and marked
    "sending" (committed) before it is handed to the server, and marked "sent" right
    after. A sender killed in between leaves it "sending"; nobody knows whether the server
    took it, so once the claim has run out (:func:`claim_lease`) the next run sends it
    again, with the same Message-ID. A sender has one message in flight at a time, so a
    crash duplicates at most that one; the interrupted attempt counts, so a message that
    kills its sender every time is given up after MAIL_MAX_ATTEMPTS. A message that cannot
    be built (a control character in a header) is marked failed and the run goes on.
    """
    started = utcnow()
    now = now or started
    config = current_app.config
    backend = backends.backend_from(config, current_app.instance_path)
    max_attempts = int(config["MAIL_MAX_ATTEMPTS"])
    lease = claim_lease(config)
    due = list(
        db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status)
            .where(_claimable(now))
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
    )
    db.session.commit()
    report = Report()
    for message_id, status in due:
        # The run's clock moves on: a claim made late in a long run still lasts its lease.
        moment = now + (utcnow() - started)
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == status)
            .where(_claimable(moment))
            .values(
                status=SENDING,
                claimed_until=moment + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another sender has it
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None  # nosec B101 - claimed above
        stop = _deliver_one(message, backend, moment, status == SENDING, max_attempts, report)
        message.claimed_until = None
        db.session.commit()
        if stop:
            break
    return report


def _deliver_one(
    message: OutboxMessage,
    backend: backends.Backend,
    moment: datetime,
    in_doubt: bool,
    max_attempts: int,
    report: Report,
) -> bool:
    """Build and send one claimed message and record the outcome on it (not committed).

    True when the run should stop: the server is unreachable or busy.
    """
    label = f"#{message.id} to {message.recipient}"
    if in_doubt:
        report.in_doubt += 1
        note = "its sender stopped during an earlier attempt"
        log.warning("mail %s: %s", label, note)
        if message.attempts > max_attempts:
            return _give_up(message, report, f"{note}; given up (it may have arrived)")
        report.errors.append(f"{label}: {note}; sent again, it may arrive twice")
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    values = _as_mail(message, sender)
    try:
        email = build(values)
        email["X-Learnnet-File"] = f"{moment:%Y%m%d-%H%M%S}-{message.id:06d}-{message.kind}"
        bytes(email)  # the generator's own checks, before a server sees anything
    except Exception as exc:  # whatever the cause, retrying cannot help
        log.warning("mail %s cannot be built: %s", label, exc)
        return _give_up(message, report, f"cannot be built: {exc}")
    try:
        backend.send(email)
    except backends.DeliveryError as exc:
        log.warning("mail %s not delivered: %s", label, exc)
        if exc.permanent or message.attempts >= max_attempts:
            return _give_up(message, report, str(exc))
        message.status = QUEUED
        message.last_error = str(exc)[:2000]
        message.next_attempt_at = moment + backoff(message.attempts)
        report.retried += 1
        report.errors.append(f"{label}: {exc}")
        return True  # the server is unreachable or busy: the rest can wait too
    message.status = SENT
    message.sent_at = moment
    message.last_error = ""
    report.sent += 1
    return False


def _give_up(message: OutboxMessage, report: Report, reason: str) -> bool:
    message.status = FAILED
    message.last_error = reason[:2000]
    report.failed += 1
    report.errors.append(f"#{message.id} to {message.recipient}: {reason}")
    return False


def deliver_after_request(response: Any) -> Any:
    """after_request: deliver what this request queued, when MAIL_SEND_IMMEDIATELY is on.

    Failures are recorded and retried by ``flask send-mail``; the page never fails
    because the mail server is slow or down. Work whose timing must not show (the
    password-reset form) runs with :func:`after_response` instead.
    """
    if not g.pop("mail_queued", False) or not current_app.config["MAIL_SEND_IMMEDIATELY"]:
        return response
    _deliver_quietly(int(current_app.config["MAIL_SEND_IMMEDIATELY_LIMIT"]))
    return response


def after_response(work: Callable[..., None], *args: Any) -> None:
    """Run ``work(*args)`` once this request's response has been sent, then deliver the
    mail it queued (MAIL_SEND_IMMEDIATELY; else ``flask send-mail`` does).

    The answer then costs the same whatever the work finds to do, so its timing tells
    nothing (the password-reset and lost-link forms must not reveal which addresses are
    known). Failures are logged; the answer has gone already.
    """

    @copy_current_request_context
    def run() -> None:
        try:
            work(*args)
            if g.pop("mail_queued", False) and current_app.config["MAIL_SEND_IMMEDIATELY"]:
                deliver_due(limit=int(current_app.config["MAIL_SEND_IMMEDIATELY_LIMIT"]))
        except Exception:
            db.session.rollback()
            current_app.logger.exception("work after the response failed")

    @after_this_request
    def schedule(response: Any) -> Any:
        response.call_on_close(run)
        return response


def _deliver_quietly(limit: int) -> None:
    try:
        deliver_due(limit=limit)
    except Exception:  # pragma: no cover - never let mail break the page
        db.session.rollback()
        log.exception("immediate mail delivery failed; `flask send-mail` will retry")


@dataclass(frozen=True)
class Progress:
    """Where some messages are: sent, still waiting (queued or on their way), failed."""

    sent: int
    waiting: int
    failed: int


def send_now(message_ids: Iterable[int]) -> Progress:
    """Deliver what is due now (at most MAIL_SEND_IMMEDIATELY_LIMIT, when that is on) and
    say where these messages are, so the page tells what happened, not what was hoped.
    The rest goes with the ``mail-worker`` (or ``send-mail``)."""
    ids = list(message_ids)
    if ids and current_app.config["MAIL_SEND_IMMEDIATELY"]:
        g.pop("mail_queued", None)  # delivered here, not again after the response
        _deliver_quietly(int(current_app.config["MAIL_SEND_IMMEDIATELY_LIMIT"]))
    statuses = list(
        db.session.scalars(select(OutboxMessage.status).where(OutboxMessage.id.in_(ids)))
        if ids
        else []
    )
    return Progress(
        sent=statuses.count(SENT),
        waiting=statuses.count(QUEUED) + statuses.count(SENDING),
        failed=statuses.count(FAILED),
    )


def run_worker(
    interval: float = 2.0,
    limit: int = 200,
    should_stop: Callable[[], bool] = lambda: False,
    on_report: Callable[[Report], None] | None = None,
) -> None:
    """Keep delivering beside the app until ``should_stop``: a run of :func:`deliver_due`,
    then wait ``interval`` seconds, or on PostgreSQL until a NOTIFY says a message was
    queued. Safe on several servers at once: each message is claimed by one sender."""
    listener = _listener()
    try:
        while not should_stop():
            try:
                report = deliver_due(limit=limit)
            except Exception:  # the database is away for a moment: try again later
                db.session.rollback()
                log.exception("mail-worker: delivery run failed; trying again")
                report = Report()
            db.session.remove()  # no stale identity map between runs
            if on_report is not None and (report.sent or report.failed or report.retried):
                on_report(report)
            if report.sent + report.failed >= limit:
                continue  # more is due: no pause
            _wait(listener, interval, should_stop)
    finally:
        if listener is not None:
            listener.close()


def _listener() -> Any:
    """A PostgreSQL connection that LISTENs for queued messages, or None (SQLite)."""
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    try:
        import psycopg

        conn = psycopg.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        )
        conn.execute("LISTEN learnnet_mail")
        return conn
    except Exception:  # polling works as well, only a little later
        log.exception("mail-worker: LISTEN failed; polling instead")
        return None


def _wait(listener: Any, interval: float, should_stop: Callable[[], bool]) -> None:
    import time

    if listener is not None:
        try:
            for _note in listener.notifies(timeout=interval, stop_after=1):
                pass
            return
        except Exception:
            log.exception("mail-worker: waiting for NOTIFY failed; polling")
    deadline = time.monotonic() + interval
    while not should_stop() and time.monotonic() < deadline:
        time.sleep(min(0.2, interval))


def outbox_counts(session_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per session: how many messages are queued, sent and failed."""
    from sqlalchemy import func

    ids = list(session_ids)
    counts: dict[int, dict[str, int]] = {i: {QUEUED: 0, SENT: 0, FAILED: 0} for i in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(OutboxMessage.session_id, OutboxMessage.status, func.count(OutboxMessage.id))
        .where(OutboxMessage.session_id.in_(ids))
        .group_by(OutboxMessage.session_id, OutboxMessage.status)
    )
    for session_id, status, n in rows:
        status = QUEUED if status == SENDING else status  # on its way, as far as anyone asks
        counts[session_id][status] = counts[session_id].get(status, 0) + n
    return counts


__all__ = [
    "FAILED",
    "QUEUED",
    "SENDING",
    "SENT",
    "Progress",
    "Report",
    "deliver_due",
    "queue",
    "render",
    "run_worker",
    "send_now",
]
