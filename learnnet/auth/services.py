"""Account use cases: log in, log out, change passwords, manage facilitator accounts.

One-time links (an admin's invitation, a forgotten password) need no table: the link
carries a signed, timestamped ``{"u": user id, "t": fingerprint}``. The fingerprint is a
hash of the account's email and ``auth_token`` (never the token itself, which is part of
every login). Setting a password rotates ``auth_token``, so a link works once; changing
the email, deactivating the account, a new invitation or logging out everywhere end it
too, and the signature's age ends it after ``token_max_age(purpose)`` seconds.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from learnnet.auth.models import ROLE_FACILITATOR, User, new_auth_token
from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.models import utcnow

INVITE = "account-invite"
RESET = "password-reset"  # nosec B105 - a salt name, not a secret
_MAX_AGE = {
    INVITE: ("ACCOUNT_INVITE_MAX_AGE", 7 * 24 * 3600),
    RESET: ("PASSWORD_RESET_MAX_AGE", 3600),
}
# A real link is about 100 characters; anything much longer is not worth decoding.
MAX_TOKEN_LENGTH = 300


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
    from learnnet import changes

    row = db.session.execute(select(User, changes.column()).where(User.id == int(ident))).first()
    if row is None:
        return None
    user, version = row
    changes.note(version)  # read with the user: see learnnet.pagecache
    if not user.active:
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


def update_profile(
    user: User,
    name: str | None = None,
    locale: Any = _UNCHANGED,
    phone: str | None = None,
    show_phone: bool | None = None,
) -> None:
    """A user's own name, interface language (None: follow the browser) and phone
    number, shown to members only with ``show_phone``."""
    if name:
        user.name = name.strip()
    if locale is not _UNCHANGED:
        user.locale = locale
    if phone is not None:
        user.phone = phone.strip()
    if show_phone is not None:
        user.show_phone = show_phone and bool(user.phone)
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
    may_create_networks: bool = False,
) -> User:
    """Create an account (the email must not be in use; callers validate)."""
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        locale=locale,
        active=active,
        may_create_networks=may_create_networks,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def update_user(
    user: User,
    *,
    name: str,
    email: str,
    role: str,
    active: bool,
    may_create_networks: bool | None = None,
) -> None:
    """Admin edits an account; deactivating it ends its logins."""
    if may_create_networks is not None:
        user.may_create_networks = may_create_networks
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


def unusable_password() -> str:
    """A long random password nobody knows: the account waits for its invitation link."""
    return secrets.token_urlsafe(32)


def token_max_age(purpose: str) -> int:
    """Seconds a one-time link of this purpose stays valid (configurable)."""
    key, default = _MAX_AGE[purpose]
    return int(current_app.config.get(key, default))


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in _MAX_AGE:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def _fingerprint(user: User) -> str:
    """Changes whenever the account's auth token or email changes."""
    digest = hashlib.sha256(f"{user.id}:{user.email}:{user.auth_token}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def make_account_token(user: User, purpose: str) -> str:
    """A signed one-time token for ``purpose`` (INVITE or RESET); the user needs an id."""
    return str(_serializer(purpose).dumps({"u": user.id, "t": _fingerprint(user)}))


def user_for_account_token(token: str, purpose: str, max_age: int | None = None) -> User | None:
    """The active account a still-valid token of ``purpose`` belongs to, else None.

    None for a bad signature, another purpose's token, an expired token (older than
    ``max_age`` seconds, by default ``token_max_age(purpose)``), an account that
    changed since (password set, email changed, logged out everywhere) or is inactive.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if max_age is None:
        max_age = token_max_age(purpose)
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    ident, fingerprint = data.get("u"), data.get("t")
    if type(ident) is not int or not isinstance(fingerprint, str) or not 0 < ident < 2**31:
        return None
    user = db.session.get(User, ident)
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(_fingerprint(user).encode(), fingerprint.encode()):
        return None
    return user


def account_link_url(user: User, purpose: str) -> str:
    """The full URL of a one-time link (needs a request context or SERVER_NAME)."""
    token = make_account_token(user, purpose)
    if purpose == INVITE:
        return url_for("auth.welcome", invite_token=token, _external=True)
    return url_for("auth.reset_password", reset_token=token, _external=True)


def _queue_invitation(user: User, invited_by: User | None) -> None:
    rendered = mail.render(
        "account_invite",
        user.locale or "nl",
        lambda: _("Your learnnet account: choose your password"),
        user=user,
        inviter=invited_by.name if invited_by is not None else "",
        link=account_link_url(user, INVITE),
        valid_for=timedelta(seconds=token_max_age(INVITE)),
    )
    mail.queue("account_invite", user.email, rendered, recipient_name=user.name)


def invite_user(
    email: str,
    name: str,
    role: str = ROLE_FACILITATOR,
    locale: str | None = None,
    invited_by: User | None = None,
    may_create_networks: bool = False,
) -> User:
    """Create an active account without a usable password and mail it an invitation link."""
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        locale=locale,
        may_create_networks=may_create_networks,
    )
    user.set_password(unusable_password())
    db.session.add(user)
    db.session.flush()  # the link needs the id
    _queue_invitation(user, invited_by)
    db.session.commit()
    return user


def can_resend_invitation(user: User) -> bool:
    """Only an active account that never logged in gets a new invitation."""
    return user.active and user.last_login_at is None


def resend_invitation(user: User, invited_by: User | None = None) -> bool:
    """Mail a new invitation link; earlier links stop working. False when not allowed."""
    if not can_resend_invitation(user):
        return False
    user.rotate_auth_token()
    _queue_invitation(user, invited_by)
    db.session.commit()
    return True


def request_password_reset(email: str, locale: str) -> None:
    """Mail a reset link to an active account with this email; do nothing otherwise.

    The caller answers the same either way. The message speaks the account's language,
    else ``locale`` (the language of the page the request came from).
    """
    user = user_by_email(email)
    if user is None or not user.active:
        return
    rendered = mail.render(
        "password_reset",
        user.locale or locale,
        lambda: _("Choose a new learnnet password"),
        user=user,
        link=account_link_url(user, RESET),
        valid_for=timedelta(seconds=token_max_age(RESET)),
    )
    mail.queue("password_reset", user.email, rendered, recipient_name=user.name)
    db.session.commit()


def set_password_by_link(user: User, password: str) -> bool:
    """Set the password through a one-time link, which thereby stops working.

    A conditional UPDATE on the auth token the link was checked against: of two
    simultaneous uses of one link, only one wins (False for the other). Other logins
    of the account end, as with any password change; the link's user counts as logged in.
    """
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    with db.session.no_autoflush:
        result = db.session.execute(
            update(User)
            .where(User.id == user.id, User.auth_token == user.auth_token)
            .values(
                password_hash=generate_password_hash(password, method=method),
                auth_token=new_auth_token(),
                last_login_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.expire(user)  # reload the new values; never flush stale ones over them
    db.session.commit()
    return True
