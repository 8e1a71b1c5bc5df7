"""Command-line tasks: ``flask --app learnnet <command>``."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from learnnet.auth import services as auth_services
from learnnet.auth.forms import MIN_PASSWORD
from learnnet.auth.models import ROLES
from learnnet.extensions import db
from learnnet.names import is_one_line


@click.command("create-user")
@click.option("--email", prompt=True, help="Login email address.")
@click.option("--name", prompt=True, help="Full name as shown to others.")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option(
    "--may-create-networks",
    is_flag=True,
    help="A facilitator who may start new networks (admins always may).",
)
@click.password_option(help="At least 10 characters; asked for when omitted.")
def create_user_command(
    email: str, name: str, role: str, password: str, may_create_networks: bool
) -> None:
    """Create a facilitator or admin account (the first admin starts here)."""
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD} characters.")
    if "@" not in email:
        raise click.ClickException("That is not an email address.")
    if not is_one_line(name):
        raise click.ClickException("The name must be one line, without control characters.")
    if auth_services.user_by_email(email) is not None:
        raise click.ClickException(f"An account for {email} already exists.")
    user = auth_services.create_user(
        email, name, password, role, may_create_networks=may_create_networks
    )
    click.echo(f"Created {user.role} account {user.email}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no network yet.")
@click.option(
    "--reset", is_flag=True, help="Delete everything in the database first (asks to confirm)."
)
@click.option("--yes", is_flag=True, help="With --reset: do not ask.")
@click.option("--logins", is_flag=True, help="Print the demo accounts and their passwords.")
def demo_command(if_empty: bool, reset: bool, yes: bool, logins: bool) -> None:
    """Load the demo networks, facilities and contacts (running it twice changes nothing)."""
    from learnnet import demo
    from learnnet.networks.models import Network

    if logins:
        for (email, password), name, role in demo.USERS:
            click.echo(f"{role:<12} {email} / {password}  ({name})")
        return
    if reset:
        url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
        if not yes:
            click.confirm(
                f"This deletes every network, facility, person and session in "
                f"{url.render_as_string(hide_password=True)}. Start the demo over?",
                abort=True,
            )
        _empty_database()
    elif if_empty and db.session.scalar(select(func.count(Network.id))):
        click.echo("The database already holds networks; demo data not loaded.")
        return
    report = demo.load()
    click.echo(report)


def _empty_database() -> None:
    """Drop every table (the schema's and Alembic's) and migrate from scratch."""
    from flask_migrate import upgrade
    from sqlalchemy import MetaData

    from learnnet.config import MIGRATIONS

    db.session.remove()
    reflected = MetaData()
    reflected.reflect(bind=db.engine)
    reflected.drop_all(bind=db.engine)
    upgrade(directory=str(MIGRATIONS))


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent copy of the live SQLite database to PATH (SQLite's backup API)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see docs/running.md)."
        )
    if path.exists():
        raise click.ClickException(f"{path} exists; choose a new file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        raise click.ClickException(f"The copy failed its integrity check: {check}")
    click.echo(f"Backup written to {path}.")


@click.command("send-mail")
@click.option("--limit", default=500, show_default=True, help="At most this many messages.")
def send_mail_command(limit: int) -> None:
    """Deliver queued messages that are due (run from cron, e.g. every minute)."""
    from learnnet.mail.services import deliver_due

    report = deliver_due(limit=limit)
    click.echo(f"{report.sent} sent, {report.retried} to retry later, {report.failed} failed.")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


@click.command("send-webhooks")
@click.option("--limit", default=500, show_default=True, help="At most this many deliveries.")
def send_webhooks_command(limit: int) -> None:
    """Deliver queued webhook events that are due, with retries (cron, every minute)."""
    from flask import current_app

    from learnnet.api.webhooks import deliver_due

    production = current_app.config["ENV"] == "production"
    delivered = deliver_due(production=production, limit=limit)
    click.echo(f"{delivered} webhook deliveries accepted.")


@click.command("mail-worker")
@click.option(
    "--interval", default=2.0, show_default=True, help="Seconds between looks at the outbox."
)
def mail_worker_command(interval: float) -> None:
    """Keep sending queued mail beside the app, within seconds, until stopped (Ctrl-C or
    SIGTERM, after the message in hand). Safe to run on several servers at once."""
    import signal

    from learnnet.mail.services import Report, run_worker

    stop: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stop.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def tell(report: Report) -> None:
        click.echo(f"{report.sent} sent, {report.retried} to retry later, {report.failed} failed.")
        for error in report.errors:
            click.echo(f"  {error}", err=True)

    click.echo(f"mail-worker: sending every {interval:g} s; stop with Ctrl-C.")
    run_worker(interval=interval, should_stop=lambda: bool(stop), on_report=tell)
    click.echo("mail-worker: stopped.")


def _link_context() -> object:
    """A request context on BASE_URL, so that messages from cron carry full links.

    A BASE_URL whose host is not among TRUSTED_HOSTS could build no link at all: say so
    before anything is queued (production refuses to start with it, or with http).
    """
    from learnnet.config import base_url_problem

    config = current_app.config
    problem = base_url_problem(config, production=config["ENV"] == "production")
    if problem:
        raise click.ClickException(problem)
    return current_app.test_request_context(base_url=config["BASE_URL"])


@click.command("send-reminders")
@click.option("--no-send", is_flag=True, help="Only queue them; `send-mail` delivers.")
def send_reminders_command(no_send: bool) -> None:
    """Queue the reminders that are due (REMINDER_DAYS before each session, and a week
    before the date of each open agreement of published minutes) and the evaluations of
    sessions just held (to who was checked in), then send.

    Safe to run as often as you like: each reminder is queued at most once.
    """
    from learnnet.learning.evaluation_services import send_due as send_due_evaluations
    from learnnet.learning.minutes_services import send_due_action_reminders
    from learnnet.mail.services import deliver_due
    from learnnet.rsvp.notify import send_due_reminders

    with _link_context():
        count = send_due_reminders(list(current_app.config["REMINDER_DAYS"]))
        evaluations = send_due_evaluations()
        agreements = send_due_action_reminders()
    click.echo(f"{count} reminders queued.")
    click.echo(f"{evaluations} evaluation mails queued.")
    click.echo(f"{agreements} agreement reminders queued.")
    count += evaluations + agreements
    if not no_send and count:
        report = deliver_due()
        click.echo(f"{report.sent} sent, {report.retried} to retry later, {report.failed} failed.")


@click.command("member-link")
@click.argument("email", required=False)
@click.option("--demo", is_flag=True, help="The demo member's link (see `demo`).")
def member_link_command(email: str | None, demo: bool) -> None:
    """Print the personal link of the contact(s) with this email address."""
    from flask import url_for

    from learnnet.demo import demo_member_email
    from learnnet.networks.models import Contact
    from learnnet.rsvp.contacts import ensure_link, token_of

    if demo:
        email = demo_member_email()
    if not email:
        raise click.UsageError("Give an email address, or --demo.")
    found = list(db.session.scalars(select(Contact).where(Contact.email == email.lower())))
    if not found:
        raise click.ClickException(f"No contact with email address {email}.")
    with _link_context():
        for contact in found:
            url = url_for("rsvp.member", token=token_of(ensure_link(contact)), _external=True)
            click.echo(f"{contact.name} ({contact.facility.name}): {url}")
    db.session.commit()


@click.command("receive-mail")
def receive_mail_command() -> None:
    """Read one incoming mail on standard input and record the calendar answers in it.

    For a mail server that pipes messages to a command (e.g. a Postfix alias
    `antwoord: "|/srv/learnnet/.venv/bin/flask --app learnnet receive-mail"`).
    Exits 0 also when the mail holds nothing usable, so the server does not bounce it.
    """
    import sys

    from learnnet.calendar.imip import apply_replies

    limit = int(current_app.config["CALENDAR_REPLY_MAX_BYTES"])
    raw = sys.stdin.buffer.read(limit + 1)
    with _link_context():
        outcomes = apply_replies(raw)
        from learnnet.mail.services import deliver_due

        deliver_due()
    for outcome in outcomes:
        click.echo(f"{outcome.uid or '-'} {outcome.attendee or '-'}: {outcome.result}")


@click.command("fetch-mail")
@click.option("--keep", is_flag=True, help="Leave processed messages unread.")
def fetch_mail_command(keep: bool) -> None:
    """Poll the IMAP mailbox (IMAP_HOST …) for calendar answers; run it from cron."""
    import imaplib
    import ssl

    from learnnet.calendar.imip import apply_replies

    config = current_app.config
    if not config.get("IMAP_HOST"):
        raise click.ClickException("IMAP_HOST is not set (LEARNNET_IMAP_HOST).")
    client = imaplib.IMAP4_SSL(
        config["IMAP_HOST"], int(config["IMAP_PORT"]), ssl_context=ssl.create_default_context()
    )
    try:
        client.login(config["IMAP_USERNAME"], config["IMAP_PASSWORD"])
        client.select(config["IMAP_FOLDER"])
        _status, data = client.search(None, "UNSEEN")
        numbers = data[0].split() if data and data[0] else []
        with _link_context():
            for number in numbers:
                _status, parts = client.fetch(number, "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                for outcome in apply_replies(raw):
                    click.echo(f"{outcome.uid or '-'} {outcome.attendee or '-'}: {outcome.result}")
                if not keep:
                    client.store(number, "+FLAGS", "\\Seen")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


@click.command("prune-outbox")
@click.option("--days", default=180, show_default=True, help="Keep the content this long.")
def prune_outbox_command(days: int) -> None:
    """Empty sent messages older than DAYS (their bodies hold personal links); keep the log."""
    from learnnet.privacy.services import prune_outbox

    count = prune_outbox(days)
    click.echo(f"{count} sent messages emptied.")


@click.command("purge-materials")
def purge_materials_command() -> None:
    """Delete the materials whose retention date has passed (and stray stored bytes)."""
    from flask import current_app

    from learnnet.learning.material_services import purge
    from learnnet.learning.material_store import store_for
    from learnnet.timefmt import local_today

    count = purge(store_for(current_app.config), local_today())
    click.echo(f"{count} materials deleted.")


def register_cli(app: Flask) -> None:
    """Add the commands to ``flask --app learnnet``."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(send_webhooks_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(mail_worker_command)
    app.cli.add_command(member_link_command)
    app.cli.add_command(receive_mail_command)
    app.cli.add_command(fetch_mail_command)
    app.cli.add_command(prune_outbox_command)
    app.cli.add_command(purge_materials_command)
