"""flask --app learnnet create-user / demo / backup."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import func, select

from learnnet.auth.models import User
from learnnet.demo import DEMO_FACILITATOR
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership, Network
from tests.conftest import login


def counts():
    return [
        db.session.scalar(select(func.count(m.id)))
        for m in (User, Network, Facility, Membership, Contact)
    ]


def test_create_user(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Boss@Example.org",
            "--name",
            "Boss",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.is_admin
    again = runner.invoke(
        args=[
            "create-user",
            "--email",
            "boss@example.org",
            "--name",
            "B",
            "--password",
            "long enough pw",
        ]
    )
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        args=["create-user", "--email", "x@example.org", "--name", "X", "--password", "short"]
    )
    assert short.exit_code != 0 and "10 characters" in short.output


def test_demo_is_idempotent_and_plausible(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    first = counts()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert counts() == first
    networks = list(db.session.scalars(select(Network)))
    assert len(networks) >= 3
    assert len({n.region for n in networks}) == len(networks)
    for network in networks:
        current = [m for m in network.memberships if m.left_on is None]
        assert len(current) >= 8
        for m in current:
            assert 1 <= len(m.facility.contacts) <= 3
    shared = [
        f
        for f in db.session.scalars(select(Facility))
        if len({m.network_id for m in f.memberships}) > 1
    ]
    assert shared
    assert (
        db.session.scalar(select(func.count(Membership.id)).where(Membership.left_on.is_not(None)))
        >= 1
    )
    assert login(client, *DEMO_FACILITATOR).status_code == 302
    assert runner.invoke(args=["demo", "--if-empty"]).output.startswith(
        "The database already holds"
    )


def test_the_demo_members_come_in_through_the_csv_import(app):
    """Issue 25.4: the demo's facilities and contacts are files in the members-CSV format,
    loaded by the import a facilitator uses. Each network's export then reads back as
    "nothing to change", and holds exactly its file's people (with the facility shared
    from another network, without the former member)."""
    from learnnet import demo
    from learnnet.networks import csvio, services

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    admin = db.session.scalar(select(User).where(User.email == demo.DEMO_ADMIN[0]))
    for spec in demo.NETWORKS:
        network = db.session.scalar(select(Network).where(Network.slug == spec["slug"]))
        exported = csvio.parse(csvio.write(services.export_rows(network)), demo.CSV_MESSAGES)
        assert exported.valid
        plan = services.plan_import(network, exported.facilities, actor=admin)
        assert plan == services.ImportPlan(), spec["slug"]
        in_file = {(f.name, c.email) for f in demo.member_rows(spec["slug"]) for c in f.contacts}
        shared = {s[1] for s in demo.SHARED if s[0] == spec["slug"]}
        former = demo.FORMER[1] if demo.FORMER[0] == spec["slug"] else None
        in_export = {(f.name, c.email) for f in exported.facilities for c in f.contacts}
        assert {k for k in in_export if k[0] not in shared} == {
            k for k in in_file if k[0] != former
        }
    # What `make run` prints: the demo member's link leads to her, from her network's file.
    sofie = db.session.scalar(select(Contact).where(Contact.email == demo.demo_member_email()))
    assert (sofie.name, sofie.facility.name) == demo.DEMO_MEMBER


def test_backup_makes_a_consistent_copy_of_a_live_database(app, db_url, tmp_path: Path):
    if not db_url.startswith("sqlite"):
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.sqlite3")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    expected = counts()
    # Another connection writes while the backup runs: the copy must still be consistent.
    stop = threading.Event()
    live = db_url.removeprefix("sqlite:///")

    def writer() -> None:
        conn = sqlite3.connect(live)
        while not stop.is_set():
            conn.execute("UPDATE facility SET phone = phone")
            conn.commit()
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        target = tmp_path / "backups" / "learnnet-backup.sqlite3"
        result = runner.invoke(args=["backup", str(target)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = [
        copy.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("user_account", "network", "facility", "membership", "contact")
    ]
    copy.close()
    assert copied == expected
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "exists" in again.output
