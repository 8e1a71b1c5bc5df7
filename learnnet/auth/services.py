"""Account use cases: log in, log out, change passwords, manage facilitator accounts."""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from learnnet.auth.models import ROLE_FACILITATOR, User
from learnnet.extensions import db
from learnnet.models import utcnow


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the email is unknown: both paths cost one hash check."""
    return generate_password_hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    """The account with this email, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login loader: the session holds 'id:token'; a rotated token ends the login."""
    ident, _, token = user_id.partition(":")
    if not (ident.isascii() and ident.isdigit()) or not token or len(ident) > 12:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.auth_token, token):
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account matching email and password, else None."""
    user = user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)  # same cost as a real check
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def end_all_logins(user: User) -> None:
    """Log the account out everywhere: every copied or old session cookie stops working."""
    user.rotate_auth_token()
    db.session.commit()


_UNCHANGED: Any = object()


def update_profile(user: User, name: str | None = None, locale: Any = _UNCHANGED) -> None:
    """A user's own name and interface language (None: follow the browser)."""
    if name:
        user.name = name.strip()
    if locale is not _UNCHANGED:
        user.locale = locale
    db.session.commit()


def change_password(user: User, new_password: str) -> None:
    """Set a new password; other logins of the account end."""
    user.set_password(new_password)
    db.session.commit()


def create_user(
    email: str,
    name: str,
    password: str,
    role: str = ROLE_FACILITATOR,
    locale: str | None = None,
    active: bool = True,
) -> User:
    """Create an account (the email must not be in use; callers validate)."""
    user = User(
        email=normalise_email(email), name=name.strip(), role=role, locale=locale, active=active
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user: User, *, name: str, email: str, role: str, active: bool) -> None:
    """Admin edits an account; deactivating it ends its logins."""
    user.name = name.strip()
    user.email = normalise_email(email)
    user.role = role
    if user.active and not active:
        user.rotate_auth_token()
    user.active = active
    db.session.commit()


def list_users() -> list[User]:
    """Every account, by name."""
    return list(db.session.scalars(select(User).order_by(func.lower(User.name))))


def active_facilitator_choices() -> list[User]:
    """Accounts that can be made facilitator of a network."""
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(func.lower(User.name))
        )
    )
