"""Login and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Optional

from learnnet.auth.models import ROLE_ADMIN, ROLE_FACILITATOR
from learnnet.forms import Length, OneLine

MIN_PASSWORD = 10


def role_choices() -> list[tuple[str, str]]:
    """Roles for the account form, translated at render time."""
    return [(ROLE_FACILITATOR, str(_l("Facilitator"))), (ROLE_ADMIN, str(_l("Administrator")))]


def language_choices() -> list[tuple[str, str]]:
    """Interface languages; empty means follow the browser."""
    return [("", str(_l("Same as my browser"))), ("nl", "Nederlands"), ("en", "English")]


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(FlaskForm):
    """Name and language of the logged-in account."""

    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120), OneLine()]
    )
    locale = SelectField(_l("Language"), choices=language_choices, validate_choice=True)
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters.", max=40))],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    show_phone = BooleanField(
        _l("Show my phone number to the members of my networks"),
        description=_l(
            "On their personal page and in the mails about sessions, beside your mail address."
        ),
    )


def _new_password() -> PasswordField:
    return PasswordField(
        _l("New password"),
        description=_l("At least %(num)d characters.", num=MIN_PASSWORD),
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired(_l("Choose a new password.")),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("Use at least %(num)d characters.", num=MIN_PASSWORD),
            ),
        ],
    )


def _confirm() -> PasswordField:
    return PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("new_password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = _new_password()
    confirm = _confirm()


class NewPasswordForm(FlaskForm):
    """Choose a password through a one-time link (invitation or forgotten password)."""

    new_password = _new_password()
    confirm = _confirm()


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    """Ask for a link to choose a new password."""

    email = EmailField(
        _l("Email address"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter a valid email address, e.g. name@example.org.")),
            Length(max=254),
        ],
    )


def invitation_language_choices() -> list[tuple[str, str]]:
    """Languages an invitation can be written in."""
    return [("nl", "Nederlands"), ("en", "English")]


class _AccountFields(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120), OneLine()]
    )
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter an email address.")),
            Email(_l("Enter a valid email address, e.g. name@example.org.")),
            Length(max=254),
        ],
    )
    role = SelectField(_l("Role"), choices=role_choices)
    may_create_networks = BooleanField(
        _l("May start new networks"),
        description=_l(
            "A facilitator who starts a network may add facilities to it. Admins always may."
        ),
    )


class InviteForm(_AccountFields):
    """An admin creates an account; the new user chooses a password through the mailed link."""

    locale = SelectField(
        _l("Language of the invitation"),
        choices=invitation_language_choices,
        default="nl",
        description=_l("Also the language of the account; its owner can change it later."),
    )


class UserForm(_AccountFields):
    """An admin edits a facilitator or admin account (never its password)."""

    active = BooleanField(_l("Account active"), default=True)
