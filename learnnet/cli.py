"""Command-line tasks: ``flask --app learnnet <command>``."""

from __future__ import annotations

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


@click.command("create-user")
@click.option("--email", prompt=True, help="Login email address.")
@click.option("--name", prompt=True, help="Full name as shown to others.")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.password_option(help="At least 10 characters; asked for when omitted.")
def create_user_command(email: str, name: str, role: str, password: str) -> None:
    """Create a facilitator or admin account (the first admin starts here)."""
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD} characters.")
    if "@" not in email:
        raise click.ClickException("That is not an email address.")
    if auth_services.user_by_email(email) is not None:
        raise click.ClickException(f"An account for {email} already exists.")
    user = auth_services.create_user(email, name, password, role)
    click.echo(f"Created {user.role} account {user.email}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no network yet.")
def demo_command(if_empty: bool) -> None:
    """Load the demo networks, facilities and contacts (running it twice changes nothing)."""
    from learnnet import demo
    from learnnet.networks.models import Network

    if if_empty and db.session.scalar(select(func.count(Network.id))):
        click.echo("The database already holds networks; demo data not loaded.")
        return
    report = demo.load()
    click.echo(report)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent copy of the live SQLite database to PATH (SQLite's backup API)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see README)."
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


def register_cli(app: Flask) -> None:
    """Add the commands to ``flask --app learnnet``."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
