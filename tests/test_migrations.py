"""Alembic migrations: upgrade empty and demo databases, and no drift from the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from learnnet import MIGRATIONS, changes, create_app, demo
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership, Network
from tests.conftest import ENGINES, PG_URL, base_config


@pytest.fixture(params=ENGINES)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    name = f"learnnet_mig_{uuid.uuid4().hex[:10]}"
    server = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def migrated_app(empty_db_url: str, tmp_path: Path):
    app = create_app(base_config(empty_db_url), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        yield app
        db.session.remove()
        db.engine.dispose()


def test_migrations_match_the_models(migrated_app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "models and migrations drifted apart: run flask db migrate"


def test_upgrade_holds_demo_data_and_downgrade_upgrade_round_trips(migrated_app):
    demo.load()
    counts = [
        db.session.scalar(select(func.count(m.id)))
        for m in (Network, Facility, Membership, Contact)
    ]
    assert counts[0] >= 3 and counts[1] >= 24
    upgrade(directory=str(MIGRATIONS))  # already at head: must be a no-op that keeps the data
    assert [
        db.session.scalar(select(func.count(m.id)))
        for m in (Network, Facility, Membership, Contact)
    ] == counts
    db.session.remove()
    downgrade(directory=str(MIGRATIONS), revision="base")
    upgrade(directory=str(MIGRATIONS))
    assert db.session.scalar(select(func.count(Network.id))) == 0


def _row_counts() -> dict[str, int]:
    """Rows per table, read with plain SQL (the models may be ahead of the schema)."""
    with db.engine.connect() as conn:
        return {
            table.name: conn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar_one()
            for table in db.metadata.sorted_tables
            if conn.dialect.has_table(conn, table.name)
        }


def test_an_upgrade_keeps_every_row_of_a_used_database(migrated_app):
    """Down to 0008 with the demo's data in it, then up again: not one row lost.

    On SQLite, Alembic's batch mode rebuilds a table to add a column with a constraint
    (copy, drop, rename). With foreign keys on, dropping the old table ran its ON DELETE
    CASCADE: an upgrade of a laptop's database emptied the facilitators of every
    network, every answer and every attendance. PostgreSQL alters in place.
    """
    demo.load()
    db.session.remove()
    downgrade(directory=str(MIGRATIONS), revision="0008_data_version")
    before = _row_counts()
    assert before["attendance"] > 0 and before["rsvp"] > 0 and before["network_facilitator"] > 0
    upgrade(directory=str(MIGRATIONS))
    after = _row_counts()
    assert {name: after[name] for name in before} == before
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_demo_reset_asks_first_then_starts_over(migrated_app):
    from learnnet.networks.models import Network

    runner = migrated_app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    extra = Network(name="Eigen netwerk", slug="eigen-netwerk")
    db.session.add(extra)
    db.session.commit()
    refused = runner.invoke(args=["demo", "--reset"], input="n\n")
    assert refused.exit_code != 0 and "Start the demo over?" in refused.output
    db.session.remove()
    assert db.session.scalar(select(Network).where(Network.slug == "eigen-netwerk"))
    db.session.remove()
    version_before = changes.current()
    done = runner.invoke(args=["demo", "--reset"], input="y\n")
    assert done.exit_code == 0, done.output
    db.session.remove()
    # a page kept under the old database's number must never pass for the new data's
    assert changes.current() > version_before
    assert db.session.scalar(select(Network).where(Network.slug == "eigen-netwerk")) is None
    assert db.session.scalar(select(func.count(Network.id))) == 3
    logins = runner.invoke(args=["demo", "--logins"]).output
    assert "begeleider@example.org / demo-begeleider" in logins
    assert "admin@example.org / demo-beheerder" in logins
    assert "tom.janssens@example.org / demo-begeleider-2" in logins
