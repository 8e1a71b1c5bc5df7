"""Accounts of facilitators and admins."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, String, false
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime

ROLE_ADMIN = "admin"
ROLE_FACILITATOR = "facilitator"
ROLES = (ROLE_FACILITATOR, ROLE_ADMIN)


def new_auth_token() -> str:
    """A fresh random token; rotating it ends every login of the account."""
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, db.Model):
    """A facilitator or admin who logs in with email and password."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=ROLE_FACILITATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # An admin's grant: this facilitator may start new networks (admins always may).
    may_create_networks: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    # Shown to members beside the mail address only when the facilitator chose so.
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    show_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Part of the session's user id: rotating it invalidates every existing login.
    auth_token: Mapped[str] = mapped_column(String(64), default=new_auth_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login refuses inactive accounts."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Admins see every network and manage accounts."""
        return self.role == ROLE_ADMIN

    def get_id(self) -> str:
        """The value Flask-Login keeps in the session: id plus the current auth token."""
        return f"{self.id}:{self.auth_token}"

    def set_password(self, password: str) -> None:
        """Hash the password (scrypt, Werkzeug's current default) and end other logins."""
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)
        self.rotate_auth_token()

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def rotate_auth_token(self) -> None:
        """End every existing login of this account."""
        self.auth_token = new_auth_token()

    def __repr__(self) -> str:
        return f"<User {self.email}>"
