"""Every form on a page with a secret URL, posted by Chromium over HTTPS (issue 19, item 1).

The app runs as in production (``LEARNNET_ENV=production``, Secure cookies, HSTS, the
trusted-host list, CSRF on; Redis for the limits when it answers, else the laptop
settings over the same TLS), behind a self-signed certificate on loopback that the
browser is told to accept. Before the fix, Flask-WTF's HTTPS check refused each of
these posts with 400: the token pages sent no Referer at all.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from learnnet import MIGRATIONS, create_app, demo
from learnnet.attendance import services as attendance
from learnnet.attendance.models import Attendance
from learnnet.auth import services as accounts
from learnnet.auth.models import User
from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.rsvp.models import Rsvp
from learnnet.scheduling.models import Session
from tests.browser.conftest import PHONE, Live, screenshot

pytestmark = pytest.mark.browser

REDIS_DB = "redis://127.0.0.1:6379/11"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _certificate(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, made with the system's openssl."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def https_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("https")
    port = _free_port()
    production = _redis_answers()
    config: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "TRUSTED_HOSTS": ["127.0.0.1"],
        "BASE_URL": f"https://127.0.0.1:{port}",
        "MAIL_OUTBOX_DIR": str(folder / "outbox"),
    }
    if production:
        config |= {"ENV": "production", "RATELIMIT_STORAGE_URI": REDIS_DB}
    else:  # no Redis: the same TLS and CSRF checks, with limits kept in memory
        config |= {"RATELIMIT_STORAGE_URI": "memory://", "PREFERRED_URL_SCHEME": "https"}
    app = create_app(config, instance_path=str(folder / "instance"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        demo.load()
        db.session.remove()
    if production:
        import redis

        redis.Redis.from_url(REDIS_DB).flushdb()
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=_certificate(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"https://127.0.0.1:{port}", app, folder / "instance")
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page that accepts the self-signed certificate."""
    context = browser.new_context(viewport=PHONE, locale="nl-BE", ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _sofie(live: Live) -> tuple[str, int, int]:
    """Sofie's personal link, an open session without her answer, and her id."""
    with live.app.app_context():
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        for rsvp in db.session.scalars(select(Rsvp).where(Rsvp.contact_id == sofie.id)):
            db.session.delete(rsvp)
        token = token_of(ensure_link(sofie))
        db.session.commit()
        from learnnet.rsvp.services import member_page

        rows = [r for r in member_page(sofie).sessions if not r.closed and r.free]
        result = (token, rows[0].session.id, sofie.id)
        db.session.remove()
    return result


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_member_answers_over_https(https_live, browser, javascript):
    token, session_id, sofie_id = _sofie(https_live)
    context = browser.new_context(
        viewport=PHONE, locale="nl-BE", ignore_https_errors=True, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        response = page.goto(f"{https_live.url}/m/{token}")
        assert response.headers["referrer-policy"] == "strict-origin"
        card = page.locator(f"#session-{session_id}")
        card.get_by_role("button", name="Ik kom", exact=True).click()
        page.locator(f"#session-{session_id} .answer-state .chip-ok").wait_for()
        screenshot(page, f"https-member-answer-{'js' if javascript else 'nojs'}")
    finally:
        context.close()
    with https_live.app.app_context():
        answer = db.session.scalar(
            select(Rsvp).where(Rsvp.contact_id == sofie_id, Rsvp.session_id == session_id)
        )
        assert answer is not None and answer.answer == "yes"
        db.session.remove()


def test_a_member_adds_a_colleague_and_renews_the_feed_over_https(https_live, phone):
    token, _, sofie_id = _sofie(https_live)
    phone.goto(f"{https_live.url}/m/{token}")
    phone.get_by_text("Een collega toevoegen").click()
    phone.get_by_label("Naam").fill("Lotte Https")
    phone.get_by_role("button", name="Collega toevoegen").click()
    phone.wait_for_load_state("load")
    assert "Lotte Https" in phone.content()
    with https_live.app.app_context():
        sofie = db.session.get(Contact, sofie_id)
        names = [
            c.name
            for c in db.session.scalars(
                select(Contact).where(Contact.facility_id == sofie.facility_id)
            )
        ]
        assert "Lotte Https" in names
        db.session.remove()

    old_feed = phone.get_by_label("Link om te kopiëren").input_value()
    phone.once("dialog", lambda dialog: dialog.accept())  # "Make a new link?"
    with phone.expect_navigation():
        phone.locator("form[action$='/feed/renew'] button").click()
    assert phone.get_by_label("Link om te kopiëren").input_value() != old_feed


def test_a_host_confirms_and_checks_in_over_https(https_live, phone):
    """The host's "Ja, wij ontvangen" and, on the day, self check-in by the QR code."""
    with https_live.app.app_context():
        session = db.session.scalar(
            select(Session)
            .where(Session.starts_at > utcnow(), Session.host_confirmed_at.is_(None))
            .where(Session.status != "cancelled")
            .order_by(Session.starts_at)
        )
        host = db.session.scalar(
            select(Contact).where(Contact.facility_id == session.host_facility_id, Contact.active)
        )
        token = token_of(ensure_link(host))
        session_id = session.id
        db.session.commit()
        host = db.session.get(Contact, host.id)
        db.session.remove()
    phone.goto(f"{https_live.url}/m/{token}")
    phone.locator(f"#session-{session_id}").get_by_role(
        "button", name="Ja, wij ontvangen deze bijeenkomst"
    ).click()
    phone.locator(f"#session-{session_id} .host-box .chip-ok").wait_for()
    with https_live.app.app_context():
        assert db.session.get(Session, session_id).host_confirmed_at is not None
        # A session under way today, for the QR code's self check-in.
        today = db.session.get(Session, session_id)
        today.starts_at = utcnow() - timedelta(minutes=10)
        today.ends_at = utcnow() + timedelta(hours=2)
        db.session.commit()
        code = attendance.self_checkin_code(today)
        db.session.commit()
        host_id = host.id
        db.session.remove()
    # The same phone opened the personal link above: it is recognised.
    phone.goto(f"{https_live.url}/checkin/{code}")
    phone.get_by_role("button", name="Ik ben er").click()
    phone.get_by_text("Je aanwezigheid is genoteerd").wait_for()
    screenshot(phone, "https-self-checkin")
    with https_live.app.app_context():
        row = db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.contact_id == host_id
            )
        )
        assert row is not None and row.status == "present"
        db.session.remove()


@pytest.mark.parametrize("purpose", ["reset", "welcome"])
def test_a_password_is_set_through_a_mailed_link_over_https(https_live, phone, purpose):
    with https_live.app.app_context():
        user = db.session.scalar(select(User).where(User.role == "facilitator"))
        kind = accounts.RESET if purpose == "reset" else accounts.INVITE
        if purpose == "welcome":
            user = User(
                email=f"nieuw-{secrets.token_hex(3)}@example.org",
                name="Nieuwe Begeleider",
                role="facilitator",
                password_hash=accounts.unusable_password(),
            )
            db.session.add(user)
            db.session.commit()
        token = accounts.make_account_token(user, kind)
        email = user.email
        db.session.remove()
    phone.goto(f"{https_live.url}/account/{purpose}/{token}")
    password = "een lange zin om te onthouden " + secrets.token_hex(2)
    for box in phone.locator("input[type=password]").all():
        box.fill(password)
    phone.get_by_role("button", name="Mijn wachtwoord opslaan").click()
    phone.wait_for_load_state("load")
    assert "/account/" not in phone.url
    assert phone.locator("form[action$='/logout']").count() == 1  # logged in
    screenshot(phone, f"https-password-{purpose}")
    with https_live.app.app_context():
        assert accounts.authenticate(email, password) is not None
        db.session.remove()
