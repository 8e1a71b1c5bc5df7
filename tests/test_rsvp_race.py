"""Capacity under real concurrency: gunicorn with several worker processes, many clients.

200 contacts answer "yes" at the same moment for a session with 10 seats. Each request
waits RSVP_TEST_PAUSE seconds between counting the seats and writing its answer (a
test-only setting), which makes the race certain instead of lucky. With the session
lock, exactly 10 are confirmed and 190 waitlisted; without it (RSVP_LOCKING=False) the
same run overbooks, which shows that the test can fail.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.rsvp.models import Rsvp
from tests import factories
from tests.conftest import TEST_SECRET
from tests.rsvp_helpers import token_for
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parent.parent
SEATS = 10
CLIENTS = 200


def _world(app: Any) -> tuple[int, list[str]]:
    with app.app_context():
        facilitator = factories.user(email="race@example.org")
        network = factories.network(facilitators=[facilitator])
        host = factories.facility(name="Gastvoorziening", room_capacity=SEATS)
        factories.member(network, host)
        tokens = []
        for f in range(20):
            facility = factories.facility(name=f"Voorziening {f}")
            factories.member(network, facility)
            for _ in range(CLIENTS // 20):
                tokens.append(token_for(factories.contact(facility)))
        session = factories.session(network, host, days_ahead=30)
        session.capacity = SEATS
        db.session.commit()
        session_id = session.id
        db.session.remove()
        db.engine.dispose()
    return session_id, tokens


class Gunicorn:
    """learnnet under gunicorn with several sync workers, on a free loopback port."""

    def __init__(self, db_url: str, instance: Path, **settings: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "LEARNNET_DATABASE_URL": db_url,
            "LEARNNET_SECRET_KEY": TEST_SECRET,
            "LEARNNET_INSTANCE_PATH": str(instance),
            "LEARNNET_WTF_CSRF_ENABLED": "false",
            "LEARNNET_RATELIMIT_ENABLED": "false",
            "LEARNNET_MAIL_SEND_IMMEDIATELY": "false",
            **{f"LEARNNET_{k}": v for k, v in settings.items()},
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "4",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "512",
                "--timeout",
                "60",
                "learnnet:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()
        self.stop()
        out = self.process.stdout.read().decode() if self.process.stdout else ""
        pytest.fail(f"gunicorn did not start:\n{out}")

    def post(self, path: str, body: str, start: threading.Barrier | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.connect()
            if start is not None:
                start.wait()  # every client is connected: now all send at once
            conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out.decode(errors="replace") if out else ""


def _storm(server: Gunicorn, requests: list[tuple[str, str]]) -> list[int]:
    start = threading.Barrier(len(requests))
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda r: server.post(*r, start=start), requests))


def _counts(app: Any, session_id: int) -> tuple[int, int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Rsvp.waitlisted, func.count(Rsvp.id))
            .where(Rsvp.session_id == session_id, Rsvp.answer == "yes")
            .group_by(Rsvp.waitlisted)
        ).all()
        total = db.session.scalar(select(func.count(Rsvp.id)))
        db.session.remove()
    by = dict(rows)
    return by.get(False, 0), by.get(True, 0), total


def _run(
    app_factory: Any, db_url: str, tmp_path: Path, locking: bool
) -> tuple[Any, int, list[int], str]:
    app = app_factory()
    session_id, tokens = _world(app)
    server = Gunicorn(
        db_url,
        tmp_path / "gunicorn",
        # Long enough that, whatever the load on the machine, several workers count the
        # seats before any of them writes (without the lock, that is the overbooking).
        RSVP_TEST_PAUSE="0.05" if locking else "0.25",
        RSVP_LOCKING="true" if locking else "false",
    )
    try:
        server.wait_ready()
        statuses = _storm(server, [(f"/m/{t}/sessions/{session_id}", "answer=yes") for t in tokens])
        # The same answer sent ten times at once by one person: one record, normal pages.
        twice = _storm(server, [(f"/m/{tokens[0]}/sessions/{session_id}", "answer=yes")] * 10)
    finally:
        log = server.stop()
    return app, session_id, statuses + twice, log


def test_200_simultaneous_yes_answers_for_10_seats(app_factory, db_url, tmp_path):
    app, session_id, statuses, log = _run(app_factory, db_url, tmp_path, locking=True)
    assert statuses.count(303) == len(statuses), (sorted(set(statuses)), log[-3000:])
    confirmed, waitlisted, total = _counts(app, session_id)
    assert (confirmed, waitlisted, total) == (SEATS, CLIENTS - SEATS, CLIENTS)
    assert "Traceback" not in log


def test_without_the_lock_the_same_storm_overbooks(app_factory, db_url, tmp_path):
    """The control experiment: proves the race is real and the first test can fail."""
    app, session_id, _statuses, _log = _run(app_factory, db_url, tmp_path, locking=False)
    confirmed, _waitlisted, _total = _counts(app, session_id)
    assert confirmed > SEATS
