"""No secret of a URL reaches a log (issue 19.4).

The probe found 5,454 lines with tokens in gunicorn's access log: gunicorn hands its
fields to the logger as a mapping, and the filter only rewrote positional arguments.
The last test starts the real gunicorn with ``--access-logfile`` and reads the file.
"""

from __future__ import annotations

import http.client
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from learnnet.attendance import services as attendance
from learnnet.auth import services as auth
from learnnet.calendar import services as calendar
from learnnet.extensions import db
from learnnet.logredact import RedactTokens, redact
from tests import factories
from tests.conftest import TEST_SECRET
from tests.rsvp_helpers import token_for
from tests.smtp_server import free_port
from tests.test_rsvp_race import ROOT

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/m/{TOKEN}", "/m/[redacted]"),
        (f"/m/{TOKEN}/sessions/3/checkin", "/m/[redacted]/sessions/3/checkin"),
        (f"/feeds/{TOKEN}.ics", "/feeds/[redacted]"),
        (f"/account/reset/{TOKEN}.x.y", "/account/reset/[redacted]"),
        (f"/account/welcome/{TOKEN}?next=/", "/account/welcome/[redacted]?next=/"),
        (f"/checkin/{TOKEN}", "/checkin/[redacted]"),
        (f"https://learnnet.example.org/checkin/{TOKEN}", "/checkin/[redacted]"),
        ("/sessions/3/checkin/qr", "/sessions/3/checkin/qr"),  # pages, not codes
        ("/sessions/3/checkin/settings", "/sessions/3/checkin/settings"),
    ],
)
def test_every_token_path_is_redacted(path, shown):
    assert shown in redact(path) and TOKEN not in redact(path)


def test_gunicorns_mapping_a_traceback_and_positional_arguments_are_redacted():
    class Atoms(dict):  # like gunicorn's SafeAtoms: unknown fields answer "-"
        def __getitem__(self, key):
            return super().get(key, "-")

    atoms = Atoms({"r": f"GET /checkin/{TOKEN} HTTP/1.1", "f": f"https://x/m/{TOKEN}"})
    record = logging.LogRecord("gunicorn.access", 20, "", 0, '"%(r)s" "%(f)s" %(zz)s', atoms, None)
    RedactTokens().filter(record)
    assert record.getMessage() == '"GET /checkin/[redacted] HTTP/1.1" "https://x/m/[redacted]" -'

    try:
        raise RuntimeError(f"no such feed /feeds/{TOKEN}.ics")
    except RuntimeError:
        record = logging.LogRecord(
            "learnnet", 40, "", 0, "failed %s", (f"/m/{TOKEN}",), sys.exc_info()
        )
    RedactTokens().filter(record)
    written = logging.Formatter().format(record)
    assert TOKEN not in written and "/feeds/[redacted]" in written and "/m/[redacted]" in written


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_real_gunicorn_access_log_holds_no_token(app_factory, db_url, tmp_path: Path):
    app = app_factory()
    with app.app_context():
        user = factories.user(email="me@example.org")
        net = factories.network(facilitators=[user], name="Netwerk Log")
        facility = factories.facility(name="KDV Logboek")
        factories.member(net, facility)
        contact = factories.contact(facility, name="Ilse Peeters", email="ilse@example.org")
        session = factories.session(net, facility)
        db.session.commit()
        feed = calendar.ensure_feed("network", net.id)
        db.session.commit()
        secrets = {
            "link": token_for(contact),
            "feed": calendar.token_of(feed),
            "code": attendance.self_checkin_code(session),
        }
        with app.test_request_context():
            secrets["reset"] = auth.make_account_token(user, auth.RESET)
            secrets["welcome"] = auth.make_account_token(user, auth.INVITE)
        session_id = session.id
        db.session.remove()
        db.engine.dispose()
    paths = [
        f"/m/{secrets['link']}",
        f"/m/{secrets['link']}/sessions/{session_id}/event.ics",
        f"/feeds/{secrets['feed']}.ics",
        f"/account/reset/{secrets['reset']}",
        f"/account/welcome/{secrets['welcome']}?lang=nl",
        f"/checkin/{secrets['code']}",
        "/m/" + "0" * 32,  # a miss is logged too
    ]
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    port = free_port()
    env = {
        **os.environ,
        "LEARNNET_DATABASE_URL": db_url,
        "LEARNNET_SECRET_KEY": TEST_SECRET,
        "LEARNNET_INSTANCE_PATH": str(tmp_path / "instance"),
        "LEARNNET_MAIL_SEND_IMMEDIATELY": "false",
    }
    # gunicorn.conf.py (the working directory's) as in production, plus the access log.
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"),
            *("--access-logfile", str(access_log), "--error-logfile", str(error_log)),
            # The default format and the fields a custom one may add: path, query, headers.
            "--access-logformat",
            '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(U)s%(q)s '
            "%({x-original-url}i)s",
            "learnnet:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, error_log.read_text()
            time.sleep(0.2)
        statuses = [
            _get(
                port,
                path,
                {"Referer": f"http://127.0.0.1:{port}{path}", "X-Original-URL": path},
            )
            for path in paths
        ]
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert statuses == [200, 200, 200, 200, 200, 200, 404], statuses
    logged = access_log.read_text()
    lines = [line for line in logged.splitlines() if "/healthz" not in line]
    assert len(lines) == len(paths), logged
    for name, secret in secrets.items():
        assert secret not in logged, (name, logged)
        assert secret not in error_log.read_text(), name
    for shown in ("/m/[redacted]", "/feeds/[redacted]", "/account/reset/[redacted]"):
        assert shown in logged
    assert "/account/welcome/[redacted]?lang=nl" in logged and "/checkin/[redacted]" in logged
