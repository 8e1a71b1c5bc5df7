"""A sender killed mid-run (issue 19, item 11): delivery is at least once, and a crash
duplicates at most the one message that was on its way, with the same Message-ID.

A real ``flask send-mail`` process is killed with SIGKILL while the (real) SMTP server
holds the third message but has not answered yet: the moment nobody can tell whether the
message arrived."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.mail.models import FAILED, QUEUED, SENDING, SENT, OutboxMessage
from learnnet.models import utcnow
from tests.conftest import TEST_SECRET
from tests.smtp_server import Recorder, SmtpServer

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5  # MAIL_TIMEOUT; the claim lasts 10 x that, at least a minute


class Stalling(Recorder):
    """Keeps every message; on message number ``stall_at`` it keeps the message, then
    waits ``seconds`` before it answers, calling ``on_stall`` first."""

    def __init__(self, stall_at: int, seconds: float, on_stall: Any = None) -> None:
        super().__init__()
        self.stall_at = stall_at
        self.seconds = seconds
        self.on_stall = on_stall
        self.stalled = threading.Event()
        self.snapshots: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.on_stall is not None:
            self.snapshots.append(self.on_stall())
        if len(self.received) == self.stall_at:
            self.stalled.set()
            await asyncio.sleep(self.seconds)
        return "250 Message accepted for delivery"


def queue(n: int) -> list[OutboxMessage]:
    messages = []
    for i in range(n):
        rendered = mail.Rendered(f"Uitnodiging {i}", "Dag\n", "<p>Dag</p>")
        messages.append(mail.queue("invitation", f"p{i}@example.org", rendered))
    db.session.commit()
    return messages


def smtp_app(app_factory: Any, port: int) -> Any:
    return app_factory(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_TIMEOUT=TIMEOUT,
        MAIL_SEND_IMMEDIATELY=False,
    )


def send_mail_process(db_url: str, tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """``flask send-mail`` in its own process, as cron starts it."""
    env = {
        **os.environ,
        "LEARNNET_DATABASE_URL": db_url,
        "LEARNNET_SECRET_KEY": TEST_SECRET,
        "LEARNNET_INSTANCE_PATH": str(tmp_path / "instance"),
        "LEARNNET_MAIL_BACKEND": "smtp",
        "LEARNNET_MAIL_SERVER": "127.0.0.1",
        "LEARNNET_MAIL_PORT": str(port),
        "LEARNNET_MAIL_TIMEOUT": str(TIMEOUT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "learnnet", "send-mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_killed_sender_duplicates_at_most_the_message_in_flight(app_factory, db_url, tmp_path):
    recorder = Stalling(stall_at=3, seconds=8)
    server = SmtpServer(recorder=recorder).start()
    try:
        app = smtp_app(app_factory, server.port)
        with app.app_context():
            ids = [m.id for m in queue(5)]
            db.session.remove()
            db.engine.dispose()  # SQLite: leave the file to the other process
            process = send_mail_process(db_url, tmp_path, server.port)
            try:
                assert recorder.stalled.wait(60), "the sender never reached message 3"
            finally:
                process.send_signal(signal.SIGKILL)
                output, _ = process.communicate(timeout=30)
            assert process.returncode == -signal.SIGKILL, output

            rows = {m.id: m for m in db.session.scalars(select(OutboxMessage))}
            statuses = [rows[i].status for i in ids]
            # Recorded before the server had it: "sending", claimed for a while yet.
            assert statuses == [SENT, SENT, SENDING, QUEUED, QUEUED]
            in_flight = rows[ids[2]]
            assert in_flight.attempts == 1
            assert in_flight.claimed_until > utcnow() + timedelta(seconds=30)

            # The next run sends the rest, and leaves the message in doubt to its claim.
            report = mail.deliver_due()
            assert (report.sent, report.in_doubt, report.failed) == (2, 0, 0)
            # Once the claim has run out, it goes again: at least once.
            report = mail.deliver_due(now=utcnow() + mail.claim_lease(app.config))
            assert (report.sent, report.in_doubt, report.failed) == (1, 1, 0)
            assert "may arrive twice" in report.errors[0]
            db.session.expire_all()
            assert [db.session.get(OutboxMessage, i).status for i in ids] == [SENT] * 5
            assert db.session.get(OutboxMessage, ids[2]).attempts == 2
            assert mail.deliver_due(now=utcnow() + timedelta(days=1)).sent == 0
    finally:
        server.stop()
    # Six arrived for five messages: only the one in flight twice, under one Message-ID,
    # so a mailbox that dedupes on it shows it once.
    per_id = Counter(m["Message-ID"] for m in recorder.received)
    assert len(recorder.received) == 6 and len(per_id) == 5
    (twice,) = [mid for mid, n in per_id.items() if n == 2]
    copies = [m for m in recorder.received if m["Message-ID"] == twice]
    assert {m["Subject"] for m in copies} == {"Uitnodiging 2"}


def test_a_message_in_doubt_after_its_last_attempt_is_given_up(app):
    """A message whose sender died on every attempt (say, it kills the sender) stops."""
    (message,) = queue(1)
    message.status = SENDING
    message.attempts = app.config["MAIL_MAX_ATTEMPTS"]
    message.claimed_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    report = mail.deliver_due()
    assert (report.sent, report.failed, report.in_doubt) == (0, 1, 1)
    db.session.refresh(message)
    assert message.status == FAILED and "given up" in message.last_error
    assert not list(Path(app.instance_path).glob("outbox/*.eml"))


@pytest.mark.parametrize("stall", [1.5])
def test_a_claim_made_late_in_a_run_lasts_its_full_lease(app_factory, db_url, stall):
    """The claim counts from when it is made, not from the start of the run: before, a
    run that lasted longer than the claim handed its later messages out as unclaimed, and
    the next cron run sent them a second time."""
    engine = create_engine(db_url)

    def snapshot() -> dict[int, tuple[str, Any]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, status, claimed_until FROM outbox_message ORDER BY id")
            )
            # SQLite hands the moment back as text, PostgreSQL as a datetime.
            return {
                i: (
                    status,
                    datetime.fromisoformat(claimed) if isinstance(claimed, str) else claimed,
                )
                for i, status, claimed in rows
            }

    recorder = Stalling(stall_at=1, seconds=stall, on_stall=snapshot)
    server = SmtpServer(recorder=recorder).start()
    try:
        app = smtp_app(app_factory, server.port)
        with app.app_context():
            first, second = (m.id for m in queue(2))
            assert mail.deliver_due().sent == 2
    finally:
        server.stop()
        engine.dispose()
    on_first, on_second = recorder.snapshots
    assert on_first[first][0] == SENDING and on_second[second][0] == SENDING
    later = on_second[second][1] - on_first[first][1]
    assert later >= timedelta(seconds=stall), later
