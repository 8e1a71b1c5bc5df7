"""Fixtures: an app with a fresh database per test, on SQLite and (when configured) PostgreSQL.

Set LEARNNET_TEST_DATABASE_URL=postgresql+psycopg://user@host/db to run every
database test a second time against that server. The database's tables are
created once per run and emptied after each test.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, event, make_url, text
from werkzeug.routing import rules as werkzeug_rules

from learnnet import create_app
from learnnet.extensions import db
from tests import factories

# Property tests judge answers, never speed: on a loaded CI machine (or beside another
# pytest worker) a slow example is no failure.
settings.register_profile("learnnet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("learnnet")

# Under pytest-xdist each worker gets its own PostgreSQL database (<name>_gw0, <name>_gw1…),
# created on first use, so workers never empty each other's tables.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_compile_builder = werkzeug_rules.Rule._compile_builder
_builders: dict[tuple[Any, ...], Any] = {}


def _cached_compile_builder(self: Any, append_unknown: bool = True) -> Any:
    """Werkzeug's URL builder for a rule, compiled once per process instead of once per app.

    Every test builds a new app, and compiling ~170 rules' builders (an AST each) was 40 %
    of ``create_app``. The compiled function depends only on the rule text, its parsed
    parts and defaults (it reads converters from the rule it is bound to), so equal keys
    give identical functions.
    """
    key = (
        append_unknown,
        self.rule,
        tuple(self._trace),
        repr(sorted((self.defaults or {}).items(), key=repr)),
    )
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


werkzeug_rules.Rule._compile_builder = _cached_compile_builder  # type: ignore[method-assign]


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection: Any, connection_record: Any) -> None:
    """Test databases are thrown away: SQLite need not wait for the disk on each commit.

    A killed process loses nothing this way (the operating system still has the
    writes); only a power cut would, and no test is about that.
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


PG_URL = os.environ.get("LEARNNET_TEST_DATABASE_URL", "")
if PG_URL and _WORKER:
    _base = make_url(PG_URL)
    PG_URL = _base.set(database=f"{_base.database}_{_WORKER}").render_as_string(hide_password=False)
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_SECRET = "test-secret-" + "k" * 40
_pg_ready = False


def base_config(db_url: str, **extra: Any) -> dict[str, Any]:
    """Settings every test app shares; cheap password hashing keeps the suite fast."""
    return {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": TEST_SECRET,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL of this test's engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return PG_URL


_empty_statement = ""


def _empty_postgres() -> None:
    """Delete every row and restart every sequence, as ``TRUNCATE … RESTART IDENTITY`` would.

    DELETE on tables that are (nearly) empty takes about 10 ms for the whole schema where
    TRUNCATE takes 130 ms, and the suite empties the database once per test. Like
    TRUNCATE, it first takes every table's exclusive lock, in one statement, so a
    connection still writing finishes first; ``setval`` (not ``ALTER SEQUENCE``, whose
    lock a writer's ``nextval`` blocks) restarts the sequences. Children go before
    parents (reverse dependency order); if that ever fails, TRUNCATE does it.
    """
    global _empty_statement
    tables = [f'"{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    if not _empty_statement:
        sequences = db.session.execute(
            text(
                "SELECT quote_literal(quote_ident(schemaname) || '.' || quote_ident(sequencename))"
                " FROM pg_sequences WHERE schemaname = current_schema()"
            )
        ).scalars()
        restarts = ", ".join(f"setval({name}, 1, false)" for name in sequences)
        _empty_statement = "; ".join(
            [f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"]
            + [f"DELETE FROM {table}" for table in tables]
            + ([f"SELECT {restarts}"] if restarts else [])
        )
    try:
        db.session.execute(text(_empty_statement))
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()


def _ensure_postgres_database() -> None:
    """Create this worker's database when it does not exist yet."""
    url = make_url(PG_URL)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        server.dispose()


_sqlite_template = ""


def _sqlite_schema(db_url: str) -> None:
    """Give a new SQLite file the schema by copying a file made once per process.

    ``create_all`` costs about 90 ms per test; copying a file with the empty schema, a
    few. A file that already has content (a second app on the same database) is kept.
    """
    global _sqlite_template
    path = Path(make_url(db_url).database or "")
    if path.exists() and path.stat().st_size > 0:
        return
    if not _sqlite_template:
        folder = Path(tempfile.mkdtemp(prefix="learnnet-schema-"))
        template = folder / "schema.sqlite3"
        maker = create_app(
            base_config(f"sqlite:///{template}"), instance_path=str(folder / "instance")
        )
        with maker.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        _sqlite_template = str(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, path)


class Client(FlaskClient):
    """A test client whose requests do not share the logged-in user.

    The ``app`` fixture keeps an application context open, which Flask reuses for
    requests; Flask-Login caches the user and Flask-Babel the locale on ``g`` of that context. Dropping the
    cache around each request makes every request load its user from its own
    session cookie, as in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        self._forget_user()
        try:
            return super().open(*args, **kwargs)
        finally:
            self._forget_user()

    @staticmethod
    def _forget_user() -> None:
        if has_app_context():
            for cached in (
                "_login_user",
                "_flask_babel",
                "locale",
                "data_version",
                "personal_link",
                "audit_actor",  # a personal link's request names its contact as the actor
            ):
                g.pop(cached, None)


def make_app(db_url: str, tmp_path: Path, **extra: Any) -> Flask:
    """An app on ``db_url`` with its tables present and empty."""
    global _pg_ready
    if db_url.startswith("sqlite"):
        _sqlite_schema(db_url)
    elif not _pg_ready and _WORKER:
        _ensure_postgres_database()
    app = create_app(base_config(db_url, **extra), instance_path=str(tmp_path / "instance"))
    app.test_client_class = Client
    with app.app_context():
        if not db_url.startswith("sqlite"):
            if not _pg_ready:
                db.drop_all()
                db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
                db.session.commit()
                db.create_all()
                _pg_ready = True
            _empty_postgres()
    return app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A fresh app and database for one test, inside an app context."""
    app = make_app(db_url, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        if not db_url.startswith("sqlite"):
            _empty_postgres()
        db.engine.dispose()


@pytest.fixture
def app_factory(db_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps with extra settings (several may share the database, like workers)."""
    apps: list[Flask] = []

    def build(**extra: Any) -> Flask:
        app = make_app(db_url, tmp_path, **extra)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            if not db_url.startswith("sqlite"):
                _empty_postgres()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD) -> Any:
    """Log in through the form; returns the response."""
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def facilitator(app: Flask) -> Any:
    """A facilitator account."""
    return factories.user(email="an@example.org", name="An Peeters")


@pytest.fixture
def admin(app: Flask) -> Any:
    """An admin account."""
    return factories.user(email="admin@example.org", name="Admin", role="admin")


@pytest.fixture
def network(app: Flask, facilitator: Any) -> Any:
    """A network facilitated by ``facilitator`` with two members."""
    net = factories.network(facilitators=[facilitator], name="Lerend netwerk Gent")
    f1 = factories.facility(name="KDV De Zonnebloem", postcode="9000", city="Gent")
    f2 = factories.facility(name="Kinderopvang Ukkepuk", postcode="9000", city="Gent")
    factories.member(net, f1)
    factories.member(net, f2)
    factories.contact(f1, name="Sofie Claes", email="sofie@example.org", share_details=True)
    factories.contact(f1, name="Hanne De Smet", email="hanne@example.org", share_details=False)
    db.session.commit()
    return net


@pytest.fixture
def logged_in(client: FlaskClient, facilitator: Any) -> FlaskClient:
    """The client, logged in as ``facilitator``."""
    assert login(client, facilitator.email).status_code == 302
    return client


class QueryCounter:
    """Counts SQL statements sent while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|PRAGMA)", statement, re.I):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    """Record the statements the engine executes during the test body.

    These tests count what rendering a page costs, so the page cache is off for them
    (tests/test_pagecache.py counts what a kept page costs).
    """
    from learnnet.pagecache import switch_off

    switch_off(app)
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(db.engine, "before_cursor_execute", counter)


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token on the page"
    return match.group(1)
