"""Several app servers on one database: nothing depends on one process's memory (issue 11).

Two gunicorn servers (separate processes, several workers each) share the database and,
for the rate limits, the store docs/running.md tells production to use (Redis). A login made
on one is valid on the other, a form from one posts to the other (no sticky sessions),
failed logins count across both, and two mail senders, or two reminder runs, started at
the same moment deliver each message once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.mail.models import SENT, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Network
from learnnet.rsvp import notify
from tests import factories
from tests.bench.http import Browser, csrf_token
from tests.conftest import TEST_SECRET
from tests.test_rsvp_race import ROOT, Gunicorn

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis_url():
    """The shared limiter store of the production setup in docs/running.md; skipped without Redis."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip(
            "no Redis server on 127.0.0.1:6379: several app servers need a shared limiter "
            "store (LEARNNET_RATELIMIT_STORAGE_URI), and memory:// is per process"
        )
    yield REDIS_URL
    redis.Redis.from_url(REDIS_URL).flushdb()


def _release(app: Any) -> None:
    """Hand the database to the other processes (SQLite: no connection left open here)."""
    db.session.remove()
    db.engine.dispose()


def test_two_servers_share_logins_forms_and_failed_login_counts(
    app_factory, db_url, tmp_path, redis_url
):
    app = app_factory()
    with app.app_context():
        me = factories.user(email="me@example.org", name="Els Twee")
        factories.user(email="target@example.org")
        factories.network(facilitators=[me], name="Netwerk Twee")
        db.session.commit()
        _release(app)
    settings = {
        "WTF_CSRF_ENABLED": "true",
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_url,
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    }
    one = Gunicorn(db_url, tmp_path / "one", **settings)
    two = Gunicorn(db_url, tmp_path / "two", **settings)
    try:
        one.wait_ready()
        two.wait_ready()
        browser = Browser(one.port)  # one browser; a load balancer picks the server

        # A login on one server is a login on the other: the session is in the cookie.
        browser.login("me@example.org", factories.PASSWORD)
        browser.port = two.port
        page = browser.get("/")
        assert page.status == 200 and b"Netwerk Twee" in page.body

        # A form rendered by one server posts to the other.
        token = csrf_token(browser.get("/account").body)
        browser.port = one.port
        switched = browser.post("/language", {"csrf_token": token, "lang": "en", "next": "/"})
        assert switched.status == 302
        browser.port = two.port
        assert b"My networks" in browser.get("/").body

        # A page kept by one server is out of date there as soon as anything changes,
        # wherever the change was made (here: in a third process, the test's own).
        for port in (one.port, two.port) * 4:  # every worker of both keeps it
            browser.port = port
            assert b"Netwerk Twee" in browser.get("/").body
        with app.app_context():
            db.session.scalar(
                db.select(Network).where(Network.name == "Netwerk Twee")
            ).name = "Netwerk Drie"
            db.session.commit()
            _release(app)
        for port in (one.port, two.port):
            browser.port = port
            page = browser.get("/").body
            assert b"Netwerk Drie" in page and b"Netwerk Twee" not in page

        # Failed logins count across both: 5 checks in all, then 429 on either.
        statuses = []
        for n in range(8):
            server = Browser((one, two)[n % 2].port)
            form = csrf_token(server.get("/login").body)
            wrong = {"csrf_token": form, "email": "target@example.org", "password": "wrong!"}
            statuses.append(server.post("/login", wrong).status)
        assert statuses[:5] == [200] * 5, statuses
        assert statuses[5:] == [429] * 3, statuses
    finally:
        logs = one.stop() + two.stop()
    assert "Traceback" not in logs, logs[-3000:]


def _cli(db_url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """``flask --app learnnet …`` in its own process, as cron starts it on a server."""
    env = {
        **os.environ,
        "LEARNNET_DATABASE_URL": db_url,
        "LEARNNET_SECRET_KEY": TEST_SECRET,
        "LEARNNET_INSTANCE_PATH": str(tmp_path / "instance"),
        "LEARNNET_MAIL_OUTBOX_DIR": str(tmp_path / "sent"),
        "LEARNNET_BASE_URL": "https://learnnet.example.org",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "learnnet", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _together(db_url: str, tmp_path: Path, *args: str) -> list[tuple[int, str]]:
    """Start the same command twice at once (two servers' cron) and wait for both."""
    start = threading.Barrier(2)
    results: list[tuple[int, str]] = []

    def run() -> None:
        start.wait()
        process = _cli(db_url, tmp_path, *args)
        out, _ = process.communicate(timeout=120)
        results.append((process.returncode, out))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _network_with_contacts(people: int) -> tuple[Any, list[Any]]:
    facilitator = factories.user(email="f@example.org")
    network = factories.network(facilitators=[facilitator])
    host = factories.facility(name="Gastvoorziening", room_capacity=200)
    factories.member(network, host)
    contacts = []
    for n in range(people // 4):
        facility = factories.facility(name=f"Voorziening {n}")
        factories.member(network, facility)
        contacts += [factories.contact(facility) for _ in range(4)]
    return host, contacts


def test_two_mail_senders_at_once_deliver_each_message_once(app_factory, db_url, tmp_path):
    app = app_factory(MAIL_SEND_IMMEDIATELY=False)
    with app.app_context(), app.test_request_context(base_url="https://learnnet.example.org"):
        host, contacts = _network_with_contacts(60)
        session = factories.session(host.memberships[0].network, host, days_ahead=20)
        db.session.commit()
        queued = len(notify.send_invitations(session))
        assert queued == len(contacts)
        _release(app)
    results = _together(db_url, tmp_path, "send-mail")
    assert [code for code, _ in results] == [0, 0], results
    files = list((tmp_path / "sent").glob("*.eml"))
    assert len(files) == queued  # each message once, whoever sent it
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
        assert rows == [(SENT, 1)] * queued
        _release(app)
    sent_by = [int(out.split(" sent")[0].split()[-1]) for _, out in results]
    assert sum(sent_by) == queued, results


def test_two_reminder_runs_at_once_send_each_reminder_once(app_factory, db_url, tmp_path):
    app = app_factory(MAIL_SEND_IMMEDIATELY=False)
    with app.app_context(), app.test_request_context(base_url="https://learnnet.example.org"):
        host, contacts = _network_with_contacts(60)
        session = factories.session(host.memberships[0].network, host, days_ahead=1)
        db.session.commit()
        notify.send_invitations(session)
        session.invited_at = utcnow()
        db.session.query(OutboxMessage).update({"status": SENT, "sent_at": utcnow()})
        db.session.commit()
        _release(app)
    results = _together(db_url, tmp_path, "send-reminders")
    assert [code for code, _ in results] == [0, 0], [out[-6000:] for _, out in results]
    reminders = [p for p in (tmp_path / "sent").glob("*.eml") if "reminder" in p.name]
    assert len(reminders) == len(contacts), results
    with app.app_context():
        count = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == notify.REMINDER)
        )
        per_contact = db.session.execute(
            select(OutboxMessage.contact_id, func.count(OutboxMessage.id))
            .where(OutboxMessage.kind == notify.REMINDER)
            .group_by(OutboxMessage.contact_id)
        ).all()
        _release(app)
    assert count == len(contacts)
    assert {n for _, n in per_contact} == {1}
